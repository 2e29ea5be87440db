/* The inventory: libpci enumerates the bus (any sysfs tree through sysfs.path), sysfs adds
 * the SR-IOV links and netdevs, rtnetlink adds the VF settings as each PF reports them.
 * The VF cursor (vfcursor.c) gives the allocation path the same VFs without an inventory.
 *
 * Cost (README: devmgr, Performance): a syscall or a path lookup per file is what a big
 * tree costs, so the cheap view reads per VF only what the PF cannot tell: its netdev (one
 * readlink in class/net for all) and, with many VFs, nothing else of its own (drivers from
 * the drivers' directory listings, indexes from the PF's offset and stride). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "ucni/parallel.h"

struct dm_inventory {
	dm_device *devs;
	size_t n;
	char **names;      /* interned pci.ids names, freed with the inventory */
	size_t n_names;
};

static int cmp_dev(const void *a, const void *b)
{
	return pci_addr_cmp(((const dm_device *)a)->pci, ((const dm_device *)b)->pci);
}

static dm_device *find_pci(dm_inventory *inv, const char *pci)
{
	dm_device key;
	str_copy(key.pci, sizeof(key.pci), pci);
	return inv->n ? bsearch(&key, inv->devs, inv->n, sizeof(dm_device), cmp_dev) : NULL;
}

static const char *intern(dm_inventory *inv, const char *s)
{
	for (size_t i = 0; i < inv->n_names; i++)
		if (!strcmp(inv->names[i], s))
			return inv->names[i];
	char **n = realloc(inv->names, (inv->n_names + 1) * sizeof(char *));
	if (!n)
		return NULL;
	inv->names = n;
	if (!(n[inv->n_names] = strdup(s)))
		return NULL;
	return n[inv->n_names++];
}

struct link_ctx {
	dm_inventory *inv;
	dm_device *pf;
};

static int link_vf_cb(int index, const char *vf_pci, void *arg)
{
	struct link_ctx *c = arg;
	dm_device *vf = find_pci(c->inv, vf_pci);
	if (!vf || index >= DM_VF_INDEX_MAX)
		return 0;
	if ((size_t)index >= c->pf->n_vfs) {
		dm_device **v = realloc(c->pf->vfs, (size_t)(index + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		for (size_t i = c->pf->n_vfs; i <= (size_t)index; i++)
			v[i] = NULL;
		c->pf->vfs = v;
		c->pf->n_vfs = (size_t)index + 1;
	}
	c->pf->vfs[index] = vf;
	vf->vf_index = index;
	vf->pf = c->pf;
	return 0;
}

typedef struct netdev_map {
	char pci[DM_PCI_ADDR_MAX];
	char name[DM_IFNAME_MAX];
} netdev_map;

static int cmp_map(const void *a, const void *b)
{
	return strcmp(((const netdev_map *)a)->pci, ((const netdev_map *)b)->pci);
}

/* The PCI function of each netdev whose link in class/net (DIRFD) leads to
 * .../<pci>/net/<if>; "" for any other. */
typedef struct map_fill {
	int dirfd;
	netdev_map *m;
} map_fill;

static void map_chunk(size_t begin, size_t end, void *arg)
{
	const map_fill *f = arg;
	for (size_t i = begin; i < end; i++) {
		char target[PATH_MAX];
		netdev_map *e = &f->m[i];
		ssize_t len = readlinkat(f->dirfd, e->name, target, sizeof(target) - 1);
		e->pci[0] = 0;
		if (len < 0)
			continue;
		target[len] = 0;
		char *slash = strrchr(target, '/');
		if (!slash || slash - target < 17 || strncmp(slash - 4, "/net", 4))
			continue;
		slash[-4] = 0;
		char *pci = strrchr(target, '/');
		if (pci && pci_addr_valid(pci + 1))
			str_copy(e->pci, sizeof(e->pci), pci + 1);
	}
}

/* PCI address -> netdev from <root>/class/net/<if> -> ../../devices/.../<pci>/net/<if>:
 * one readlink per netdev (shared out between threads) instead of listing every
 * device's net/ directory. */
static int load_netdev_map(const char *root, netdev_map **ret, size_t *ret_n)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/class/net", root);
	_cleanup_closedir_ DIR *dir = opendir(path);
	if (!dir)
		return -errno;
	netdev_map *m = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.' || strlen(de->d_name) >= DM_IFNAME_MAX)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			netdev_map *nm = realloc(m, cap * sizeof(*nm));
			if (!nm) {
				free(m);
				return -ENOMEM;
			}
			m = nm;
		}
		str_copy(m[n++].name, sizeof(m->name), de->d_name);
	}
	map_fill f = { dirfd(dir), m };
	par_run(n, 64, 256, map_chunk, &f);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (m[i].pci[0])
			m[k++] = m[i];
	if (k)
		qsort(m, k, sizeof(*m), cmp_map);
	*ret = m;
	*ret_n = k;
	return 0;
}

