/* gRPC on one HTTP/2 connection (libnghttp2): calls, message framing, headers and
 * trailers, for the server side of the device plugin sockets and the client side of
 * Register. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include "grpc.h"

typedef struct buf {
	uint8_t *p;
	size_t off, len, cap; /* unread bytes are p[off..len) */
} buf;

struct grpc_call {
	grpc_conn *conn;
	int32_t id;
	char path[128];
	bool grpc_type;      /* content-type application/grpc[+proto] */
	buf in;              /* request (server) or reply (client) bytes */
	buf out;             /* bytes to send */
	bool responded;      /* server: response headers submitted */
	bool finishing;      /* the data source ends once out is drained */
	bool deferred;       /* the data source waits for more */
	bool reset;          /* reset by us: nothing more is queued */
	bool got_status;     /* client: grpc-status seen */
	bool finished;       /* client: done() ran */
	grpc_msg_fn on_msg;  /* client: each response message, or NULL (unary: done gets it) */
	grpc_done_fn done;
	void *done_ud;
	int status;
	char message[256];
	grpc_call *next;
};

struct grpc_conn {
	int fd;
	nghttp2_session *s;
	bool client;
	const grpc_method *methods;
	size_t n_methods;
	void *userdata;
	size_t max_queued;
	grpc_call *calls;
	char authority[64]; /* client */
	bool dying;        /* grpc_conn_free: callbacks do nothing */
};

