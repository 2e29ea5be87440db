/* devmgr — the SR-IOV device manager CLI: inventory, provisioning, pools, allocations. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <sys/file.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "internal.h"

#define DEFAULT_CONFIG "/etc/ucni/devmgr.json"

static struct {
	const char *sysfs_root, *state_dir, *config;
	bool json, force;
	const char *pool, *owner, *ifname, *netns, *format;
	int numa, count, timeout;
} opt = { DM_DEFAULT_SYSFS_ROOT, NULL, NULL, false, false, NULL, NULL, NULL, NULL, NULL, -1, 0, 0 };

static void usage(FILE *f)
{
	fputs("Usage: devmgr [GLOBAL OPTIONS] COMMAND [ARGS]\n"
	      "\n"
	      "Commands:\n"
	      "  list [--json]                      PFs with their VFs, and other NICs\n"
	      "  show DEV [--json]                  one device by PCI address or netdev name\n"
	      "  vfs PF N [--force]                 set the PF's number of VFs (refused while\n"
	      "                                     any of its VFs is allocated, unless --force)\n"
	      "  apply CONFIG [--force]             provision VF counts and install the pools\n"
	      "  pools [--json]                     pool members, free and used\n"
	      "  alloc --pool P --owner ID [--ifname IF] [--netns PATH] [--numa N] [--json]\n"
	      "  release (--owner ID [--ifname IF] | DEV) [--force] [--json]\n"
	      "                                     restore the VF, then release it\n"
	      "  gc [--json]                        restore and release allocations whose netns is gone\n"
	      "  export --format device-plugin      pools as an SR-IOV device plugin config\n"
	      "  watch [--count N] [--timeout S]    one JSON line per device change\n"
	      "\n"
	      "Global options:\n"
	      "  --sysfs-root DIR   sysfs to read (default /sys)\n"
	      "  --state-dir DIR    allocation store (default " DM_DEFAULT_STATE_DIR ")\n"
	      "  --config FILE      pool configuration (default: the one `apply` installed,\n"
	      "                     else " DEFAULT_CONFIG ")\n"
	      "\n"
	      "Exit codes: 0 ok, 1 failure, 2 usage, 3 bad configuration, 4 not found,\n"
	      "5 no free VF, 6 busy (a VF held or locked; vfs/apply: the PF has allocated VFs),\n"
	      "7 not supported, 8 corrupt or foreign state.\n",
	      f);
}

static int die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int die(int code, const char *fmt, ...)
{
	va_list ap;
	fputs("devmgr: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

/* The one place errno values become exit codes. */
static int exit_code(int e)
{
	switch (-e) {
	case 0: return EXIT_OK;
	case EINVAL: return EXIT_USAGE;
	case ENOENT: case ENXIO: return EXIT_NOT_FOUND;
	case ENOSPC: return EXIT_NO_FREE;
	case EBUSY: case EWOULDBLOCK: return EXIT_BUSY;
	case ENODEV: case ERANGE: case EOPNOTSUPP: return EXIT_UNSUPPORTED;
	case EBADMSG: case EPROTO: case ENOTDIR: return EXIT_STATE;
	default: return EXIT_FAIL;
	}
}

static void print_json(cJSON *o)
{
	char *s = cJSON_Print(o);
	if (s) {
		puts(s);
		free(s);
	}
	cJSON_Delete(o);
}

static const char *state_dir(void)
{
	return opt.state_dir ? opt.state_dir : DM_DEFAULT_STATE_DIR;
}

static bool is_real_sysfs(void)
{
	return !strcmp(opt.sysfs_root, "/sys");
}

static int load_inventory(unsigned flags, dm_inventory **ret)
{
	if (is_real_sysfs())
		flags |= flags & DM_INVENTORY_NAMES ? DM_INVENTORY_NETLINK : 0;
	int r = dm_inventory_load(opt.sysfs_root, flags, ret);
	if (r == -ELIBACC || r == -ELIBBAD)
		return die(EXIT_FAIL, "libpci (libpci.so.3) cannot be loaded: %s; install libpci3", strerror(-r));
	if (r < 0)
		return die(r == -ENOENT ? EXIT_NOT_FOUND : EXIT_FAIL, "cannot read %s/bus/pci: %s", opt.sysfs_root,
		           strerror(-r));
	return 0;
}

/* REQUIRED: fail when no configuration is found; otherwise *ret may stay NULL. */
static int load_config(bool required, dm_config **ret)
{
	char err[512], path[PATH_MAX];
	const char *p = opt.config ? opt.config : getenv("DEVMGR_CONFIG");
	if (!p || !*p) {
		struct stat st;
		snprintf(path, sizeof(path), "%s/config.json", state_dir());
		if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
			return die(EXIT_STATE, "%s is not a regular file; refusing to read it", path);
		p = access(path, F_OK) == 0 ? path : DEFAULT_CONFIG;
		if (access(p, F_OK) < 0) {
			if (!required)
				return 0;
			return die(EXIT_CONFIG, "no pool configuration: give --config FILE or run `devmgr apply FILE`");
		}
	}
	int r = dm_config_load(p, ret, err, sizeof(err));
	if (r < 0)
		return die(EXIT_CONFIG, "%s", err);
	return 0;
}

/* Why dm_store_open() refused the state directory (-EPERM, -ENOTDIR): exit 8, the
 * directory as it was. */
static int store_refused(int r)
{
	struct stat st;
	const char *d = state_dir();
	if (lstat(d, &st) < 0 || !S_ISDIR(st.st_mode))
		return die(EXIT_STATE, "state directory %s is not a directory (a symlink or a file); refusing to use it",
		           d);
	if (r == -ENOTDIR)
		return die(EXIT_STATE, "state directory %s: vfs/ or locks/ in it is not a directory (a symlink or a "
		           "file); refusing to use it", d);
	if (st.st_uid != geteuid())
		return die(EXIT_STATE, "state directory %s belongs to uid %u, not to uid %u; refusing to use it", d,
		           (unsigned)st.st_uid, (unsigned)geteuid());
	if (st.st_mode & 022)
		return die(EXIT_STATE, "state directory %s is writable by group or others (mode %04o); refusing to use "
		           "it", d, (unsigned)(st.st_mode & 07777));
	return die(EXIT_STATE, "state directory %s: vfs/ or locks/ in it belongs to another user or is writable by "
	           "group or others; refusing to use it", d);
}

/* Opens the store only when it exists (read-only commands must not create it). */
static int open_store(bool create, dm_store **ret)
{
	*ret = NULL;
	if (!create && access(state_dir(), F_OK) < 0)
		return 0;
	int r = dm_store_open(state_dir(), ret);
	if (r == -EPROTO)
		return die(EXIT_STATE, "%s holds something that is not a devmgr store; refusing to touch it", state_dir());
	if (r == -EPERM || r == -ENOTDIR)
		return store_refused(r);
	if (r < 0)
		return die(exit_code(r) == EXIT_USAGE ? EXIT_FAIL : exit_code(r), "cannot open state directory %s: %s",
		           state_dir(), strerror(-r));
	return 0;
}

