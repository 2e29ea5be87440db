/* The netlink transport: the one place that opens netlink sockets (rtnetlink and
 * generic netlink); libnl-3 builds and parses the messages, replies and extended-ack
 * errors are read here, generic netlink families are resolved here. */
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netlink/errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ucni/fault.h"
#include "ucni/netns.h"
#include "ucni/nl.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

const char *nlsk_message(const struct nlsk *sk)
{
	return sk->msg;
}

int nl_errno(int nle)
{
	switch (nle < 0 ? -nle : nle) {
	case NLE_SUCCESS:
		return 0;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_EXIST:
		return -EEXIST;
	case NLE_INVAL:
		return -EINVAL;
	case NLE_OBJ_NOTFOUND:
	case NLE_NODEV:
		return -ENODEV;
	case NLE_PERM:
		return -EPERM;
	case NLE_NOACCESS:
		return -EACCES;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_RANGE:
		return -ERANGE;
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:
		return -EAFNOSUPPORT;
	case NLE_AGAIN:
	case NLE_DUMP_INTR:
		return -EAGAIN;
	case NLE_INTR:
		return -EINTR;
	case NLE_MSGSIZE:
		return -EMSGSIZE;
	case NLE_MSG_TOOSHORT:
	case NLE_MSG_TRUNC:
	case NLE_MSG_OVERFLOW:
	case NLE_ATTRSIZE:
	case NLE_PARSE_ERR:
		return -EBADMSG;
	default:
		return -EIO;
	}
}

static int open_proto(struct nlsk *sk, int proto, uint32_t groups)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = groups};
	socklen_t len = sizeof(sa);
	int one = 1;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	/* Best effort: older kernels lack them and still work. */
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	sk->fd = fd;
	sk->seq = (uint32_t)getpid() << 8;
	sk->portid = sa.nl_pid;
	sk->msg[0] = '\0';
	return 0;
}

int nlsk_open_groups(struct nlsk *sk, uint32_t groups)
{
	return open_proto(sk, NETLINK_ROUTE, groups);
}

int nlsk_open(struct nlsk *sk)
{
	return nlsk_open_groups(sk, 0);
}

int nlsk_open_generic(struct nlsk *sk)
{
	return open_proto(sk, NETLINK_GENERIC, 0);
}

struct nl_msg *genl_msg(uint16_t family, uint8_t cmd, int flags)
{
	struct genlmsghdr g = {.cmd = cmd, .version = 1};
	struct nl_msg *m = nlmsg_alloc_simple(family, flags);
	if (m && nlmsg_append(m, &g, sizeof(g), NLMSG_ALIGNTO) < 0) {
		nlmsg_free(m);
		return NULL;
	}
	return m;
}

int genl_family_parse(struct nlmsghdr *h, uint16_t *ret_id)
{
	struct nlattr *tb[CTRL_ATTR_MAX + 1];
	if (h->nlmsg_type != GENL_ID_CTRL || nlmsg_parse(h, GENL_HDRLEN, tb, CTRL_ATTR_MAX, NULL) < 0)
		return -EBADMSG;
	if (!tb[CTRL_ATTR_FAMILY_ID] || nla_len(tb[CTRL_ATTR_FAMILY_ID]) < (int)sizeof(uint16_t))
		return -EBADMSG;
	*ret_id = nla_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
	return 0;
}

static int on_family(struct nlmsghdr *h, void *arg)
{
	return genl_family_parse(h, arg);
}

int genl_family_id(struct nlsk *sk, const char *name, uint16_t *ret_id)
{
	uint16_t id = 0;
	struct nl_msg *m = genl_msg(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
	int r;
	if (!m)
		return -ENOMEM;
	r = nla_put_string(m, CTRL_ATTR_FAMILY_NAME, name) < 0 ? -ENOBUFS : nl_request(sk, m, on_family, &id);
	nlmsg_free(m);
	if (r < 0)
		return r; /* -ENOENT: the kernel has no such family */
	*ret_id = id;
	return 0;
}

int nlsk_open_in(struct nlsk *sk, int nsfd)
{
	int orig, r = netns_enter(nsfd, &orig);
	if (r < 0)
		return r;
	r = nlsk_open(sk);
	netns_leave(&orig);
	return r;
}

void nlsk_close(struct nlsk *sk)
{
	if (sk->fd >= 0)
		close(sk->fd);
	sk->fd = -1;
}

/* The message at *off of a datagram of len bytes, and *off moved past it;
 * NULL at the end, or with *err = -EBADMSG when the rest is cut short. */
static struct nlmsghdr *next_msg(void *buf, size_t len, size_t *off, int *err)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(void *)((char *)buf + *off);
	*err = 0;
	if (*off >= len)
		return NULL;
	if (len - *off < NLMSG_HDRLEN || h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > len - *off) {
		*err = -EBADMSG;
		return NULL;
	}
	*off += NLMSG_ALIGN(h->nlmsg_len);
	return h;
}

