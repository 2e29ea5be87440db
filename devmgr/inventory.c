/* The inventory: libpci enumerates the bus (any sysfs tree through sysfs.path), sysfs adds
 * the SR-IOV links and netdevs, rtnetlink adds the VF settings as each PF reports them.
 * The VF cursor at the end gives the allocation path the same VFs without an inventory.
 *
 * Cost (README: devmgr, Performance): a syscall or a path lookup per file is what a big
 * tree costs, so the cheap view reads per VF only what the PF cannot tell: its netdev (one
 * readlink in class/net for all) and, with many VFs, nothing else of its own (drivers from
 * the drivers' directory listings, indexes from the PF's offset and stride). */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <pci/pci.h>

#include "internal.h"

struct dm_inventory {
	dm_device *devs;
	size_t n;
	char **names;      /* interned pci.ids names, freed with the inventory */
	size_t n_names;
};

/*
 * libpci is opened with the first inventory, not linked: a program that never takes one
 * (the sriov plugin given a deviceID, `devmgr alloc`, `release`) then does not load it,
 * nor what it pulls in (libudev, libz, …), at every start. The package depends on it.
 */
#define LIBPCI_SONAME "libpci.so.3"
static struct {
	struct pci_access *(*alloc)(void);
	void (*init)(struct pci_access *);
	void (*cleanup)(struct pci_access *);
	void (*scan_bus)(struct pci_access *);
	int (*set_param)(struct pci_access *, char *, char *);
	char *(*lookup_name)(struct pci_access *, char *, int, int, ...);
} libpci;
static int libpci_err;
static pthread_once_t libpci_once = PTHREAD_ONCE_INIT;

static void libpci_open(void)
{
	void *h = dlopen(LIBPCI_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		libpci_err = -ELIBACC;
		return;
	}
	*(void **)&libpci.alloc = dlsym(h, "pci_alloc");
	*(void **)&libpci.init = dlsym(h, "pci_init");
	*(void **)&libpci.cleanup = dlsym(h, "pci_cleanup");
	*(void **)&libpci.scan_bus = dlsym(h, "pci_scan_bus");
	*(void **)&libpci.set_param = dlsym(h, "pci_set_param");
	*(void **)&libpci.lookup_name = dlsym(h, "pci_lookup_name");
	if (!libpci.alloc || !libpci.init || !libpci.cleanup || !libpci.scan_bus || !libpci.set_param ||
	    !libpci.lookup_name)
		libpci_err = -ELIBBAD;
}

/* 0, or -ELIBACC (libpci cannot be opened) / -ELIBBAD (it lacks a function). */
static int libpci_load(void)
{
	pthread_once(&libpci_once, libpci_open);
	return libpci_err;
}

/* libpci's error hook must not return: jump back into dm_inventory_load(). */
static __thread jmp_buf *pci_jmp;

static void PCI_NONRET pci_error_hook(char *msg, ...)
{
	(void)msg;
	if (pci_jmp)
		longjmp(*pci_jmp, 1);
	abort();
}

static void pci_quiet_hook(char *msg, ...)
{
	(void)msg;
}

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

/* PCI address -> netdev from <root>/class/net/<if> -> ../../devices/.../<pci>/net/<if>:
 * one readlink per netdev instead of listing every device's net/ directory. */
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
		char target[PATH_MAX];
		if (de->d_name[0] == '.' || strlen(de->d_name) >= DM_IFNAME_MAX)
			continue;
		ssize_t len = readlinkat(dirfd(dir), de->d_name, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = 0;
		/* .../<pci>/net/<if> */
		char *slash = strrchr(target, '/');
		if (!slash || slash - target < 17 || strncmp(slash - 4, "/net", 4))
			continue;
		slash[-4] = 0;
		char *pci = strrchr(target, '/');
		if (!pci || !pci_addr_valid(pci + 1))
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
		str_copy(m[n].pci, sizeof(m[n].pci), pci + 1);
		str_copy(m[n].name, sizeof(m[n].name), de->d_name);
		n++;
	}
	if (n)
		qsort(m, n, sizeof(*m), cmp_map);
	*ret = m;
	*ret_n = n;
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

