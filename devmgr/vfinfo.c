/* The VF codec: a VF's settings as its PF reports them (RTM_GETLINK of the PF with
 * RTEXT_FILTER_VF) and written back one IFLA_VF_* attribute per request, plus the few
 * link requests a restore needs (find a netdev, set its name, MTU, MAC, up/down). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "internal.h"

#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

/* ------------------------------------------------------------ transport */

typedef struct rtnl {
	int fd;
	uint32_t seq;
} rtnl;

static int rtnl_open(rtnl *r)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int one = 1;
	r->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (r->fd < 0)
		return -errno;
	if (bind(r->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;
		close(r->fd);
		r->fd = -1;
		return e;
	}
	(void)setsockopt(r->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	r->seq = (uint32_t)getpid() << 8;
	return 0;
}

static void rtnl_close(rtnl *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

/* Sends MSG; a GET (CB given) ends with its one reply, anything else with the ACK.
 * Returns 0 or the kernel's -errno. */
static int rtnl_talk(rtnl *r, struct nl_msg *msg, void (*cb)(struct nlmsghdr *h, void *arg), void *arg)
{
	static char buf[1 << 18] __attribute__((aligned(8)));
	struct nlmsghdr *req = nlmsg_hdr(msg);
	req->nlmsg_flags |= NLM_F_REQUEST | (cb ? 0 : NLM_F_ACK);
	req->nlmsg_seq = ++r->seq;
	if (send(r->fd, req, req->nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(r->fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != r->seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					return -EBADMSG;
				return e->error;
			}
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (cb) {
				cb(h, arg);
				return 0;
			}
		}
	}
}

/* An RTM_*LINK request for the link IFINDEX, or NAME when IFINDEX is 0. */
static struct nl_msg *link_msg(int type, int ifindex, const char *name)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	struct nl_msg *m = nlmsg_alloc_simple(type, 0);
	if (!m)
		return NULL;
	if (nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    (!ifindex && name && nla_put_string(m, IFLA_IFNAME, name) < 0)) {
		nlmsg_free(m);
		return NULL;
	}
	return m;
}

/* ---------------------------------------------------------- VF settings */

static const char *const attr_names[DM_VF_ATTR_COUNT] = {
	[DM_VF_MAC] = "mac", [DM_VF_VLAN] = "vlan", [DM_VF_SPOOFCHK] = "spoofchk",
	[DM_VF_TRUST] = "trust", [DM_VF_LINK_STATE] = "link_state", [DM_VF_RATE] = "tx_rate",
};

const char *dm_vf_attr_name(dm_vf_attr a)
{
	return (unsigned)a < DM_VF_ATTR_COUNT ? attr_names[a] : "?";
}

static const char *link_state_str(int s)
{
	return s == DM_VF_LINK_AUTO ? "auto" : s == DM_VF_LINK_ENABLE ? "enable" : s == DM_VF_LINK_DISABLE ? "disable" : "unknown";
}

const char *dm_vf_attr_describe(dm_vf_attr a, const dm_vf_settings *v, char *buf, size_t len)
{
	const unsigned char *m = v->mac;
	switch (a) {
	case DM_VF_MAC:
		snprintf(buf, len, "mac %02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
		break;
	case DM_VF_VLAN:
		snprintf(buf, len, "vlan %u vlanQoS %u vlanProto %s", v->vlan, v->qos,
		         v->vlan_proto == DM_VF_PROTO_8021AD ? "802.1ad" : "802.1Q");
		break;
	case DM_VF_SPOOFCHK:
		snprintf(buf, len, "spoofchk %s", v->spoofchk ? "on" : "off");
		break;
	case DM_VF_TRUST:
		snprintf(buf, len, "trust %s", v->trust ? "on" : "off");
		break;
	case DM_VF_LINK_STATE:
		snprintf(buf, len, "link_state %s", link_state_str(v->link_state));
		break;
	case DM_VF_RATE:
		snprintf(buf, len, "min_tx_rate %u max_tx_rate %u", v->min_tx_rate, v->max_tx_rate);
		break;
	default:
		snprintf(buf, len, "?");
	}
	return buf;
}

void dm_vf_baseline(int vf_index, dm_vf_settings *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->index = vf_index;
	ret->vlan_proto = DM_VF_PROTO_8021Q;
	ret->spoofchk = 1;
	ret->trust = 0;
	ret->link_state = DM_VF_LINK_AUTO;
	ret->has_rate = true;
}

bool dm_vf_attr_differs(dm_vf_attr a, const dm_vf_settings *x, const dm_vf_settings *y)
{
	switch (a) {
	case DM_VF_MAC:
		return memcmp(x->mac, y->mac, 6) != 0;
	case DM_VF_VLAN:
		return x->vlan != y->vlan || x->qos != y->qos ||
		       (x->vlan && (x->vlan_proto ? x->vlan_proto : DM_VF_PROTO_8021Q) !=
		                           (y->vlan_proto ? y->vlan_proto : DM_VF_PROTO_8021Q));
	case DM_VF_SPOOFCHK:
		return x->spoofchk != y->spoofchk;
	case DM_VF_TRUST:
		return x->trust != y->trust;
	case DM_VF_LINK_STATE:
		return x->link_state != y->link_state;
	case DM_VF_RATE:
		return x->min_tx_rate != y->min_tx_rate || x->max_tx_rate != y->max_tx_rate;
	default:
		return false;
	}
}

/* A u32 "setting" the driver did not fill in is reported as (u32)-1. */
static int bool_setting(uint32_t v)
{
	return v <= 1 ? (int)v : -1;
}

static bool parse_vf(struct nlattr *info, dm_vf_settings *vi)
{
	struct nlattr *tb[IFLA_VF_MAX + 1];
	if (nla_parse_nested(tb, IFLA_VF_MAX, info, NULL) < 0 || !tb[IFLA_VF_MAC] ||
	    nla_len(tb[IFLA_VF_MAC]) < (int)sizeof(struct ifla_vf_mac))
		return false;
	const struct ifla_vf_mac *mac = nla_data(tb[IFLA_VF_MAC]);
	memset(vi, 0, sizeof(*vi));
	vi->index = (int)mac->vf;
	vi->spoofchk = vi->trust = vi->link_state = -1;
	vi->vlan_proto = DM_VF_PROTO_8021Q;
	memcpy(vi->mac, mac->mac, 6);
	if (tb[IFLA_VF_VLAN] && nla_len(tb[IFLA_VF_VLAN]) >= (int)sizeof(struct ifla_vf_vlan)) {
		const struct ifla_vf_vlan *v = nla_data(tb[IFLA_VF_VLAN]);
		vi->vlan = (uint16_t)v->vlan;
		vi->qos = (uint8_t)v->qos;
	}
	if (tb[IFLA_VF_VLAN_LIST]) {
		struct nlattr *a;
		int rem;
		nla_for_each_nested(a, tb[IFLA_VF_VLAN_LIST], rem) {
			if (nla_type(a) != IFLA_VF_VLAN_INFO || nla_len(a) < (int)sizeof(struct ifla_vf_vlan_info))
				continue;
			const struct ifla_vf_vlan_info *v = nla_data(a);
			vi->vlan = (uint16_t)v->vlan;
			vi->qos = (uint8_t)v->qos;
			vi->vlan_proto = ntohs(v->vlan_proto) ? ntohs(v->vlan_proto) : DM_VF_PROTO_8021Q;
			break; /* the kernel reports one entry */
		}
	}
	if (tb[IFLA_VF_SPOOFCHK] && nla_len(tb[IFLA_VF_SPOOFCHK]) >= (int)sizeof(struct ifla_vf_spoofchk))
		vi->spoofchk = bool_setting(((const struct ifla_vf_spoofchk *)nla_data(tb[IFLA_VF_SPOOFCHK]))->setting);
	if (tb[IFLA_VF_TRUST] && nla_len(tb[IFLA_VF_TRUST]) >= (int)sizeof(struct ifla_vf_trust))
		vi->trust = bool_setting(((const struct ifla_vf_trust *)nla_data(tb[IFLA_VF_TRUST]))->setting);
	if (tb[IFLA_VF_LINK_STATE] && nla_len(tb[IFLA_VF_LINK_STATE]) >= (int)sizeof(struct ifla_vf_link_state)) {
		uint32_t ls = ((const struct ifla_vf_link_state *)nla_data(tb[IFLA_VF_LINK_STATE]))->link_state;
		vi->link_state = ls <= DM_VF_LINK_DISABLE ? (int)ls : -1;
	}
	if (tb[IFLA_VF_RATE] && nla_len(tb[IFLA_VF_RATE]) >= (int)sizeof(struct ifla_vf_rate)) {
		const struct ifla_vf_rate *r = nla_data(tb[IFLA_VF_RATE]);
		vi->has_rate = true;
		vi->min_tx_rate = r->min_tx_rate;
		vi->max_tx_rate = r->max_tx_rate;
	}
	return true;
}

typedef struct vf_walk {
	void (*cb)(const dm_vf_settings *v, void *arg);
	void *arg;
	bool seen;
} vf_walk;

static void on_pf(struct nlmsghdr *h, void *arg)
{
	vf_walk *w = arg;
	struct nlattr *tb[IFLA_MAX + 1];
	struct nlattr *a;
	int rem;
	if (h->nlmsg_type != RTM_NEWLINK || nlmsg_parse(h, sizeof(struct ifinfomsg), tb, IFLA_MAX, NULL) < 0)
		return;
	w->seen = true;
	if (!tb[IFLA_VFINFO_LIST])
		return;
	nla_for_each_nested(a, tb[IFLA_VFINFO_LIST], rem) {
		dm_vf_settings v;
		if (nla_type(a) == IFLA_VF_INFO && parse_vf(a, &v))
			w->cb(&v, w->arg);
	}
}

/* Every VF the PF netdev PF reports, to CB. */
static int pf_vfs_read(const char *pf, void (*cb)(const dm_vf_settings *v, void *arg), void *arg)
{
	rtnl r;
	vf_walk w = { cb, arg, false };
	if (!dm_ifname_valid(pf))
		return -EINVAL;
	int e = rtnl_open(&r);
	if (e < 0)
		return e;
	struct nl_msg *m = link_msg(RTM_GETLINK, 0, pf);
	if (!m || nla_put_u32(m, IFLA_EXT_MASK, RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS) < 0)
		e = -ENOMEM;
	else
		e = rtnl_talk(&r, m, on_pf, &w);
	nlmsg_free(m);
	rtnl_close(&r);
	if (e == 0 && !w.seen)
		e = -ENODEV;
	return e;
}

typedef struct one_vf {
	int want;
	bool found;
	dm_vf_settings v;
} one_vf;

static void pick_vf(const dm_vf_settings *v, void *arg)
{
	one_vf *o = arg;
	if (!o->found && v->index == o->want) {
		o->v = *v;
		o->found = true;
	}
}

int dm_vf_get(const char *pf_netdev, int vf_index, dm_vf_settings *ret)
{
	one_vf o = { .want = vf_index };
	if (!pf_netdev || vf_index < 0 || !ret)
		return -EINVAL;
	int e = pf_vfs_read(pf_netdev, pick_vf, &o);
	if (e < 0)
		return e;
	if (!o.found)
		return -ENOENT;
	*ret = o.v;
	return 0;
}

static int put_setting(struct nl_msg *m, dm_vf_attr a, const dm_vf_settings *v)
{
	uint32_t vf = (uint32_t)v->index;
	switch (a) {
	case DM_VF_MAC: {
		struct ifla_vf_mac x = { .vf = vf };
		memcpy(x.mac, v->mac, 6);
		return nla_put(m, IFLA_VF_MAC, sizeof(x), &x);
	}
	case DM_VF_VLAN:
		if (v->vlan_proto == DM_VF_PROTO_8021Q || v->vlan_proto == 0) {
			struct ifla_vf_vlan x = { .vf = vf, .vlan = v->vlan, .qos = v->qos };
			return nla_put(m, IFLA_VF_VLAN, sizeof(x), &x);
		} else {
			struct ifla_vf_vlan_info x = { .vf = vf, .vlan = v->vlan, .qos = v->qos,
			                               .vlan_proto = htons(v->vlan_proto) };
			struct nlattr *list = nla_nest_start(m, IFLA_VF_VLAN_LIST);
			if (!list || nla_put(m, IFLA_VF_VLAN_INFO, sizeof(x), &x) < 0)
				return -1;
			nla_nest_end(m, list);
			return 0;
		}
	case DM_VF_SPOOFCHK: {
		struct ifla_vf_spoofchk x = { .vf = vf, .setting = (uint32_t)v->spoofchk };
		return nla_put(m, IFLA_VF_SPOOFCHK, sizeof(x), &x);
	}
	case DM_VF_TRUST: {
		struct ifla_vf_trust x = { .vf = vf, .setting = (uint32_t)v->trust };
		return nla_put(m, IFLA_VF_TRUST, sizeof(x), &x);
	}
	case DM_VF_LINK_STATE: {
		struct ifla_vf_link_state x = { .vf = vf, .link_state = (uint32_t)v->link_state };
		return nla_put(m, IFLA_VF_LINK_STATE, sizeof(x), &x);
	}
	case DM_VF_RATE: {
		struct ifla_vf_rate x = { .vf = vf, .min_tx_rate = v->min_tx_rate, .max_tx_rate = v->max_tx_rate };
		return nla_put(m, IFLA_VF_RATE, sizeof(x), &x);
	}
	default:
		return -1;
	}
}

int dm_vf_set(const char *pf_netdev, dm_vf_attr a, const dm_vf_settings *want)
{
	struct nlattr *list, *info;
	rtnl r;
	if (!pf_netdev || !dm_ifname_valid(pf_netdev) || !want || (unsigned)a >= DM_VF_ATTR_COUNT || want->index < 0)
		return -EINVAL;
	if ((a == DM_VF_SPOOFCHK && want->spoofchk < 0) || (a == DM_VF_TRUST && want->trust < 0) ||
	    (a == DM_VF_LINK_STATE && want->link_state < 0))
		return -EINVAL;
	int e = rtnl_open(&r);
	if (e < 0)
		return e;
	struct nl_msg *m = link_msg(RTM_NEWLINK, 0, pf_netdev);
	if (!m || !(list = nla_nest_start(m, IFLA_VFINFO_LIST)) || !(info = nla_nest_start(m, IFLA_VF_INFO)) ||
	    put_setting(m, a, want) < 0)
		e = -ENOMEM;
	else {
		nla_nest_end(m, info);
		nla_nest_end(m, list);
		e = rtnl_talk(&r, m, NULL, NULL);
	}
	nlmsg_free(m);
	rtnl_close(&r);
	return e;
}

/* ------------------------------------------------- the inventory's view */

static void to_config(const dm_vf_settings *v, dm_vf_config *c)
{
	memset(c, 0, sizeof(*c));
	c->valid = true;
	snprintf(c->mac, sizeof(c->mac), "%02x:%02x:%02x:%02x:%02x:%02x", v->mac[0], v->mac[1], v->mac[2], v->mac[3],
	         v->mac[4], v->mac[5]);
	c->vlan = v->vlan;
	c->qos = v->qos;
	c->vlan_proto = v->vlan_proto ? v->vlan_proto : DM_VF_PROTO_8021Q;
	c->spoofchk = v->spoofchk;
	c->trust = v->trust;
	c->link_state = v->link_state;
	c->min_tx_rate = v->min_tx_rate;
	c->max_tx_rate = v->max_tx_rate;
}

int dm_vf_config_query(const char *pf_netdev, int vf_index, dm_vf_config *ret)
{
	dm_vf_settings v;
	if (!pf_netdev || !dm_ifname_valid(pf_netdev) || vf_index < 0 || !ret)
		return -EINVAL;
	int e = dm_vf_get(pf_netdev, vf_index, &v);
	if (e < 0)
		return e;
	to_config(&v, ret);
	return 0;
}

static void fill_pf_vf(const dm_vf_settings *v, void *arg)
{
	dm_device *pf = arg;
	if (v->index >= 0 && (size_t)v->index < pf->n_vfs && pf->vfs[v->index])
		to_config(v, &pf->vfs[v->index]->vf_config);
}

int vf_config_query_all(dm_device *pf)
{
	return pf_vfs_read(pf->netdev, fill_pf_vf, pf);
}

/* ---------------------------------------------------------------- links */

static void on_link(struct nlmsghdr *h, void *arg)
{
	nl_link_info *l = arg;
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	struct nlattr *tb[IFLA_MAX + 1];
	if (h->nlmsg_type != RTM_NEWLINK || nlmsg_parse(h, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0)
		return;
	memset(l, 0, sizeof(*l));
	l->ifindex = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	if (tb[IFLA_IFNAME])
		snprintf(l->name, sizeof(l->name), "%s", nla_get_string(tb[IFLA_IFNAME]));
	if (tb[IFLA_MTU])
		l->mtu = nla_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_ADDRESS] && nla_len(tb[IFLA_ADDRESS]) == 6) {
		memcpy(l->mac, nla_data(tb[IFLA_ADDRESS]), 6);
		l->has_mac = true;
	}
	if (tb[IFLA_PARENT_DEV_NAME])
		snprintf(l->parent_dev, sizeof(l->parent_dev), "%s", nla_get_string(tb[IFLA_PARENT_DEV_NAME]));
}

int vf_link_get(int ifindex, const char *name, nl_link_info *ret)
{
	rtnl r;
	nl_link_info l = { 0 };
	if (ifindex <= 0 && (!name || !dm_ifname_valid(name)))
		return -EINVAL;
	int e = rtnl_open(&r);
	if (e < 0)
		return e;
	struct nl_msg *m = link_msg(RTM_GETLINK, ifindex > 0 ? ifindex : 0, name);
	if (!m || nla_put_u32(m, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) < 0)
		e = -ENOMEM;
	else
		e = rtnl_talk(&r, m, on_link, &l);
	nlmsg_free(m);
	rtnl_close(&r);
	if (e == 0 && !l.ifindex)
		e = -ENODEV;
	if (e < 0)
		return e;
	*ret = l;
	return 0;
}

int vf_link_change(int ifindex, const char *name, unsigned mtu, const unsigned char *mac, int up)
{
	rtnl r;
	int e = rtnl_open(&r);
	if (e < 0)
		return e;
	struct nl_msg *m = link_msg(RTM_NEWLINK, ifindex, NULL);
	if (m && up >= 0) {
		struct ifinfomsg *ifi = nlmsg_data(nlmsg_hdr(m));
		ifi->ifi_change = IFF_UP;
		ifi->ifi_flags = up ? IFF_UP : 0;
	}
	if (!m || (name && nla_put_string(m, IFLA_IFNAME, name) < 0) || (mtu && nla_put_u32(m, IFLA_MTU, mtu) < 0) ||
	    (mac && nla_put(m, IFLA_ADDRESS, 6, mac) < 0))
		e = -ENOMEM;
	else
		e = rtnl_talk(&r, m, NULL, NULL);
	nlmsg_free(m);
	rtnl_close(&r);
	return e;
}
