/* The ADD/DEL/CHECK/STATUS/GC sequence for links stacked on a master
 * (macvlan, ipvlan). A kind only adds its keys and attributes. */
#include <errno.h>
#include <linux/if_link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ucni/fault.h"
#include "ucni/ipam.h"
#include "ucni/ipcfg.h"
#include "ucni/log.h"
#include "ucni/netns.h"
#include "ucni/plugin.h"
#include "ucni/sha256.h"
#include "ucni/stacked.h"

struct stacked {
	struct cni_ctx *ctx;
	const struct link_kind *kind; /* the plugin's: cni_plugin.data */
	struct stacked_conf conf;
	int nsfd;
	struct nlsk host, cont;
	struct nlsk *master_sk; /* host or cont, per linkInContainer */
	struct link_info master;
	const char *where; /* "host" or "container": where master lives */
	char mark[STACKED_MARK_MAX]; /* this attachment's ownership mark */
};

static void stacked_init(struct stacked *st, struct cni_ctx *ctx)
{
	memset(st, 0, sizeof(*st));
	st->ctx = ctx;
	st->kind = ctx->plugin->data;
	st->nsfd = -1;
	st->host.fd = st->cont.fd = -1;
	stacked_mark(ctx->env.containerid, ctx->env.ifname, ctx->conf.name, st->mark);
}

void stacked_mark(const char *cid, const char *ifname, const char *network, char ret[STACKED_MARK_MAX])
{
	char *id = NULL;
	bool plain = true;
	int n = asprintf(&id, "%s/%s/%s", cid ? cid : "", ifname ? ifname : "", network ? network : "");
	if (n < 0) {
		/* Out of memory: a mark no ADD ever writes, so nothing is taken for ours. */
		snprintf(ret, STACKED_MARK_MAX, "ucni:?");
		return;
	}
	for (const char *p = id; *p && plain; p++)
		plain = *p >= 0x20 && *p < 0x7f;
	if (plain && (size_t)n + 5 < STACKED_MARK_MAX) {
		snprintf(ret, STACKED_MARK_MAX, "ucni:%s", id);
	} else {
		char hex[SHA256_HEX_LEN + 1];
		sha256_hex(id, (size_t)n, hex);
		snprintf(ret, STACKED_MARK_MAX, "ucni:sha256:%s", hex);
	}
	free(id);
}

static void stacked_free(struct stacked *st)
{
	nlsk_close(&st->host);
	nlsk_close(&st->cont);
	if (st->nsfd >= 0)
		close(st->nsfd);
	free(st->conf.kind);
}

/* The attribute `type` of the link's IFLA_INFO_DATA, at least `len` bytes. */
static struct nlattr *info_data_attr(const struct link_info *link, int type, int len)
{
	struct nlattr *tb[64];
	if (type >= 64 || nla_parse(tb, 63, (struct nlattr *)(void *)link->info_data, link->info_data_len, NULL) < 0 ||
	    !tb[type] || nla_len(tb[type]) < len)
		return NULL;
	return tb[type];
}

int link_info_data_u32(const struct link_info *link, int type, uint32_t *ret)
{
	struct nlattr *a = info_data_attr(link, type, 4);
	if (!a)
		return -ENOENT;
	*ret = nla_get_u32(a);
	return 0;
}

int link_info_data_u16(const struct link_info *link, int type, uint16_t *ret)
{
	struct nlattr *a = info_data_attr(link, type, 2);
	if (!a)
		return -ENOENT;
	*ret = nla_get_u16(a);
	return 0;
}

static int parse_conf(struct stacked *st)
{
	return stacked_conf_parse(st->kind, st->ctx, &st->conf);
}

int stacked_conf_parse(const struct link_kind *kind, const struct cni_ctx *ctx, struct stacked_conf *c)
{
	const cJSON *root = ctx->conf.root;
	int r;

	if ((r = conf_string(root, NULL, "master", &c->master)) < 0)
		return r;
	if (c->master && !*c->master)
		c->master = NULL;
	const char *why = c->master ? cni_ifname_problem(c->master) : NULL;
	if (why)
		return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid config: \"master\" value \"%s\" %s",
				c->master, why);
	if ((r = conf_mtu(root, &c->mtu)) < 0)
		return r;
	if ((r = conf_bool(root, NULL, "linkInContainer", &c->link_in_container)) < 0)
		return r;
	if (kind->supports_mac) {
		if ((r = conf_mac_chosen(ctx, c->mac)) < 0)
			return r;
		c->has_mac = r > 0;
	}
	c->kind = calloc(1, kind->conf_size ? kind->conf_size : 1);
	if (!c->kind)
		return cni_fail(CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
	return kind->parse ? kind->parse(ctx, c->kind) : 0;
}

