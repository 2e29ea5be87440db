/* rtnetlink transport (libnl-3 builds and parses the messages; replies and
 * extended-ack errors are read here) and the link/address/route operations. */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <netlink/errno.h>
#include <stdio.h>
#include <stdlib.h>
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

int nlsk_open_groups(struct nlsk *sk, uint32_t groups)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = groups};
	socklen_t len = sizeof(sa);
	int one = 1;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
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

int nlsk_open(struct nlsk *sk)
{
	return nlsk_open_groups(sk, 0);
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

/* ---- links ---- */

int link_parse(struct nlmsghdr *h, struct link_info *ret)
{
	struct nlattr *tb[IFLA_MAX + 1];
	struct ifinfomsg *ifi = nlmsg_data(h);
	int r;
	if (h->nlmsg_type != RTM_NEWLINK)
		return 0;
	r = nlmsg_parse(h, sizeof(*ifi), tb, IFLA_MAX, NULL);
	if (r < 0)
		return nl_errno(r);
	memset(ret, 0, sizeof(*ret));
	ret->ifindex = ifi->ifi_index;
	ret->flags = ifi->ifi_flags;
	ret->link_netnsid = -1;
	if (tb[IFLA_IFNAME])
		snprintf(ret->name, sizeof(ret->name), "%s", nla_get_string(tb[IFLA_IFNAME]));
	if (tb[IFLA_MTU])
		ret->mtu = nla_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_ADDRESS] && nla_len(tb[IFLA_ADDRESS]) <= 6) {
		ret->maclen = nla_len(tb[IFLA_ADDRESS]);
		memcpy(ret->mac, nla_data(tb[IFLA_ADDRESS]), (size_t)ret->maclen);
	}
	if (tb[IFLA_PERM_ADDRESS] && nla_len(tb[IFLA_PERM_ADDRESS]) <= 6) {
		ret->perm_maclen = nla_len(tb[IFLA_PERM_ADDRESS]);
		memcpy(ret->perm_mac, nla_data(tb[IFLA_PERM_ADDRESS]), (size_t)ret->perm_maclen);
	}
	if (tb[IFLA_LINK])
		ret->link = (int)nla_get_u32(tb[IFLA_LINK]);
	if (tb[IFLA_LINK_NETNSID])
		ret->link_netnsid = (int)nla_get_u32(tb[IFLA_LINK_NETNSID]);
	if (tb[IFLA_MASTER])
		ret->master = (int)nla_get_u32(tb[IFLA_MASTER]);
	if (tb[IFLA_NUM_VF])
		ret->num_vf = nla_get_u32(tb[IFLA_NUM_VF]);
	if (tb[IFLA_IFALIAS])
		snprintf(ret->alias, sizeof(ret->alias), "%.*s", nla_len(tb[IFLA_IFALIAS]),
			 (char *)nla_data(tb[IFLA_IFALIAS]));
	if (tb[IFLA_PARENT_DEV_NAME])
		snprintf(ret->parent_dev, sizeof(ret->parent_dev), "%s",
			 nla_get_string(tb[IFLA_PARENT_DEV_NAME]));
	if (tb[IFLA_LINKINFO]) {
		struct nlattr *li[IFLA_INFO_MAX + 1];
		if (nla_parse_nested(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO], NULL) == 0) {
			if (li[IFLA_INFO_KIND])
				snprintf(ret->kind, sizeof(ret->kind), "%s", nla_get_string(li[IFLA_INFO_KIND]));
			if (li[IFLA_INFO_DATA] &&
			    nla_len(li[IFLA_INFO_DATA]) <= (int)sizeof(ret->info_data)) {
				ret->info_data_len = nla_len(li[IFLA_INFO_DATA]);
				memcpy(ret->info_data, nla_data(li[IFLA_INFO_DATA]), (size_t)ret->info_data_len);
			}
		}
	}
	return 1;
}

static int on_link(struct nlmsghdr *h, void *arg)
{
	int r = link_parse(h, arg);
	return r < 0 ? r : 0;
}

struct link_at {
	struct link_info li;
	int target; /* the IFLA_TARGET_NETNSID asked for, -1 none */
	bool honoured; /* the reply carries it back */
};

