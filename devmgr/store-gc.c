/* The allocation store's garbage: records whose holder's network namespace is gone
 * (dm_store_gc, dm_store_gc_restore: with their device-info files) and temp files of
 * writers that died. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "store.h"

/* Seconds between two sweeps of vfs/ for leftover temp files (see store_sweep_tmp()). */
#define SWEEP_INTERVAL 60

/* Removes the leftover temp files in vfs/: a name ".tmp.<pci>" (or ".tmp.<pci>.<pid>", as
 * older versions named them) whose VF lock is free has no writer. Run by a writer at most
 * once per SWEEP_INTERVAL (store.lock's mtime says when it last ran), so a write costs
 * one fstat however many records the store has; the common leftover (a writer killed
 * mid-write) is already replaced by the next write of the same record. */
void store_sweep_tmp(dm_store *s)
{
	struct stat st;
	struct timespec now;
	if (fstat(s->storefd, &st) < 0 || clock_gettime(CLOCK_REALTIME, &now) < 0)
		return;
	long long age = (long long)now.tv_sec - (long long)st.st_mtim.tv_sec;
	if (age >= 0 && age < SWEEP_INTERVAL)
		return;
	if (futimens(s->storefd, NULL) < 0)
		return; /* a read-only store: nothing to sweep */
	_cleanup_closedir_ DIR *d = opendir_at(s->vfsfd, ".");
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		char pci[DM_PCI_ADDR_MAX];
		const char *n = de->d_name;
		if (strncmp(n, ".tmp.", 5) || strlen(n) < 5 + 12 || (n[17] && n[17] != '.'))
			continue;
		memcpy(pci, n + 5, 12);
		pci[12] = 0;
		if (!pci_addr_valid(pci))
			continue;
		int took = store_vf_lock(s, pci, false);
		if (took < 0)
			continue; /* a writer may be at work on it */
		(void)unlinkat(s->vfsfd, n, 0);
		if (took)
			store_vf_unlock(s, pci);
	}
}

struct gc_ctx {
	const char *sysfs_root; /* NULL: records holding saved state stay */
	dm_gc_report rep;
	int err;
};

/* The store directory's temp files (.format.*, .config.json.*): written under store.lock
 * held exclusively, as gc holds it, so every one is a leftover. */
static void sweep_root_tmp(dm_store *s)
{
	_cleanup_closedir_ DIR *d = opendir_at(s->dirfd, ".");
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, ".format.", 8) || !strncmp(de->d_name, ".config.json.", 13))
			(void)unlinkat(s->dirfd, de->d_name, 0);
}

static void gc_tmp_cb(dm_store *s, const char *name)
{
	/* under the exclusive store lock no writer is active: every temp file is a leftover */
	(void)unlinkat(s->vfsfd, name, 0);
}

/* The device-info file of a record whose VF was restored, removed before the record goes
 * (as dm_store_restore_release() does). */
static void gc_devinfo(struct gc_ctx *g, const dm_record *r)
{
	dm_restore_report rep;
	memset(&rep, 0, sizeof(rep));
	int e = vf_record_devinfo_remove(r, &rep);
	if (e > 0)
		g->rep.devinfo_removed++;
	else if (e < 0 && g->rep.devinfo_left++ == 0)
		snprintf(g->rep.devinfo_what, sizeof(g->rep.devinfo_what), "%s: %s", rep.devinfo_file, rep.devinfo_why);
}

static int gc_cb(dm_store *s, const char *pci, void *arg)
{
	struct gc_ctx *g = arg;
	dm_record *r = NULL;
	int e = store_record_read(s, pci, &r);
	if (e < 0) {
		if (e != -ENOENT)
			g->rep.corrupt++;
		return 0;
	}
	bool stale = dm_record_is_stale(r);
	dm_record_free(r);
	if (!stale)
		return 0;
	int took = store_vf_lock(s, pci, false);
	if (took < 0) {
		g->rep.busy++;
		return 0; /* somebody is working on it right now */
	}
	e = store_record_read(s, pci, &r);
	if (e >= 0 && dm_record_is_stale(r)) {
		bool keep = false;
		if (g->sysfs_root) {
			/* restored from its saved state (the baseline without one), then dropped */
			keep = vf_restore_record(g->sysfs_root, r, DM_RESTORE_WAIT_NETDEV, NULL) < 0;
			if (!keep)
				gc_devinfo(g, r);
		} else
			keep = dm_data_is_vf_state(r->data); /* cannot restore here: left for a restoring gc */
		if (keep)
			g->rep.kept++;
		else if ((e = store_record_delete(s, pci)) >= 0)
			g->rep.released++;
		else
			g->err = e;
	}
	dm_record_free(r);
	if (took)
		store_vf_unlock(s, pci);
	return 0;
}

static int gc_run(dm_store *s, const char *sysfs_root, dm_gc_report *ret)
{
	int e = store_lock(s, LOCK_EX);
	if (e < 0)
		return e;
	struct gc_ctx g = { .sysfs_root = sysfs_root };
	sweep_root_tmp(s);
	e = store_for_each(s, gc_cb, &g, gc_tmp_cb);
	if (e >= 0)
		(void)fsync(s->vfsfd);
	store_unlock(s);
	if (e < 0)
		return e;
	if (g.err < 0)
		return g.err;
	*ret = g.rep;
	return 0;
}

int dm_store_gc(dm_store *s, size_t *ret_released, size_t *ret_corrupt)
{
	dm_gc_report rep;
	if (!s)
		return -EINVAL;
	int e = gc_run(s, NULL, &rep);
	if (e < 0)
		return e;
	if (ret_released)
		*ret_released = rep.released;
	if (ret_corrupt)
		*ret_corrupt = rep.corrupt;
	return 0;
}

int dm_store_gc_restore(dm_store *s, const char *sysfs_root, dm_gc_report *ret)
{
	dm_gc_report rep;
	if (!s || !sysfs_root || !ret)
		return -EINVAL;
	int e = gc_run(s, sysfs_root, &rep);
	if (e < 0)
		return e;
	*ret = rep;
	return 0;
}