/* A socket in the host (this process's namespace); also CHECK's plugin_check_begin hook. */
static int open_host(void *p)
{
	struct stacked *st = p;
	int r = nlsk_open(&st->host);
	return r < 0 ? cni_fail(CNI_ERR_INTERNAL, r, "cannot open a netlink socket") : 0;
}

/* Master from prevResult: its single interface inside this sandbox, not
 * counting CNI_IFNAME itself (CHECK's and DEL's prevResult already list the
 * link). NULL with *ret_n interfaces when there is not exactly one. */
static const char *master_from_prev(const struct stacked *st, int *ret_n)
{
	const struct cni_result *prev = st->ctx->conf.prev;
	const char *found = NULL;
	int n = 0;
	for (size_t i = 0; prev && i < prev->n_ifaces; i++)
		if (prev->ifaces[i].sandbox && st->ctx->env.netns &&
		    strcmp(prev->ifaces[i].sandbox, st->ctx->env.netns) == 0 &&
		    (!prev->ifaces[i].name || strcmp(prev->ifaces[i].name, st->ctx->env.ifname) != 0)) {
			found = prev->ifaces[i].name;
			n++;
		}
	*ret_n = n;
	return n == 1 ? found : NULL;
}

/* Does the master come from the config (or prevResult) by name, rather than
 * from the default route? */
static bool master_named(const struct stacked *st)
{
	return st->conf.master || (st->kind->master_from_prev_result && st->ctx->conf.prev);
}

/*
 * Find the master as ADD does: `master`, else (kinds that allow it)
 * prevResult's single sandbox interface, else the default route's interface.
 * Records no error: -ENODEV when the named master does not exist, -ENOENT when
 * none can be derived (*ret_prev_n: prevResult's count, -1 for the default
 * route), another -errno when the kernel cannot be asked.
 */
static int find_master(struct stacked *st, int *ret_prev_n)
{
	int r;
	*ret_prev_n = -1;
	if (!st->conf.master && st->kind->master_from_prev_result && st->ctx->conf.prev) {
		const char *m = master_from_prev(st, ret_prev_n);
		if (!m)
			return -ENOENT;
		st->conf.master = m;
		st->conf.link_in_container = true;
	}
	st->master_sk = st->conf.link_in_container ? &st->cont : &st->host;
	st->where = st->conf.link_in_container ? "container" : "host";
	if (st->conf.master)
		return link_get_by_name(st->master_sk, st->conf.master, &st->master);
	int ifindex;
	if ((r = route_default_ifindex(st->master_sk, &ifindex)) < 0)
		return r;
	if ((r = link_get_by_index(st->master_sk, ifindex, &st->master)) < 0)
		return r == -ENODEV ? -ENOENT : r;
	log_debug("master defaults to %s (default route)", st->master.name);
	return 0;
}

/* Find the master (and check it can carry the link). code: the CNI code for "missing". */
static int resolve_master(struct stacked *st, int code)
{
	const char *pre = code == CNI_ERR_INVALID_CONFIG ? "invalid config: " : "";
	int n, r = find_master(st, &n);
	if (r == 0)
		return 0;
	if (r == -ENOENT && n >= 0)
		return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL,
				"invalid config: \"master\" is not set and prevResult has %d interfaces in the sandbox (needs exactly one)",
				n);
	if (r == -ENODEV && st->conf.master)
		return cni_fail(code, r, "%s\"master\": interface \"%s\" does not exist in the %s namespace", pre,
				st->conf.master, st->where);
	if (r == -ENOENT)
		return cni_fail(code, r, "%s\"master\" is not set and the %s namespace has no default route to take it from",
				pre, st->where);
	if (st->conf.master)
		return cni_fail_kernel(CNI_ERR_KERNEL, r, nlsk_message(st->master_sk), "looking up master \"%s\" failed",
				       st->conf.master);
	return cni_fail_kernel(CNI_ERR_KERNEL, r, nlsk_message(st->master_sk),
			       "looking up the default route's interface failed");
}

/* Is the parent of li the master found by find_master, in the namespace the
 * config puts it in? 1 yes, 0 no, -errno when that cannot be told. The same
 * ifindex in another namespace is another device: a parent outside the
 * container is the host's only when the container's id for the host says so. */
