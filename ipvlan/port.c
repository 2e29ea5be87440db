/* Finding an ipvlan port's mode and flags across namespaces, and the registry
 * of the links ucni created on each master. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

static void state_from(struct port_state *st, const struct link_info *li, const char *where)
{
	uint16_t v = 0;
	st->found = true;
	st->mode = link_info_data_u16(li, IFLA_IPVLAN_MODE, &v) == 0 ? v : 0;
	st->flags = link_info_data_u16(li, IFLA_IPVLAN_FLAGS, &v) == 0 ? v : 0;
	snprintf(st->who, sizeof(st->who), "%s", li->name);
	snprintf(st->where, sizeof(st->where), "%s", where);
}

/* The master a registry file belongs to. ADD knows its namespace; DEL and GC
 * know it only when it is their own (nsfd -1: not known). */
struct master_ref {
	int ifindex;
	int nsfd;
};

static const char *str_of(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The directory of the netns path looked at last: registered namespaces mostly
 * share one (/var/run/netns, say), and walking to it once rather than once per
 * entry keeps a long registry cheap. */
struct ns_dir {
	char path[PATH_MAX];
	int fd;  /* O_PATH descriptor, or -1 */
	int err; /* why it could not be opened, or 0 */
};
#define NS_DIR_INIT {.fd = -1}

static void ns_dir_close(struct ns_dir *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	d->err = 0;
	d->path[0] = '\0';
}

static int ns_dir_open(struct ns_dir *d, const char *netns, int *ret_fd)
{
	const char *slash = strrchr(netns, '/');
	if (!slash || slash == netns || !slash[1] || (size_t)(slash - netns) >= sizeof(d->path))
		return netns_open(netns, ret_fd);
	size_t n = (size_t)(slash - netns);
	if ((d->fd < 0 && !d->err) || strlen(d->path) != n || strncmp(d->path, netns, n) != 0) {
		ns_dir_close(d);
		memcpy(d->path, netns, n);
		d->path[n] = '\0';
		d->fd = open(d->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		d->err = d->fd < 0 ? -errno : 0;
	}
	if (d->err == -ENOENT || d->err == -ENOTDIR)
		return d->err; /* no namespace can be there */
	if (d->fd < 0)
		return netns_open(netns, ret_fd);
	return netns_openat(d->fd, slash + 1, ret_fd);
}

/*
 * Is the link of registry entry `e` still an ipvlan on the master? It may still
 * have the temporary name of an interrupted ADD (on kernels that need one). The
 * namespace at the entry's path must be the one the entry was made in (its
 * netnsID): a path reused by a later namespace is not the entry's owner.
 * 1 with its state, 0 when gone, <0 when it cannot be told.
 */
static int probe_entry(const struct master_ref *m, struct ns_dir *dir, const cJSON *e, struct port_state *st)
{
	const char *cid = str_of(e, "containerID"), *netns = str_of(e, "netns"), *ifname = str_of(e, "ifname");
	const char *id_s = str_of(e, "netnsID");
	struct nlsk sk = NLSK_NULL;
	struct netns_id want, have;
	struct link_info li;
	int fd = -1, r;

	if (!netns || !ifname || !*netns)
		return 0;
	r = ns_dir_open(dir, netns, &fd);
	if (r == -ENOENT || r == -EINVAL || r == -ENOTDIR)
		return 0;
	if (r < 0)
		return r;
	if ((r = nlsk_open_in(&sk, fd)) < 0)
		goto out;
	/* An entry written before it carried an identity is judged by its link alone. */
	if (id_s && netns_id_parse(id_s, &want) == 0) {
		if ((r = netns_id_of_socket(sk.fd, fd, &have)) < 0)
			goto out;
		if (!netns_id_equal(&want, &have)) {
			r = 0;
			goto out;
		}
	}
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
	if (strcmp(li.kind, "ipvlan") != 0 || li.link != m->ifindex)
		goto out;
	/* The same ifindex in another namespace is another device. */
	if (m->nsfd >= 0) {
		if (li.link_netnsid < 0) {
			if (netns_same(fd, m->nsfd) != 1)
				goto out;
		} else {
			int id = -1;
			if ((r = nl_nsid(&sk, m->nsfd, &id)) < 0)
				goto out;
			r = 0;
			if (id != li.link_netnsid)
				goto out;
		}
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

static bool is_entry(const cJSON *e, const char *cid, const char *ifname)
{
	const char *c = str_of(e, "containerID"), *i = str_of(e, "ifname");
	return c && i && strcmp(c, cid) == 0 && strcmp(i, ifname) == 0;
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

static int reg_save(struct port_reg *reg)
{
	char *s = cJSON_PrintUnformatted(reg->root);
	if (!s)
		return -ENOMEM;
	int r = state_replace(reg->path, s, strlen(s), 0600);
	free(s);
	if (r == 0)
		reg->dirty = false;
	return r;
}

static cJSON *reg_entries(const struct port_reg *reg)
{
	return reg->root ? cJSON_GetObjectItemCaseSensitive(reg->root, "entries") : NULL;
}

/* Write what changed. With no entry left the file goes (the master carries no
 * link of ours: nothing to keep) and port_close() removes the lock file too. */
static int reg_commit(struct port_reg *reg)
{
	cJSON *entries = reg_entries(reg);
	if (!entries)
		return 0;
	if (cJSON_GetArraySize(entries) == 0) {
		if (unlink(reg->path) < 0 && errno != ENOENT)
			return -errno;
		reg->dirty = false;
		reg->drop = true;
		return 0;
	}
	return reg->dirty ? reg_save(reg) : 0;
}

/*
 * Drop every entry of the locked registry whose link is gone (or, with cid set,
 * only the entries of (cid, ifname)); the first live link's state goes to *st
 * when st is given. Every entry is looked at: one whose namespace is gone costs
 * a failed open(), so dead entries, however many, cost next to nothing.
 */
static int reg_prune(struct port_reg *reg, const struct master_ref *m, const char *cid, const char *ifname,
		     struct port_state *st)
{
	cJSON *entries = reg_entries(reg), *e, *next;
	struct ns_dir dir = NS_DIR_INIT;
	for (e = entries ? entries->child : NULL; e; e = next) {
		struct port_state seen;
		next = e->next;
		if (cid && !is_entry(e, cid, ifname))
			continue;
		int r = probe_entry(m, &dir, e, &seen);
		if (r < 0) {
			reg->bad = e;
			ns_dir_close(&dir);
			return r;
		}
		if (r > 0) {
			if (st && !st->found)
				*st = seen;
			continue;
		}
		log_debug("ipvlan registry: %s in %s is gone", str_of(e, "ifname") ? str_of(e, "ifname") : "?",
			  str_of(e, "netns") ? str_of(e, "netns") : "?");
		cJSON_Delete(cJSON_DetachItemViaPointer(entries, e));
		reg->dirty = true;
	}
	ns_dir_close(&dir);
	return 0;
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
	const struct master_ref m = {.ifindex = a->master->ifindex, .nsfd = a->master_nsfd};
	const char *lock = reg->lock;
	int r;

	memset(st, 0, sizeof(*st));
	if ((r = reg_paths(a, reg->path, reg->lock, sizeof(reg->lock))) < 0)
		return cni_fail(CNI_ERR_IO, r, "ipvlan registry path under %s", port_dir());
	r = state_mkdir(port_dir(), 0700);
	if (r == -EPERM || r == -ENOTDIR)
		return cni_fail(CNI_ERR_IO, r,
				"ipvlan registry directory %s is not a private directory of uid %u (a symlink, another "
				"owner, or writable by others); it was left as it is",
				port_dir(), (unsigned)geteuid());
	if (r < 0)
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
	const cJSON *old = cJSON_GetObjectItemCaseSensitive(reg->root, "master");
	if (!cJSON_IsString(old) || strcmp(old->valuestring, a->master->name) != 0) {
		cJSON_DeleteItemFromObjectCaseSensitive(reg->root, "master");
		cJSON_AddStringToObject(reg->root, "master", a->master->name);
	}

	/* Every dead entry goes, not only those before the first live one: the
	 * registry holds the live links of the master and nothing else. One live
	 * link tells the mode of the whole port. */
	if ((r = reg_prune(reg, &m, NULL, NULL, st)) < 0) {
		const char *ns = str_of(reg->bad, "netns"), *ifn = str_of(reg->bad, "ifname");
		return cni_fail(CNI_ERR_IO, r, "cannot inspect ipvlan \"%s\" in %s (registered on master \"%s\")",
				ifn ? ifn : "?", ns ? ns : "?", a->master->name);
	}
	if (!st->found && (r = scan_master_ns(a, st)) < 0)
		return cni_fail(CNI_ERR_KERNEL, r, "listing the links next to master \"%s\" failed", a->master->name);
	return 0;
}

int port_record(struct port_reg *reg, const struct stacked_add *a)
{
	const struct cni_env *env = &a->ctx->env;
	cJSON *entries = reg_entries(reg), *e, *next;
	struct netns_id id;
	char id_s[NETNS_ID_LEN];
	int r;

	reg->added = false;
	if (!entries)
		return cni_fail(CNI_ERR_INTERNAL, -EINVAL, "ipvlan registry %s is not open", reg->path);
	for (e = entries->child; e; e = next) {
		next = e->next;
		if (!is_entry(e, env->containerid, env->ifname))
			continue;
		/* Still there after port_open's pruning: a live link of an earlier ADD
		 * (this one will find the name taken). */
		const char *ns = str_of(e, "netns");
		if (ns && strcmp(ns, env->netns) == 0)
			goto commit;
		cJSON_Delete(cJSON_DetachItemViaPointer(entries, e));
		reg->dirty = true;
	}
	if ((r = netns_id(a->nsfd, &id)) < 0)
		return cni_fail(CNI_ERR_INTERNAL, r, "cannot identify the network namespace %s", env->netns);
	netns_id_format(&id, id_s);
	e = cJSON_CreateObject();
	if (!e || !cJSON_AddStringToObject(e, "containerID", env->containerid) ||
	    !cJSON_AddStringToObject(e, "ifname", env->ifname) || !cJSON_AddStringToObject(e, "netns", env->netns) ||
	    !cJSON_AddStringToObject(e, "netnsID", id_s)) {
		cJSON_Delete(e);
		return cni_fail(CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
	}
	cJSON_AddItemToArray(entries, e);
	reg->dirty = true;
	reg->added = true;
commit:
	if ((r = reg_commit(reg)) < 0) {
		if (reg->added) {
			cJSON_Delete(cJSON_DetachItemViaPointer(entries, e));
			reg->added = false;
		}
		return cni_fail(CNI_ERR_IO, r, "cannot write ipvlan registry %s", reg->path);
	}
	return 0;
}

/* Remove (cid, ifname) from the locked registry REG unconditionally: the entry
 * this ADD added, before its link was made. */
static void reg_drop(struct port_reg *reg, const char *cid, const char *ifname)
{
	cJSON *entries = reg_entries(reg), *e, *next;
	for (e = entries ? entries->child : NULL; e; e = next) {
		next = e->next;
		if (is_entry(e, cid, ifname)) {
			cJSON_Delete(cJSON_DetachItemViaPointer(entries, e));
			reg->dirty = true;
		}
	}
	if (reg_commit(reg) < 0)
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
	/* What pruning changed is kept also when this ADD stops early; a registry
	 * left empty (or never written) leaves no file behind, lock included. */
	if (reg_commit(reg) < 0)
		log_warn("cannot update ipvlan registry %s", reg->path);
	cJSON_Delete(reg->root);
	reg->root = NULL;
	if (reg->drop) {
		state_unlock_remove(reg->lock, &reg->lock_fd);
		state_tidy(port_dir());
	} else
		state_unlock(&reg->lock_fd);
	reg->drop = false;
	reg->dirty = false;
	reg->bad = NULL;
}

/* ---- DEL and GC: every master's file ---- */

/* "ns<ino>-if<ifindex>.json" (or .lock): the parts, or -EINVAL. */
static int reg_name_parse(const char *name, const char *suffix, unsigned long long *ret_ino, int *ret_ifindex)
{
	unsigned long long ino;
	int ifindex, n = 0;
	size_t len = strlen(name), sl = strlen(suffix);
	if (len <= sl || strcmp(name + len - sl, suffix) != 0 ||
	    sscanf(name, "ns%llu-if%d%n", &ino, &ifindex, &n) != 2 || (size_t)n != len - sl || ifindex <= 0)
		return -EINVAL;
	*ret_ino = ino;
	*ret_ifindex = ifindex;
	return 0;
}

/* Open the registry file `name` (ns<ino>-if<ifindex>.json) of `dir`, locked. */
static int reg_open_name(const char *dir, const char *name, int timeout_ms, struct port_reg *reg,
			 struct master_ref *m, int self_nsfd)
{
	unsigned long long ino;
	struct stat sb;
	int r;
	if (reg_name_parse(name, ".json", &ino, &m->ifindex) < 0)
		return -EINVAL;
	/* The master's namespace is known here only when it is ours. */
	m->nsfd = self_nsfd >= 0 && fstat(self_nsfd, &sb) == 0 && sb.st_ino == ino ? self_nsfd : -1;
	size_t n = strlen(name) - strlen(".json");
	if (snprintf(reg->path, sizeof(reg->path), "%s/%s", dir, name) >= (int)sizeof(reg->path) ||
	    snprintf(reg->lock, sizeof(reg->lock), "%s/%.*s.lock", dir, (int)n, name) >= (int)sizeof(reg->lock))
		return -ENAMETOOLONG;
	if ((r = state_lock(reg->lock, timeout_ms, &reg->lock_fd)) < 0)
		return r;
	if ((r = reg_load(reg->path, &reg->root)) < 0) {
		port_close(reg);
		return r;
	}
	return 0;
}

/* The entries of (cid, ifname) whose link is gone leave every master's file;
 * a file with nothing left goes, its lock file too. */
void port_forget(const char *cid, const char *ifname)
{
	const char *dir = port_dir();
	struct dirent *de;
	int self = -1;
	DIR *d;
	if (state_dir_check(dir) < 0 || !(d = opendir(dir)))
		return;
	netns_open_self(&self);
	while ((de = readdir(d))) {
		struct port_reg reg = PORT_REG_INIT;
		struct master_ref m;
		if (reg_open_name(dir, de->d_name, REG_LOCK_TIMEOUT_MS, &reg, &m, self) < 0)
			continue;
		if (reg_prune(&reg, &m, cid, ifname, NULL) < 0)
			log_warn("cannot inspect the ipvlan registry %s: its entry of %s/%s is kept", reg.path, cid, ifname);
		port_close(&reg);
	}
	closedir(d);
	if (self >= 0)
		close(self);
}

int port_gc(void)
{
	const char *dir = port_dir();
	struct dirent *de;
	int self = -1, n = 0, r;
	DIR *d;
	if ((r = state_dir_check(dir)) < 0)
		return r == -ENOENT ? 0 : r;
	if ((r = state_sweep(dir)) > 0)
		n += r;
	if (!(d = opendir(dir)))
		return -errno;
	netns_open_self(&self);
	while ((de = readdir(d))) {
		struct port_reg reg = PORT_REG_INIT;
		struct master_ref m;
		unsigned long long ino;
		int ifindex;
		if (reg_name_parse(de->d_name, ".lock", &ino, &ifindex) == 0) {
			/* A lock file whose registry is gone: a killed ADD's, or a last DEL's
			 * that died before removing it. Busy ones are left to their holder. */
			size_t len = strlen(de->d_name) - strlen(".lock");
			if (snprintf(reg.lock, sizeof(reg.lock), "%s/%s", dir, de->d_name) >= (int)sizeof(reg.lock) ||
			    snprintf(reg.path, sizeof(reg.path), "%s/%.*s.json", dir, (int)len, de->d_name) >=
				    (int)sizeof(reg.path) ||
			    state_lock(reg.lock, 0, &reg.lock_fd) < 0)
				continue;
			if (access(reg.path, F_OK) < 0 && errno == ENOENT) {
				state_unlock_remove(reg.lock, &reg.lock_fd);
				n++;
			} else
				state_unlock(&reg.lock_fd);
			continue;
		}
		if (reg_open_name(dir, de->d_name, REG_LOCK_TIMEOUT_MS, &reg, &m, self) < 0)
			continue;
		int before = cJSON_GetArraySize(reg_entries(&reg));
		if (reg_prune(&reg, &m, NULL, NULL, NULL) < 0)
			log_warn("cannot inspect every entry of the ipvlan registry %s", reg.path);
		n += before - cJSON_GetArraySize(reg_entries(&reg));
		port_close(&reg);
	}
	closedir(d);
	if (self >= 0)
		close(self);
	state_tidy(dir);
	return n;
}