typedef struct records {
	dm_record **r;
	int *err;
	size_t n;
} records;

static int load_records(dm_store *s, records *rs)
{
	memset(rs, 0, sizeof(*rs));
	if (!s)
		return 0;
	int r = dm_store_list(s, &rs->r, &rs->err, &rs->n);
	if (r < 0)
		return die(EXIT_FAIL, "cannot read the allocations: %s", strerror(-r));
	return 0;
}

static void records_free(records *rs)
{
	dm_record_list_free(rs->r, rs->n);
	free(rs->err);
}

/* What a command works on; ctx_load() fills the parts WHAT asks for, ctx_done() frees. */
typedef struct ctx {
	dm_inventory *inv;
	dm_config *cfg;
	dm_store *store;
	records rs;
} ctx;

enum {
	CTX_CONFIG = 1 << 0,         /* the configuration, when there is one */
	CTX_CONFIG_REQUIRED = 1 << 1, /* ... and fail without one */
	CTX_RECORDS = 1 << 2,        /* the allocations (store opened only if it exists) */
	CTX_STORE = 1 << 3,          /* the store, created if needed */
};

static void ctx_done(ctx *x)
{
	records_free(&x->rs);
	dm_store_free(x->store);
	dm_config_free(x->cfg);
	dm_inventory_free(x->inv);
	memset(x, 0, sizeof(*x));
}

/* INV_FLAGS < 0: no inventory. Returns 0 or the exit code (after the message). */
static int ctx_load(ctx *x, int inv_flags, unsigned what)
{
	int r = 0;
	memset(x, 0, sizeof(*x));
	if (what & (CTX_CONFIG | CTX_CONFIG_REQUIRED))
		r = load_config(what & CTX_CONFIG_REQUIRED, &x->cfg);
	if (!r && inv_flags >= 0)
		r = load_inventory((unsigned)inv_flags, &x->inv);
	if (!r && (what & (CTX_STORE | CTX_RECORDS)))
		r = open_store(what & CTX_STORE, &x->store);
	if (!r && (what & CTX_RECORDS))
		r = load_records(x->store, &x->rs);
	if (r)
		ctx_done(x);
	return r;
}

static const dm_record *record_of(const records *rs, const char *pci, int *ret_err)
{
	*ret_err = 0;
	for (size_t i = 0; i < rs->n; i++)
		if (!strcmp(rs->r[i]->pci, pci)) {
			*ret_err = rs->err[i];
			return rs->err[i] ? NULL : rs->r[i];
		}
	return NULL;
}

static const char *pool_of(const dm_config *c, const dm_device *d)
{
	int i = c ? dm_config_match(c, d) : -1;
	return i >= 0 ? dm_config_pool_name(c, (size_t)i) : NULL;
}

