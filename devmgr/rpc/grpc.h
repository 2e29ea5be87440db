/* gRPC over HTTP/2 on one connection: libnghttp2 does HTTP/2, this layer does gRPC's part
 * (the 5-byte length prefix of each message, the request and response headers, the
 * grpc-status/grpc-message trailers, server streaming) as a server or as a client. The
 * caller owns the socket's place in its event loop; nothing here blocks or prints. */
#ifndef DEVMGR_RPC_GRPC_H
#define DEVMGR_RPC_GRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The status codes this project answers with (grpc/doc/statuscodes.md). */
enum {
	GRPC_OK = 0,
	GRPC_INVALID_ARGUMENT = 3,
	GRPC_NOT_FOUND = 5,
	GRPC_RESOURCE_EXHAUSTED = 8,
	GRPC_FAILED_PRECONDITION = 9,
	GRPC_UNIMPLEMENTED = 12,
	GRPC_INTERNAL = 13,
	GRPC_UNAVAILABLE = 14,
};

/* One message is at most this long, either way (gRPC's usual receive limit). */
#define GRPC_MSG_MAX (4u << 20)

typedef struct grpc_conn grpc_conn;
typedef struct grpc_call grpc_call;

/* A method a server answers. handle() sees the one request message (payload without the
 * prefix); it answers with grpc_call_reply() or grpc_call_fail(), or, for a streaming
 * method, grpc_call_send() now and grpc_conn_broadcast() later. */
typedef struct grpc_method {
	const char *path; /* "/package.Service/Method" */
	bool streaming;   /* server streaming: the call stays open after handle() */
	void (*handle)(grpc_call *call, const uint8_t *msg, size_t len, void *userdata);
} grpc_method;

/* A server connection on the accepted, non-blocking socket fd (taken over: closed by
 * grpc_conn_free). max_queued: bytes a stream may have waiting to be sent; a stream past it
 * (a peer that stopped reading) is reset. */
int grpc_conn_server(int fd, const grpc_method *methods, size_t n_methods, void *userdata,
		     size_t max_queued, grpc_conn **ret);

/* A client connection on a connected, non-blocking socket fd (taken over). */
int grpc_conn_client(int fd, const char *authority, grpc_conn **ret);
/* A call on client connection c with request msg. done() runs once, when the call is over:
 * status is the peer's grpc-status (GRPC_UNAVAILABLE when the connection ended first),
 * message its text, reply the one response message of a unary call (on_msg NULL). A
 * server-streaming call gives each response message to on_msg as it arrives. */
typedef void (*grpc_done_fn)(int status, const char *message, const uint8_t *reply, size_t len,
			     void *userdata);
typedef void (*grpc_msg_fn)(const uint8_t *msg, size_t len, void *userdata);
int grpc_client_call(grpc_conn *c, const char *path, const uint8_t *msg, size_t len, grpc_msg_fn on_msg,
		     grpc_done_fn done, void *userdata);

int grpc_conn_fd(const grpc_conn *c);
/* The poll events the connection waits for (POLLIN and/or POLLOUT); 0: it is finished (a
 * client: no call under way) and can be freed. */
short grpc_conn_events(const grpc_conn *c);
/* Reads what the socket has, runs the handlers, writes what can be written. 0, or -errno
 * when the connection is over (peer gone, protocol error): free it. */
int grpc_conn_io(grpc_conn *c);
/* Sends msg on every open call of method path (the open streams of a streaming method). */
int grpc_conn_broadcast(grpc_conn *c, const char *path, const uint8_t *msg, size_t len);
/* Open calls of method path on c. */
size_t grpc_conn_calls(const grpc_conn *c, const char *path);
/* Closes the socket; a client call still under way gets done(GRPC_UNAVAILABLE). NULL is fine. */
void grpc_conn_free(grpc_conn *c);

/* In a handler: queue one response message. */
int grpc_call_send(grpc_call *call, const uint8_t *msg, size_t len);
/* Unary answer: msg, then status OK. */
int grpc_call_reply(grpc_call *call, const uint8_t *msg, size_t len);
/* Ends the call with status and message (after any messages queued). */
int grpc_call_fail(grpc_call *call, int status, const char *message);

#endif