static const char *map_find(const netdev_map *map, size_t n, const char *pci)
{
	netdev_map key;
	if (!n)
		return NULL;
	str_copy(key.pci, sizeof(key.pci), pci);
	const netdev_map *hit = bsearch(&key, map, n, sizeof(*map), cmp_map);
	return hit ? hit->name : NULL;
}

static dm_device *inv_append(dm_inventory *inv, size_t *cap)
{
	if (inv->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		dm_device *nd = realloc(inv->devs, nc * sizeof(*nd));
		if (!nd)
			return NULL;
		inv->devs = nd;
		*cap = nc;
	}
	return &inv->devs[inv->n];
}

/* A function of the bus listing, in address order. A PF's virtfn links mark its VFs before
 * the scan reaches them: a VF's routing id is always above its PF's. */
typedef struct bus_ent {
	char pci[DM_PCI_ADDR_MAX];
	int pf;       /* slot in scan_ctx.pfs of the PF whose virtfn link names it, else -1 */
	bool sibling; /* that link is "../<pci>": the VF sits in the PF's parent directory */
} bus_ent;

typedef struct pf_slot {
	size_t dev;   /* index in inv->devs */
	int parentfd; /* the PF's parent directory, -1 when it cannot be opened */
} pf_slot;

/* PCI address -> bound driver, from the bus/pci/drivers/<driver>/<pci> links the kernel
 * makes together with each device's driver link. */
typedef struct driver_map {
	char pci[DM_PCI_ADDR_MAX];
	unsigned driver; /* index in driver_names */
} driver_map;

/* A VF whose own details (vf_read_details_at()) are read after the scan: index in
 * inv->devs, the directory that holds it, its netdev's facts from the dump (may be NULL). */
typedef struct details_job {
	size_t dev;
	int dirfd;
	const netdev_facts *nf;
} details_job;

typedef struct scan_ctx {
	dm_inventory *inv;
	size_t cap;
	int busfd;
	unsigned flags;
	netdev_map *map;
	size_t n_map;
	bool have_map;
	bus_ent *ents;
	size_t n_ents;
	pf_slot *pfs;
	size_t n_pfs;
	vf_link *links;
	size_t n_links, cap_links;
	size_t n_marked;             /* bus entries a virtfn link named */
	int drivers_state;           /* 0 not tried, 1 loaded, -1 not available */
	driver_map *drivers;
	size_t n_drivers;
	char (*driver_names)[DM_DRIVER_MAX];
	size_t n_driver_names;
	const char *root;
	const char *details_of;      /* with DM_INVENTORY_DETAILS: only this function and its
	                              * VFs (NULL: all) */
	netdev_facts *facts;         /* on the host's /sys: the netdevs' facts from one dump */
	size_t n_facts;
	details_job *jobs;
	size_t n_jobs, cap_jobs;
} scan_ctx;

/* Does the view read the details of PCI (PF_PCI its PF, may be NULL)? */
static bool wants_details(const scan_ctx *x, const char *pci, const char *pf_pci)
{
	if (!(x->flags & DM_INVENTORY_DETAILS))
		return false;
	return !x->details_of || !strcmp(x->details_of, pci) || (pf_pci && !strcmp(x->details_of, pf_pci));
}

static int cmp_driver_map(const void *a, const void *b)
{
	return strcmp(((const driver_map *)a)->pci, ((const driver_map *)b)->pci);
}