static int on_link_at(struct nlmsghdr *h, void *arg)
{
	struct link_at *a = arg;
	if (a->target >= 0) {
		struct nlattr *t = nlmsg_find_attr(h, sizeof(struct ifinfomsg), IFLA_TARGET_NETNSID);
		a->honoured = t && nla_len(t) >= 4 && nla_get_s32(t) == a->target;
	}
	return on_link(h, &a->li);
}

static int link_get(struct nlsk *sk, int target, const char *name, int ifindex, struct link_info *ret)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = ifindex};
	struct link_at a = {.li = {.ifindex = 0}, .target = target};
	struct nl_msg *m = nlmsg_alloc_simple(RTM_GETLINK, 0);
	int r;
	if (!m)
		return -ENOMEM;
	if (nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    (name && nla_put_string(m, IFLA_IFNAME, name) < 0) ||
	    (target >= 0 && nla_put_s32(m, IFLA_TARGET_NETNSID, target) < 0) ||
	    nla_put_u32(m, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) < 0) {
		nlmsg_free(m);
		return -ENOBUFS;
	}
	r = nl_request(sk, m, on_link_at, &a);
	nlmsg_free(m);
	if (r == -ENODEV || (r == 0 && a.li.ifindex == 0))
		return -ENODEV;
	if (r < 0)
		return r;
	/* A kernel that does not know the attribute looked in sk's own namespace. */
	if (target >= 0 && !a.honoured)
		return -EOPNOTSUPP;
	*ret = a.li;
	return 0;
}

int link_get_by_name(struct nlsk *sk, const char *name, struct link_info *ret)
{
	return link_get(sk, -1, name, 0, ret);
}

int link_get_by_index(struct nlsk *sk, int ifindex, struct link_info *ret)
{
	return link_get(sk, -1, NULL, ifindex, ret);
}

int link_get_by_name_at(struct nlsk *sk, int netnsid, const char *name, struct link_info *ret)
{
	return netnsid < 0 ? -EINVAL : link_get(sk, netnsid, name, 0, ret);
}

int link_del(struct nlsk *sk, int ifindex)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = ifindex};
	struct nl_msg *m = nlmsg_alloc_simple(RTM_DELLINK, 0);
	int r;
	if (!m)
		return -ENOMEM;
	r = nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ? -ENOBUFS : nl_request(sk, m, NULL, NULL);
	nlmsg_free(m);
	return r;
}

int link_change(struct nlsk *sk, int ifindex, const struct link_change *c)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = ifindex};
	struct nl_msg *m = nlmsg_alloc_simple(RTM_NEWLINK, 0);
	int r = -ENOBUFS;
	if (!m)
		return -ENOMEM;
	if (c->up >= 0) {
		ifi.ifi_change = IFF_UP;
		ifi.ifi_flags = c->up ? IFF_UP : 0;
	}
	if (nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0)
		goto out;
	if (c->netns_fd >= 0 && nla_put_u32(m, IFLA_NET_NS_FD, (uint32_t)c->netns_fd) < 0)
		goto out;
	if (c->name && nla_put_string(m, IFLA_IFNAME, c->name) < 0)
		goto out;
	if (c->mac && nla_put(m, IFLA_ADDRESS, 6, c->mac) < 0)
		goto out;
	if (c->mtu && nla_put_u32(m, IFLA_MTU, c->mtu) < 0)
		goto out;
	/* Without a NUL, as the kernel counts IFALIASZ - 1 bytes at most. */
	if (c->alias && nla_put(m, IFLA_IFALIAS, (int)strlen(c->alias), c->alias) < 0)
		goto out;
	if (c->arp_notify) {
		/* IFLA_AF_SPEC → AF_INET → IFLA_INET_CONF → {devconf index: value} */
		struct nlattr *spec = nla_nest_start(m, IFLA_AF_SPEC), *inet, *conf;
		if (!spec || !(inet = nla_nest_start(m, AF_INET)) || !(conf = nla_nest_start(m, IFLA_INET_CONF)) ||
		    nla_put_u32(m, IPV4_DEVCONF_ARP_NOTIFY, 1) < 0)
			goto out;
		nla_nest_end(m, conf);
		nla_nest_end(m, inet);
		nla_nest_end(m, spec);
	}
	r = nl_request(sk, m, NULL, NULL);