static void keep_extack(struct nl_replies *st, struct nlmsghdr *h)
{
	struct nlmsgerr *e = NLMSG_DATA(h);
	size_t off = NLMSG_HDRLEN + sizeof(*e);
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	if (!st->msg || !(h->nlmsg_flags & NLM_F_ACK_TLVS) || off >= h->nlmsg_len)
		return;
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)(void *)((char *)h + off),
		      (int)(h->nlmsg_len - off), NULL) < 0)
		return;
	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(st->msg, st->msg_size, "%.*s", nla_len(tb[NLMSGERR_ATTR_MSG]),
			 (char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
}

int nl_replies_feed(struct nl_replies *st, void *buf, size_t len, int *ret)
{
	size_t off = 0;
	struct nlmsghdr *h;
	int err;
	while ((h = next_msg(buf, len, &off, &err))) {
		if (h->nlmsg_seq != st->seq)
			continue; /* a late reply to an earlier request */
		if (st->dump && (h->nlmsg_flags & NLM_F_DUMP_INTR))
			st->intr = true;
		if (h->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(h);
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e))) {
				*ret = -EBADMSG;
				return 1;
			}
			if (e->error)
				keep_extack(st, h);
			*ret = e->error ? e->error : st->cb_err;
			return 1;
		}
		if (h->nlmsg_type == NLMSG_DONE) {
			int derr = 0;
			if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
				memcpy(&derr, NLMSG_DATA(h), sizeof(int));
			*ret = derr < 0 ? derr : st->cb_err;
			return 1;
		}
		if (st->fn && st->cb_err == 0)
			st->cb_err = st->fn(h, st->arg);
		if (st->get || st->cb_err == NL_STOP) {
			*ret = st->cb_err;
			return 1;
		}
	}
	if (err < 0) {
		*ret = err;
		return 1;
	}
	return 0;
}

/* One read per datagram into a buffer that fits any reply we ask for (a PF
 * with hundreds of VFs stays well below it). */
static char rbuf[1 << 18] __attribute__((aligned(8)));

/* The next datagram on sk: its length, or -errno (-EMSGSIZE when it did not
 * fit the buffer). */
static ssize_t read_datagram(struct nlsk *sk, int flags)
{
	for (;;) {
		ssize_t n = recv(sk->fd, rbuf, sizeof(rbuf), MSG_TRUNC | flags);
		if (n < 0 && errno == EINTR && !(flags & MSG_DONTWAIT))
			continue;
		if (n < 0)
			return -errno;
		return (size_t)n > sizeof(rbuf) ? -EMSGSIZE : n;
	}
}

/* One request and its replies. *intr is set when a reply of a dump carries
 * NLM_F_DUMP_INTR; the dump is then read to its end all the same. */
static int exchange(struct nlsk *sk, struct nlmsghdr *req, nl_reply_fn fn, void *arg, bool *intr)
{
	bool dump = (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	/* A GET of one object (a reply callback, no dump) is answered by exactly one
	 * message, the object or an error: no ACK to ask for and read. */
	struct nl_replies st = {
		.dump = dump, .get = fn && !dump, .fn = fn, .arg = arg, .msg = sk->msg, .msg_size = sizeof(sk->msg),
	};
	int r;

	sk->msg[0] = '\0';
	int f = FAULT("nl.request");
	if (f < 0)
		return f;
	req->nlmsg_flags |= NLM_F_REQUEST | (dump || st.get ? 0 : NLM_F_ACK);
	req->nlmsg_seq = st.seq = ++sk->seq;
	req->nlmsg_pid = 0;
	if (send(sk->fd, req, req->nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t n = read_datagram(sk, 0);
		if (n < 0)
			return (int)n;
		if (nl_replies_feed(&st, rbuf, (size_t)n, &r)) {
			*intr = st.intr;
			return r;
		}
	}
}

int nl_dump_again(int r, bool intr, int try, int *ret)
{
	if (r == NL_STOP)
		r = 0; /* stopped by its reader: never read again */
	else if (r >= 0 && intr) {
		if (try < NL_DUMP_TRIES)
			return 1;
		r = -EAGAIN; /* the table keeps changing under the dump */
	}
	*ret = r;
	return 0;
}

int nl_request_dump(struct nlsk *sk, struct nl_msg *msg, nl_reply_fn fn, void *arg, void (*restart)(void *arg))
{
	struct nlmsghdr *req = nlmsg_hdr(msg);
	int r;
	for (int try = 1;; try++) {
		bool intr = false;
		r = exchange(sk, req, fn, arg, &intr);
		if (!nl_dump_again(r, intr, try, &r))
			return r;
		if (restart)
			restart(arg);
	}
}

int nl_request(struct nlsk *sk, struct nl_msg *msg, nl_reply_fn fn, void *arg)
{
	return nl_request_dump(sk, msg, fn, arg, NULL);
}

int nlsk_recv(struct nlsk *sk, nl_reply_fn fn, void *arg)
{
	ssize_t n = read_datagram(sk, MSG_DONTWAIT);
	size_t off = 0;
	struct nlmsghdr *h;
	int err;
	if (n < 0)
		return n == -EWOULDBLOCK ? -EAGAIN : (int)n;
	while ((h = next_msg(rbuf, (size_t)n, &off, &err))) {
		int r = fn ? fn(h, arg) : 0;
		if (r < 0)
			return r;
	}
	return err;
}
