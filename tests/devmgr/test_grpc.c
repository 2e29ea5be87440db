/* Unit tests of devmgr/rpc/grpc.c: a server and a client connection of this layer on the two
 * ends of a socketpair, pumped by hand: unary calls, a status with a message that needs
 * percent-encoding, unknown methods, a compressed message, a handler that gives no answer,
 * server streaming, and the bound on what waits for a peer that stopped reading. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "rpc/grpc.h"

/* ---- the server's methods */
static void echo(grpc_call *call, const uint8_t *msg, size_t len, void *ud)
{
	grpc_call_reply(call, msg, len);
}
static void refuse(grpc_call *call, const uint8_t *msg, size_t len, void *ud)
{
	grpc_call_fail(call, GRPC_INVALID_ARGUMENT, "bad ID \xc3\xa9 50% \"0000:ff:00.0\"");
}
static void silent(grpc_call *call, const uint8_t *msg, size_t len, void *ud)
{
}
static grpc_call *stream_call;
static void watch(grpc_call *call, const uint8_t *msg, size_t len, void *ud)
{
	stream_call = call;
	grpc_call_send(call, (const uint8_t *)"first", 5);
}
static const grpc_method methods[] = {
	{ "/t.S/Echo", false, echo },
	{ "/t.S/Refuse", false, refuse },
	{ "/t.S/Silent", false, silent },
	{ "/t.S/Watch", true, watch },
};

/* ---- the client's view of a call */
typedef struct answer {
	bool done;
	int status, msgs;
	char message[256];
	uint8_t reply[64];
	size_t len;
} answer;

static void on_done(int status, const char *message, const uint8_t *reply, size_t len, void *ud)
{
	answer *a = ud;
	a->done = true;
	a->status = status;
	snprintf(a->message, sizeof(a->message), "%s", message ? message : "");
	a->len = len < sizeof(a->reply) ? len : sizeof(a->reply);
	if (reply)
		memcpy(a->reply, reply, a->len);
}
static void on_msg(const uint8_t *msg, size_t len, void *ud)
{
	((answer *)ud)->msgs++;
}

typedef struct pair {
	grpc_conn *srv, *cli;
} pair;

static void pair_new(pair *p, size_t max_queued)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	assert_int_equal(grpc_conn_server(sv[0], methods, sizeof(methods) / sizeof(methods[0]), NULL, max_queued, &p->srv), 0);
	assert_int_equal(grpc_conn_client(sv[1], "localhost", &p->cli), 0);
}

/* Both ends read and write until WHAT says stop or nothing moves for 200 ms. */
static void pump(pair *p, bool client_reads, bool (*what)(void *), void *arg)
{
	for (int idle = 0; idle < 20 && !(what && what(arg));) {
		struct pollfd f[2] = { { grpc_conn_fd(p->srv), POLLIN | POLLOUT, 0 },
				       { grpc_conn_fd(p->cli), client_reads ? POLLIN | POLLOUT : 0, 0 } };
		if (poll(f, 2, 10) <= 0) {
			idle++;
			continue;
		}
		if (f[0].revents)
			grpc_conn_io(p->srv);
		if (client_reads && f[1].revents)
			grpc_conn_io(p->cli);
		if (!(f[0].revents & POLLIN) && !(f[1].revents & POLLIN))
			idle++;
	}
}

static bool is_done(void *arg)
{
	return ((answer *)arg)->done;
}

static void call(pair *p, const char *path, const uint8_t *msg, size_t len, answer *a)
{
	memset(a, 0, sizeof(*a));
	assert_int_equal(grpc_client_call(p->cli, path, msg, len, NULL, on_done, a), 0);
	pump(p, true, is_done, a);
	assert_true(a->done);
}

static void test_unary(void **state)
{
	pair p;
	answer a;
	pair_new(&p, 1 << 20);
	call(&p, "/t.S/Echo", (const uint8_t *)"hello", 5, &a);
	assert_int_equal(a.status, GRPC_OK);
	assert_int_equal(a.len, 5);
	assert_memory_equal(a.reply, "hello", 5);
	/* a second call on the same connection, an empty message */
	call(&p, "/t.S/Echo", (const uint8_t *)"", 0, &a);
	assert_int_equal(a.status, GRPC_OK);
	assert_int_equal(a.len, 0);
	grpc_conn_free(p.cli);
	grpc_conn_free(p.srv);
}

