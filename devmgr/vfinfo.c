/* devmgr's VF settings: the public dm_vf_* API over the kernel layer's VF codec
 * (lib/kernel/vf.c), the inventory's view of it, and the link requests a restore
 * needs. Each call opens its own socket in the caller's network namespace. */
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "ucni/nl.h"
#include "ucni/vf.h"

#include "internal.h"

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

/* The kernel layer's units are devmgr's: DM_VF_PROTO_* are the ethertypes,
 * DM_VF_LINK_* the IFLA_VF_LINK_STATE_* values. */
_Static_assert(DM_VF_PROTO_8021Q == ETH_P_8021Q && DM_VF_PROTO_8021AD == ETH_P_8021AD, "VLAN protocols");
_Static_assert((int)DM_VF_LINK_AUTO == (int)IFLA_VF_LINK_STATE_AUTO && (int)DM_VF_LINK_ENABLE == (int)IFLA_VF_LINK_STATE_ENABLE &&
               (int)DM_VF_LINK_DISABLE == (int)IFLA_VF_LINK_STATE_DISABLE, "VF link states");

static void from_kernel(const struct vf_info *k, dm_vf_settings *v)
{
	*v = (dm_vf_settings){
		.index = k->index, .vlan = k->vlan, .qos = k->qos, .vlan_proto = k->vlan_proto,
		.spoofchk = k->spoofchk, .trust = k->trust, .link_state = k->link_state,
		.has_rate = k->has_rate, .min_tx_rate = k->min_tx_rate, .max_tx_rate = k->max_tx_rate,
	};
	memcpy(v->mac, k->mac, 6);
}

static void to_kernel(const dm_vf_settings *v, struct vf_info *k)
{
	*k = (struct vf_info){
		.index = v->index, .vlan = v->vlan, .qos = v->qos, .vlan_proto = v->vlan_proto,
		.spoofchk = v->spoofchk, .trust = v->trust, .link_state = v->link_state,
		.has_rate = v->has_rate, .min_tx_rate = v->min_tx_rate, .max_tx_rate = v->max_tx_rate,
	};
	memcpy(k->mac, v->mac, 6);
}

typedef struct vf_walk {
	void (*cb)(const dm_vf_settings *v, void *arg);
	void *arg;
} vf_walk;

static void on_vf(const struct vf_info *k, void *arg)
{
	vf_walk *w = arg;
	dm_vf_settings v;
	from_kernel(k, &v);
	w->cb(&v, w->arg);
}

/* Every VF the PF netdev PF reports, to CB. */
static int pf_vfs_read(const char *pf, void (*cb)(const dm_vf_settings *v, void *arg), void *arg)
{
	struct nlsk sk = NLSK_NULL;
	vf_walk w = { cb, arg };
	if (!dm_ifname_valid(pf))
		return -EINVAL;
	int e = nlsk_open(&sk);
	if (e < 0)
		return e;
	e = vf_list(&sk, pf, on_vf, &w);
	nlsk_close(&sk);
	return e;
}

int dm_vf_get(const char *pf_netdev, int vf_index, dm_vf_settings *ret)
{
	struct nlsk sk = NLSK_NULL;
	struct vf_info k;
	if (!pf_netdev || vf_index < 0 || !ret || !dm_ifname_valid(pf_netdev))
		return -EINVAL;
	int e = nlsk_open(&sk);
	if (e < 0)
		return e;
	e = vf_get(&sk, pf_netdev, vf_index, &k);
	nlsk_close(&sk);
	if (e < 0)
		return e;
	from_kernel(&k, ret);
	return 0;
}

