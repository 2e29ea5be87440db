/* The VF codec: IFLA_VFINFO_LIST of a PF's link read into struct vf_info, and
 * one IFLA_VF_* attribute written per request. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <string.h>

#include "ucni/vf.h"

/* A u32 "setting" the driver did not fill in is reported as (u32)-1. */
static int bool_setting(uint32_t v)
{
	return v <= 1 ? (int)v : -1;
}

static bool parse_vf(struct nlattr *info, struct vf_info *vi)
{
	struct nlattr *tb[IFLA_VF_MAX + 1];
	if (nla_parse_nested(tb, IFLA_VF_MAX, info, NULL) < 0 || !tb[IFLA_VF_MAC] ||
	    nla_len(tb[IFLA_VF_MAC]) < (int)sizeof(struct ifla_vf_mac))
		return false;
	const struct ifla_vf_mac *mac = nla_data(tb[IFLA_VF_MAC]);
	memset(vi, 0, sizeof(*vi));
	vi->index = (int)mac->vf;
	vi->spoofchk = vi->trust = vi->link_state = -1;
	vi->vlan_proto = ETH_P_8021Q;
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
			vi->vlan_proto = ntohs(v->vlan_proto) ? ntohs(v->vlan_proto) : ETH_P_8021Q;
			break; /* the kernel reports one entry */
		}
	}
	if (tb[IFLA_VF_SPOOFCHK] && nla_len(tb[IFLA_VF_SPOOFCHK]) >= (int)sizeof(struct ifla_vf_spoofchk))
		vi->spoofchk = bool_setting(((const struct ifla_vf_spoofchk *)nla_data(tb[IFLA_VF_SPOOFCHK]))->setting);
	if (tb[IFLA_VF_TRUST] && nla_len(tb[IFLA_VF_TRUST]) >= (int)sizeof(struct ifla_vf_trust))
		vi->trust = bool_setting(((const struct ifla_vf_trust *)nla_data(tb[IFLA_VF_TRUST]))->setting);
	if (tb[IFLA_VF_LINK_STATE] && nla_len(tb[IFLA_VF_LINK_STATE]) >= (int)sizeof(struct ifla_vf_link_state)) {
		uint32_t ls = ((const struct ifla_vf_link_state *)nla_data(tb[IFLA_VF_LINK_STATE]))->link_state;
		vi->link_state = ls <= IFLA_VF_LINK_STATE_DISABLE ? (int)ls : -1;
	}
	if (tb[IFLA_VF_RATE] && nla_len(tb[IFLA_VF_RATE]) >= (int)sizeof(struct ifla_vf_rate)) {
		const struct ifla_vf_rate *r = nla_data(tb[IFLA_VF_RATE]);
		vi->has_rate = true;
		vi->min_tx_rate = r->min_tx_rate;
		vi->max_tx_rate = r->max_tx_rate;
	}
	return true;
}

struct vf_walk {
	void (*cb)(const struct vf_info *v, void *arg);
	void *arg;
	bool seen;
};

static int on_pf(struct nlmsghdr *h, void *arg)
{
	struct vf_walk *w = arg;
	struct nlattr *tb[IFLA_MAX + 1];
	struct nlattr *a;
	int rem;
	if (h->nlmsg_type != RTM_NEWLINK || nlmsg_parse(h, sizeof(struct ifinfomsg), tb, IFLA_MAX, NULL) < 0)
		return 0;
	w->seen = true;
	if (!tb[IFLA_VFINFO_LIST])
		return 0;
	nla_for_each_nested(a, tb[IFLA_VFINFO_LIST], rem) {
		struct vf_info v;
		if (nla_type(a) == IFLA_VF_INFO && parse_vf(a, &v))
			w->cb(&v, w->arg);
	}
	return 0;
}

/* An RTM_*LINK request for the link named `name`. */
static struct nl_msg *link_msg(int type, const char *name)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	struct nl_msg *m = nlmsg_alloc_simple(type, 0);
	if (m && (nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 || nla_put_string(m, IFLA_IFNAME, name) < 0)) {
		nlmsg_free(m);
		return NULL;
	}
	return m;
}

