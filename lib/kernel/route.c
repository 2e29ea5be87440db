/* Addresses and routes over rtnetlink: add, list, find the default route. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ucni/nl.h"

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
