/* VF settings through the PF: IFLA_VFINFO_LIST read with RTEXT_FILTER_VF,
 * written one IFLA_VF_* attribute per request. */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>

#include "ucni/vf.h"

static const char *const setting_names[VF_SET_COUNT] = {
	[VF_SET_MAC] = "mac",		[VF_SET_VLAN] = "vlan",		   [VF_SET_SPOOFCHK] = "spoofchk",
	[VF_SET_TRUST] = "trust",	[VF_SET_LINK_STATE] = "link_state", [VF_SET_RATE] = "tx_rate",
};

const char *vf_setting_str(enum vf_setting s)
{
	return (unsigned)s < VF_SET_COUNT ? setting_names[s] : "?";
}

const char *vf_proto_str(uint16_t proto, char buf[8])
{
	if (proto == VF_PROTO_8021Q)
		return "802.1Q";
	if (proto == VF_PROTO_8021AD)
		return "802.1ad";
	snprintf(buf, 8, "0x%04x", proto);
	return buf;
}

const char *vf_link_state_str(int state)
{
	switch (state) {
	case VF_LINK_AUTO:
		return "auto";
	case VF_LINK_ENABLE:
		return "enable";
	case VF_LINK_DISABLE:
		return "disable";
	default:
		return "unknown";
	}
}

struct vf_walk {
	int want;
	bool found;
	struct vf_info *out;
};

/* A u32 "setting" the driver did not fill in is reported as (u32)-1. */
static int bool_setting(uint32_t v)
{
	return v <= 1 ? (int)v : -1;
}

static void parse_vlan_list(struct nlattr *list, struct vf_info *vi)
{
	struct nlattr *a;
	int rem;
	nla_for_each_nested(a, list, rem) {
		if (nla_type(a) != IFLA_VF_VLAN_INFO || nla_len(a) < (int)sizeof(struct ifla_vf_vlan_info))
			continue;
		struct ifla_vf_vlan_info *v = nla_data(a);
		vi->vlan = (uint16_t)v->vlan;
		vi->qos = (uint8_t)v->qos;
		vi->vlan_proto = ntohs(v->vlan_proto);
		return; /* the kernel reports one entry */
	}
}

static void parse_vf(struct nlattr *info, struct vf_walk *w)
{
	struct nlattr *tb[IFLA_VF_MAX + 1];
	if (nla_parse_nested(tb, IFLA_VF_MAX, info, NULL) < 0 || !tb[IFLA_VF_MAC] ||
	    nla_len(tb[IFLA_VF_MAC]) < (int)sizeof(struct ifla_vf_mac))
		return;
	struct ifla_vf_mac *mac = nla_data(tb[IFLA_VF_MAC]);
	if ((int)mac->vf != w->want)
		return;
	struct vf_info *vi = w->out;
	memset(vi, 0, sizeof(*vi));
	vi->index = w->want;
	vi->spoofchk = vi->trust = vi->link_state = -1;
	vi->vlan_proto = VF_PROTO_8021Q;
	memcpy(vi->mac, mac->mac, 6);
	if (tb[IFLA_VF_VLAN] && nla_len(tb[IFLA_VF_VLAN]) >= (int)sizeof(struct ifla_vf_vlan)) {
		struct ifla_vf_vlan *v = nla_data(tb[IFLA_VF_VLAN]);
		vi->vlan = (uint16_t)v->vlan;
		vi->qos = (uint8_t)v->qos;
	}
	if (tb[IFLA_VF_VLAN_LIST])
		parse_vlan_list(tb[IFLA_VF_VLAN_LIST], vi);
	if (tb[IFLA_VF_SPOOFCHK] && nla_len(tb[IFLA_VF_SPOOFCHK]) >= (int)sizeof(struct ifla_vf_spoofchk))
		vi->spoofchk = bool_setting(((struct ifla_vf_spoofchk *)nla_data(tb[IFLA_VF_SPOOFCHK]))->setting);
	if (tb[IFLA_VF_TRUST] && nla_len(tb[IFLA_VF_TRUST]) >= (int)sizeof(struct ifla_vf_trust))
		vi->trust = bool_setting(((struct ifla_vf_trust *)nla_data(tb[IFLA_VF_TRUST]))->setting);
	if (tb[IFLA_VF_LINK_STATE] && nla_len(tb[IFLA_VF_LINK_STATE]) >= (int)sizeof(struct ifla_vf_link_state)) {
		uint32_t ls = ((struct ifla_vf_link_state *)nla_data(tb[IFLA_VF_LINK_STATE]))->link_state;
		vi->link_state = ls <= VF_LINK_DISABLE ? (int)ls : -1;
	}
	if (tb[IFLA_VF_RATE] && nla_len(tb[IFLA_VF_RATE]) >= (int)sizeof(struct ifla_vf_rate)) {
		struct ifla_vf_rate *r = nla_data(tb[IFLA_VF_RATE]);
		vi->has_rate = true;
		vi->min_tx_rate = r->min_tx_rate;
		vi->max_tx_rate = r->max_tx_rate;
	}
	w->found = true;
}