/* A PF's virtfn<index> link to VF, as read during the scan, applied after the sort. */
typedef struct vf_link {
	char pf[DM_PCI_ADDR_MAX];
	char vf[DM_PCI_ADDR_MAX];
	int index;
} vf_link;

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
} scan_ctx;

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

/* The address of VF N of the PF at PF_PCI where the kernel puts it: routing id
 * PF + offset + N * stride, in the PF's domain. false when that leaves the domain. */
static bool vf_addr(const char *pf_pci, int offset, int stride, int n, char ret[DM_PCI_ADDR_MAX])
{
	unsigned dom = (unsigned)strtoul(pf_pci, NULL, 16);
	unsigned rid = (unsigned)strtoul(pf_pci + 5, NULL, 16) << 8 | (unsigned)strtoul(pf_pci + 8, NULL, 16) << 3 |
	               (unsigned)(pf_pci[11] - '0');
	unsigned long v = rid + (unsigned long)offset + (unsigned long)n * (unsigned long)stride;
	if (v > 0xffff)
		return false;
	snprintf(ret, DM_PCI_ADDR_MAX, "%04x:%02lx:%02lx.%lu", dom, v >> 8, (v >> 3) & 0x1f, v & 7);
	return true;
}

/* Does PFFD/virtfn<N> name VF? *RET_SIBLING: as "../<VF>". */
static bool virtfn_is(int pffd, int n, const char *vf, bool *ret_sibling)
{
	char name[32], target[PATH_MAX], base[DM_PCI_ADDR_MAX + 8];
	snprintf(name, sizeof(name), "virtfn%d", n);
	ssize_t len = readlinkat(pffd, name, target, sizeof(target) - 1);
	if (len < 0)
		return false;
	target[len] = 0;
	if (link_target_base(target, base, sizeof(base)) < 0 || strcmp(base, vf))
		return false;
	*ret_sibling = !strncmp(target, "../", 3) && !strcmp(target + 3, vf);
	return true;
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
	int num = x->inv->devs[dev].num_vfs, offset, stride;
	x->pfs[slot] = (pf_slot){ dev, openat(pffd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC) };

	char first[DM_PCI_ADDR_MAX], last[DM_PCI_ADDR_MAX];
	bool sib_first = false, sib_last = false;
	if (read_int_at(pffd, "sriov_offset", &offset) >= 0 && offset > 0 &&
	    read_int_at(pffd, "sriov_stride", &stride) >= 0 && stride > 0 &&
	    vf_addr(pf, offset, stride, 0, first) && vf_addr(pf, offset, stride, num - 1, last) &&
	    virtfn_is(pffd, 0, first, &sib_first) && virtfn_is(pffd, num - 1, last, &sib_last) &&
	    sib_first == sib_last) {
		for (int n = 0; n < num; n++) {
			char vf[DM_PCI_ADDR_MAX];
			(void)vf_addr(pf, offset, stride, n, vf);
			if ((r = add_link(x, slot, pf, vf, n, sib_first)) < 0)
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
	unsigned rf = x->flags & DM_INVENTORY_DETAILS ? READ_DETAILS : 0;
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
	if (d->role == DM_ROLE_PF) {
		char buf[16];
		uint32_t id;
		if (read_small_at(devfd, "sriov_vf_device", buf, sizeof(buf)) > 0 && parse_hex_u32(buf, &id) >= 0)
			d->vf_device_id = (uint16_t)id;
	}
	size_t dev = x->inv->n++;
	if (d->role == DM_ROLE_PF && d->num_vfs > 0)
		return read_virtfns(x, devfd, dev);
	return 0;
}

/* A VF in the cheap view: what the kernel gave it from its PF (vendor, the PF's
 * sriov_vf_device, class, NUMA node), its driver (see vf_driver()) and, on a userspace
 * driver, its IOMMU group; DIRFD/PCI is its directory. */
static int add_vf_fast(scan_ctx *x, int dirfd, const char *pci, const dm_device *pf)
{
	size_t pf_index = (size_t)(pf - x->inv->devs);
	dm_device *d = inv_append(x->inv, &x->cap);
	if (!d)
		return -ENOMEM;
	pf = &x->inv->devs[pf_index];
	char path[DM_PCI_ADDR_MAX + 16];
	device_init(d, pci);
	d->role = DM_ROLE_VF;
	d->vendor_id = pf->vendor_id;
	d->device_id = pf->vf_device_id;
	d->class_code = pf->class_code;
	str_copy(d->pf_pci, sizeof(d->pf_pci), pf->pci);
	vf_driver(x, dirfd, pci, d->driver);
	d->userspace_driver = dm_driver_is_userspace(d->driver);
	if (d->userspace_driver) {
		char buf[32];
		int g;
		snprintf(path, sizeof(path), "%s/iommu_group", pci);
		if (readlink_base_at(dirfd, path, buf, sizeof(buf)) >= 0 && parse_int(buf, &g) >= 0) {
			d->iommu_group = g;
			if (!strcmp(d->driver, "vfio-pci"))
				snprintf(d->vfio_path, sizeof(d->vfio_path), "/dev/vfio/%d", g);
		}
	}
	const char *name = map_find(x->map, x->n_map, pci);
	if (name)
		str_copy(d->netdev, sizeof(d->netdev), name);
	x->inv->n++;
	return 0;
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
			if (!(x->flags & DM_INVENTORY_DETAILS) && pf->vf_device_id && x->have_map)
				r = add_vf_fast(x, dirfd, e->pci, pf);
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

/* Runs the libpci part; separate so that longjmp cannot clobber the caller's locals.
 * libpci enumerates and names; the attributes are read here relative to the bus directory
 * (or, for a VF, to its PF's parent directory): libpci's own fill opens each by absolute
 * path and resolves the driver and iommu_group links with realpath() (a readlink per path
 * component), too slow for thousands of VFs. */
static int scan_pci(struct pci_access *pacc, dm_inventory *inv, const char *root, unsigned flags,
                    vf_link **ret_links, size_t *ret_n_links)
{
	char busdir[PATH_MAX];
	scan_ctx x = { .inv = inv, .flags = flags, .root = root };
	int r;

	snprintf(busdir, sizeof(busdir), "%s/bus/pci/devices", root);
	_cleanup_close_ int busfd = open(busdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (busfd < 0)
		return -errno;
	x.busfd = busfd;
	_cleanup_free_ netdev_map *map = NULL;
	x.have_map = load_netdev_map(root, &map, &x.n_map) >= 0;
	x.map = map;

	libpci.scan_bus(pacc);
	size_t cap = 0;
	for (struct pci_dev *p = pacc->devices; p; p = p->next)
		cap++;
	_cleanup_free_ bus_ent *ents = calloc(cap ? cap : 1, sizeof(*ents));
	if (!ents)
		return -ENOMEM;
	for (struct pci_dev *p = pacc->devices; p; p = p->next) {
		char pci[DM_PCI_ADDR_MAX + 16];
		snprintf(pci, sizeof(pci), "%04x:%02x:%02x.%d", p->domain, p->bus, p->dev, p->func);
		if (!pci_addr_valid(pci))
			continue;
		str_copy(ents[x.n_ents].pci, sizeof(ents[x.n_ents].pci), pci);
		ents[x.n_ents++].pf = -1;
	}
	qsort(ents, x.n_ents, sizeof(*ents), cmp_ent);
	x.ents = ents;
	r = scan_ents(&x);
	for (size_t i = 0; i < x.n_pfs; i++)
		if (x.pfs[i].parentfd >= 0)
			close(x.pfs[i].parentfd);
	free(x.pfs);
	free(x.drivers);
	free(x.driver_names);
	if (r < 0) {
		free(x.links);
		return r;
	}
	if (flags & DM_INVENTORY_NAMES) {
		/* VFs share their ids: look each pair up once */
		uint16_t last_v = 0, last_d = 0;
		const char *vn = NULL, *dn = NULL;
		bool have_last = false;
		for (size_t i = 0; i < inv->n; i++) {
			dm_device *d = &inv->devs[i];
			char name[256];
			if (!have_last || d->vendor_id != last_v || d->device_id != last_d) {
				vn = dn = NULL;
				if (libpci.lookup_name(pacc, name, sizeof(name), PCI_LOOKUP_VENDOR | PCI_LOOKUP_NO_NUMBERS,
				                       d->vendor_id))
					vn = intern(inv, name);
				if (libpci.lookup_name(pacc, name, sizeof(name), PCI_LOOKUP_DEVICE | PCI_LOOKUP_NO_NUMBERS,
				                       d->vendor_id, d->device_id))
					dn = intern(inv, name);
				last_v = d->vendor_id;
				last_d = d->device_id;
				have_last = true;
			}
			d->vendor_name = vn;
			d->device_name = dn;
		}
	}
	*ret_links = x.links;
	*ret_n_links = x.n_links;
	return 0;
}

/* The setjmp() frame of libpci's error hook; nothing here lives across the longjmp
 * (the links are handed out only on success). */
static int run_libpci(struct pci_access *pacc, dm_inventory *inv, const char *root, unsigned flags,
                      vf_link **ret_links, size_t *ret_n_links)
{
	jmp_buf jb;
	int r = -EIO; /* libpci gave up (unreadable tree) */
	pci_jmp = &jb;
	if (setjmp(jb) == 0) {
		libpci.init(pacc);
		r = scan_pci(pacc, inv, root, flags, ret_links, ret_n_links);
	}
	pci_jmp = NULL;
	return r;
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
	if ((r = libpci_load()) < 0)
		return r;
	dm_inventory *inv = calloc(1, sizeof(*inv));
	if (!inv)
		return -ENOMEM;
	struct pci_access *pacc = libpci.alloc();
	if (!pacc) {
		free(inv);
		return -ENOMEM;
	}
	pacc->error = pci_error_hook;
	pacc->warning = pci_quiet_hook;
	pacc->debug = pci_quiet_hook;
	pacc->method = PCI_ACCESS_SYS_BUS_PCI;
	snprintf(param, sizeof(param), "%s/bus/pci", root);
	libpci.set_param(pacc, (char *)"sysfs.path", param);

	r = run_libpci(pacc, inv, root, flags, &links, &n_links);
	libpci.cleanup(pacc);
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
		for (size_t i = 0; i < inv->n; i++)
			if (inv->devs[i].role == DM_ROLE_PF && inv->devs[i].n_vfs && inv->devs[i].netdev[0])
				(void)vf_config_query_all(&inv->devs[i]);
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

/* ---------------------------------------------------------------- VF cursor */

/* A function of the bus listing. When its PF has been read and the PF's offset and
 * stride place it (checked against the first and the last virtfn link, as the scan
 * does), the VF needs neither its physfn nor its virtfn link read. */
typedef struct cursor_ent {
	char pci[DM_PCI_ADDR_MAX]; /* first: entries are searched by address */
	int pf;                    /* index in vf_cursor.pfs of that PF, else -1 */
	int index;                 /* the VF's index there */
} cursor_ent;

/* A PF as the inventory reads it (add_full()). */
typedef struct cursor_pf {
	dm_device dev;
	bool in_inventory;   /* a network function, so the inventory holds it */
	int fd;              /* its directory, -1 */
	vf_link *virtfns;    /* its virtfn links, read once when offset and stride do not
	                      * place its VFs */
	size_t n_virtfns;
	bool have_virtfns;
} cursor_pf;

struct vf_cursor {
	int busfd;
	bool have_map;       /* <root>/class/net exists (the inventory then takes a VF's ids
	                      * from its PF) */
	cursor_ent *ents;
	size_t n_ents, pos;
	cursor_pf **pfs;
	size_t n_pfs;
	dm_device cur;
};

static int cmp_cursor_ent(const void *a, const void *b)
{
	return strcmp(((const cursor_ent *)a)->pci, ((const cursor_ent *)b)->pci);
}

static cursor_ent *cursor_find(vf_cursor *c, const char *pci)
{
	cursor_ent key;
	str_copy(key.pci, sizeof(key.pci), pci);
	return c->n_ents ? bsearch(&key, c->ents, c->n_ents, sizeof(*c->ents), cmp_cursor_ent) : NULL;
}

int vf_cursor_open(const char *sysfs_root, vf_cursor **ret)
{
	const char *root = sysfs_root ? sysfs_root : DM_DEFAULT_SYSFS_ROOT;
	char path[PATH_MAX];
	if (!ret)
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/bus/pci/devices", root);
	if (access(path, R_OK | X_OK) < 0)
		return -errno;
	vf_cursor *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->busfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->busfd < 0) {
		int e = -errno;
		free(c);
		return e;
	}
	snprintf(path, sizeof(path), "%s/class/net", root);
	_cleanup_close_ int netfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	c->have_map = netfd >= 0;
	DIR *dir = opendir_at(c->busfd, ".");
	if (!dir) {
		int e = -errno;
		vf_cursor_free(c);
		return e;
	}
	size_t cap = 0;
	struct dirent *de;
	while ((de = readdir(dir))) {
		char pci[DM_PCI_ADDR_MAX + 16];
		unsigned dom, bus, dev;
		int fn;
		if (de->d_name[0] == '.')
			continue;
		/* the names libpci lists, in the form the inventory gives them */
		if (pci_addr_valid(de->d_name))
			str_copy(pci, sizeof(pci), de->d_name);
		else if (sscanf(de->d_name, "%x:%x:%x.%d", &dom, &bus, &dev, &fn) == 4)
			snprintf(pci, sizeof(pci), "%04x:%02x:%02x.%d", dom, bus, dev, fn);
		else
			continue;
		if (!pci_addr_valid(pci))
			continue;
		if (c->n_ents == cap) {
			cap = cap ? cap * 2 : 256;
			cursor_ent *ne = realloc(c->ents, cap * sizeof(*ne));
			if (!ne) {
				closedir(dir);
				vf_cursor_free(c);
				return -ENOMEM;
			}
			c->ents = ne;
		}
		cursor_ent *e = &c->ents[c->n_ents++];
		str_copy(e->pci, sizeof(e->pci), pci);
		e->pf = e->index = -1;
	}
	closedir(dir);
	if (c->n_ents)
		qsort(c->ents, c->n_ents, sizeof(*c->ents), cmp_cursor_ent);
	*ret = c;
	return 0;
}

vf_cursor *vf_cursor_free(vf_cursor *c)
{
	if (!c)
		return NULL;
	for (size_t i = 0; i < c->n_pfs; i++) {
		if (c->pfs[i]->fd >= 0)
			close(c->pfs[i]->fd);
		free(c->pfs[i]->virtfns);
		free(c->pfs[i]);
	}
	free(c->pfs);
	free(c->ents);
	if (c->busfd >= 0)
		close(c->busfd);
	free(c);
	return NULL;
}

void vf_cursor_rewind(vf_cursor *c)
{
	if (c)
		c->pos = 0;
}

/* Places the VFs of the PF in slot SLOT by its offset and stride, when its first and last
 * virtfn links agree (see read_virtfns()). */
static void cursor_place_vfs(vf_cursor *c, int slot)
{
	cursor_pf *p = c->pfs[slot];
	int num = p->dev.num_vfs, offset, stride;
	char first[DM_PCI_ADDR_MAX], last[DM_PCI_ADDR_MAX];
	bool sib;
	if (read_int_at(p->fd, "sriov_offset", &offset) < 0 || offset <= 0 ||
	    read_int_at(p->fd, "sriov_stride", &stride) < 0 || stride <= 0 ||
	    !vf_addr(p->dev.pci, offset, stride, 0, first) || !vf_addr(p->dev.pci, offset, stride, num - 1, last) ||
	    !virtfn_is(p->fd, 0, first, &sib) || !virtfn_is(p->fd, num - 1, last, &sib))
		return;
	for (int n = 0; n < num; n++) {
		char vf[DM_PCI_ADDR_MAX];
		(void)vf_addr(p->dev.pci, offset, stride, n, vf);
		cursor_ent *e = cursor_find(c, vf);
		if (e && e->pf < 0) {
			e->pf = slot;
			e->index = n;
		}
	}
}

/* The PF at PCI, read once per cursor as add_full() reads it: its slot, or -ENOMEM. */
static int cursor_pf_get(vf_cursor *c, const char *pci)
{
	for (size_t i = 0; i < c->n_pfs; i++)
		if (!strcmp(c->pfs[i]->dev.pci, pci))
			return (int)i;
	if (c->n_pfs % 8 == 0) {
		cursor_pf **np = realloc(c->pfs, (c->n_pfs + 8) * sizeof(*np));
		if (!np)
			return -ENOMEM;
		c->pfs = np;
	}
	cursor_pf *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	int slot = (int)c->n_pfs++;
	c->pfs[slot] = p;
	device_init(&p->dev, pci);
	p->fd = openat(c->busfd, pci, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->fd < 0 || device_read_ident(p->fd, &p->dev) < 0 || (p->dev.class_code >> 16) != 0x02 ||
	    device_read_sysfs(p->fd, pci, 0, &p->dev) < 0)
		return slot;
	p->in_inventory = true;
	if (p->dev.role == DM_ROLE_PF) {
		char buf[16];
		uint32_t id;
		if (read_small_at(p->fd, "sriov_vf_device", buf, sizeof(buf)) > 0 && parse_hex_u32(buf, &id) >= 0)
			p->dev.vf_device_id = (uint16_t)id;
		if (p->dev.num_vfs > 0)
			cursor_place_vfs(c, slot);
	}
	return slot;
}

/* Which virtfn<N> link of P names VF, read from all of them (once per PF): N; -1 when
 * listed at an index the inventory does not link (>= DM_VF_INDEX_MAX); -2 not listed or
 * P lists no VFs; -ENOMEM. */
static int cursor_vf_index(cursor_pf *p, const char *vf)
{
	if (p->dev.role != DM_ROLE_PF || p->dev.num_vfs <= 0 || p->fd < 0)
		return -2;
	if (!p->have_virtfns) {
		p->have_virtfns = true;
		_cleanup_closedir_ DIR *dir = opendir_at(p->fd, ".");
		struct dirent *de;
		size_t cap = 0;
		while (dir && (de = readdir(dir))) {
			char name[DM_PCI_ADDR_MAX + 8];
			int idx;
			if (strncmp(de->d_name, "virtfn", 6) || parse_int(de->d_name + 6, &idx) < 0 || idx < 0)
				continue;
			if (readlink_base_at(p->fd, de->d_name, name, sizeof(name)) < 0 || !pci_addr_valid(name))
				continue;
			if (p->n_virtfns == cap) {
				cap = cap ? cap * 2 : 64;
				vf_link *nv = realloc(p->virtfns, cap * sizeof(*nv));
				if (!nv)
					return -ENOMEM;
				p->virtfns = nv;
			}
			str_copy(p->virtfns[p->n_virtfns].vf, DM_PCI_ADDR_MAX, name);
			p->virtfns[p->n_virtfns++].index = idx;
		}
	}
	/* as the inventory links them: in listing order, a later link wins, one at an
	 * index it does not link changes nothing once another did */
	int found = -2;
	for (size_t i = 0; i < p->n_virtfns; i++)
		if (!strcmp(p->virtfns[i].vf, vf) && (found < 0 || p->virtfns[i].index < DM_VF_INDEX_MAX))
			found = p->virtfns[i].index < DM_VF_INDEX_MAX ? p->virtfns[i].index : -1;
	return found;
}

/* The VF of entry E as the cheap inventory describes it: 1 and *D, 0 when the inventory
 * holds no VF there, or (HEALTHY_ONLY) as soon as it is known to be unhealthy, or when
 * WANT (may be NULL) says no: WANT sees it complete but for its netdev name, which no
 * selector looks at. -ENOMEM. */
static int cursor_read_vf(vf_cursor *c, cursor_ent *e, bool healthy_only, bool (*want)(const dm_device *, void *),
                          void *arg, dm_device *d)
{
	char path[DM_PCI_ADDR_MAX + 16];
	const char *pci = e->pci;
	int idx = -2, slot = e->pf;
	if (slot < 0) {
		char pf_pci[64];
		snprintf(path, sizeof(path), "%s/physfn", pci);
		if (readlink_base_at(c->busfd, path, pf_pci, sizeof(pf_pci)) < 0)
			return 0; /* not a VF */
		if (pci_addr_valid(pf_pci) && (slot = cursor_pf_get(c, pf_pci)) == -ENOMEM)
			return slot;
	}
	cursor_pf *p = slot >= 0 ? c->pfs[slot] : NULL;
	bool pf_ok = p && p->in_inventory && p->dev.role == DM_ROLE_PF;
	if (!pf_ok && healthy_only)
		return 0; /* its PF is gone or not a network PF: DM_UNHEALTHY_PF_GONE */
	if (e->pf >= 0) /* placed, now or by an earlier VF */
		idx = e->index < DM_VF_INDEX_MAX ? e->index : -1;
	else if (pf_ok && (idx = cursor_vf_index(p, pci)) == -ENOMEM)
		return idx;
	device_init(d, pci);
	bool fast = pf_ok && idx != -2 && p->dev.vf_device_id && c->have_map;
	if (fast) {
		/* as add_vf_fast() */
		d->role = DM_ROLE_VF;
		d->vendor_id = p->dev.vendor_id;
		d->device_id = p->dev.vf_device_id;
		d->class_code = p->dev.class_code;
		str_copy(d->pf_pci, sizeof(d->pf_pci), p->dev.pci);
		snprintf(path, sizeof(path), "%s/driver", pci);
		(void)readlink_base_at(c->busfd, path, d->driver, sizeof(d->driver));
		d->userspace_driver = dm_driver_is_userspace(d->driver);
		if (d->userspace_driver) {
			char buf[32];
			int g;
			snprintf(path, sizeof(path), "%s/iommu_group", pci);
			if (readlink_base_at(c->busfd, path, buf, sizeof(buf)) >= 0 && parse_int(buf, &g) >= 0) {
				d->iommu_group = g;
				if (!strcmp(d->driver, "vfio-pci"))
					snprintf(d->vfio_path, sizeof(d->vfio_path), "/dev/vfio/%d", g);
			}
		}
	} else {
		/* as add_full() */
		_cleanup_close_ int devfd = openat(c->busfd, pci, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (devfd < 0 || device_read_ident(devfd, d) < 0 || (d->class_code >> 16) != 0x02 ||
		    device_read_sysfs(devfd, pci, 0, d) < 0 || d->role != DM_ROLE_VF)
			return 0;
	}
	d->vf_index = idx >= 0 ? idx : -1;
	if (pf_ok) {
		if (d->numa_node < 0)
			d->numa_node = p->dev.numa_node;
		str_copy(d->pf_netdev, sizeof(d->pf_netdev), p->dev.netdev);
	}
	d->pf = pf_ok ? &p->dev : NULL;
	device_update_health(d, d->pf);
	if ((healthy_only && d->health) || (want && !want(d, arg)))
		return 0;
	if (fast) {
		snprintf(path, sizeof(path), "%s/net", pci);
		read_netdev_name_at(c->busfd, path, d);
	}
	return 1;
}

int vf_cursor_next(vf_cursor *c, bool (*want)(const dm_device *d, void *arg), void *arg, const dm_device **ret)
{
	if (!c || !ret)
		return -EINVAL;
	while (c->pos < c->n_ents) {
		int r = cursor_read_vf(c, &c->ents[c->pos++], true, want, arg, &c->cur);
		if (r < 0)
			return r;
		if (r > 0) {
			*ret = &c->cur;
			return 1;
		}
	}
	return 0;
}

int vf_cursor_lookup(vf_cursor *c, const char *pci, dm_device *ret)
{
	dm_device d;
	if (!c || !pci || !ret)
		return -EINVAL;
	cursor_ent *e = cursor_find(c, pci);
	if (!e)
		return -ENOENT;
	int r = cursor_read_vf(c, e, false, NULL, NULL, &d);
	if (r <= 0)
		return r < 0 ? r : -ENOENT;
	d.pf = NULL;
	*ret = d;
	return 0;
}
