/* devmgr vfs: a PF's VF count set, never under a live allocation unless forced (the
 * guard apply uses too). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

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

int resolve_pf(const char *arg, char pci[DM_PCI_ADDR_MAX])
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


static int cmp_vf(const void *a, const void *b)
{
	return ((const vf_link *)a)->index - ((const vf_link *)b)->index;
}

/* Tells on stderr who holds the VFs of PF (its current virtfn links): a record (live,
 * stale or corrupt) or a lock another process holds. Each VF's lock is taken (without
 * waiting) and stays held in S until S is freed, so no allocation lands on the PF while
 * its count changes. Returns how many are held, or -errno. */
static int pf_holders(dm_store *s, const pf_change *p, const char *cmd, bool *header)
{
	char path[PATH_MAX];
	vf_link *v = NULL;
	size_t n = 0;
	int held = 0;
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", opt.sysfs_root, p->pci);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = pf_list_virtfns(fd, &v, &n);
	if (r < 0)
		return r;
	if (n)
		qsort(v, n, sizeof(*v), cmp_vf);
	for (size_t i = 0; i < n; i++) {
		char what[600], sub[32];
		dm_record *rec = NULL;
		dm_device nd;
		int e = dm_store_lock_vf(s, v[i].vf, false);
		if (e == -EWOULDBLOCK)
			snprintf(what, sizeof(what), "locked: an allocation or a CNI call is at work on it");
		else if (e < 0 && e != -EROFS) {
			held = e; /* a read-only store takes no new allocation: no lock needed */
			break;
		} else if ((e = dm_store_get(s, v[i].vf, &rec)) == -ENOENT)
			continue;
		else if (e < 0)
			snprintf(what, sizeof(what), "corrupt record (`devmgr release %s` removes it)", v[i].vf);
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
		snprintf(sub, sizeof(sub), "virtfn%d/net", v[i].index);
		read_netdev_name_at(fd, sub, &nd);
		fprintf(stderr, "devmgr:   vf%d %s%s%s: %s\n", v[i].index, v[i].vf, nd.netdev[0] ? " " : "", nd.netdev,
		        what);
		held++;
	}
	free(v);
	return held;
}

/* Before the VF counts of PFS change: refuses (exit 6, naming every holder) when any of
 * their VFs is allocated or locked, unless --force; otherwise *RET_S (NULL without a
 * store) holds every VF lock of those PFs until the caller frees it. */
int guard_pfs(const char *cmd, const pf_change *pfs, size_t n, dm_store **ret_s)
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

int cmd_vfs(int argc, char **argv)
{
	const char *pf = argv[0], *num = argv[1];
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