static int on_master(struct stacked *st, const struct link_info *li)
{
	int id = -1, r;
	if (li->link != st->master.ifindex)
		return 0;
	if (st->conf.link_in_container)
		return li->link_netnsid < 0;
	if (li->link_netnsid < 0)
		return 0;
	r = nl_nsid(&st->cont, -1, &id); /* the host: the namespace this process runs in */
	return r < 0 ? r : id == li->link_netnsid;
}

static int check_mtu(struct stacked *st)
{
	if (st->conf.mtu && st->conf.mtu > st->master.mtu)
		return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL,
				"invalid config: \"mtu\" value %u is above the MTU %u of master \"%s\"",
				st->conf.mtu, st->master.mtu, st->master.name);
	return 0;
}

/* Create the link directly in the container under `name`, up or not. */
static int create_link(struct stacked *st, const char *name, bool up)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_flags = up ? IFF_UP : 0, .ifi_change = IFF_UP};
	struct nl_msg *m = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct nlattr *li, *data;
	int r = -ENOBUFS;
	if (!m)
		return -ENOMEM;
	if (nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_string(m, IFLA_IFNAME, name) < 0 ||
	    nla_put_u32(m, IFLA_LINK, (uint32_t)st->master.ifindex) < 0)
		goto out;
	if (!st->conf.link_in_container && nla_put_u32(m, IFLA_NET_NS_FD, (uint32_t)st->nsfd) < 0)
		goto out;
	if (st->conf.mtu && nla_put_u32(m, IFLA_MTU, st->conf.mtu) < 0)
		goto out;
	if (st->conf.has_mac && nla_put(m, IFLA_ADDRESS, 6, st->conf.mac) < 0)
		goto out;
	if (!(li = nla_nest_start(m, IFLA_LINKINFO)) || nla_put_string(m, IFLA_INFO_KIND, st->kind->kind) < 0 ||
	    !(data = nla_nest_start(m, IFLA_INFO_DATA)))
		goto out;
	if (st->kind->fill_info_data && (r = st->kind->fill_info_data(st->conf.kind, m)) < 0)
		goto out;
	nla_nest_end(m, data);
	nla_nest_end(m, li);
	r = nl_request(st->master_sk, m, NULL, NULL);
out:
	nlmsg_free(m);
	return r;
}

/* Who owns li, as DEL and CHECK judge it. */
enum owner {
	OWNER_US,      /* our kind, this attachment's mark */
	OWNER_NONE,    /* our kind, no mark: another plugin, an older ucni, or a crash before the mark */
	OWNER_OTHER,   /* our kind, another attachment's mark */
	OWNER_KIND,    /* another kind of device altogether */
};

static enum owner owner_of(const struct stacked *st, const struct link_info *li)
{
	if (strcmp(li->kind, st->kind->kind) != 0)
		return OWNER_KIND;
	if (!li->alias[0])
		return OWNER_NONE;
	return strcmp(li->alias, st->mark) == 0 ? OWNER_US : OWNER_OTHER;
}

static const char *owner_str(enum owner o)
{
	switch (o) {
	case OWNER_NONE:
		return "carries no ucni ownership mark (another plugin's link, or one made by an older ucni)";
	case OWNER_OTHER:
		return "carries another attachment's ownership mark";
	default:
		return "is another kind of device";
	}
}

/*
 * Remove what an interrupted ADD of this attachment left under its temporary
 * name `name`: a link of our kind that carries this attachment's mark or no
 * mark at all (the name is derived from the attachment, and the mark comes
 * with the rename). 1 removed, 0 nothing of ours there, -errno.
 */
static int remove_stale(struct stacked *st, struct nlsk *sk, const char *name)
{
	struct link_info li;
	int r = link_get_by_name(sk, name, &li);
	if (r == -ENODEV)
		return 0;
	if (r < 0)
		return r;
	enum owner o = owner_of(st, &li);
	if (o != OWNER_US && o != OWNER_NONE) {
		log_warn("%s: %s %s; left alone", name, li.kind[0] ? li.kind : "device", owner_str(o));
		return 0;
	}
	log_info("removing %s left by an interrupted ADD", name);
	r = link_del(sk, li.ifindex);
	return r == -ENODEV ? 1 : r < 0 ? r : 1;
}

/* adopt_prev_ips: prevResult's IPs that name no interface, as interface 0 of a
 * new result (with prevResult's routes when it names no interface at all).
 * *ret stays NULL when there is nothing to adopt. */