static int on_pf(struct nlmsghdr *h, void *arg)
{
	struct vf_walk *w = arg;
	struct nlattr *tb[IFLA_MAX + 1];
	struct nlattr *a;
	int rem;
	if (h->nlmsg_type != RTM_NEWLINK || w->found)
		return 0;
	if (nlmsg_parse(h, sizeof(struct ifinfomsg), tb, IFLA_MAX, NULL) < 0 || !tb[IFLA_VFINFO_LIST])
		return 0;
	nla_for_each_nested(a, tb[IFLA_VFINFO_LIST], rem) {
		if (nla_type(a) == IFLA_VF_INFO)
			parse_vf(a, w);
		if (w->found)
			break;
	}
	return 0;
}

int vf_get(struct nlsk *sk, int pf_ifindex, int vf, struct vf_info *ret)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = pf_ifindex};
	struct vf_info vi;
	struct vf_walk w = {.want = vf, .out = &vi};
	struct nl_msg *m = nlmsg_alloc_simple(RTM_GETLINK, 0);
	int r;
	if (!m)
		return -ENOMEM;
	if (nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(m, IFLA_EXT_MASK, RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS) < 0) {
		nlmsg_free(m);
		return -ENOBUFS;
	}
	r = nl_request(sk, m, on_pf, &w);
	nlmsg_free(m);
	if (r < 0)
		return r;
	if (!w.found)
		return -ENOENT;
	*ret = vi;
	return 0;
}

static int put_setting(struct nl_msg *m, enum vf_setting s, const struct vf_info *v)
{
	uint32_t vf = (uint32_t)v->index;
	switch (s) {
	case VF_SET_MAC: {
		struct ifla_vf_mac x = {.vf = vf};
		memcpy(x.mac, v->mac, 6);
		return nla_put(m, IFLA_VF_MAC, sizeof(x), &x);
	}
	case VF_SET_VLAN:
		if (v->vlan_proto == VF_PROTO_8021Q || v->vlan_proto == 0) {
			struct ifla_vf_vlan x = {.vf = vf, .vlan = v->vlan, .qos = v->qos};
			return nla_put(m, IFLA_VF_VLAN, sizeof(x), &x);
		} else {
			struct ifla_vf_vlan_info x = {
				.vf = vf, .vlan = v->vlan, .qos = v->qos, .vlan_proto = htons(v->vlan_proto)};
			struct nlattr *list = nla_nest_start(m, IFLA_VF_VLAN_LIST);
			if (!list || nla_put(m, IFLA_VF_VLAN_INFO, sizeof(x), &x) < 0)
				return -1;
			nla_nest_end(m, list);
			return 0;
		}
	case VF_SET_SPOOFCHK: {
		struct ifla_vf_spoofchk x = {.vf = vf, .setting = (uint32_t)v->spoofchk};
		return nla_put(m, IFLA_VF_SPOOFCHK, sizeof(x), &x);
	}
	case VF_SET_TRUST: {
		struct ifla_vf_trust x = {.vf = vf, .setting = (uint32_t)v->trust};
		return nla_put(m, IFLA_VF_TRUST, sizeof(x), &x);
	}
	case VF_SET_LINK_STATE: {
		struct ifla_vf_link_state x = {.vf = vf, .link_state = (uint32_t)v->link_state};
		return nla_put(m, IFLA_VF_LINK_STATE, sizeof(x), &x);
	}
	case VF_SET_RATE: {
		struct ifla_vf_rate x = {.vf = vf, .min_tx_rate = v->min_tx_rate, .max_tx_rate = v->max_tx_rate};
		return nla_put(m, IFLA_VF_RATE, sizeof(x), &x);
	}
	default:
		return -1;
	}
}

int vf_set(struct nlsk *sk, int pf_ifindex, enum vf_setting s, const struct vf_info *want)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = pf_ifindex};
	struct nl_msg *m;
	struct nlattr *list, *info;
	int r = -ENOBUFS;
	if ((unsigned)s >= VF_SET_COUNT || want->index < 0)
		return -EINVAL;
	if ((s == VF_SET_SPOOFCHK && want->spoofchk < 0) || (s == VF_SET_TRUST && want->trust < 0) ||
	    (s == VF_SET_LINK_STATE && want->link_state < 0))
		return -EINVAL;
	if (!(m = nlmsg_alloc_simple(RTM_NEWLINK, 0)))
		return -ENOMEM;
	if (nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 || !(list = nla_nest_start(m, IFLA_VFINFO_LIST)) ||
	    !(info = nla_nest_start(m, IFLA_VF_INFO)) || put_setting(m, s, want) < 0)
		goto out;
	nla_nest_end(m, info);
	nla_nest_end(m, list);
	r = nl_request(sk, m, NULL, NULL);
out:
	nlmsg_free(m);
	return r;
}

bool vf_setting_differs(enum vf_setting s, const struct vf_info *a, const struct vf_info *b)
{
	switch (s) {
	case VF_SET_MAC:
		return memcmp(a->mac, b->mac, 6) != 0;
	case VF_SET_VLAN:
		return a->vlan != b->vlan || a->qos != b->qos ||
		       (a->vlan && (a->vlan_proto ? a->vlan_proto : VF_PROTO_8021Q) !=
					   (b->vlan_proto ? b->vlan_proto : VF_PROTO_8021Q));
	case VF_SET_SPOOFCHK:
		return a->spoofchk != b->spoofchk;
	case VF_SET_TRUST:
		return a->trust != b->trust;
	case VF_SET_LINK_STATE:
		return a->link_state != b->link_state;
	case VF_SET_RATE:
		return a->min_tx_rate != b->min_tx_rate || a->max_tx_rate != b->max_tx_rate;
	default:
		return false;
	}
}