/* Lists <root>/bus/pci/drivers/<driver>/: a getdents per driver instead of one readlink
 * per device. */
static int load_driver_map(scan_ctx *x)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/bus/pci/drivers", x->root);
	_cleanup_closedir_ DIR *top = opendir(path);
	if (!top)
		return -errno;
	size_t cap = 0, cap_names = 0;
	struct dirent *de;
	while ((de = readdir(top))) {
		if (de->d_name[0] == '.' || strlen(de->d_name) >= DM_DRIVER_MAX)
			continue;
		_cleanup_closedir_ DIR *dir = opendir_at(dirfd(top), de->d_name);
		if (!dir)
			continue;
		if (x->n_driver_names == cap_names) {
			cap_names = cap_names ? cap_names * 2 : 32;
			char(*nn)[DM_DRIVER_MAX] = realloc(x->driver_names, cap_names * sizeof(*nn));
			if (!nn)
				return -ENOMEM;
			x->driver_names = nn;
		}
		unsigned idx = (unsigned)x->n_driver_names++;
		str_copy(x->driver_names[idx], DM_DRIVER_MAX, de->d_name);
		struct dirent *e;
		while ((e = readdir(dir))) {
			if (!pci_addr_valid(e->d_name))
				continue;
			if (x->n_drivers == cap) {
				cap = cap ? cap * 2 : 256;
				driver_map *nm = realloc(x->drivers, cap * sizeof(*nm));
				if (!nm)
					return -ENOMEM;
				x->drivers = nm;
			}
			str_copy(x->drivers[x->n_drivers].pci, DM_PCI_ADDR_MAX, e->d_name);
			x->drivers[x->n_drivers++].driver = idx;
		}
	}
	if (x->n_drivers)
		qsort(x->drivers, x->n_drivers, sizeof(*x->drivers), cmp_driver_map);
	return 0;
}

/* The driver bound to the VF PCI (DIRFD/PCI its directory) into BUF of DM_DRIVER_MAX. */
static void vf_driver(scan_ctx *x, int dirfd, const char *pci, char *buf)
{
	char path[DM_PCI_ADDR_MAX + 16];
	/* with many VFs, the driver directories' listings are cheaper than a readlink each */
	if (x->drivers_state == 0 && x->n_marked >= 64)
		x->drivers_state = load_driver_map(x) >= 0 ? 1 : -1;
	if (x->drivers_state > 0 && x->n_drivers) {
		driver_map key;
		str_copy(key.pci, sizeof(key.pci), pci);
		const driver_map *hit = bsearch(&key, x->drivers, x->n_drivers, sizeof(key), cmp_driver_map);
		if (hit) {
			str_copy(buf, DM_DRIVER_MAX, x->driver_names[hit->driver]);
			return;
		}
		/* not listed (an unbound VF, rare, or a driver directory that could not be
		 * read): its own link decides */
	}
	snprintf(path, sizeof(path), "%s/driver", pci);
	(void)readlink_base_at(dirfd, path, buf, DM_DRIVER_MAX);
}

static int cmp_ent(const void *a, const void *b)
{
	return strcmp(((const bus_ent *)a)->pci, ((const bus_ent *)b)->pci);
}

static bus_ent *find_ent(scan_ctx *x, const char *pci)
{
	bus_ent key;
	str_copy(key.pci, sizeof(key.pci), pci);
	return x->n_ents ? bsearch(&key, x->ents, x->n_ents, sizeof(*x->ents), cmp_ent) : NULL;
}

static int add_link(scan_ctx *x, int slot, const char *pf, const char *vf, int idx, bool sibling)
{
	if (x->n_links == x->cap_links) {
		size_t nc = x->cap_links ? x->cap_links * 2 : 256;
		vf_link *nl = realloc(x->links, nc * sizeof(*nl));
		if (!nl)
			return -ENOMEM;
		x->links = nl;
		x->cap_links = nc;
	}
	vf_link *l = &x->links[x->n_links++];
	str_copy(l->pf, sizeof(l->pf), pf);
	str_copy(l->vf, sizeof(l->vf), vf);
	l->index = idx;
	bus_ent *e = find_ent(x, vf);
	if (e && e->pf < 0) {
		x->n_marked++;
		e->pf = slot;
		e->sibling = sibling;
	}
	return 0;
}