static void test_errors(void **state)
{
	pair p;
	answer a;
	pair_new(&p, 1 << 20);
	call(&p, "/t.S/Refuse", (const uint8_t *)"x", 1, &a);
	assert_int_equal(a.status, GRPC_INVALID_ARGUMENT);
	assert_string_equal(a.message, "bad ID \xc3\xa9 50% \"0000:ff:00.0\""); /* percent-encoded and back */
	call(&p, "/t.S/Nope", (const uint8_t *)"x", 1, &a);
	assert_int_equal(a.status, GRPC_UNIMPLEMENTED);
	assert_string_equal(a.message, "unknown method /t.S/Nope");
	call(&p, "/t.S/Silent", (const uint8_t *)"x", 1, &a);
	assert_int_equal(a.status, GRPC_INTERNAL);
	/* the connection still serves */
	call(&p, "/t.S/Echo", (const uint8_t *)"ok", 2, &a);
	assert_int_equal(a.status, GRPC_OK);
	grpc_conn_free(p.cli);
	grpc_conn_free(p.srv);
}

static void test_peer_gone(void **state)
{
	pair p;
	answer a = { 0 };
	pair_new(&p, 1 << 20);
	assert_int_equal(grpc_client_call(p.cli, "/t.S/Echo", (const uint8_t *)"x", 1, NULL, on_done, &a), 0);
	grpc_conn_free(p.srv); /* the server goes before it answers */
	for (int i = 0; i < 50 && !a.done; i++) {
		struct pollfd f = { grpc_conn_fd(p.cli), POLLIN, 0 };
		poll(&f, 1, 10);
		if (grpc_conn_io(p.cli) < 0)
			break;
	}
	assert_true(a.done);
	assert_int_equal(a.status, GRPC_UNAVAILABLE);
	grpc_conn_free(p.cli);
}

static bool two_msgs(void *arg)
{
	return ((answer *)arg)->msgs >= 2;
}

static void test_stream(void **state)
{
	pair p;
	answer a = { 0 };
	pair_new(&p, 1 << 20);
	stream_call = NULL;
	assert_int_equal(grpc_client_call(p.cli, "/t.S/Watch", (const uint8_t *)"", 0, on_msg, on_done, &a), 0);
	pump(&p, true, NULL, NULL);
	assert_non_null(stream_call);
	assert_int_equal(a.msgs, 1);
	assert_false(a.done);
	assert_int_equal(grpc_conn_calls(p.srv, "/t.S/Watch"), 1);
	assert_int_equal(grpc_conn_broadcast(p.srv, "/t.S/Watch", (const uint8_t *)"second", 6), 0);
	pump(&p, true, two_msgs, &a);
	assert_int_equal(a.msgs, 2);
	assert_false(a.done);
	grpc_conn_free(p.cli);
	grpc_conn_free(p.srv);
}

/* A peer that stops reading: flow control holds the data back, the queue fills up to the
 * bound, then the stream is reset and the next broadcast queues nothing. */
static void test_stalled_bound(void **state)
{
	pair p;
	answer a = { 0 };
	static uint8_t big[32768];
	pair_new(&p, 256 * 1024);
	assert_int_equal(grpc_client_call(p.cli, "/t.S/Watch", (const uint8_t *)"", 0, on_msg, on_done, &a), 0);
	pump(&p, true, NULL, NULL);
	assert_int_equal(grpc_conn_calls(p.srv, "/t.S/Watch"), 1);
	int sent = 0;
	for (; sent < 200 && grpc_conn_calls(p.srv, "/t.S/Watch") == 1; sent++) {
		grpc_conn_broadcast(p.srv, "/t.S/Watch", big, sizeof(big));
		pump(&p, false, NULL, NULL); /* the server writes; the client never reads */
	}
	assert_int_equal(grpc_conn_calls(p.srv, "/t.S/Watch"), 0);
	/* 64 KiB window + socket buffers + 256 KiB queued: far fewer than 200 messages */
	assert_true(sent < 100);
	grpc_conn_free(p.cli);
	grpc_conn_free(p.srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unary),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_peer_gone),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_stalled_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
