/* Finding an ipvlan port's mode and flags across namespaces, and the registry
 * of the links ucni created on each master. */
#include <dirent.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ucni/log.h"
#include "ucni/netns.h"
#include "ucni/state.h"
#include "port.h"

#define REG_MAX_BYTES (4u << 20)
#define REG_LOCK_TIMEOUT_MS 10000

const char *port_dir(void)
{
	const char *d = getenv("UCNI_IPVLAN_DIR");
	return d && *d ? d : "/run/ucni/ipvlan";
}

/* ---- what the kernel says ---- */

static int on_nsid(struct nlmsghdr *h, void *arg)
{
	struct nlattr *tb[NETNSA_MAX + 1];
	if (h->nlmsg_type != RTM_NEWNSID ||
	    nlmsg_parse(h, sizeof(struct rtgenmsg), tb, NETNSA_MAX, NULL) < 0 || !tb[NETNSA_NSID])
		return 0;
	*(int *)arg = (int)nla_get_s32(tb[NETNSA_NSID]);
	return 0;
}

/* The id that the namespace of `sk` gives the namespace `nsfd` (-1: none). */
static int nsid_of(struct nlsk *sk, int nsfd, int *ret)
{
	struct rtgenmsg g = {.rtgen_family = AF_UNSPEC};
	struct nl_msg *m = nlmsg_alloc_simple(RTM_GETNSID, 0);
	int id = -1, r;
	if (!m)
		return -ENOMEM;
	r = nlmsg_append(m, &g, sizeof(g), NLMSG_ALIGNTO) < 0 || nla_put_u32(m, NETNSA_FD, (uint32_t)nsfd) < 0
		    ? -ENOBUFS
		    : nl_request(sk, m, on_nsid, &id);
	nlmsg_free(m);
	if (r < 0)
		return r;
	*ret = id;
	return 0;
}

static void state_from(struct port_state *st, const struct link_info *li, const char *where)
{
	uint16_t v = 0;
	st->found = true;
	st->mode = link_info_data_u16(li, IFLA_IPVLAN_MODE, &v) == 0 ? v : 0;
	st->flags = link_info_data_u16(li, IFLA_IPVLAN_FLAGS, &v) == 0 ? v : 0;
	snprintf(st->who, sizeof(st->who), "%s", li->name);
	snprintf(st->where, sizeof(st->where), "%s", where);
}

/*
 * Is the registered link of (containerID, ifname) in netns still an ipvlan on
 * this master? It may still have the temporary name of an interrupted ADD (on
 * kernels that need one). 1 with its state, 0 when gone, <0 when it cannot be told.
 */
static int probe_entry(const struct stacked_add *a, const char *cid, const char *netns, const char *ifname,
		       struct port_state *st)
{
	struct nlsk sk = NLSK_NULL;
	struct link_info li;
	int fd = -1, r = netns_open(netns, &fd);
	if (r == -ENOENT || r == -EINVAL)
		return 0;
	if (r < 0)
		return r;
	if ((r = nlsk_open_in(&sk, fd)) < 0)
		goto out;
	r = link_get_by_name(&sk, ifname, &li);
	if (r == -ENODEV && cid) {
		struct cni_env env = {.containerid = cid, .ifname = ifname};
		char tmp[IFNAMSIZ];
		cni_tmpname(&env, tmp);
		r = link_get_by_name(&sk, tmp, &li);
	}
	if (r == -ENODEV) {
		r = 0;
		goto out;
	}
	if (r < 0)
		goto out;
	r = 0;
	if (strcmp(li.kind, "ipvlan") != 0 || li.link != a->master->ifindex)
		goto out;
	/* The same ifindex in another namespace is another device. */
	if (li.link_netnsid < 0) {
		if (netns_same(fd, a->master_nsfd) != 1)
			goto out;
	} else {
		int id = -1;
		if ((r = nsid_of(&sk, a->master_nsfd, &id)) < 0)
			goto out;
		r = 0;
		if (id != li.link_netnsid)
			goto out;
	}
	state_from(st, &li, netns);
	r = 1;
out:
	nlsk_close(&sk);
	if (fd >= 0)
		close(fd);
	return r;
}

struct scan {
	int master;
	struct port_state *st;
};

static int on_link_scan(struct nlmsghdr *h, void *arg)
{
	struct scan *s = arg;
	struct link_info li;
	if (link_parse(h, &li) <= 0)
		return 0;
	if (strcmp(li.kind, "ipvlan") == 0 && li.link == s->master && li.link_netnsid < 0) {
		state_from(s->st, &li, "");
		return NL_STOP; /* one link tells the whole port's mode */
	}
	return 0;
}

/*
 * An ipvlan on the master in the master's own namespace. The kernel is asked for
 * ipvlan links only (a kind filter, kernels since 4.20; older ones send all and
 * the callback filters), and reading stops at the first one on this master, so
 * the cost does not grow with the links next to it. The unread rest of the dump
 * dies with the socket, which is this scan's own for that reason.
 */