static int prev_unbound(const struct cni_result *prev, struct cni_result **ret)
{
	struct cni_result *a;
	size_t n = 0;
	*ret = NULL;
	for (size_t i = 0; prev && i < prev->n_ips; i++)
		n += prev->ips[i].iface < 0;
	if (n == 0)
		return 0;
	if (!(a = cni_result_new()) || !(a->ips = calloc(n, sizeof(*a->ips))) ||
	    !(a->routes = calloc(prev->n_routes + 1, sizeof(*a->routes)))) {
		cni_result_free(a);
		return cni_fail(CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < prev->n_ips; i++)
		if (prev->ips[i].iface < 0) {
			a->ips[a->n_ips] = prev->ips[i];
			a->ips[a->n_ips++].iface = 0;
		}
	if (prev->n_ifaces == 0) {
		memcpy(a->routes, prev->routes, prev->n_routes * sizeof(*a->routes));
		a->n_routes = prev->n_routes;
	}
	*ret = a;
	return 0;
}

static int stacked_add(struct cni_ctx *ctx, cJSON **ret)
{
	struct stacked st;
	struct cni_result *ipam = NULL, *adopted = NULL;
	struct link_info li;
	struct stacked_add hook = {.ctx = ctx, .master_nsfd = -1, .nsfd = -1};
	char mac[18], tmp[IFNAMSIZ] = "";
	const char *ifname = ctx->env.ifname;
	int ifindex = 0, host_nsfd = -1, r;
	bool created = false, ipam_done = false, began = false, ended = false, noted = false;

	stacked_init(&st, ctx);
	if ((r = parse_conf(&st)) < 0 || (r = plugin_netns_open(ctx, &st.nsfd, &st.cont)) < 0 ||
	    (r = open_host(&st)) < 0 || (r = resolve_master(&st, CNI_ERR_INVALID_CONFIG)) < 0 || (r = check_mtu(&st)) < 0)
		goto out;
	if (st.kind->check_master && (r = st.kind->check_master(st.conf.kind, st.master_sk, &st.master)) < 0)
		goto out;
	if (st.kind->add_begin) {
		if (!st.conf.link_in_container && (r = netns_open_self(&host_nsfd)) < 0) {
			cni_fail(CNI_ERR_INTERNAL, r, "cannot open the host network namespace");
			goto out;
		}
		hook.master = &st.master;
		hook.master_sk = st.master_sk;
		hook.master_nsfd = st.conf.link_in_container ? st.nsfd : host_nsfd;
		hook.nsfd = st.nsfd;
		if ((r = st.kind->add_begin(st.conf.kind, &hook)) < 0)
			goto out;
		began = true;
	}
	/*
	 * One request makes the link in the container under its final name, up: the
	 * rename a temporary name needs costs the kernel more than the create. Kernels
	 * before 6.14 look the name up in the caller's namespace first, though, and
	 * answer EEXIST when the host has an interface of that name (eth0, say); there
	 * the link is made under a temporary name, then renamed and brought up.
	 */
	/* Until the new link carries its mark, the attachment's lock file says a link
	 * is being made: a DEL after a kill in between takes the unmarked link for ours. */
	noted = cni_attach_note(ctx, "creating") == 0;
	r = FAULT("add.create") ?: SIMULATE("old-kernel") ? -EEXIST : create_link(&st, ifname, true);
	if (r == -EEXIST) {
		if ((r = link_get_by_name(&st.cont, ifname, &li)) == 0) {
			enum owner o = owner_of(&st, &li);
			r = cni_fail(CNI_ERR_INVALID_ENV, -EEXIST, "CNI_IFNAME \"%s\" already exists in the container (%s)%s",
				     ifname, li.kind[0] ? li.kind : "device",
				     o == OWNER_US	  ? ": made by an earlier ADD of this attachment"
				     : o == OWNER_OTHER ? ": another attachment's"
							: "");
			goto out;
		}
		if (r == -ENODEV) {
			cni_tmpname(&ctx->env, tmp);
			r = create_link(&st, tmp, false);
			if (r == -EEXIST && remove_stale(&st, &st.cont, tmp) > 0)
				r = create_link(&st, tmp, false); /* a crashed ADD left it; ours to replace */
		}
	}
	if (r < 0) {
		cni_fail_kernel(CNI_ERR_KERNEL, r, nlsk_message(st.master_sk), "creating the %s link on master \"%s\" failed",
				st.kind->kind, st.master.name);
		goto out;
	}
	created = true;
	/* The mark goes on right away: the kernel ignores an alias in the create.
	 * Until then the link has no owner that DEL would recognise (see remove_stale
	 * for the temporary name, which takes its mark with the rename). */
	if (!*tmp) {
		struct link_change ch = LINK_CHANGE_INIT;
		ch.name = ifname; /* by name: no ifindex yet */
		ch.alias = st.mark;
		if ((r = FAULT("add.mark") ?: link_change(&st.cont, 0, &ch)) < 0) {
			cni_fail_kernel(CNI_ERR_KERNEL, r, nlsk_message(&st.cont), "marking %s as this attachment's failed",
					ifname);
			goto out;
		}
	}
	const char *made = *tmp ? tmp : ifname;
	if ((r = FAULT("add.getlink") ?: link_get_by_name(&st.cont, made, &li)) < 0) {
		cni_fail_kernel(CNI_ERR_KERNEL, r, nlsk_message(&st.cont), "the new %s link %s cannot be found in the container",
				st.kind->kind, made);
		goto out;
	}
	if (*tmp) {
		struct link_change ch = LINK_CHANGE_INIT;
		ch.name = ifname;
		ch.up = 1;
		ch.alias = st.mark;
		if ((r = FAULT("add.rename") ?: link_change(&st.cont, li.ifindex, &ch)) < 0) {
			ifindex = li.ifindex;
			cni_fail_kernel(r == -EEXIST ? CNI_ERR_INVALID_ENV : CNI_ERR_KERNEL, r, nlsk_message(&st.cont),
					"renaming %s to \"%s\" and bringing it up failed", tmp, ifname);
			goto out;
		}
		snprintf(li.name, sizeof(li.name), "%s", ifname);
		snprintf(li.alias, sizeof(li.alias), "%s", st.mark);
		li.flags |= IFF_UP;
	}
	if (noted && cni_attach_note(ctx, NULL) == 0)
		noted = false; /* marked: the mark speaks for it now */
	ifindex = li.ifindex;
	if (began) {
		st.kind->add_end(st.conf.kind, &hook, 0);
		ended = true;
	}

	if (ctx->conf.ipam_type) {
		if ((r = ipam_add(ctx, &ipam)) < 0)
			goto out;
		ipam_done = true;
		for (size_t i = 0; i < ipam->n_ips; i++)
			ipam->ips[i].iface = 0;
		if ((r = FAULT("add.ipcfg")) < 0) {
			cni_fail(CNI_ERR_KERNEL, r, "configuring addresses on %s failed", ifname);
			goto out;
		}
		if ((r = ipcfg_apply(&st.cont, st.nsfd, ifindex, ifname, li.maclen == 6 ? li.mac : NULL, ipam, 0)) < 0)
			goto out;
	} else if (st.kind->adopt_prev_ips) {
		if ((r = prev_unbound(ctx->conf.prev, &adopted)) < 0)
			goto out;
		if (adopted && (r = ipcfg_apply(&st.cont, st.nsfd, ifindex, ifname, li.maclen == 6 ? li.mac : NULL, adopted, 0)) < 0)
			goto out;
	}

	if ((r = FAULT("add.result")) < 0) {
		cni_fail(CNI_ERR_INTERNAL, r, "building the result failed");
		goto out;
	}
	format_mac(li.mac, mac);
	struct plugin_iface iface = {.name = ifname, .mac = li.maclen == 6 ? mac : NULL, .mtu = (int)li.mtu};
	if ((r = plugin_add_result(ctx, &iface, ipam, adopted != NULL, ret)) < 0)
		goto out;
	log_info("ADD %s: %s %s on %s in %s", ctx->env.containerid, st.kind->kind, ifname, st.master.name,
		 ctx->env.netns);
	r = 0;
out:
	if (r < 0) {
		/* Undo in reverse; the first error stays the one reported. */
		if (ipam_done)
			ipam_forward(ctx, CNI_DEL);
		bool gone = !created;
		if (created) {
			/* Under the attachment lock, and created with NLM_F_EXCL: the link
			 * of that name and kind is the one this ADD made, marked or not. */
			int d = -ENODEV;
			if (!ifindex) {
				int g = link_get_by_name(&st.cont, *tmp ? tmp : ifname, &li);
				if (g == 0 && strcmp(li.kind, st.kind->kind) == 0)
					ifindex = li.ifindex;
				else if (g < 0 && g != -ENODEV)
					d = g;
			}
			if (ifindex)
				d = link_del(&st.cont, ifindex);
			gone = d == 0 || d == -ENODEV;
			if (!gone)
				log_warn("ADD %s: removing the new %s %s failed: %s", ctx->env.containerid, st.kind->kind,
					 *tmp ? tmp : ifname, strerror(-d));
		}
		if (began && !ended)
			st.kind->add_end(st.conf.kind, &hook, r);
		else if (ended && gone && st.kind->forget)
			st.kind->forget(ctx);
		/* The note stays while a link this ADD made may be left: its DEL removes it. */
		if (noted && gone)
			cni_attach_note(ctx, NULL);
	}
	if (host_nsfd >= 0)
		close(host_nsfd);
	cni_result_free(adopted);
	cni_result_free(ipam);
	stacked_free(&st);
	return r;
}

/*
 * DEL's common case, told through the container's socket alone: a link on the
 * master the config names in the host. Its parent is that master when the
 * container's id for the host is the link's IFLA_LINK_NETNSID and the master,
 * looked up through that id, has the link's IFLA_LINK. 1 yes; 0 when this
 * cannot tell, and del_may_remove asks as ADD does (the same answer, at the
 * cost of a socket in the host).
 */
static int on_named_host_master(struct stacked *st, const struct link_info *li)
{
	int id = -1;
	if (st->conf.link_in_container || !st->conf.master || li->link_netnsid < 0)
		return 0;
	if (nl_nsid(&st->cont, -1, &id) < 0 || id != li->link_netnsid)
		return 0;
	if (link_get_by_name_at(&st->cont, id, st->conf.master, &st->master) < 0 || st->master.ifindex != li->link)
		return 0;
	return 1;
}

/*
 * DEL's one question: may the link li (named CNI_IFNAME) be removed? Only
 * when it carries this attachment's mark and sits on the master the config
 * names, found as ADD finds it. Logs why not. 1 yes, 0 no, <0 recorded error.
 */
static int del_may_remove(struct stacked *st, const struct link_info *li)
{
	const struct cni_ctx *ctx = st->ctx;
	const char *cid = ctx->env.containerid, *ifname = ctx->env.ifname;
	enum owner o = owner_of(st, li);
	int n, r;
	if (o == OWNER_NONE && cni_attach_noted(ctx, "creating")) {
		/* This attachment's ADD was stopped after it made the link, before the mark. */
		log_info("DEL %s: %s carries no mark, but this attachment's ADD was creating it", cid, ifname);
		o = OWNER_US;
	}
	if (o != OWNER_US) {
		log_warn("DEL %s: %s (%s) %s; left alone", cid, ifname, li->kind[0] ? li->kind : "device", owner_str(o));
		return 0;
	}
	/* Without `master`, a kind that takes it from prevResult cannot tell
	 * which master ADD used when DEL brings no prevResult: the mark decides. */
	if (!st->conf.master && st->kind->master_from_prev_result && !ctx->conf.prev) {
		log_debug("DEL %s: no master to compare %s's parent with; its mark decides", cid, ifname);
		return 1;
	}
	if (on_named_host_master(st, li) == 1)
		return 1;
	/* find_master takes a master from prevResult in the container. */
	bool in_cont = st->conf.link_in_container || (!st->conf.master && st->kind->master_from_prev_result && ctx->conf.prev);
	if (!in_cont && (r = open_host(st)) < 0)
		return r;
	r = find_master(st, &n);
	if (r == -ENOENT && !master_named(st)) {
		log_info("DEL %s: the %s namespace has no default route to find the master by; %s's mark decides", cid,
			 st->where, ifname);
		return 1;
	}
	if (r == -ENODEV || r == -ENOENT) {
		log_warn("DEL %s: %s carries this attachment's mark, but its master %s%s%s cannot be found in the %s namespace; left alone",
			 cid, ifname, st->conf.master ? "\"" : "(from prevResult)", st->conf.master ? st->conf.master : "",
			 st->conf.master ? "\"" : "", st->where);
		return 0;
	}
	if (r < 0)
		return cni_fail_kernel(CNI_ERR_KERNEL, r, nlsk_message(st->master_sk), "looking up the master of %s failed",
				       ifname);
	if ((r = on_master(st, li)) < 0)
		return cni_fail_kernel(CNI_ERR_KERNEL, r, nlsk_message(&st->cont),
				       "telling whether %s sits on master \"%s\" failed", ifname, st->master.name);
	if (r == 0)
		log_warn("DEL %s: %s carries this attachment's mark, but not on master \"%s\" in the %s namespace; left alone",
			 cid, ifname, st->master.name, st->where);
	return r;
}

static int stacked_del(struct cni_ctx *ctx)
{
	struct stacked st;
	struct link_info li;
	bool gone = true; /* no link of this attachment is left: forget may run */
	int r;

	stacked_init(&st, ctx);
	if ((r = parse_conf(&st)) < 0)
		goto out;
	/* IPAM first: if it fails the runtime retries DEL and finds the link still
	 * there. A link left to another owner does not keep this attachment's
	 * addresses: they are released all the same. */
	if ((r = FAULT("del.start")) < 0) {
		cni_fail(CNI_ERR_INTERNAL, r, "DEL failed");
		goto out;
	}
	if (ctx->conf.ipam_type && (r = ipam_forward(ctx, CNI_DEL)) < 0)
		goto out;
	r = 0;
	if (!ctx->env.netns || !*ctx->env.netns)
		goto out;
	r = netns_open(ctx->env.netns, &st.nsfd);
	if (r == -ENOENT || r == -EINVAL) {
		/* The namespace is gone, and the link with it. */
		log_info("DEL %s: netns %s is gone, nothing to remove", ctx->env.containerid, ctx->env.netns);
		r = 0;
		goto out;
	}
	if (r < 0) {
		cni_fail(CNI_ERR_IO, r, "CNI_NETNS \"%s\" cannot be opened", ctx->env.netns);
		goto out;
	}
	if ((r = nlsk_open_in(&st.cont, st.nsfd)) < 0) {
		cni_fail(CNI_ERR_INTERNAL, r, "cannot open a netlink socket in %s", ctx->env.netns);
		goto out;
	}
	char tmp[IFNAMSIZ];
	cni_tmpname(&ctx->env, tmp);
	if ((r = remove_stale(&st, &st.cont, tmp)) < 0) {
		cni_fail_kernel(CNI_ERR_KERNEL, r, nlsk_message(&st.cont), "removing the stale link %s failed", tmp);
		goto out;
	}
	r = FAULT("del.link") ?: link_get_by_name(&st.cont, ctx->env.ifname, &li);
	if (r == -ENODEV) {
		r = 0;
		goto out;
	}
	if (r < 0) {
		cni_fail_kernel(CNI_ERR_KERNEL, r, nlsk_message(&st.cont), "looking up %s failed", ctx->env.ifname);
		goto out;
	}
	gone = false;
	if ((r = del_may_remove(&st, &li)) <= 0)
		goto out; /* left alone (0), or failed */
	r = link_del(&st.cont, li.ifindex);
	if (r == -ENODEV)
		r = 0;
	if (r < 0) {
		cni_fail_kernel(CNI_ERR_KERNEL, r, nlsk_message(&st.cont), "deleting %s failed", ctx->env.ifname);
	} else {
		gone = true;
		log_info("DEL %s: %s %s removed", ctx->env.containerid, st.kind->kind, ctx->env.ifname);
	}
out:
	if (r == 0 && gone && st.kind->forget)
		st.kind->forget(ctx);
	stacked_free(&st);
	return r;
}

static bool prefix_holds(const struct ip_prefix *p, const struct ip_addr *a)
{
	int bits = p->len;
	if (p->family != a->family)
		return false;
	for (int i = 0; bits > 0; i++, bits -= 8) {
		unsigned char m = bits >= 8 ? 0xff : (unsigned char)(0xff << (8 - bits));
		if ((p->addr.bytes[i] & m) != (a->addr.bytes[i] & m))
			return false;
	}
	return true;
}

/*
 * CHECK: is route rt interface iface's? A chained result lists the routes of
 * the earlier interfaces too. A route whose gateway lies in one of an
 * interface's prefixes is that interface's. Otherwise it went through the
 * first interface whose IPs of that family name a gateway (the one the route
 * takes when it has no "gw"), or else the first with an IP of that family: a
 * later plugin could not have added the same destination again.
 */
static bool route_is_ifaces(const struct cni_result *r, const struct cni_route *rt, int iface)
{
	int first = -1, first_gw = -1;
	for (size_t i = 0; i < r->n_ips; i++) {
		const struct cni_ip *ip = &r->ips[i];
		if (ip->address.family != rt->dst.family || ip->iface < 0)
			continue;
		if (rt->has_gw && prefix_holds(&ip->address, &rt->gw))
			return ip->iface == iface;
		if (first < 0 || ip->iface < first)
			first = ip->iface;
		if (ip->has_gateway && (first_gw < 0 || ip->iface < first_gw))
			first_gw = ip->iface;
	}
	if (first < 0)
		return r->n_ifaces <= 1;
	return (first_gw >= 0 ? first_gw : first) == iface;
}

/* prevResult with only the routes of interface `iface` (see route_is_ifaces). */
static struct cni_result *routes_for(const struct cni_result *prev, int iface)
{
	struct cni_result *d = cni_result_dup(prev);
	size_t k = 0;
	if (!d)
		return NULL;
	for (size_t i = 0; i < d->n_routes; i++)
		if (route_is_ifaces(prev, &prev->routes[i], iface))
			d->routes[k++] = prev->routes[i];
	d->n_routes = k;
	return d;
}

static int stacked_check(struct cni_ctx *ctx)
{
	struct stacked st;
	struct link_info li;
	const struct cni_result *prev = ctx->conf.prev;
	const char *ifname = ctx->env.ifname;
	int r, idx = -1;

	stacked_init(&st, ctx);
	if ((r = parse_conf(&st)) < 0)
		goto out;
	if ((r = plugin_check_begin(ctx, true, &st.nsfd, &st.cont, open_host, &st, &idx)) < 0)
		goto out;
	if ((r = resolve_master(&st, CNI_ERR_DEVICE)) < 0)
		goto out;
	r = link_get_by_name(&st.cont, ifname, &li);
	if (r < 0) {
		cni_fail_kernel(r == -ENODEV ? CNI_ERR_DEVICE : CNI_ERR_KERNEL, r, nlsk_message(&st.cont),
				"CHECK: interface \"%s\" is not in the container", ifname);
		goto out;
	}
	r = -EINVAL;
	enum owner o = owner_of(&st, &li);
	if (o == OWNER_KIND) {
		cni_fail(CNI_ERR_DEVICE, r, "CHECK: \"%s\" is a %s, not a %s", ifname, li.kind[0] ? li.kind : "device",
			 st.kind->kind);
		goto out;
	}
	if (o != OWNER_US) {
		cni_fail(CNI_ERR_DEVICE, r, "CHECK: \"%s\" is not this attachment's: it %s", ifname, owner_str(o));
		goto out;
	}
	if ((r = on_master(&st, &li)) <= 0) {
		if (r < 0)
			cni_fail_kernel(CNI_ERR_KERNEL, r, nlsk_message(&st.cont),
					"CHECK: telling whether \"%s\" sits on master \"%s\" failed", ifname, st.master.name);
		else
			r = cni_fail(CNI_ERR_DEVICE, -EINVAL, "CHECK: \"%s\" is not on master \"%s\" in the %s namespace",
				     ifname, st.master.name, st.where);
		goto out;
	}
	if ((r = ipcfg_verify_link(&li, ifname, prev->ifaces[idx].mac, st.conf.mtu)) < 0)
		goto out;
	if (st.kind->verify && (r = st.kind->verify(st.conf.kind, &li)) < 0)
		goto out;
	struct cni_result *mine = routes_for(prev, idx);
	if (!mine) {
		r = cni_fail(CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
		goto out;
	}
	r = ipcfg_verify(&st.cont, li.ifindex, ifname, mine, idx);
	cni_result_free(mine);
out:
	stacked_free(&st);
	return r;
}

static int stacked_status(struct cni_ctx *ctx)
{
	struct stacked st;
	int r;
	stacked_init(&st, ctx);
	if ((r = parse_conf(&st)) < 0 || (r = open_host(&st)) < 0)
		goto out;
	/* A master inside containers cannot be checked from here. */
	if (!st.conf.link_in_container && (r = resolve_master(&st, CNI_ERR_NOT_AVAILABLE)) < 0)
		goto out;
	if (ctx->conf.ipam_type)
		r = ipam_forward(ctx, CNI_STATUS);
out:
	stacked_free(&st);
	return r;
}

static int stacked_gc(struct cni_ctx *ctx)
{
	/* Links die with their namespaces; only IPAM holds state to collect. */
	return ctx->conf.ipam_type ? ipam_forward(ctx, CNI_GC) : 0;
}

int stacked_main(const struct link_kind *kind)
{
	struct cni_plugin p = {
		.name = kind->kind,
		.about = kind->about,
		/* "MAC" leads the list: a kind without MACs does not know it. */
		.known_args = kind->supports_mac ? cni_common_args : cni_common_args + 1,
		.add = stacked_add,
		.del = stacked_del,
		.check = stacked_check,
		.status = stacked_status,
		.gc = stacked_gc,
		.data = kind,
	};
	return cni_main(&p);
}