int vf_list(struct nlsk *sk, const char *pf, void (*cb)(const struct vf_info *v, void *arg), void *arg)
{
	struct vf_walk w = {cb, arg, false};
	struct nl_msg *m = link_msg(RTM_GETLINK, pf);
	int r;
	if (!m)
		return -ENOMEM;
	r = nla_put_u32(m, IFLA_EXT_MASK, RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS) < 0 ? -ENOBUFS
											   : nl_request(sk, m, on_pf, &w);
	nlmsg_free(m);
	return r == 0 && !w.seen ? -ENODEV : r;
}

struct one_vf {
	int want;
	bool found;
	struct vf_info v;
};

static void pick_vf(const struct vf_info *v, void *arg)
{
	struct one_vf *o = arg;
	if (!o->found && v->index == o->want) {
		o->v = *v;
		o->found = true;
	}
}

int vf_get(struct nlsk *sk, const char *pf, int index, struct vf_info *ret)
{
	struct one_vf o = {.want = index};
	int r = vf_list(sk, pf, pick_vf, &o);
	if (r < 0)
		return r;
	if (!o.found)
		return -ENOENT;
	*ret = o.v;
	return 0;
}

/* -EINVAL for an attribute that is no VF setting, -ENOBUFS when it does not fit. */
static int put_setting(struct nl_msg *m, int attr, const struct vf_info *v)
{
	uint32_t vf = (uint32_t)v->index;
	int r;
	switch (attr) {
	case IFLA_VF_MAC: {
		struct ifla_vf_mac x = {.vf = vf};
		memcpy(x.mac, v->mac, 6);
		r = nla_put(m, IFLA_VF_MAC, sizeof(x), &x);
		break;
	}
	case IFLA_VF_VLAN:
		if (v->vlan_proto == ETH_P_8021Q || v->vlan_proto == 0) {
			struct ifla_vf_vlan x = {.vf = vf, .vlan = v->vlan, .qos = v->qos};
			r = nla_put(m, IFLA_VF_VLAN, sizeof(x), &x);
		} else {
			struct ifla_vf_vlan_info x;
			struct nlattr *list = nla_nest_start(m, IFLA_VF_VLAN_LIST);
			memset(&x, 0, sizeof(x)); /* its tail padding goes out too */
			x.vf = vf;
			x.vlan = v->vlan;
			x.qos = v->qos;
			x.vlan_proto = htons(v->vlan_proto);
			r = list ? nla_put(m, IFLA_VF_VLAN_INFO, sizeof(x), &x) : -1;
			if (r == 0)
				nla_nest_end(m, list);
		}
		break;
	case IFLA_VF_SPOOFCHK: {
		struct ifla_vf_spoofchk x = {.vf = vf, .setting = (uint32_t)v->spoofchk};
		r = nla_put(m, IFLA_VF_SPOOFCHK, sizeof(x), &x);
		break;
	}
	case IFLA_VF_TRUST: {
		struct ifla_vf_trust x = {.vf = vf, .setting = (uint32_t)v->trust};
		r = nla_put(m, IFLA_VF_TRUST, sizeof(x), &x);
		break;
	}
	case IFLA_VF_LINK_STATE: {
		struct ifla_vf_link_state x = {.vf = vf, .link_state = (uint32_t)v->link_state};
		r = nla_put(m, IFLA_VF_LINK_STATE, sizeof(x), &x);
		break;
	}
	case IFLA_VF_RATE: {
		struct ifla_vf_rate x = {.vf = vf, .min_tx_rate = v->min_tx_rate, .max_tx_rate = v->max_tx_rate};
		r = nla_put(m, IFLA_VF_RATE, sizeof(x), &x);
		break;
	}
	default:
		return -EINVAL;
	}
	return r < 0 ? -ENOBUFS : 0;
}

int vf_set(struct nlsk *sk, const char *pf, int attr, const struct vf_info *want)
{
	struct nlattr *list, *info;
	struct nl_msg *m;
	int r = -ENOBUFS;
	if (want->index < 0)
		return -EINVAL;
	if (!(m = link_msg(RTM_NEWLINK, pf)))
		return -ENOMEM;
	if ((list = nla_nest_start(m, IFLA_VFINFO_LIST)) && (info = nla_nest_start(m, IFLA_VF_INFO)) &&
	    (r = put_setting(m, attr, want)) == 0) {
		nla_nest_end(m, info);
		nla_nest_end(m, list);
		r = nl_request(sk, m, NULL, NULL);
	}
	nlmsg_free(m);
	return r;
}
