/* Links over rtnetlink: look up, parse, change, delete, and the id a namespace
 * gives another. */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/net_namespace.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ucni/nl.h"

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
	ret->type = ifi->ifi_type;
	ret->operstate = tb[IFLA_OPERSTATE] ? nla_get_u8(tb[IFLA_OPERSTATE]) : -1;
	ret->carrier = tb[IFLA_CARRIER] ? nla_get_u8(tb[IFLA_CARRIER]) : -1;
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

struct link_dump {
	int (*fn)(const struct link_info *l, void *arg);
	void *arg;
	void (*restart)(void *arg);
};

static void on_dump_restart(void *arg)
{
	struct link_dump *d = arg;
	d->restart(d->arg);
}

static int on_dumped_link(struct nlmsghdr *h, void *arg)
{
	struct link_dump *d = arg;
	struct link_info li;
	int r = link_parse(h, &li);
	return r <= 0 ? r : d->fn(&li, d->arg);
}

int link_dump(struct nlsk *sk, int (*fn)(const struct link_info *l, void *arg), void *arg,
	      void (*restart)(void *arg))
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	struct link_dump d = {fn, arg, restart};
	struct nl_msg *m = nlmsg_alloc_simple(RTM_GETLINK, NLM_F_DUMP);
	if (!m)
		return -ENOMEM;
	if (nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(m, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) < 0) {
		nlmsg_free(m);
		return -ENOBUFS;
	}
	int r = nl_request_dump(sk, m, on_dumped_link, &d, restart ? on_dump_restart : NULL);
	nlmsg_free(m);
	return r;
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