out:
	nlmsg_free(m);
	return r;
}

static int on_nsid(struct nlmsghdr *h, void *arg)
{
	struct nlattr *tb[NETNSA_MAX + 1];
	if (h->nlmsg_type != RTM_NEWNSID ||
	    nlmsg_parse(h, sizeof(struct rtgenmsg), tb, NETNSA_MAX, NULL) < 0 || !tb[NETNSA_NSID])
		return 0;
	*(int *)arg = (int)nla_get_s32(tb[NETNSA_NSID]);
	return 0;
}

int nl_nsid(struct nlsk *sk, int nsfd, int *ret)
{
	struct rtgenmsg g = {.rtgen_family = AF_UNSPEC};
	struct nl_msg *m = nlmsg_alloc_simple(RTM_GETNSID, 0);
	int id = -1, r;
	if (!m)
		return -ENOMEM;
	/* The caller's own namespace goes by its pid: no namespace file to open. */
	r = nlmsg_append(m, &g, sizeof(g), NLMSG_ALIGNTO) < 0 ||
			    (nsfd >= 0 ? nla_put_u32(m, NETNSA_FD, (uint32_t)nsfd)
				       : nla_put_u32(m, NETNSA_PID, (uint32_t)getpid())) < 0
		    ? -ENOBUFS
		    : nl_request(sk, m, on_nsid, &id);
	nlmsg_free(m);
	if (r < 0)
		return r;
	*ret = id < 0 ? -1 : id;
	return 0;
}

/* ---- routes and addresses ---- */

struct route_walk {
	int ifindex; /* found (default route) or wanted (route_exists) */
	const struct cni_route *want; /* route_exists */
	bool found;
};

static int route_oif(struct nlattr **tb)
{
	if (tb[RTA_OIF])
		return (int)nla_get_u32(tb[RTA_OIF]);
	if (tb[RTA_MULTIPATH] && nla_len(tb[RTA_MULTIPATH]) >= (int)sizeof(struct rtnexthop)) {
		struct rtnexthop *nh = nla_data(tb[RTA_MULTIPATH]);
		return nh->rtnh_ifindex;
	}
	return 0;
}

static uint32_t route_table(struct rtmsg *rtm, struct nlattr **tb)
{
	return tb[RTA_TABLE] ? nla_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
}

static int on_default_route(struct nlmsghdr *h, void *arg)
{
	struct route_walk *w = arg;
	struct rtmsg *rtm = nlmsg_data(h);
	struct nlattr *tb[RTA_MAX + 1];
	if (w->ifindex || h->nlmsg_type != RTM_NEWROUTE || rtm->rtm_dst_len != 0 ||
	    rtm->rtm_type != RTN_UNICAST)
		return 0;
	if (nlmsg_parse(h, sizeof(*rtm), tb, RTA_MAX, NULL) < 0)
		return 0;
	if (route_table(rtm, tb) == RT_TABLE_MAIN)
		w->ifindex = route_oif(tb);
	return 0;
}

/* A new try of a route dump forgets what the last one found. */
static void route_walk_restart(void *arg)
{
	struct route_walk *w = arg;
	if (!w->want)
		w->ifindex = 0;
	w->found = false;
}