/* The virtfn<N> links of the PF just added (inv->devs[dev], directory PFFD): they give each
 * VF its index and let the scan skip the VFs' physfn links. The kernel makes all
 * sriov_numvfs of them at once, VF N at PF + sriov_offset + N * sriov_stride: when the
 * first and the last link say so, the others are not read one by one. */
static int read_virtfns(scan_ctx *x, int pffd, size_t dev)
{
	if (x->n_pfs % 16 == 0) {
		pf_slot *np = realloc(x->pfs, (x->n_pfs + 16) * sizeof(*np));
		if (!np)
			return -ENOMEM;
		x->pfs = np;
	}
	int slot = (int)x->n_pfs++, r;
	char pf[DM_PCI_ADDR_MAX];
	str_copy(pf, sizeof(pf), x->inv->devs[dev].pci);
	int num = x->inv->devs[dev].num_vfs, offset, stride, siblings;
	x->pfs[slot] = (pf_slot){ dev, openat(pffd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC) };

	/* placed by offset and stride, the first and the last VF in the same directory
	 * (both beside the PF, or both on the bus): every VF is then looked for there */
	if (pf_vfs_placed(pffd, pf, num, &offset, &stride, &siblings) && siblings >= 0) {
		for (int n = 0; n < num; n++) {
			char vf[DM_PCI_ADDR_MAX];
			(void)vf_addr(pf, offset, stride, n, vf);
			if ((r = add_link(x, slot, pf, vf, n, siblings)) < 0)
				return r;
		}
		return 0;
	}

	_cleanup_closedir_ DIR *dir = opendir_at(pffd, ".");
	if (!dir)
		return 0;
	struct dirent *de;
	while ((de = readdir(dir))) {
		char target[PATH_MAX], vf[DM_PCI_ADDR_MAX + 8];
		int idx;
		if (strncmp(de->d_name, "virtfn", 6) || parse_int(de->d_name + 6, &idx) < 0 || idx < 0)
			continue;
		ssize_t len = readlinkat(pffd, de->d_name, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = 0;
		if (link_target_base(target, vf, sizeof(vf)) < 0 || !pci_addr_valid(vf))
			continue;
		if ((r = add_link(x, slot, pf, vf, idx, !strncmp(target, "../", 3) && !strcmp(target + 3, vf))) < 0)
			return r;
	}
	return 0;
}

/* Everything read from the device's own files. DIRFD/PCI is the device's directory;
 * PF_PCI (may be NULL) is its PF when a virtfn link named it. */
static int add_full(scan_ctx *x, int dirfd, const char *pci, const char *pf_pci)
{
	_cleanup_close_ int devfd = openat(dirfd, pci, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (devfd < 0)
		return 0;
	dm_device *d = inv_append(x->inv, &x->cap);
	if (!d)
		return -ENOMEM;
	device_init(d, pci);
	/* uevent has ids, class and driver in one read: not a network function, stop here */
	if (device_read_ident(devfd, d) < 0 || (d->class_code >> 16) != 0x02)
		return 0;
	unsigned rf = wants_details(x, pci, pf_pci) ? READ_DETAILS : 0;
	if (x->have_map) {
		const char *name = map_find(x->map, x->n_map, pci);
		if (name)
			str_copy(d->netdev, sizeof(d->netdev), name);
		rf |= READ_HAVE_NETDEV;
	}
	if (pf_pci) {
		str_copy(d->pf_pci, sizeof(d->pf_pci), pf_pci);
		rf |= READ_KNOWN_VF;
	}
	if (device_read_sysfs(devfd, d->pci, rf, d) < 0)
		return 0;
	if (!(rf & READ_DETAILS) && d->role == DM_ROLE_VF &&
	    (wants_details(x, pci, d->pf_pci) || (!pf_pci && (x->flags & INVENTORY_DETAILS_UNLINKED))))
		/* its PF, named by its physfn link only, is the one shown in full, or it
		 * is shown as a device of its own */
		(void)device_read_sysfs(devfd, d->pci, READ_DETAILS | READ_HAVE_NETDEV | READ_KNOWN_VF, d);
	if (d->role == DM_ROLE_PF)
		pf_read_vf_device(devfd, d);
	size_t dev = x->inv->n++;
	if (d->role == DM_ROLE_PF && d->num_vfs > 0)
		return read_virtfns(x, devfd, dev);
	return 0;
}

/* A VF in the cheap view: what the kernel gave it from its PF (vendor, the PF's
 * sriov_vf_device, class, NUMA node), its driver (see vf_driver()) and, on a userspace
 * driver, its IOMMU group; DIRFD/PCI is its directory. DETAILS adds its own NUMA node,
 * IOMMU group and netdev state (vf_read_details_at()): the VF's uevent and directory are
 * not opened. */
static int add_vf_fast(scan_ctx *x, int dirfd, const char *pci, const dm_device *pf, bool details)
{
	size_t pf_index = (size_t)(pf - x->inv->devs);
	char driver[DM_DRIVER_MAX] = "";
	dm_device *d = inv_append(x->inv, &x->cap);
	if (!d)
		return -ENOMEM;
	vf_driver(x, dirfd, pci, driver);
	vf_read_from_pf(dirfd, pci, &x->inv->devs[pf_index], driver, d);
	const char *name = map_find(x->map, x->n_map, pci);
	if (name)
		str_copy(d->netdev, sizeof(d->netdev), name);
	if (details) {
		if (x->n_jobs == x->cap_jobs) {
			size_t nc = x->cap_jobs ? x->cap_jobs * 2 : 256;
			details_job *nj = realloc(x->jobs, nc * sizeof(*nj));
			if (!nj)
				return -ENOMEM;
			x->jobs = nj;
			x->cap_jobs = nc;
		}
		x->jobs[x->n_jobs++] = (details_job){ x->inv->n, dirfd,
		                                      name ? netdev_facts_find(x->facts, x->n_facts, name) : NULL };
	}
	x->inv->n++;
	return 0;
}

/* The VFs' own details are most of a big inventory's cost: five small files (or, on /sys,
 * two) per VF, each a path lookup, an open and a close in the kernel. They are read after
 * the scan, shared out between threads (par_run()); each job writes only its own device. */
static void details_chunk(size_t begin, size_t end, void *arg)
{
	const scan_ctx *x = arg;
	for (size_t i = begin; i < end; i++) {
		const details_job *j = &x->jobs[i];
		dm_device *d = &x->inv->devs[j->dev];
		vf_read_details_at(j->dirfd, d->pci, j->nf, d);
	}
}

static int scan_ents(scan_ctx *x)
{
	for (size_t i = 0; i < x->n_ents; i++) {
		const bus_ent *e = &x->ents[i];
		int r;
		if (e->pf < 0) {
			r = add_full(x, x->busfd, e->pci, NULL);
		} else {
			const pf_slot *ps = &x->pfs[e->pf];
			const dm_device *pf = &x->inv->devs[ps->dev];
			/* the VF's directory without the detour through the bus link */
			int dirfd = e->sibling && ps->parentfd >= 0 ? ps->parentfd : x->busfd;
			if (pf->vf_device_id && x->have_map)
				r = add_vf_fast(x, dirfd, e->pci, pf, wants_details(x, e->pci, pf->pci));
			else {
				char pf_pci[DM_PCI_ADDR_MAX]; /* add_full() may move inv->devs */
				str_copy(pf_pci, sizeof(pf_pci), pf->pci);
				r = add_full(x, dirfd, e->pci, pf_pci);
			}
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* The pci.ids names of every device; VFs share their ids: each pair looked up once.
 * -EIO when libpci gives up. */
static int add_names(struct pci_access *pacc, dm_inventory *inv)
{
	struct pair {
		uint16_t v, d;
		const char *vn, *dn;
	} seen[32];
	size_t n_seen = 0, next = 0;
	libpci_ids ids = { 0 };
	int r = 0;
	for (size_t i = 0; i < inv->n && r >= 0; i++) {
		dm_device *d = &inv->devs[i];
		char vname[LIBPCI_NAME_MAX], dname[LIBPCI_NAME_MAX];
		size_t k = 0;
		while (k < n_seen && (seen[k].v != d->vendor_id || seen[k].d != d->device_id))
			k++;
		if (k == n_seen) {
			if ((r = libpci_names(pacc, &ids, d->vendor_id, d->device_id, vname, dname)) < 0)
				break;
			/* more pairs than slots (not on a NIC's node): the oldest makes room */
			k = n_seen < ELEMENTSOF(seen) ? n_seen++ : next++ % ELEMENTSOF(seen);
			seen[k] = (struct pair){ d->vendor_id, d->device_id, r & LIBPCI_HAVE_VENDOR ? intern(inv, vname) : NULL,
			                         r & LIBPCI_HAVE_DEVICE ? intern(inv, dname) : NULL };
		}
		d->vendor_name = seen[k].vn;
		d->device_name = seen[k].dn;
	}
	libpci_ids_free(&ids);
	return r < 0 ? r : 0;
}

/* libpci enumerates and names; the attributes are read here relative to the bus directory
 * (or, for a VF, to its PF's parent directory): libpci's own fill opens each by absolute
 * path and resolves the driver and iommu_group links with realpath() (a readlink per path
 * component), too slow for thousands of VFs. The links are handed out only on success. */
static int scan_pci(struct pci_access *pacc, dm_inventory *inv, const char *root, unsigned flags,
                    const char *details_of, vf_link **ret_links, size_t *ret_n_links)
{
	char busdir[PATH_MAX];
	scan_ctx x = { .inv = inv, .flags = flags, .root = root, .details_of = details_of };
	int r;

	snprintf(busdir, sizeof(busdir), "%s/bus/pci/devices", root);
	_cleanup_close_ int busfd = open(busdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (busfd < 0)
		return -errno;
	x.busfd = busfd;
	_cleanup_free_ netdev_map *map = NULL;
	x.have_map = load_netdev_map(root, &map, &x.n_map) >= 0;
	x.map = map;
	/* /sys shows the netdevs of this process's namespace (a facts entry is used only for
	 * the netdev and function it names): one dump instead of four files per VF; without
	 * it (no netlink), the files */
	_cleanup_free_ netdev_facts *facts = NULL;
	if ((flags & DM_INVENTORY_DETAILS) && !strcmp(root, DM_DEFAULT_SYSFS_ROOT) &&
	    netdev_facts_dump(&facts, &x.n_facts) < 0)
		x.n_facts = 0;
	x.facts = facts;

	char(*addrs)[DM_PCI_ADDR_MAX] = NULL;
	size_t n = 0;
	if ((r = libpci_scan(pacc, &addrs, &n)) < 0)
		return r;
	_cleanup_free_ bus_ent *ents = calloc(n ? n : 1, sizeof(*ents));
	if (!ents) {
		free(addrs);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		str_copy(ents[i].pci, sizeof(ents[i].pci), addrs[i]);
		ents[i].pf = -1;
	}
	free(addrs);
	x.n_ents = n;
	qsort(ents, x.n_ents, sizeof(*ents), cmp_ent);
	x.ents = ents;
	r = scan_ents(&x);
	if (r >= 0) /* before the PFs' parent directories close */
		par_run(x.n_jobs, 32, 128, details_chunk, &x);
	free(x.jobs);
	for (size_t i = 0; i < x.n_pfs; i++)
		if (x.pfs[i].parentfd >= 0)
			close(x.pfs[i].parentfd);
	free(x.pfs);
	free(x.drivers);
	free(x.driver_names);
	if (r >= 0 && (flags & DM_INVENTORY_NAMES))
		r = add_names(pacc, inv);
	if (r < 0) {
		free(x.links);
		return r;
	}
	*ret_links = x.links;
	*ret_n_links = x.n_links;
	return 0;
}

static bool inventory_sorted(const dm_inventory *inv)
{
	for (size_t i = 1; i < inv->n; i++)
		if (pci_addr_cmp(inv->devs[i - 1].pci, inv->devs[i].pci) > 0)
			return false;
	return true;
}

int dm_inventory_load(const char *sysfs_root, unsigned flags, dm_inventory **ret)
{
	return inventory_load_of(sysfs_root, flags, NULL, ret);
}

int inventory_load_of(const char *sysfs_root, unsigned flags, const char *pci, dm_inventory **ret)
{
	const char *root = sysfs_root ? sysfs_root : DM_DEFAULT_SYSFS_ROOT;
	char param[PATH_MAX];
	_cleanup_free_ vf_link *links = NULL;
	size_t n_links = 0;
	int r;

	if (!ret)
		return -EINVAL;
	snprintf(param, sizeof(param), "%s/bus/pci/devices", root);
	if (access(param, R_OK | X_OK) < 0)
		return -errno;
	struct pci_access *pacc;
	if ((r = libpci_open(root, &pacc)) < 0)
		return r;
	dm_inventory *inv = calloc(1, sizeof(*inv));
	r = inv ? scan_pci(pacc, inv, root, flags, pci, &links, &n_links) : -ENOMEM;
	libpci_close(pacc);
	if (r < 0) {
		dm_inventory_free(inv);
		return r;
	}

	/* the scan went in address order; a sort only when something came out of order */
	if (inv->n && !inventory_sorted(inv))
		qsort(inv->devs, inv->n, sizeof(dm_device), cmp_dev);

	/* Link VFs to their PFs through the PFs' virtfn<N> links (gives the VF index). */
	for (size_t i = 0; i < n_links; i++) {
		dm_device *pf = find_pci(inv, links[i].pf);
		if (!pf)
			continue;
		struct link_ctx c = { inv, pf };
		r = link_vf_cb(links[i].index, links[i].vf, &c);
		if (r < 0) {
			dm_inventory_free(inv);
			return r;
		}
	}
	for (size_t i = 0; i < inv->n; i++) {
		dm_device *d = &inv->devs[i];
		if (d->role == DM_ROLE_VF && !d->pf) {
			/* physfn names a PF that is not a network function, or the PF's
			 * virtfn link is missing: still find the PF by address */
			dm_device *pf = find_pci(inv, d->pf_pci);
			d->pf = pf && pf->role == DM_ROLE_PF ? pf : NULL;
		}
		if (d->pf && d->numa_node < 0)
			d->numa_node = d->pf->numa_node; /* a VF sits where its PF sits */
		if (d->pf)
			str_copy(d->pf_netdev, sizeof(d->pf_netdev), d->pf->netdev);
		device_update_health(d, d->pf);
	}
	if (flags & DM_INVENTORY_NETLINK)
		for (size_t i = 0; i < inv->n; i++) {
			dm_device *d = &inv->devs[i];
			/* with PCI: only the PF whose VFs are shown in full */
			bool shown = !pci || !strcmp(d->pci, pci) ||
			             (d->role == DM_ROLE_PF && find_pci(inv, pci) && find_pci(inv, pci)->pf == d);
			if (d->role == DM_ROLE_PF && d->n_vfs && d->netdev[0] && shown)
				(void)vf_config_query_all(d);
		}
	*ret = inv;
	return 0;
}

dm_inventory *dm_inventory_free(dm_inventory *inv)
{
	if (!inv)
		return NULL;
	for (size_t i = 0; i < inv->n; i++)
		free(inv->devs[i].vfs);
	free(inv->devs);
	for (size_t i = 0; i < inv->n_names; i++)
		free(inv->names[i]);
	free(inv->names);
	free(inv);
	return NULL;
}

size_t dm_inventory_count(const dm_inventory *inv)
{
	return inv ? inv->n : 0;
}

const dm_device *dm_inventory_get(const dm_inventory *inv, size_t i)
{
	return inv && i < inv->n ? &inv->devs[i] : NULL;
}

const dm_device *dm_inventory_find(const dm_inventory *inv, const char *pci_or_netdev)
{
	char pci[DM_PCI_ADDR_MAX];
	if (!inv || !pci_or_netdev)
		return NULL;
	if (dm_pci_addr_normalize(pci_or_netdev, pci) >= 0)
		return find_pci((dm_inventory *)inv, pci);
	for (size_t i = 0; i < inv->n; i++)
		if (inv->devs[i].netdev[0] && !strcmp(inv->devs[i].netdev, pci_or_netdev))
			return &inv->devs[i];
	return NULL;
}