static int scan_master_ns(const struct stacked_add *a, struct port_state *st)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	struct scan s = {.master = a->master->ifindex, .st = st};
	struct nlsk sk = NLSK_NULL;
	struct nlattr *li;
	int one = 1, r = nlsk_open_in(&sk, a->master_nsfd);
	if (r < 0)
		return r;
	setsockopt(sk.fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
	struct nl_msg *m = nlmsg_alloc_simple(RTM_GETLINK, NLM_F_DUMP);
	if (!m) {
		nlsk_close(&sk);
		return -ENOMEM;
	}
	if (nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(m, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) < 0 || !(li = nla_nest_start(m, IFLA_LINKINFO)) ||
	    nla_put_string(m, IFLA_INFO_KIND, "ipvlan") < 0) {
		r = -ENOBUFS;
	} else {
		nla_nest_end(m, li);
		r = nl_request(&sk, m, on_link_scan, &s);
	}
	nlmsg_free(m);
	nlsk_close(&sk);
	return r;
}

/* ---- the registry ---- */

static const char *str_of(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Load `path` (locked by the caller); a missing file is an empty registry. */
static int reg_load(const char *path, cJSON **ret)
{
	char *buf = NULL;
	size_t len = 0;
	int r = state_read(path, REG_MAX_BYTES, &buf, &len);
	cJSON *root;
	if (r == -ENOENT) {
		root = cJSON_CreateObject();
		if (!root || !cJSON_AddArrayToObject(root, "entries")) {
			cJSON_Delete(root);
			return -ENOMEM;
		}
		*ret = root;
		return 0;
	}
	if (r < 0)
		return r;
	root = cJSON_ParseWithLength(buf, len);
	free(buf);
	if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "entries"))) {
		cJSON_Delete(root);
		return -EBADMSG;
	}
	*ret = root;
	return 0;
}

static int reg_save(const char *path, const cJSON *root)
{
	char *s = cJSON_PrintUnformatted(root);
	if (!s)
		return -ENOMEM;
	int r = state_replace(path, s, strlen(s), 0600);
	free(s);
	return r;
}

/* The file of one master: its namespace's inode and its ifindex name it. */
static int reg_paths(const struct stacked_add *a, char *json, char *lock, size_t len)
{
	struct stat sb;
	if (fstat(a->master_nsfd, &sb) < 0)
		return -errno;
	int n = snprintf(json, len, "%s/ns%llu-if%d.json", port_dir(), (unsigned long long)sb.st_ino,
			 a->master->ifindex);
	int k = snprintf(lock, len, "%s/ns%llu-if%d.lock", port_dir(), (unsigned long long)sb.st_ino,
			 a->master->ifindex);
	return n >= (int)len || k >= (int)len ? -ENAMETOOLONG : 0;
}

int port_open(const struct stacked_add *a, struct port_reg *reg, struct port_state *st)
{
	const char *lock = reg->lock;
	cJSON *e, *next;
	int r;

	memset(st, 0, sizeof(*st));
	if ((r = reg_paths(a, reg->path, reg->lock, sizeof(reg->lock))) < 0)
		return cni_fail(CNI_ERR_IO, r, "ipvlan registry path under %s", port_dir());
	if ((r = state_mkdir(port_dir(), 0700)) < 0)
		return cni_fail(CNI_ERR_IO, r, "cannot create the ipvlan registry directory %s", port_dir());
	r = state_lock(lock, REG_LOCK_TIMEOUT_MS, &reg->lock_fd);
	if (r == -ETIMEDOUT)
		return cni_fail(CNI_ERR_TRY_AGAIN, r, "another ADD holds %s for more than %d ms", lock,
				REG_LOCK_TIMEOUT_MS);
	if (r < 0)
		return cni_fail(CNI_ERR_IO, r, "cannot lock %s", lock);
	r = reg_load(reg->path, &reg->root);
	if (r == -EBADMSG)
		return cni_fail(CNI_ERR_IO, r, "ipvlan registry %s is not valid; remove it if no ipvlan on master \"%s\" is in use",
				reg->path, a->master->name);
	if (r < 0)
		return cni_fail(CNI_ERR_IO, r, "cannot read ipvlan registry %s", reg->path);
	cJSON_DeleteItemFromObjectCaseSensitive(reg->root, "master");
	cJSON_AddStringToObject(reg->root, "master", a->master->name);

	/* One live link tells the mode of the whole port. The first entries are
	 * the oldest, the likeliest to be gone: each dead one met is dropped, so
	 * the work per ADD stays small however many links the master carries. */
	cJSON *entries = cJSON_GetObjectItemCaseSensitive(reg->root, "entries");
	for (e = entries ? entries->child : NULL; e && !st->found; e = next) {
		const char *ns = str_of(e, "netns"), *ifn = str_of(e, "ifname");
		next = e->next;
		r = ns && ifn ? probe_entry(a, str_of(e, "containerID"), ns, ifn, st) : 0;
		if (r < 0)
			return cni_fail(CNI_ERR_IO, r, "cannot inspect ipvlan \"%s\" in %s (registered on master \"%s\")",
					ifn, ns, a->master->name);
		if (r == 0) {
			log_debug("ipvlan registry: %s in %s is gone", ifn ? ifn : "?", ns ? ns : "?");
			cJSON_Delete(cJSON_DetachItemViaPointer(entries, e));
		}
	}
	if (!st->found && (r = scan_master_ns(a, st)) < 0)
		return cni_fail(CNI_ERR_KERNEL, r, "listing the links next to master \"%s\" failed", a->master->name);
	return 0;
}