static const char *health_text(unsigned h)
{
	if (!h)
		return "ok";
	if (h & DM_UNHEALTHY_NO_DRIVER)
		return "no-driver";
	if (h & DM_UNHEALTHY_PF_NO_LINK)
		return "pf-no-link";
	return "pf-gone";
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

static void vf_state(const dm_device *vf, const records *rs, char *buf, size_t len)
{
	int err;
	const dm_record *r = record_of(rs, vf->pci, &err);
	if (err)
		snprintf(buf, len, "corrupt-record");
	else if (r)
		snprintf(buf, len, "%s %s%s%s", dm_record_is_stale(r) ? "stale" : "used", r->owner,
		         r->ifname ? "/" : "", r->ifname ? r->ifname : "");
	else if (vf->health)
		snprintf(buf, len, "unhealthy");
	else
		snprintf(buf, len, "free");
}

/* ------------------------------------------------------------------ list */

static cJSON *device_json_full(const dm_device *d, const dm_config *c, const records *rs)
{
	int err;
	const dm_record *r = record_of(rs, d->pci, &err);
	cJSON *o = json_device(d, pool_of(c, d), r, err);
	if (d->role == DM_ROLE_PF) {
		cJSON *vfs = cJSON_GetObjectItemCaseSensitive(o, "vfs");
		for (size_t i = 0; i < d->n_vfs; i++)
			if (d->vfs[i]) {
				const dm_record *vr = record_of(rs, d->vfs[i]->pci, &err);
				cJSON_AddItemToArray(vfs, json_device(d->vfs[i], pool_of(c, d->vfs[i]), vr, err));
			}
	}
	return o;
}

static int cmd_list(void)
{
	ctx x;
	int r = ctx_load(&x, DM_INVENTORY_NAMES | DM_INVENTORY_DETAILS, CTX_CONFIG | CTX_RECORDS);
	if (r)
		return r;
	const dm_inventory *inv = x.inv;
	const dm_config *c = x.cfg;
	const records *rs = &x.rs;
	size_t n = dm_inventory_count(inv);
	if (opt.json) {
		cJSON *root = cJSON_CreateObject();
		cJSON_AddNumberToObject(root, "schemaVersion", 1);
		cJSON *pfs = cJSON_AddArrayToObject(root, "pfs");
		cJSON *nics = cJSON_AddArrayToObject(root, "nics");
		for (size_t i = 0; i < n; i++) {
			const dm_device *d = dm_inventory_get(inv, i);
			if (d->role == DM_ROLE_PF)
				cJSON_AddItemToArray(pfs, device_json_full(d, c, rs));
			else if (d->role == DM_ROLE_NIC)
				cJSON_AddItemToArray(nics, device_json_full(d, c, rs));
			else if (!d->pf) /* a VF whose PF is not a network function */
				cJSON_AddItemToArray(nics, device_json_full(d, c, rs));
		}
		print_json(root);
	} else {
		printf("%-14s %-15s %-10s %-9s %-4s %-9s %-5s %s\n", "DEVICE", "NETDEV", "DRIVER", "ID", "NUMA", "VFS",
		       "LINK", "NAME");
		printf("  %-6s %-14s %-15s %-10s %-10s %-14s %s\n", "VF", "DEVICE", "NETDEV/VFIO", "DRIVER", "HEALTH",
		       "POOL", "STATE");
		for (size_t i = 0; i < n; i++) {
			const dm_device *d = dm_inventory_get(inv, i);
			char id[16], vfs[16], numa[8];
			if (d->role == DM_ROLE_VF && d->pf)
				continue;
			snprintf(id, sizeof(id), "%04x:%04x", d->vendor_id, d->device_id);
			snprintf(numa, sizeof(numa), "%d", d->numa_node);
			if (d->role == DM_ROLE_PF)
				snprintf(vfs, sizeof(vfs), "%d/%d", d->num_vfs, d->total_vfs);
			else
				snprintf(vfs, sizeof(vfs), "-");
			printf("%-14s %-15s %-10s %-9s %-4s %-9s %-5s %s%s%s\n", d->pci, or_dash(d->netdev),
			       or_dash(d->driver), id, d->numa_node >= 0 ? numa : "-", vfs, or_dash(d->operstate),
			       d->vendor_name ? d->vendor_name : "", d->device_name ? " " : "",
			       d->device_name ? d->device_name : "");
			for (size_t j = 0; j < d->n_vfs; j++) {
				const dm_device *v = d->vfs[j];
				char idx[24], st[320];
				if (!v)
					continue;
				snprintf(idx, sizeof(idx), "vf%zu", j);
				vf_state(v, rs, st, sizeof(st));
				/* a VF on a userspace driver has no netdev: its /dev/vfio node instead */
				printf("  %-6s %-14s %-15s %-10s %-10s %-14s %s\n", idx, v->pci,
				       v->netdev[0] ? v->netdev : v->vfio_path[0] ? v->vfio_path : "-", or_dash(v->driver),
				       health_text(v->health), or_dash(pool_of(c, v)), st);
			}
		}
	}
	ctx_done(&x);
	return EXIT_OK;
}

/* ------------------------------------------------------------------ show */

static int cmd_show(const char *dev)
{
	ctx x;
	int r = ctx_load(&x, DM_INVENTORY_NAMES | DM_INVENTORY_DETAILS, CTX_CONFIG | CTX_RECORDS);
	if (r)
		return r;
	const dm_device *d = dm_inventory_find(x.inv, dev);
	if (!d) {
		ctx_done(&x);
		return die(EXIT_NOT_FOUND, "%s: no such network PCI device or netdev under %s", dev, opt.sysfs_root);
	}
	cJSON *o = device_json_full(d, x.cfg, &x.rs);
	if (opt.json)
		print_json(o);
	else {
		/* the same facts as the JSON, one "key: value" per line */
		const cJSON *v;
		cJSON_ArrayForEach(v, o) {
			if (cJSON_IsArray(v) && !strcmp(v->string, "vfs")) {
				const cJSON *e;
				printf("%s:", v->string);
				cJSON_ArrayForEach(e, v) {
					const cJSON *a = cJSON_GetObjectItemCaseSensitive(e, "pciAddress");
					printf(" %s", a->valuestring);
				}
				printf("\n");
			} else if (cJSON_IsString(v))
				printf("%s: %s\n", v->string, v->valuestring);
			else if (cJSON_IsNull(v))
				printf("%s: -\n", v->string);
			else {
				char *t = cJSON_PrintUnformatted(v);
				printf("%s: %s\n", v->string, t ? t : "?");
				free(t);
			}
		}
		cJSON_Delete(o);
	}
	ctx_done(&x);
	return EXIT_OK;
}

/* ------------------------------------------------------------------- vfs */

/* The PCI address of DEV, a PCI address or a netdev name found as `show` finds it:
 * <root>/class/net/DEV, or in a tree without class/net the device on the bus with a
 * net/DEV. -ENOENT none, -ENODEV a netdev that is not a PCI function. */
static int dev_to_pci(const char *dev, char pci[DM_PCI_ADDR_MAX])
{
	char path[PATH_MAX], name[DM_IFNAME_MAX + 8];
	if (dm_pci_addr_normalize(dev, pci) >= 0)
		return 0;
	if (!dm_ifname_valid(dev))
		return -ENOENT;
	int r = dm_netdev_to_pci(opt.sysfs_root, dev, pci);
	snprintf(path, sizeof(path), "%s/class/net", opt.sysfs_root);
	if ((r != -ENOENT && r != -ENOTDIR) || access(path, F_OK) == 0)
		return r;
	snprintf(path, sizeof(path), "%s/bus/pci/devices", opt.sysfs_root);
	_cleanup_closedir_ DIR *d = opendir(path);
	if (!d)
		return -ENOENT;
	snprintf(name, sizeof(name), "net/%s", dev);
	struct dirent *de;
	while ((de = readdir(d))) {
		char sub[sizeof(de->d_name) + sizeof(name)];
		if (!pci_addr_valid(de->d_name))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", de->d_name, name);
		if (faccessat(dirfd(d), sub, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
			str_copy(pci, DM_PCI_ADDR_MAX, de->d_name);
			return 0;
		}
	}
	return -ENOENT;
}

static int resolve_pf(const char *arg, char pci[DM_PCI_ADDR_MAX])
{
	int r = dev_to_pci(arg, pci);
	if (r < 0)
		return die(r == -ENOENT || r == -EINVAL ? EXIT_NOT_FOUND : EXIT_UNSUPPORTED,
		           r == -ENODEV ? "%s: a netdev that is not a PCI function" : "%s: no PCI device or netdev of that name",
		           arg);
	dm_device d;
	r = dm_device_lookup(opt.sysfs_root, pci, &d);
	if (r < 0)
		return die(EXIT_NOT_FOUND, "%s: no such PCI device", arg);
	if (d.role != DM_ROLE_PF)
		return die(EXIT_UNSUPPORTED, "%s (%s): not an SR-IOV physical function", arg, pci);
	return 0;
}

static int set_vfs(const char *label, const char *pci, int n, bool quiet_unchanged)
{
	dm_device before;
	if (dm_device_lookup(opt.sysfs_root, pci, &before) < 0)
		return die(EXIT_NOT_FOUND, "%s: no such PCI device", label);
	int r = dm_pf_set_num_vfs(opt.sysfs_root, pci, n);
	if (r == -ERANGE)
		return die(EXIT_UNSUPPORTED, "%s: %d VFs requested but sriov_totalvfs is %d", label, n, before.total_vfs);
	if (r == -ENODEV)
		return die(EXIT_UNSUPPORTED, "%s: not an SR-IOV physical function", label);
	if (r < 0) {
		/* where the PF stands now: the library put the old count back if it could */
		char where[128];
		dm_device after;
		if (dm_device_lookup(opt.sysfs_root, pci, &after) < 0)
			snprintf(where, sizeof(where), "its VF count cannot be read back");
		else if (after.num_vfs == before.num_vfs)
			snprintf(where, sizeof(where), "it is back at its old count, %d", after.num_vfs);
		else
			snprintf(where, sizeof(where), "it is now at %d VFs: putting its old count, %d, back failed too",
			         after.num_vfs, before.num_vfs);
		return die(exit_code(r) == EXIT_USAGE ? EXIT_FAIL : exit_code(r), "%s: cannot set sriov_numvfs to %d: %s; %s",
		           label, n, strerror(-r), where);
	}
	const char *name = before.netdev[0] ? before.netdev : label;
	if (r > 0)
		printf("%s (%s): numVfs %d -> %d\n", name, pci, before.num_vfs, n);
	else if (!quiet_unchanged)
		printf("%s (%s): numVfs %d, unchanged\n", name, pci, n);
	return 0;
}

static int parse_count(const char *s, int *ret)
{
	if (parse_int(s, ret) < 0 || *ret < 0)
		return -EINVAL;
	return 0;
}

/* A PF whose VF count is about to change. */
typedef struct pf_change {
	const char *label;
	char pci[DM_PCI_ADDR_MAX];
	int num;
} pf_change;

typedef struct vf_ent {
	int index;
	char pci[DM_PCI_ADDR_MAX];
} vf_ent;

typedef struct vf_list {
	vf_ent *v;
	size_t n;
} vf_list;

static int collect_vf(int index, const char *vf_pci, void *arg)
{
	vf_list *l = arg;
	vf_ent *v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	l->v = v;
	v[l->n].index = index;
	str_copy(v[l->n].pci, sizeof(v[l->n].pci), vf_pci);
	l->n++;
	return 0;
}

static int cmp_vf(const void *a, const void *b)
{
	return ((const vf_ent *)a)->index - ((const vf_ent *)b)->index;
}

/* Tells on stderr who holds the VFs of PF (its current virtfn links): a record (live,
 * stale or corrupt) or a lock another process holds. Each VF's lock is taken (without
 * waiting) and stays held in S until S is freed, so no allocation lands on the PF while
 * its count changes. Returns how many are held, or -errno. */
static int pf_holders(dm_store *s, const pf_change *p, const char *cmd, bool *header)
{
	char path[PATH_MAX];
	vf_list l = { NULL, 0 };
	int held = 0;
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", opt.sysfs_root, p->pci);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = pf_for_each_virtfn(fd, collect_vf, &l);
	if (r < 0) {
		free(l.v);
		return r;
	}
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), cmp_vf);
	for (size_t i = 0; i < l.n; i++) {
		char what[600], sub[32];
		dm_record *rec = NULL;
		dm_device nd;
		int e = dm_store_lock_vf(s, l.v[i].pci, false);
		if (e == -EWOULDBLOCK)
			snprintf(what, sizeof(what), "locked: an allocation or a CNI call is at work on it");
		else if (e < 0 && e != -EROFS) {
			held = e; /* a read-only store takes no new allocation: no lock needed */
			break;
		} else if ((e = dm_store_get(s, l.v[i].pci, &rec)) == -ENOENT)
			continue;
		else if (e < 0)
			snprintf(what, sizeof(what), "corrupt record (`devmgr release %s` removes it)", l.v[i].pci);
		else {
			snprintf(what, sizeof(what), "owner %s%s%s%s%s%s", rec->owner, rec->ifname ? ", ifname " : "",
			         rec->ifname ? rec->ifname : "", rec->pool ? ", pool " : "", rec->pool ? rec->pool : "",
			         dm_record_is_stale(rec) ? " (stale: its netns is gone; `devmgr gc` releases it)" : "");
			dm_record_free(rec);
		}
		if (!*header) {
			if (opt.force)
				fprintf(stderr, "devmgr: %s --force: changing the VF count of %s (%s) takes these VFs from "
				        "their owners:\n", cmd, p->label, p->pci);
			else
				fprintf(stderr, "devmgr: %s: %s (%s) has allocated VFs; its VF count stays as it is "
				        "(--force changes it anyway):\n", cmd, p->label, p->pci);
			*header = true;
		}
		memset(&nd, 0, sizeof(nd));
		snprintf(sub, sizeof(sub), "virtfn%d/net", l.v[i].index);
		read_netdev_name_at(fd, sub, &nd);
		fprintf(stderr, "devmgr:   vf%d %s%s%s: %s\n", l.v[i].index, l.v[i].pci, nd.netdev[0] ? " " : "", nd.netdev,
		        what);
		held++;
	}
	free(l.v);
	return held;
}