int dm_vf_set(const char *pf_netdev, dm_vf_attr a, const dm_vf_settings *want)
{
	static const int attrs[DM_VF_ATTR_COUNT] = {
		[DM_VF_MAC] = IFLA_VF_MAC, [DM_VF_VLAN] = IFLA_VF_VLAN, [DM_VF_SPOOFCHK] = IFLA_VF_SPOOFCHK,
		[DM_VF_TRUST] = IFLA_VF_TRUST, [DM_VF_LINK_STATE] = IFLA_VF_LINK_STATE, [DM_VF_RATE] = IFLA_VF_RATE,
	};
	struct nlsk sk = NLSK_NULL;
	struct vf_info k;
	if (!pf_netdev || !dm_ifname_valid(pf_netdev) || !want || (unsigned)a >= DM_VF_ATTR_COUNT || want->index < 0)
		return -EINVAL;
	if ((a == DM_VF_SPOOFCHK && want->spoofchk < 0) || (a == DM_VF_TRUST && want->trust < 0) ||
	    (a == DM_VF_LINK_STATE && want->link_state < 0))
		return -EINVAL;
	int e = nlsk_open(&sk);
	if (e < 0)
		return e;
	to_kernel(want, &k);
	e = vf_set(&sk, pf_netdev, attrs[a], &k);
	nlsk_close(&sk);
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

int vf_link_get(int ifindex, const char *name, nl_link_info *ret)
{
	struct nlsk sk = NLSK_NULL;
	struct link_info li;
	if (ifindex <= 0 && (!name || !dm_ifname_valid(name)))
		return -EINVAL;
	int e = nlsk_open(&sk);
	if (e < 0)
		return e;
	e = ifindex > 0 ? link_get_by_index(&sk, ifindex, &li) : link_get_by_name(&sk, name, &li);
	nlsk_close(&sk);
	if (e < 0)
		return e;
	memset(ret, 0, sizeof(*ret));
	ret->ifindex = li.ifindex;
	ret->flags = li.flags;
	ret->mtu = li.mtu;
	str_copy(ret->name, sizeof(ret->name), li.name);
	str_copy(ret->parent_dev, sizeof(ret->parent_dev), li.parent_dev);
	if (li.maclen == 6) {
		memcpy(ret->mac, li.mac, 6);
		ret->has_mac = true;
	}
	return 0;
}

int vf_link_change(int ifindex, const char *name, unsigned mtu, const unsigned char *mac, int up)
{
	struct nlsk sk = NLSK_NULL;
	struct link_change c = LINK_CHANGE_INIT;
	int e = nlsk_open(&sk);
	if (e < 0)
		return e;
	c.name = name;
	c.mtu = mtu;
	c.mac = mac;
	c.up = up;
	e = link_change(&sk, ifindex, &c);
	nlsk_close(&sk);
	return e;
}

/* ------------------------------------------------------ netdev facts */

struct facts_acc {
	netdev_facts *v;
	size_t n, cap;
};

static void facts_restart(void *arg)
{
	((struct facts_acc *)arg)->n = 0;
}

static int on_fact(const struct link_info *l, void *arg)
{
	static const char *const oper[] = { "unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up" };
	struct facts_acc *a = arg;
	/* what sysfs would show of a PCI function's netdev; anything else is read there */
	if (!pci_addr_valid(l->parent_dev) || strlen(l->name) >= DM_IFNAME_MAX || l->maclen != 6 || l->operstate < 0 ||
	    l->operstate >= (int)ELEMENTSOF(oper) || l->carrier < 0)
		return 0;
	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 256;
		netdev_facts *nv = realloc(a->v, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		a->v = nv;
		a->cap = nc;
	}
	netdev_facts *f = &a->v[a->n++];
	str_copy(f->name, sizeof(f->name), l->name);
	str_copy(f->pci, sizeof(f->pci), l->parent_dev);
	mac_format(l->mac, f->mac);
	str_copy(f->operstate, sizeof(f->operstate), oper[l->operstate]);
	/* sysfs has no carrier of a link that is not up (EINVAL) */
	f->carrier = l->flags & IFF_UP ? l->carrier != 0 : -1;
	f->type = l->type;
	return 0;
}

static int cmp_facts(const void *a, const void *b)
{
	return strcmp(((const netdev_facts *)a)->name, ((const netdev_facts *)b)->name);
}

int netdev_facts_dump(netdev_facts **ret, size_t *ret_n)
{
	struct nlsk sk = NLSK_NULL;
	struct facts_acc a = { 0 };
	int r = nlsk_open(&sk);
	if (r < 0)
		return r;
	r = link_dump(&sk, on_fact, &a, facts_restart);
	nlsk_close(&sk);
	if (r < 0) {
		free(a.v);
		return r;
	}
	if (a.n)
		qsort(a.v, a.n, sizeof(*a.v), cmp_facts);
	*ret = a.v;
	*ret_n = a.n;
	return 0;
}

const netdev_facts *netdev_facts_find(const netdev_facts *v, size_t n, const char *name)
{
	netdev_facts key;
	if (!n || strlen(name) >= sizeof(key.name))
		return NULL;
	str_copy(key.name, sizeof(key.name), name);
	return bsearch(&key, v, n, sizeof(*v), cmp_facts);
}