static bool is_entry(const cJSON *e, const char *cid, const char *ifname)
{
	const char *c = str_of(e, "containerID"), *i = str_of(e, "ifname");
	return c && i && strcmp(c, cid) == 0 && strcmp(i, ifname) == 0;
}

int port_record(struct port_reg *reg, const struct stacked_add *a)
{
	const struct cni_env *env = &a->ctx->env;
	cJSON *entries = cJSON_GetObjectItemCaseSensitive(reg->root, "entries"), *e, *next;
	reg->added = false;
	for (e = entries->child; e; e = next) {
		next = e->next;
		if (!is_entry(e, env->containerid, env->ifname))
			continue;
		const char *ns = str_of(e, "netns");
		if (ns && strcmp(ns, env->netns) == 0)
			return 0; /* a live link of an earlier ADD: this one will find the name taken */
		cJSON_Delete(cJSON_DetachItemViaPointer(entries, e));
	}
	e = cJSON_CreateObject();
	if (!e || !cJSON_AddStringToObject(e, "containerID", env->containerid) ||
	    !cJSON_AddStringToObject(e, "ifname", env->ifname) || !cJSON_AddStringToObject(e, "netns", env->netns)) {
		cJSON_Delete(e);
		return cni_fail(CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
	}
	cJSON_AddItemToArray(entries, e);
	int r = reg_save(reg->path, reg->root);
	if (r < 0)
		return cni_fail(CNI_ERR_IO, r, "cannot write ipvlan registry %s", reg->path);
	reg->added = true;
	return 0;
}

/* Remove (cid, ifname) from the locked registry REG. With no entry left the file goes
 * (the master carries no link of ours: nothing to keep) and port_close() removes the
 * lock file too; otherwise it is saved if anything changed. */
static void reg_drop(struct port_reg *reg, const char *cid, const char *ifname)
{
	cJSON *entries = reg->root ? cJSON_GetObjectItemCaseSensitive(reg->root, "entries") : NULL, *e, *next;
	bool changed = false;
	if (!entries)
		return;
	for (e = entries->child; e; e = next) {
		next = e->next;
		if (is_entry(e, cid, ifname)) {
			cJSON_Delete(cJSON_DetachItemViaPointer(entries, e));
			changed = true;
		}
	}
	if (cJSON_GetArraySize(entries) == 0) {
		unlink(reg->path);
		reg->drop = true;
	} else if (changed && reg_save(reg->path, reg->root) < 0)
		log_warn("cannot update ipvlan registry %s", reg->path);
}

void port_unrecord(struct port_reg *reg, const struct stacked_add *a)
{
	if (!reg->added)
		return;
	reg->added = false;
	reg_drop(reg, a->ctx->env.containerid, a->ctx->env.ifname);
}

void port_close(struct port_reg *reg)
{
	cJSON_Delete(reg->root);
	reg->root = NULL;
	if (reg->drop)
		state_unlock_remove(reg->lock, &reg->lock_fd);
	else
		state_unlock(&reg->lock_fd);
	reg->drop = false;
}

/* Drop (containerID, ifname) from one registry file, under its lock. */
static void forget_in(const char *dir, const char *name, const char *cid, const char *ifname)
{
	struct port_reg reg = PORT_REG_INIT;
	size_t n = strlen(name) - strlen(".json");
	if (snprintf(reg.path, sizeof(reg.path), "%s/%s", dir, name) >= (int)sizeof(reg.path) ||
	    snprintf(reg.lock, sizeof(reg.lock), "%s/%.*s.lock", dir, (int)n, name) >= (int)sizeof(reg.lock))
		return;
	if (state_lock(reg.lock, REG_LOCK_TIMEOUT_MS, &reg.lock_fd) < 0)
		return;
	if (reg_load(reg.path, &reg.root) == 0)
		reg_drop(&reg, cid, ifname);
	port_close(&reg);
}

void port_forget(const char *cid, const char *ifname)
{
	const char *dir = port_dir();
	DIR *d = opendir(dir);
	struct dirent *de;
	if (!d)
		return;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n > 5 && strcmp(de->d_name + n - 5, ".json") == 0 && strncmp(de->d_name, "ns", 2) == 0)
			forget_in(dir, de->d_name, cid, ifname);
	}
	closedir(d);
}