/* Before the VF counts of PFS change: refuses (exit 6, naming every holder) when any of
 * their VFs is allocated or locked, unless --force; otherwise *RET_S (NULL without a
 * store) holds every VF lock of those PFs until the caller frees it. */
static int guard_pfs(const char *cmd, const pf_change *pfs, size_t n, dm_store **ret_s)
{
	dm_store *s = NULL;
	bool header = false;
	int held = 0;
	int r;
	*ret_s = NULL;
	if (!opt.force) {
		if ((r = open_store(false, &s)))
			return r; /* a store that cannot be read: nothing is known to be free */
		if (!s)
			return 0; /* no store: nothing allocated */
	} else if (access(state_dir(), F_OK) == 0 && (r = dm_store_open(state_dir(), &s)) < 0) {
		fprintf(stderr, "devmgr: %s --force: allocations not checked: cannot open %s: %s\n", cmd, state_dir(),
		        strerror(-r));
		return 0;
	} else if (!s)
		return 0;
	for (size_t i = 0; i < n; i++) {
		r = pf_holders(s, &pfs[i], cmd, &header);
		if (r < 0) {
			dm_store_free(s);
			return die(EXIT_FAIL, "%s: cannot check the allocations on %s (%s): %s", cmd, pfs[i].label,
			           pfs[i].pci, strerror(-r));
		}
		held += r;
	}
	if (held && !opt.force) {
		dm_store_free(s);
		return die(EXIT_BUSY, "%s: %d VF%s allocated or locked; nothing changed", cmd, held, held == 1 ? "" : "s");
	}
	*ret_s = s;
	return 0;
}

static int cmd_vfs(const char *pf, const char *num)
{
	pf_change p = { pf, "", 0 };
	dm_device d;
	dm_store *s = NULL;
	int r;
	if (parse_count(num, &p.num) < 0)
		return die(EXIT_USAGE, "vfs: \"%s\" is not a VF count", num);
	if ((r = resolve_pf(pf, p.pci)))
		return r;
	/* a count that does not change takes no allocation away */
	if (dm_device_lookup(opt.sysfs_root, p.pci, &d) >= 0 && d.num_vfs != p.num && (r = guard_pfs("vfs", &p, 1, &s)))
		return r;
	r = set_vfs(pf, p.pci, p.num, false);
	dm_store_free(s);
	return r ? r : EXIT_OK;
}

/* ----------------------------------------------------------------- apply */

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t cap = 0, len = 0;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			char *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		size_t n = fread(buf + len, 1, 4096, f);
		len += n;
		if (n < 4096)
			break;
	}
	fclose(f);
	buf[len] = 0;
	return buf;
}