static int route_dump(struct nlsk *sk, int family, nl_reply_fn fn, struct route_walk *w)
{
	struct rtmsg rtm = {.rtm_family = (unsigned char)family};
	struct nl_msg *m = nlmsg_alloc_simple(RTM_GETROUTE, NLM_F_DUMP);
	int r;
	if (!m)
		return -ENOMEM;
	r = nlmsg_append(m, &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0 ? -ENOBUFS
								   : nl_request_dump(sk, m, fn, w, route_walk_restart);
	nlmsg_free(m);
	return r;
}

int route_default_ifindex(struct nlsk *sk, int *ret)
{
	static const int families[] = {AF_INET, AF_INET6};
	for (size_t i = 0; i < 2; i++) {
		struct route_walk w = {.ifindex = 0};
		int r = route_dump(sk, families[i], on_default_route, &w);
		if (r < 0)
			return r;
		if (w.ifindex > 0) {
			*ret = w.ifindex;
			return 0;
		}
	}
	return -ENOENT;
}

static size_t alen(int family)
{
	return family == AF_INET ? 4 : 16;
}

int addr_add(struct nlsk *sk, int ifindex, const struct ip_prefix *p)
{
	struct ifaddrmsg ifa = {
		.ifa_family = (unsigned char)p->family,
		.ifa_prefixlen = (unsigned char)p->len,
		.ifa_index = (unsigned int)ifindex,
		.ifa_scope = RT_SCOPE_UNIVERSE,
	};
	struct nl_msg *m = nlmsg_alloc_simple(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	int r = -ENOBUFS;
	if (!m)
		return -ENOMEM;
	if (nlmsg_append(m, &ifa, sizeof(ifa), NLMSG_ALIGNTO) < 0 ||
	    nla_put(m, IFA_LOCAL, (int)alen(p->family), p->addr.bytes) < 0 ||
	    nla_put(m, IFA_ADDRESS, (int)alen(p->family), p->addr.bytes) < 0)
		goto out;
	if (p->family == AF_INET && p->len < 31) {
		uint32_t mask = p->len ? htonl(~0u << (32 - p->len)) : 0;
		uint32_t brd = p->addr.v4.s_addr | ~mask;
		if (nla_put(m, IFA_BROADCAST, 4, &brd) < 0)
			goto out;
	}
	r = nl_request(sk, m, NULL, NULL);
out:
	nlmsg_free(m);
	return r;
}

int route_add(struct nlsk *sk, int ifindex, const struct cni_route *rt)
{
	struct rtmsg rtm = {
		.rtm_family = (unsigned char)rt->dst.family,
		.rtm_dst_len = (unsigned char)rt->dst.len,
		.rtm_table = RT_TABLE_MAIN,
		.rtm_protocol = RTPROT_BOOT,
		.rtm_scope = rt->scope >= 0 ? (unsigned char)rt->scope
			     : rt->has_gw  ? RT_SCOPE_UNIVERSE
					   : RT_SCOPE_LINK,
		.rtm_type = RTN_UNICAST,
	};
	struct nl_msg *m = nlmsg_alloc_simple(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	int r = -ENOBUFS;
	if (!m)
		return -ENOMEM;
	if (rt->table)
		rtm.rtm_table = rt->table < 256 ? (unsigned char)rt->table : RT_TABLE_UNSPEC;
	if (nlmsg_append(m, &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0)
		goto out;
	if (rt->dst.len && nla_put(m, RTA_DST, (int)alen(rt->dst.family), rt->dst.addr.bytes) < 0)
		goto out;
	if (rt->has_gw && nla_put(m, RTA_GATEWAY, (int)alen(rt->gw.family), rt->gw.addr.bytes) < 0)
		goto out;
	if (nla_put_u32(m, RTA_OIF, (uint32_t)ifindex) < 0)
		goto out;
	if (rt->table && nla_put_u32(m, RTA_TABLE, (uint32_t)rt->table) < 0)
		goto out;
	if (rt->priority && nla_put_u32(m, RTA_PRIORITY, (uint32_t)rt->priority) < 0)
		goto out;
	if (rt->mtu || rt->advmss) {
		struct nlattr *mx = nla_nest_start(m, RTA_METRICS);
		if (!mx || (rt->mtu && nla_put_u32(m, RTAX_MTU, (uint32_t)rt->mtu) < 0) ||
		    (rt->advmss && nla_put_u32(m, RTAX_ADVMSS, (uint32_t)rt->advmss) < 0))
			goto out;
		nla_nest_end(m, mx);
	}
	r = nl_request(sk, m, NULL, NULL);
out:
	nlmsg_free(m);
	return r;
}

struct addr_walk {
	int ifindex;
	struct addr_entry *v;
	size_t n;
};

static int on_addr(struct nlmsghdr *h, void *arg)
{
	struct addr_walk *w = arg;
	struct ifaddrmsg *ifa = nlmsg_data(h);
	struct nlattr *tb[IFA_MAX + 1];
	if (h->nlmsg_type != RTM_NEWADDR || (int)ifa->ifa_index != w->ifindex)
		return 0;
	if (nlmsg_parse(h, sizeof(*ifa), tb, IFA_MAX, NULL) < 0)
		return 0;
	struct nlattr *a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!a || nla_len(a) != (int)alen(ifa->ifa_family))
		return 0;
	struct addr_entry *nv = realloc(w->v, (w->n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	w->v = nv;
	struct addr_entry *e = &nv[w->n++];
	memset(e, 0, sizeof(*e));
	e->prefix.family = ifa->ifa_family;
	e->prefix.len = ifa->ifa_prefixlen;
	memcpy(e->prefix.addr.bytes, nla_data(a), alen(ifa->ifa_family));
	e->flags = tb[IFA_FLAGS] ? nla_get_u32(tb[IFA_FLAGS]) : ifa->ifa_flags;
	return 0;
}

static void addr_walk_restart(void *arg)
{
	((struct addr_walk *)arg)->n = 0;
}

int addr_list(struct nlsk *sk, int ifindex, int family, struct addr_entry **ret, size_t *ret_n)
{
	struct ifaddrmsg ifa = {.ifa_family = (unsigned char)family, .ifa_index = (unsigned)ifindex};
	struct addr_walk w = {.ifindex = ifindex};
	struct nl_msg *m = nlmsg_alloc_simple(RTM_GETADDR, NLM_F_DUMP);
	int r;
	if (!m)
		return -ENOMEM;
	r = nlmsg_append(m, &ifa, sizeof(ifa), NLMSG_ALIGNTO) < 0 ? -ENOBUFS : nl_request_dump(sk, m, on_addr, &w, addr_walk_restart);
	nlmsg_free(m);
	if (r < 0) {
		free(w.v);
		return r;
	}
	*ret = w.v;
	*ret_n = w.n;
	return 0;
}

static int on_route_match(struct nlmsghdr *h, void *arg)
{
	struct route_walk *w = arg;
	const struct cni_route *want = w->want;
	struct rtmsg *rtm = nlmsg_data(h);
	struct nlattr *tb[RTA_MAX + 1];
	if (w->found || h->nlmsg_type != RTM_NEWROUTE || rtm->rtm_dst_len != want->dst.len)
		return 0;
	if (nlmsg_parse(h, sizeof(*rtm), tb, RTA_MAX, NULL) < 0)
		return 0;
	if (route_table(rtm, tb) != (uint32_t)(want->table ? want->table : RT_TABLE_MAIN))
		return 0;
	if (route_oif(tb) != w->ifindex)
		return 0;
	size_t n = alen(want->dst.family);
	if (want->dst.len) {
		if (!tb[RTA_DST] || nla_len(tb[RTA_DST]) != (int)n)
			return 0;
		/* compare the network part only */
		unsigned char a[16], b[16];
		memcpy(a, nla_data(tb[RTA_DST]), n);
		memcpy(b, want->dst.addr.bytes, n);
		for (int i = 0; i < (int)n * 8; i++)
			if (i >= want->dst.len) {
				a[i / 8] &= (unsigned char)~(0x80 >> (i % 8));
				b[i / 8] &= (unsigned char)~(0x80 >> (i % 8));
			}
		if (memcmp(a, b, n))
			return 0;
	}
	if (want->has_gw) {
		if (!tb[RTA_GATEWAY] || nla_len(tb[RTA_GATEWAY]) != (int)n ||
		    memcmp(nla_data(tb[RTA_GATEWAY]), want->gw.addr.bytes, n))
			return 0;
	}
	w->found = true;
	return 0;
}

int route_exists(struct nlsk *sk, int ifindex, const struct cni_route *r, bool *ret)
{
	struct route_walk w = {.ifindex = ifindex, .want = r};
	int rc = route_dump(sk, r->dst.family, on_route_match, &w);
	if (rc < 0)
		return rc;
	*ret = w.found;
	return 0;
}
