/* What a devmgr command works on: the pool configuration, the inventory, the store and
 * its allocation records, loaded as the command asks and refused with the exit code that
 * says why. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

const char *state_dir(void)
{
	return opt.state_dir ? opt.state_dir : DM_DEFAULT_STATE_DIR;
}

static bool is_real_sysfs(void)
{
	return !strcmp(opt.sysfs_root, "/sys");
}

static int load_inventory(unsigned flags, const char *pci, dm_inventory **ret)
{
	/* the VF settings over netlink only where the command shows each VF in full */
	if (is_real_sysfs())
		flags |= flags & DM_INVENTORY_DETAILS ? DM_INVENTORY_NETLINK : 0;
	int r = inventory_load_of(opt.sysfs_root, flags, pci, ret);
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

int open_store(bool create, dm_store **ret)
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

void ctx_done(ctx *x)
{
	records_free(&x->rs);
	dm_store_free(x->store);
	dm_config_free(x->cfg);
	dm_inventory_free(x->inv);
	memset(x, 0, sizeof(*x));
}

int ctx_load(ctx *x, int inv_flags, unsigned what)
{
	return ctx_load_of(x, inv_flags, NULL, what);
}

int ctx_load_of(ctx *x, int inv_flags, const char *pci, unsigned what)
{
	int r = 0;
	memset(x, 0, sizeof(*x));
	if (what & (CTX_CONFIG | CTX_CONFIG_REQUIRED))
		r = load_config(what & CTX_CONFIG_REQUIRED, &x->cfg);
	if (!r && inv_flags >= 0)
		r = load_inventory((unsigned)inv_flags, pci, &x->inv);
	if (!r && (what & (CTX_STORE | CTX_RECORDS)))
		r = open_store(what & CTX_STORE, &x->store);
	if (!r && (what & CTX_RECORDS))
		r = load_records(x->store, &x->rs);
	if (r)
		ctx_done(x);
	return r;
}

/* dm_store_list() gives the records in address order: a binary search per device */
const dm_record *record_of(const records *rs, const char *pci, int *ret_err)
{
	size_t lo = 0, hi = rs->n;
	*ret_err = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(rs->r[mid]->pci, pci);
		if (!c) {
			*ret_err = rs->err[mid];
			return rs->err[mid] ? NULL : rs->r[mid];
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const char *pool_of(const dm_config *c, const dm_device *d)
{
	int i = c ? dm_config_match(c, d) : -1;
	return i >= 0 ? dm_config_pool_name(c, (size_t)i) : NULL;
}