static int cmd_apply(const char *file)
{
	char err[512], path[PATH_MAX];
	_cleanup_free_ char *text = NULL, *old = NULL;
	dm_store *s = NULL;
	dm_config *c = NULL;
	int r = dm_config_load(file, &c, err, sizeof(err));
	if (r < 0)
		return die(EXIT_CONFIG, "%s", err);

	/* check every PF before changing any */
	size_t n = dm_config_pf_count(c), n_change = 0;
	char (*pcis)[DM_PCI_ADDR_MAX] = calloc(n ? n : 1, DM_PCI_ADDR_MAX);
	pf_change *change = calloc(n ? n : 1, sizeof(*change));
	if (!pcis || !change) {
		r = die(EXIT_FAIL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const dm_pf_spec *p = dm_config_pf(c, i);
		dm_device d;
		const char *label = p->name ? p->name : p->pci;
		if ((r = resolve_pf(label, pcis[i])))
			goto out;
		if (dm_device_lookup(opt.sysfs_root, pcis[i], &d) < 0)
			continue; /* set_vfs() tells */
		if (p->num_vfs > d.total_vfs) {
			r = die(EXIT_UNSUPPORTED, "pfs[%zu] %s: numVfs %d exceeds sriov_totalvfs %d", i, label, p->num_vfs,
			        d.total_vfs);
			goto out;
		}
		if (d.num_vfs != p->num_vfs) {
			change[n_change] = (pf_change){ label, "", p->num_vfs };
			str_copy(change[n_change++].pci, DM_PCI_ADDR_MAX, pcis[i]);
		}
	}
	/* no PF changes under allocations: all checked before any changes */
	if ((r = guard_pfs("apply", change, n_change, &s)))
		goto out;
	int changes = 0;
	for (size_t i = 0; i < n; i++) {
		const dm_pf_spec *p = dm_config_pf(c, i);
		dm_device d;
		const char *label = p->name ? p->name : p->pci;
		if (dm_device_lookup(opt.sysfs_root, pcis[i], &d) >= 0 && d.num_vfs == p->num_vfs) {
			printf("%s (%s): numVfs %d, unchanged\n", d.netdev[0] ? d.netdev : label, pcis[i], p->num_vfs);
			continue;
		}
		if ((r = set_vfs(label, pcis[i], p->num_vfs, true)))
			goto out;
		changes++;
	}
	s = dm_store_free(s);

	/* the pools become the default configuration of later commands */
	text = read_text(file);
	if (!text) {
		r = die(EXIT_FAIL, "%s: cannot read: %s", file, strerror(errno));
		goto out;
	}
	if ((r = open_store(true, &s)))
		goto out;
	snprintf(path, sizeof(path), "%s/config.json", state_dir());
	old = read_text(path);
	if (old && !strcmp(old, text))
		printf("pools: %zu, unchanged\n", dm_config_pool_count(c));
	else {
		int e = dm_store_install_config(s, text);
		if (e < 0) {
			r = die(EXIT_FAIL, "cannot install %s: %s", path, strerror(-e));
			goto out;
		}
		printf("pools: %zu installed\n", dm_config_pool_count(c));
		changes++;
	}
	printf("apply: %d change%s\n", changes, changes == 1 ? "" : "s");
	r = EXIT_OK;
out:
	dm_store_free(s);
	free(change);
	free(pcis);
	dm_config_free(c);
	return r;
}

/* ----------------------------------------------------------------- pools */

static int cmd_pools(void)
{
	ctx x;
	int r = ctx_load(&x, 0, CTX_CONFIG_REQUIRED | CTX_RECORDS);
	if (r)
		return r;
	const dm_inventory *inv = x.inv;
	const dm_config *c = x.cfg;
	const records *rs = &x.rs;
	size_t np = dm_config_pool_count(c), n = dm_inventory_count(inv);
	cJSON *root = cJSON_CreateObject();
	cJSON_AddNumberToObject(root, "schemaVersion", 1);
	cJSON *pools = cJSON_AddArrayToObject(root, "pools");
	for (size_t p = 0; p < np; p++) {
		cJSON *po = cJSON_CreateObject(), *members = cJSON_CreateArray();
		int total = 0, nfree = 0, used = 0, unhealthy = 0, stale = 0, corrupt = 0;
		cJSON_AddStringToObject(po, "name", dm_config_pool_name(c, p));
		const char *prefix = dm_config_pool_prefix(c, p);
		if (prefix)
			cJSON_AddStringToObject(po, "resourcePrefix", prefix);
		else
			cJSON_AddNullToObject(po, "resourcePrefix");
		for (size_t i = 0; i < n; i++) {
			const dm_device *d = dm_inventory_get(inv, i);
			if (d->role != DM_ROLE_VF || dm_config_match(c, d) != (int)p)
				continue;
			int err;
			const dm_record *rec = record_of(rs, d->pci, &err);
			const char *state = err ? "corrupt" : rec ? dm_record_is_stale(rec) ? "stale" : "used"
			                        : d->health ? "unhealthy" : "free";
			total++;
			if (err)
				corrupt++;
			else if (rec)
				dm_record_is_stale(rec) ? stale++ : used++;
			else if (d->health)
				unhealthy++;
			else
				nfree++;
			cJSON *m = cJSON_CreateObject();
			cJSON_AddStringToObject(m, "pciAddress", d->pci);
			cJSON_AddStringToObject(m, "pf", d->pf_pci);
			if (d->pf_netdev[0])
				cJSON_AddStringToObject(m, "pfNetdev", d->pf_netdev);
			else
				cJSON_AddNullToObject(m, "pfNetdev");
			cJSON_AddNumberToObject(m, "vfIndex", d->vf_index);
			if (d->netdev[0])
				cJSON_AddStringToObject(m, "netdev", d->netdev);
			else
				cJSON_AddNullToObject(m, "netdev");
			if (d->driver[0])
				cJSON_AddStringToObject(m, "driver", d->driver);
			else
				cJSON_AddNullToObject(m, "driver");
			if (d->numa_node >= 0)
				cJSON_AddNumberToObject(m, "numaNode", d->numa_node);
			else
				cJSON_AddNullToObject(m, "numaNode");
			cJSON_AddBoolToObject(m, "healthy", d->health == 0);
			cJSON_AddStringToObject(m, "state", state);
			cJSON_AddItemToObject(m, "allocation", rec ? json_record(rec, NULL) : cJSON_CreateNull());
			cJSON_AddItemToArray(members, m);
		}
		cJSON_AddNumberToObject(po, "total", total);
		cJSON_AddNumberToObject(po, "free", nfree);
		cJSON_AddNumberToObject(po, "used", used);
		cJSON_AddNumberToObject(po, "stale", stale);
		cJSON_AddNumberToObject(po, "unhealthy", unhealthy);
		cJSON_AddNumberToObject(po, "corrupt", corrupt);
		cJSON_AddItemToObject(po, "members", members);
		cJSON_AddItemToArray(pools, po);
	}
	if (opt.json)
		print_json(root);
	else {
		const cJSON *po;
		printf("%-24s %5s %5s %5s %5s %9s\n", "POOL", "TOTAL", "FREE", "USED", "STALE", "UNHEALTHY");
		cJSON_ArrayForEach(po, pools) {
			printf("%-24s %5d %5d %5d %5d %9d\n", cJSON_GetObjectItem(po, "name")->valuestring,
			       cJSON_GetObjectItem(po, "total")->valueint, cJSON_GetObjectItem(po, "free")->valueint,
			       cJSON_GetObjectItem(po, "used")->valueint, cJSON_GetObjectItem(po, "stale")->valueint,
			       cJSON_GetObjectItem(po, "unhealthy")->valueint + cJSON_GetObjectItem(po, "corrupt")->valueint);
			const cJSON *m;
			cJSON_ArrayForEach(m, cJSON_GetObjectItem(po, "members")) {
				const cJSON *a = cJSON_GetObjectItem(m, "allocation");
				const cJSON *nd = cJSON_GetObjectItem(m, "netdev");
				printf("  %-14s %-15s %-10s %s%s%s\n", cJSON_GetObjectItem(m, "pciAddress")->valuestring,
				       cJSON_IsString(nd) ? nd->valuestring : "-", cJSON_GetObjectItem(m, "state")->valuestring,
				       cJSON_IsObject(a) ? cJSON_GetObjectItem(a, "owner")->valuestring : "",
				       cJSON_IsObject(a) && cJSON_IsString(cJSON_GetObjectItem(a, "ifname")) ? "/" : "",
				       cJSON_IsObject(a) && cJSON_IsString(cJSON_GetObjectItem(a, "ifname"))
				               ? cJSON_GetObjectItem(a, "ifname")->valuestring : "");
			}
		}
		cJSON_Delete(root);
	}
	ctx_done(&x);
	return EXIT_OK;
}

/* ----------------------------------------------------------------- alloc */

/* --netns names the owner's network namespace: a record holding any other file would
 * never go stale. Returns 0 or the exit code (after the message). */
static int check_netns(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR
		               ? die(EXIT_NOT_FOUND, "alloc: netns %s does not exist", path)
		               : die(EXIT_USAGE, "alloc: netns %s: %s", path, strerror(errno));
	int type = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? ioctl(fd, NS_GET_NSTYPE) : -1;
	close(fd);
	if (type != CLONE_NEWNET)
		return die(EXIT_USAGE, "alloc: --netns %s is not a network namespace", path);
	return 0;
}

static int cmd_alloc(void)
{
	dm_record *rec = NULL;
	ctx x;
	int r;

	if (!opt.pool || !opt.owner)
		return die(EXIT_USAGE, "alloc: --pool and --owner are required");
	if (!dm_owner_id_valid(opt.owner))
		return die(EXIT_USAGE, "alloc: owner \"%s\" must be letters, digits, '_', '.', '-' (at most 255)", opt.owner);
	if (opt.ifname && !dm_ifname_valid(opt.ifname))
		return die(EXIT_USAGE, "alloc: \"%s\" is not an interface name", opt.ifname);
	if (opt.netns && opt.netns[0] != '/')
		return die(EXIT_USAGE, "alloc: --netns must be an absolute path");
	if (opt.netns && (r = check_netns(opt.netns)))
		return r;
	/* an unknown pool is told before the bus is scanned */
	if ((r = ctx_load(&x, -1, CTX_CONFIG_REQUIRED)))
		return r;
	if (dm_config_pool_index(x.cfg, opt.pool) < 0) {
		ctx_done(&x);
		return die(EXIT_NOT_FOUND, "alloc: no pool named \"%s\"", opt.pool);
	}
	/* no inventory: the claim reads sysfs VF by VF, only as far as it has to; an
	 * unreadable bus is told as `list` tells it, before the store is touched */
	char bus[PATH_MAX];
	snprintf(bus, sizeof(bus), "%s/bus/pci/devices", opt.sysfs_root);
	if (access(bus, R_OK | X_OK) < 0) {
		int e = errno;
		ctx_done(&x);
		return die(e == ENOENT ? EXIT_NOT_FOUND : EXIT_FAIL, "cannot read %s/bus/pci: %s", opt.sysfs_root,
		           strerror(e));
	}
	dm_config *c = TAKE_PTR(x.cfg);
	r = ctx_load(&x, -1, CTX_STORE);
	x.cfg = c;
	if (r) {
		ctx_done(&x);
		return r;
	}
	dm_store *s = x.store;
	dm_owner o = { opt.owner, opt.ifname, opt.netns };
	dm_device vf;
	int k = dm_store_claim_from_pool_sysfs(s, c, opt.sysfs_root, opt.pool, &o, opt.numa, &rec, &vf);
	if (k == -ENOENT && access(bus, R_OK | X_OK) < 0) {
		/* the bus went away between the check and the claim */
		r = die(EXIT_NOT_FOUND, "cannot read %s/bus/pci: %s", opt.sysfs_root, strerror(ENOENT));
	} else if (k < 0) {
		if (k == -ENOSPC)
			r = die(EXIT_NO_FREE, "alloc: no free healthy VF in pool \"%s\"", opt.pool);
		else if (k == -ENOENT && opt.netns)
			r = die(EXIT_NOT_FOUND, "alloc: netns %s does not exist", opt.netns);
		else if (k == -EIO || k == -EROFS || k == -EDQUOT) {
			/* the library reports a full disk as -EIO (-ENOSPC means "no free VF") */
			struct statvfs sv;
			bool full = k != -EROFS && statvfs(state_dir(), &sv) == 0 && sv.f_bavail == 0;
			r = die(EXIT_FAIL, "alloc: cannot write the allocation record under %s: %s", state_dir(),
			        full ? "no space left on the file system" : strerror(-k));
		} else
			r = die(exit_code(k) == EXIT_USAGE ? EXIT_FAIL : exit_code(k), "alloc: %s", strerror(-k));
	} else {
		const dm_device *d = vf.pci[0] ? &vf : NULL;
		if (opt.json) {
			cJSON *j = json_record(rec, d);
			cJSON_AddStringToObject(j, "result",
			                        k == DM_CLAIM_NEW ? "new" : k == DM_CLAIM_EXISTING ? "existing" : "reclaimed");
			print_json(j);
		} else
			printf("%s %s\n", rec->pci, d && d->netdev[0] ? d->netdev : "-");
		r = EXIT_OK;
	}
	dm_record_free(rec);
	ctx_done(&x);
	return r;
}

/* --------------------------------------------------------------- release */

/* The VF lock wait of release and gc: $UCNI_VF_LOCK_TIMEOUT_MS (as the sriov plugin), else
 * the library's default. */
static void set_lock_timeout(dm_store *s)
{
	const char *v = getenv("UCNI_VF_LOCK_TIMEOUT_MS");
	int ms;
	if (v && *v && parse_count(v, &ms) == 0 && ms > 0)
		(void)dm_store_set_lock_timeout(s, ms);
}

/* One VF: restored from its record, then released. Prints nothing on success. */
static int release_one(dm_store *s, const char *label, const char *pci)
{
	dm_restore_report rep = { 0 };
	int e = dm_store_restore_release(s, opt.sysfs_root, pci, opt.owner, opt.force ? DM_DROP_FORCE : 0, &rep);
	if (e == -ENOENT)
		return die(EXIT_NOT_FOUND, "release: %s (%s) is not allocated", label, pci);
	if (e == -EBUSY)
		return die(EXIT_BUSY, "release: %s is held by another owner (--force releases it anyway)", pci);
	if (e == -ETIMEDOUT)
		return die(EXIT_BUSY, "release: VF %s is locked by another process (a CNI ADD or DEL); try again", pci);
	if (e == -EAGAIN)
		return die(EXIT_BUSY, "release: %s; the record of VF %s is kept (DEL the attachment, or --force)",
		           rep.what[0] ? rep.what : "its netdev is not in this namespace", pci);
	if (e == -EBADMSG || e == -EPROTO)
		return die(EXIT_STATE, "release: the record of %s is corrupt; release it by address without --owner", pci);
	if (e < 0 && (rep.what[0] || rep.refused))
		return die(EXIT_FAIL, "release: VF %s could not be restored: %s; its record is kept (--force drops it)",
		           pci, rep.what[0] ? rep.what : strerror(-e));
	if (e < 0)
		return die(EXIT_FAIL, "release: %s: %s", pci, strerror(-e));
	if (rep.tolerated)
		fprintf(stderr, "devmgr: release: VF %s: the driver keeps its administrative MAC (clearing refused)\n", pci);
	return EXIT_OK;
}

static int cmd_release(const char *dev)
{
	dm_store *s = NULL;
	char pci[DM_PCI_ADDR_MAX];
	int r;

	if (!dev && !opt.owner)
		return die(EXIT_USAGE, "release: give --owner ID or a device");
	if (opt.owner && !dm_owner_id_valid(opt.owner))
		return die(EXIT_USAGE, "release: owner \"%s\" is not a valid id", opt.owner);
	if (opt.ifname && !dm_ifname_valid(opt.ifname))
		return die(EXIT_USAGE, "release: \"%s\" is not an interface name", opt.ifname);
	if (dev && dm_pci_addr_normalize(dev, pci) < 0) {
		r = dm_netdev_to_pci(opt.sysfs_root, dev, pci);
		if (r < 0)
			return die(EXIT_NOT_FOUND, "release: %s: no PCI device or netdev of that name", dev);
	}
	if (access(state_dir(), F_OK) < 0) {
		if (dev)
			return die(EXIT_NOT_FOUND, "release: %s is not allocated", dev);
		if (opt.json)
			printf("{\"released\": []}\n");
		else
			printf("released 0 VFs\n");
		return EXIT_OK;
	}
	if ((r = open_store(true, &s)))
		return r;
	set_lock_timeout(s);
	if (dev) {
		r = release_one(s, dev, pci);
		dm_store_free(s);
		if (r != EXIT_OK)
			return r;
		if (opt.json)
			printf("{\"released\": [\"%s\"]}\n", pci);
		else
			printf("released %s\n", pci);
		return EXIT_OK;
	}
	/* by owner: list first so the output can name what went */
	dm_record **recs = NULL;
	int *errs = NULL;
	size_t n = 0, count = 0;
	r = dm_store_list(s, &recs, &errs, &n);
	if (r < 0) {
		dm_store_free(s);
		return die(EXIT_FAIL, "release: %s", strerror(-r));
	}
	cJSON *arr = cJSON_CreateArray();
	int rc = EXIT_OK;
	for (size_t i = 0; i < n; i++) {
		if (errs[i] || strcmp(recs[i]->owner, opt.owner) ||
		    (opt.ifname && (!recs[i]->ifname || strcmp(recs[i]->ifname, opt.ifname))))
			continue;
		dm_restore_report rep;
		int e = dm_store_restore_release(s, opt.sysfs_root, recs[i]->pci, opt.owner,
		                                 opt.force ? DM_DROP_FORCE : 0, &rep);
		if (e == -ENOENT || e == -EBUSY)
			continue; /* released or reclaimed meanwhile */
		if (e < 0) {
			rc = release_one(s, recs[i]->pci, recs[i]->pci); /* says why (and tries once more) */
			if (rc == EXIT_OK)
				goto released;
			continue;
		}
	released:
		count++;
		cJSON_AddItemToArray(arr, cJSON_CreateString(recs[i]->pci));
		if (!opt.json)
			printf("released %s\n", recs[i]->pci);
	}
	if (opt.json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToObject(o, "released", arr);
		print_json(o);
	} else {
		cJSON_Delete(arr);
		if (!count)
			printf("released 0 VFs\n");
	}
	dm_record_list_free(recs, n);
	free(errs);
	dm_store_free(s);
	return rc;
}

/* -------------------------------------------------------------------- gc */

/* Stale records: each VF restored (its saved state, else the baseline), then released. */
static int cmd_gc(void)
{
	dm_store *s = NULL;
	dm_gc_report rep = { 0 };
	int r;
	if (access(state_dir(), F_OK) < 0) {
		printf(opt.json ? "{\"released\": 0, \"corrupt\": 0, \"kept\": 0, \"busy\": 0}\n"
		                : "released 0 stale allocations\n");
		return EXIT_OK;
	}
	if ((r = open_store(true, &s)))
		return r;
	set_lock_timeout(s);
	int e = dm_store_gc_restore(s, opt.sysfs_root, &rep);
	dm_store_free(s);
	if (e == -ETIMEDOUT)
		return die(EXIT_BUSY, "gc: the store is locked by another process; try again");
	if (e < 0)
		return die(EXIT_FAIL, "gc: %s", strerror(-e));
	if (opt.json)
		printf("{\"released\": %zu, \"corrupt\": %zu, \"kept\": %zu, \"busy\": %zu}\n", rep.released, rep.corrupt,
		       rep.kept, rep.busy);
	else
		printf("released %zu stale allocation%s\n", rep.released, rep.released == 1 ? "" : "s");
	if (rep.kept)
		return die(EXIT_FAIL, "gc: %zu stale record%s kept: the VF could not be restored (`devmgr release DEV` "
		           "tells why)", rep.kept, rep.kept == 1 ? "" : "s");
	if (rep.corrupt)
		return die(EXIT_STATE, "gc: %zu record%s in %s/vfs could not be read and %s left in place", rep.corrupt,
		           rep.corrupt == 1 ? "" : "s", state_dir(), rep.corrupt == 1 ? "was" : "were");
	if (rep.busy)
		return die(EXIT_BUSY, "gc: %zu stale record%s locked by another process and left; try again", rep.busy,
		           rep.busy == 1 ? "" : "s");
	return EXIT_OK;
}

/* ---------------------------------------------------------------- export */

static int cmd_export(void)
{
	ctx x;
	int r;
	if (!opt.format || strcmp(opt.format, "device-plugin"))
		return die(EXIT_USAGE, "export: --format device-plugin is the only format");
	if ((r = ctx_load(&x, 0, CTX_CONFIG_REQUIRED)))
		return r;
	const dm_inventory *inv = x.inv;
	const dm_config *c = x.cfg;
	/* each pool as the exact set of VFs devmgr assigns to it, so the device plugin's
	 * view cannot differ from devmgr's first-match assignment */
	cJSON *root = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(root, "resourceList");
	for (size_t p = 0; p < dm_config_pool_count(c); p++) {
		cJSON *addrs = cJSON_CreateArray();
		for (size_t i = 0; i < dm_inventory_count(inv); i++) {
			const dm_device *d = dm_inventory_get(inv, i);
			if (d->role == DM_ROLE_VF && dm_config_match(c, d) == (int)p)
				cJSON_AddItemToArray(addrs, cJSON_CreateString(d->pci));
		}
		if (cJSON_GetArraySize(addrs) == 0) {
			/* The device plugin reads an empty pciAddresses as "no filter":
			 * that pool would take every device. Leave it out. */
			fprintf(stderr, "devmgr: export: pool \"%s\" has no VF here; left out\n",
				dm_config_pool_name(c, p));
			cJSON_Delete(addrs);
			continue;
		}
		cJSON *res = cJSON_CreateObject(), *sel = cJSON_CreateObject();
		const char *prefix = dm_config_pool_prefix(c, p);
		cJSON_AddStringToObject(res, "resourceName", dm_config_pool_name(c, p));
		if (prefix)
			cJSON_AddStringToObject(res, "resourcePrefix", prefix);
		cJSON_AddStringToObject(res, "deviceType", "netDevice");
		cJSON_AddItemToObject(sel, "pciAddresses", addrs);
		cJSON *sels = cJSON_AddArrayToObject(res, "selectors");
		cJSON_AddItemToArray(sels, sel);
		cJSON_AddItemToArray(list, res);
	}
	print_json(root);
	ctx_done(&x);
	return EXIT_OK;
}

/* ------------------------------------------------------------------ main */

enum { O_SYSFS = 256, O_STATE, O_CONFIG, O_JSON, O_POOL, O_OWNER, O_IFNAME, O_NETNS, O_NUMA, O_FORMAT, O_COUNT,
       O_TIMEOUT, O_FORCE, O_VERSION };

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "sysfs-root", required_argument, NULL, O_SYSFS },
		{ "state-dir", required_argument, NULL, O_STATE },
		{ "config", required_argument, NULL, O_CONFIG },
		{ "json", no_argument, NULL, O_JSON },
		{ "pool", required_argument, NULL, O_POOL },
		{ "owner", required_argument, NULL, O_OWNER },
		{ "ifname", required_argument, NULL, O_IFNAME },
		{ "netns", required_argument, NULL, O_NETNS },
		{ "numa", required_argument, NULL, O_NUMA },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "count", required_argument, NULL, O_COUNT },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "force", no_argument, NULL, O_FORCE },
		{ "version", no_argument, NULL, O_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	/* which command may use which option */
	static const struct { const char *cmd; const char *opts; } allowed[] = {
		{ "list", "j" }, { "show", "j" }, { "vfs", "F" }, { "apply", "F" }, { "pools", "j" },
		{ "alloc", "jpoinm" }, { "release", "joiF" }, { "gc", "j" }, { "export", "f" }, { "watch", "ct" },
	};
	char used[16] = "";
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		char tag = 0;
		switch (c) {
		case O_SYSFS: opt.sysfs_root = optarg; break;
		case O_STATE: opt.state_dir = optarg; break;
		case O_CONFIG: opt.config = optarg; break;
		case O_JSON: opt.json = true; tag = 'j'; break;
		case O_POOL: opt.pool = optarg; tag = 'p'; break;
		case O_OWNER: opt.owner = optarg; tag = 'o'; break;
		case O_IFNAME: opt.ifname = optarg; tag = 'i'; break;
		case O_NETNS: opt.netns = optarg; tag = 'n'; break;
		case O_FORMAT: opt.format = optarg; tag = 'f'; break;
		case O_FORCE: opt.force = true; tag = 'F'; break;
		case O_NUMA:
			if (parse_count(optarg, &opt.numa) < 0)
				return die(EXIT_USAGE, "--numa: \"%s\" is not a NUMA node number", optarg);
			tag = 'm';
			break;
		case O_COUNT:
			if (parse_count(optarg, &opt.count) < 0)
				return die(EXIT_USAGE, "--count: \"%s\" is not a count", optarg);
			tag = 'c';
			break;
		case O_TIMEOUT:
			if (parse_count(optarg, &opt.timeout) < 0)
				return die(EXIT_USAGE, "--timeout: \"%s\" is not a number of seconds", optarg);
			tag = 't';
			break;
		case O_VERSION: puts("devmgr 0.1"); return EXIT_OK;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
		size_t ul = strlen(used);
		if (tag && !strchr(used, tag) && ul < sizeof(used) - 1) {
			used[ul] = tag;
			used[ul + 1] = 0;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!*opt.sysfs_root)
		return die(EXIT_USAGE, "--sysfs-root must not be empty");
	const char *cmd = argv[optind];
	char **args = argv + optind + 1;
	int nargs = argc - optind - 1;
	size_t k;
	for (k = 0; k < ELEMENTSOF(allowed); k++)
		if (!strcmp(allowed[k].cmd, cmd))
			break;
	if (k == ELEMENTSOF(allowed))
		return die(EXIT_USAGE, "unknown command \"%s\" (see devmgr --help)", cmd);
	for (const char *u = used; *u; u++)
		if (!strchr(allowed[k].opts, *u)) {
			for (const struct option *o = longopts; o->name; o++)
				if ((*u == 'j' && o->val == O_JSON) || (*u == 'p' && o->val == O_POOL) ||
				    (*u == 'o' && o->val == O_OWNER) || (*u == 'i' && o->val == O_IFNAME) ||
				    (*u == 'n' && o->val == O_NETNS) || (*u == 'm' && o->val == O_NUMA) ||
				    (*u == 'f' && o->val == O_FORMAT) || (*u == 'c' && o->val == O_COUNT) ||
				    (*u == 't' && o->val == O_TIMEOUT) || (*u == 'F' && o->val == O_FORCE))
					return die(EXIT_USAGE, "%s: option --%s does not apply", cmd, o->name);
		}
#define NARGS(min, max, what)                                                             \
	do {                                                                              \
		if (nargs < (min) || nargs > (max))                                       \
			return die(EXIT_USAGE, "usage: devmgr %s %s", cmd, what);         \
	} while (0)

	if (!strcmp(cmd, "list")) {
		NARGS(0, 0, "[--json]");
		return cmd_list();
	} else if (!strcmp(cmd, "show")) {
		NARGS(1, 1, "DEV [--json]");
		return cmd_show(args[0]);
	} else if (!strcmp(cmd, "vfs")) {
		NARGS(2, 2, "PF N [--force]");
		return cmd_vfs(args[0], args[1]);
	} else if (!strcmp(cmd, "apply")) {
		NARGS(1, 1, "CONFIG [--force]");
		return cmd_apply(args[0]);
	} else if (!strcmp(cmd, "pools")) {
		NARGS(0, 0, "[--json]");
		return cmd_pools();
	} else if (!strcmp(cmd, "alloc")) {
		NARGS(0, 0, "--pool P --owner ID [--ifname IF] [--netns PATH] [--numa N] [--json]");
		return cmd_alloc();
	} else if (!strcmp(cmd, "release")) {
		NARGS(0, 1, "(--owner ID [--ifname IF] | DEV) [--force] [--json]");
		if (nargs == 1 && opt.ifname)
			return die(EXIT_USAGE, "release: --ifname goes with --owner, not with a device");
		return cmd_release(nargs ? args[0] : NULL);
	} else if (!strcmp(cmd, "gc")) {
		NARGS(0, 0, "[--json]");
		return cmd_gc();
	} else if (!strcmp(cmd, "export")) {
		NARGS(0, 0, "--format device-plugin");
		return cmd_export();
	} else {
		NARGS(0, 0, "[--count N] [--timeout SECONDS]");
		return cmd_watch(opt.sysfs_root, opt.count, opt.timeout);
	}
}