static void buf_free(buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static size_t buf_avail(const buf *b)
{
	return b->len - b->off;
}

static int buf_put(buf *b, const void *p, size_t n)
{
	if (b->off && b->off == b->len)
		b->off = b->len = 0;
	if (b->cap - b->len < n) {
		if (b->off) { /* compact before growing */
			memmove(b->p, b->p + b->off, b->len - b->off);
			b->len -= b->off;
			b->off = 0;
		}
		if (b->cap - b->len < n) {
			size_t cap = b->cap ? b->cap : 256;
			while (cap - b->len < n)
				cap *= 2;
			uint8_t *np = realloc(b->p, cap);
			if (!np)
				return -ENOMEM;
			b->p = np;
			b->cap = cap;
		}
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

/* gRPC's framing: a compressed flag (0) and the length, big-endian, before each message. */
static int put_message(buf *b, const uint8_t *msg, size_t len)
{
	uint8_t pfx[5] = { 0, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len };
	int r = buf_put(b, pfx, sizeof(pfx));
	return r < 0 ? r : buf_put(b, msg, len);
}

/* The one message of b: 0 with ret and ret_len set, or a status for what is wrong. */
static int take_message(const buf *b, const uint8_t **ret, size_t *ret_len, const char **why)
{
	size_t n = buf_avail(b);
	const uint8_t *p = b->p + b->off;
	if (n < 5) {
		*why = "no request message";
		return GRPC_INTERNAL;
	}
	if (p[0] != 0) {
		*why = "compressed messages are not supported";
		return GRPC_UNIMPLEMENTED;
	}
	size_t len = (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4];
	if (len != n - 5) {
		*why = "malformed message framing (one message expected)";
		return GRPC_INTERNAL;
	}
	*ret = p + 5;
	*ret_len = len;
	return GRPC_OK;
}

#define NV(n, v) { (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE }

/* grpc-message is percent-encoded outside printable ASCII (and '%' itself). */
static void pct_encode(char *dst, size_t size, const char *src)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (const unsigned char *s = (const unsigned char *)src; *s && o + 4 < size; s++) {
		if (*s >= 0x20 && *s < 0x7f && *s != '%') {
			dst[o++] = (char)*s;
		} else {
			dst[o++] = '%';
			dst[o++] = hex[*s >> 4];
			dst[o++] = hex[*s & 15];
		}
	}
	dst[o] = 0;
}

static void pct_decode(char *dst, size_t size, const uint8_t *src, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 1 < size; i++) {
		unsigned v;
		if (src[i] == '%' && i + 2 < n && sscanf((const char *)src + i + 1, "%2x", &v) == 1) {
			dst[o++] = (char)v;
			i += 2;
		} else {
			dst[o++] = (char)src[i];
		}
	}
	dst[o] = 0;
}

static void status_nv(const grpc_call *call, char *code, size_t codelen, char *msg, size_t msglen)
{
	snprintf(code, codelen, "%d", call->status);
	pct_encode(msg, msglen, call->message);
}

static ssize_t read_data(nghttp2_session *s, int32_t id, uint8_t *dst, size_t length, uint32_t *flags,
			 nghttp2_data_source *src, void *ud)
{
	grpc_call *call = src->ptr;
	size_t n = buf_avail(&call->out);
	if (n > length)
		n = length;
	memcpy(dst, call->out.p + call->out.off, n);
	call->out.off += n;
	if (buf_avail(&call->out))
		return (ssize_t)n;
	if (!call->finishing) {
		if (n)
			return (ssize_t)n;
		call->deferred = true;
		return NGHTTP2_ERR_DEFERRED;
	}
	*flags |= NGHTTP2_DATA_FLAG_EOF;
	if (!call->conn->client) { /* the server ends the stream with its trailers */
		char code[16], msg[sizeof(call->message) * 3 + 1];
		status_nv(call, code, sizeof(code), msg, sizeof(msg));
		nghttp2_nv tr[] = { NV("grpc-status", code), NV("grpc-message", msg) };
		if (nghttp2_submit_trailer(s, id, tr, msg[0] ? 2 : 1) == 0)
			*flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
	}
	return (ssize_t)n;
}

static grpc_call *call_new(grpc_conn *c, int32_t id)
{
	grpc_call *call = calloc(1, sizeof(*call));
	if (!call)
		return NULL;
	call->conn = c;
	call->id = id;
	call->next = c->calls;
	c->calls = call;
	return call;
}

static void call_free(grpc_conn *c, grpc_call *call)
{
	for (grpc_call **pp = &c->calls; *pp; pp = &(*pp)->next)
		if (*pp == call) {
			*pp = call->next;
			break;
		}
	buf_free(&call->in);
	buf_free(&call->out);
	free(call);
}

static int respond(grpc_call *call)
{
	if (call->responded)
		return 0;
	nghttp2_nv h[] = { NV(":status", "200"), NV("content-type", "application/grpc") };
	nghttp2_data_provider prd = { .source.ptr = call, .read_callback = read_data };
	int r = nghttp2_submit_response(call->conn->s, call->id, h, 2, &prd);
	if (r)
		return -EIO;
	call->responded = true;
	return 0;
}

static void wake(grpc_call *call)
{
	if (call->deferred) {
		call->deferred = false;
		nghttp2_session_resume_data(call->conn->s, call->id);
	}
}

int grpc_call_send(grpc_call *call, const uint8_t *msg, size_t len)
{
	if (call->reset || call->finishing)
		return -EPIPE;
	if (buf_avail(&call->out) + len + 5 > call->conn->max_queued) {
		/* the peer does not read: drop the stream rather than queue without bound */
		call->reset = true;
		nghttp2_submit_rst_stream(call->conn->s, NGHTTP2_FLAG_NONE, call->id, NGHTTP2_ENHANCE_YOUR_CALM);
		return -ENOBUFS;
	}
	int r = put_message(&call->out, msg, len);
	if (r < 0)
		return r;
	r = respond(call);
	if (r < 0)
		return r;
	wake(call);
	return 0;
}

int grpc_call_fail(grpc_call *call, int status, const char *message)
{
	if (call->reset || call->finishing)
		return -EPIPE;
	call->status = status;
	snprintf(call->message, sizeof(call->message), "%s", message ? message : "");
	call->finishing = true;
	if (call->responded) {
		wake(call);
		return 0;
	}
	/* no message sent: a trailers-only response */
	char code[16], msg[sizeof(call->message) * 3 + 1];
	status_nv(call, code, sizeof(code), msg, sizeof(msg));
	nghttp2_nv h[] = { NV(":status", "200"), NV("content-type", "application/grpc"), NV("grpc-status", code),
			   NV("grpc-message", msg) };
	call->responded = true;
	return nghttp2_submit_response(call->conn->s, call->id, h, msg[0] ? 4 : 3, NULL) ? -EIO : 0;
}

int grpc_call_reply(grpc_call *call, const uint8_t *msg, size_t len)
{
	int r = grpc_call_send(call, msg, len);
	return r < 0 ? r : grpc_call_fail(call, GRPC_OK, NULL);
}

static const grpc_method *find_method(const grpc_conn *c, const char *path)
{
	for (size_t i = 0; i < c->n_methods; i++)
		if (!strcmp(c->methods[i].path, path))
			return &c->methods[i];
	return NULL;
}

/* The request is complete: run its method. */
static void dispatch(grpc_call *call)
{
	grpc_conn *c = call->conn;
	if (!call->grpc_type) {
		nghttp2_nv h[] = { NV(":status", "415") };
		call->responded = call->finishing = true;
		nghttp2_submit_response(c->s, call->id, h, 1, NULL);
		return;
	}
	const grpc_method *m = find_method(c, call->path);
	if (!m) {
		char why[192];
		snprintf(why, sizeof(why), "unknown method %s", call->path);
		grpc_call_fail(call, GRPC_UNIMPLEMENTED, why);
		return;
	}
	const uint8_t *msg;
	size_t len;
	const char *why;
	int st = take_message(&call->in, &msg, &len, &why);
	if (st != GRPC_OK) {
		grpc_call_fail(call, st, why);
		return;
	}
	m->handle(call, msg, len, c->userdata);
	if (!m->streaming && !call->finishing && !call->reset)
		grpc_call_fail(call, GRPC_INTERNAL, "the method gave no answer");
}

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
	grpc_conn *c = ud;
	if (c->client || f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	grpc_call *call = call_new(c, f->hd.stream_id);
	if (!call)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	nghttp2_session_set_stream_user_data(s, f->hd.stream_id, call);
	return 0;
}

static bool name_is(const uint8_t *name, size_t len, const char *what)
{
	return len == strlen(what) && !memcmp(name, what, len);
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t namelen,
		     const uint8_t *value, size_t valuelen, uint8_t flags, void *ud)
{
	grpc_call *call = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
	if (!call || f->hd.type != NGHTTP2_HEADERS)
		return 0;
	if (name_is(name, namelen, ":path") && valuelen < sizeof(call->path)) {
		memcpy(call->path, value, valuelen);
		call->path[valuelen] = 0;
	} else if (name_is(name, namelen, "content-type")) {
		call->grpc_type = valuelen >= 16 && !memcmp(value, "application/grpc", 16) &&
				  (valuelen == 16 || value[16] == '+' || value[16] == ';');
	} else if (name_is(name, namelen, "grpc-status")) {
		char v[12] = "";
		memcpy(v, value, valuelen < sizeof(v) - 1 ? valuelen : sizeof(v) - 1);
		call->status = atoi(v);
		call->got_status = true;
	} else if (name_is(name, namelen, "grpc-message")) {
		pct_decode(call->message, sizeof(call->message), value, valuelen);
	}
	return 0;
}

static int on_data_chunk(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len, void *ud)
{
	grpc_call *call = nghttp2_session_get_stream_user_data(s, id);
	if (!call || call->reset)
		return 0;
	if (buf_avail(&call->in) + len > GRPC_MSG_MAX + 5 || buf_put(&call->in, data, len) < 0) {
		call->reset = true;
		nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, id, NGHTTP2_ENHANCE_YOUR_CALM);
		return 0;
	}
	/* a streaming client call: each complete message as it arrives */
	while (call->on_msg && buf_avail(&call->in) >= 5) {
		const uint8_t *p = call->in.p + call->in.off;
		size_t n = (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4];
		if (buf_avail(&call->in) < 5 + n)
			break;
		call->in.off += 5 + n;
		call->on_msg(p + 5, n, call->done_ud);
	}
	return 0;
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
	grpc_conn *c = ud;
	if (c->client || (f->hd.type != NGHTTP2_DATA && f->hd.type != NGHTTP2_HEADERS) ||
	    !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	grpc_call *call = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
	if (call && !call->reset && !call->responded)
		dispatch(call);
	return 0;
}

/* A client call is over: done() with its status (GRPC_UNAVAILABLE when the connection
 * ended first, or fail_msg). */
static void client_finish(grpc_call *call, const char *fail_msg)
{
	if (call->finished)
		return;
	call->finished = true;
	if (!call->done)
		return;
	if (fail_msg || !call->got_status) {
		call->done(GRPC_UNAVAILABLE, fail_msg ? fail_msg : "the stream ended without a gRPC status", NULL, 0,
			   call->done_ud);
		return;
	}
	const uint8_t *msg = NULL;
	size_t len = 0;
	const char *why;
	if (call->status == GRPC_OK && !call->on_msg && take_message(&call->in, &msg, &len, &why) != GRPC_OK) {
		call->done(GRPC_INTERNAL, why, NULL, 0, call->done_ud);
		return;
	}
	call->done(call->status, call->message, msg, len, call->done_ud);
}

static void client_fail_all(grpc_conn *c, const char *why)
{
	for (grpc_call *call = c->calls; call; call = call->next)
		client_finish(call, why);
}

static int on_stream_close(nghttp2_session *s, int32_t id, uint32_t error_code, void *ud)
{
	grpc_conn *c = ud;
	grpc_call *call = c->dying ? NULL : nghttp2_session_get_stream_user_data(s, id);
	if (!call)
		return 0;
	if (c->client)
		client_finish(call, NULL);
	nghttp2_session_set_stream_user_data(s, id, NULL);
	call_free(c, call);
	return 0;
}

static ssize_t on_send(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *ud)
{
	grpc_conn *c = ud;
	ssize_t k = send(c->fd, data, len, MSG_NOSIGNAL);
	if (k >= 0)
		return k;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return NGHTTP2_ERR_WOULDBLOCK;
	return NGHTTP2_ERR_CALLBACK_FAILURE;
}

static int conn_new(int fd, bool client, grpc_conn **ret)
{
	nghttp2_session_callbacks *cb;
	grpc_conn *c = calloc(1, sizeof(*c));
	if (!c || nghttp2_session_callbacks_new(&cb)) {
		free(c);
		return -ENOMEM;
	}
	nghttp2_session_callbacks_set_send_callback(cb, on_send);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
	int r = client ? nghttp2_session_client_new(&c->s, cb, c) : nghttp2_session_server_new(&c->s, cb, c);
	nghttp2_session_callbacks_del(cb);
	if (r) {
		free(c);
		return -ENOMEM;
	}
	nghttp2_settings_entry iv[] = { { NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 128 } };
	if (nghttp2_submit_settings(c->s, NGHTTP2_FLAG_NONE, iv, 1)) {
		nghttp2_session_del(c->s);
		free(c);
		return -ENOMEM;
	}
	c->fd = fd;
	c->client = client;
	*ret = c;
	return 0;
}

static int flush(grpc_conn *c)
{
	return nghttp2_session_send(c->s) ? -EPIPE : 0;
}

int grpc_conn_server(int fd, const grpc_method *methods, size_t n_methods, void *userdata, size_t max_queued,
		     grpc_conn **ret)
{
	grpc_conn *c;
	int r = conn_new(fd, false, &c);
	if (r < 0)
		return r;
	c->methods = methods;
	c->n_methods = n_methods;
	c->userdata = userdata;
	c->max_queued = max_queued;
	*ret = c;
	return 0;
}

int grpc_conn_client(int fd, const char *authority, grpc_conn **ret)
{
	grpc_conn *c;
	int r = conn_new(fd, true, &c);
	if (r < 0)
		return r;
	c->max_queued = GRPC_MSG_MAX + 5;
	snprintf(c->authority, sizeof(c->authority), "%s", authority);
	*ret = c;
	return 0;
}

int grpc_client_call(grpc_conn *c, const char *path, const uint8_t *msg, size_t len, grpc_msg_fn on_msg,
		     grpc_done_fn done, void *userdata)
{
	grpc_call *call = call_new(c, -1);
	if (!call)
		return -ENOMEM;
	if (put_message(&call->out, msg, len) < 0) {
		call_free(c, call);
		return -ENOMEM;
	}
	call->finishing = true; /* one message, then END_STREAM */
	nghttp2_nv h[] = { NV(":method", "POST"), NV(":scheme", "http"), NV(":path", path),
			   NV(":authority", c->authority), NV("content-type", "application/grpc"), NV("te", "trailers"),
			   NV("user-agent", "ucni-devmgr") };
	nghttp2_data_provider prd = { .source.ptr = call, .read_callback = read_data };
	int32_t id = nghttp2_submit_request(c->s, NULL, h, sizeof(h) / sizeof(h[0]), &prd, call);
	if (id < 0) {
		call_free(c, call);
		return -EIO;
	}
	call->id = id;
	snprintf(call->path, sizeof(call->path), "%s", path);
	call->on_msg = on_msg;
	call->done = done;
	call->done_ud = userdata;
	(void)flush(c); /* a failed write shows in grpc_conn_io */
	return 0;
}

int grpc_conn_fd(const grpc_conn *c)
{
	return c->fd;
}

short grpc_conn_events(const grpc_conn *c)
{
	if (c->client && !c->calls)
		return 0;
	short ev = 0;
	if (nghttp2_session_want_read(c->s))
		ev |= POLLIN;
	if (nghttp2_session_want_write(c->s))
		ev |= POLLOUT;
	return ev;
}

int grpc_conn_io(grpc_conn *c)
{
	uint8_t b[16384];
	for (;;) {
		ssize_t k = recv(c->fd, b, sizeof(b), 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (k <= 0) {
			int r = k < 0 ? -errno : -ECONNRESET;
			if (c->client)
				client_fail_all(c, "the connection was closed");
			return r;
		}
		if (nghttp2_session_mem_recv(c->s, b, (size_t)k) != k) {
			if (c->client)
				client_fail_all(c, "the peer broke the HTTP/2 protocol");
			return -EPROTO;
		}
	}
	if (flush(c) < 0)
		return -EPIPE;
	if (!grpc_conn_events(c))
		return c->client ? 0 : -ECONNRESET;
	return 0;
}

int grpc_conn_broadcast(grpc_conn *c, const char *path, const uint8_t *msg, size_t len)
{
	for (grpc_call *call = c->calls; call; call = call->next)
		if (call->responded && !call->finishing && !call->reset && !strcmp(call->path, path))
			(void)grpc_call_send(call, msg, len); /* a stream past its limit is reset, the rest go on */
	return flush(c);
}

size_t grpc_conn_calls(const grpc_conn *c, const char *path)
{
	size_t n = 0;
	for (const grpc_call *call = c->calls; call; call = call->next)
		n += call->responded && !call->finishing && !call->reset && !strcmp(call->path, path);
	return n;
}

void grpc_conn_free(grpc_conn *c)
{
	if (!c)
		return;
	if (c->client)
		client_fail_all(c, "the connection was closed");
	c->dying = true;
	nghttp2_session_del(c->s);
	while (c->calls)
		call_free(c, c->calls);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}
