/* devmgr alloc, release and gc: allocations made, and given back restored. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ucni/clock.h"
#include "cli.h"

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

int cmd_alloc(int argc, char **argv)
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
	/* the VFs of a pool `devmgr serve` hands to the kubelet are the kubelet's alone (the
	 * marker lives in the store's directory: judged by the store's open above) */
	char res[DP_RESOURCE_MAX];
	int served = dm_pool_served(state_dir(), opt.pool, res, sizeof(res));
	if (served != 0) {
		ctx_done(&x);
		if (served > 0)
			return die(EXIT_SERVED, "alloc: pool \"%s\" is kubelet-managed: `devmgr serve` hands its VFs to the "
			           "kubelet as %s; request that resource in a pod instead", opt.pool, res);
		return die(EXIT_STATE, "alloc: the served marker %s/serve.json cannot be read: %s", state_dir(),
		           strerror(-served));
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
	int ms = env_ms("UCNI_VF_LOCK_TIMEOUT_MS", 0, 1, DM_LOCK_TIMEOUT_MAX_MS);
	if (ms > 0)
		(void)dm_store_set_lock_timeout(s, ms);
}

/* What a release that succeeded leaves for the operator to know, on stderr: an
 * administrative MAC the driver keeps, a device-info file left in place. */
static void release_facts(const char *pci, const dm_restore_report *rep)
{
	if (rep->tolerated)
		fprintf(stderr, "devmgr: release: VF %s: the driver keeps its administrative MAC (clearing refused)\n", pci);
	if (rep->devinfo < 0)
		fprintf(stderr, "devmgr: release: VF %s: device-info file %s left in place: %s\n", pci, rep->devinfo_file,
		        rep->devinfo_why);
}

/* One VF: restored from its record, then released. Prints nothing on success but
 * release_facts(). */
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
	release_facts(pci, &rep);
	return EXIT_OK;
}

int cmd_release(int argc, char **argv)
{
	const char *dev = argc ? argv[0] : NULL;
	dm_store *s = NULL;
	char pci[DM_PCI_ADDR_MAX];
	int r;

	if (dev && opt.ifname)
		return die(EXIT_USAGE, "release: --ifname goes with --owner, not with a device");
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
		release_facts(recs[i]->pci, &rep);
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
int cmd_gc(int argc, char **argv)
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
	if (rep.devinfo_left)
		fprintf(stderr, "devmgr: gc: %zu device-info file%s left in place; %s %s\n", rep.devinfo_left,
		        rep.devinfo_left == 1 ? "" : "s", rep.devinfo_left == 1 ? "it:" : "the first:", rep.devinfo_what);
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

