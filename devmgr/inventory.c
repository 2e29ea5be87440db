/* The inventory: libpci enumerates the bus (any sysfs tree through sysfs.path), sysfs adds
 * the SR-IOV links and netdevs, rtnetlink adds the VF settings as each PF reports them. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

typedef struct scan_ctx {
	dm_inventory *inv;
	size_t cap;
	int busfd;
	unsigned flags;
	netdev_map *map;
	size_t n_map;
	bool have_map;
	struct pci_access *pacc;
} scan_ctx;

/* Everything read from the device's own files. */
static int add_full(scan_ctx *x, const char *pci)
{
	_cleanup_close_ int devfd = openat(x->busfd, pci, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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
	if (device_read_sysfs(devfd, d->pci, rf, d) < 0)
		return 0;
	if (d->role == DM_ROLE_PF) {
		char buf[16];
		uint32_t id;
		if (read_small_at(devfd, "sriov_vf_device", buf, sizeof(buf)) > 0 && parse_hex_u32(buf, &id) >= 0)
			d->vf_device_id = (uint16_t)id;
	}
	x->inv->n++;
	return 0;
}

/* A VF in the cheap view: what the kernel gave it from its PF (vendor, the PF's
 * sriov_vf_device, class, NUMA node) and two readlinks of its own. */
static int add_vf_fast(scan_ctx *x, const char *pci, const char *pf_pci)
{
	const dm_device *pf = NULL;
	for (size_t i = 0; i < x->inv->n; i++)
		if (!strcmp(x->inv->devs[i].pci, pf_pci)) {
			pf = &x->inv->devs[i];
			break;
		}
	if (!pf || pf->role != DM_ROLE_PF || !pf->vf_device_id || !x->have_map)
		return add_full(x, pci);
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
	str_copy(d->pf_pci, sizeof(d->pf_pci), pf_pci);
	snprintf(path, sizeof(path), "%s/driver", pci);
	(void)readlink_base_at(x->busfd, path, d->driver, sizeof(d->driver));
	d->userspace_driver = dm_driver_is_userspace(d->driver);
	if (d->userspace_driver) {
		char buf[32];
		int g;
		snprintf(path, sizeof(path), "%s/iommu_group", pci);
		if (readlink_base_at(x->busfd, path, buf, sizeof(buf)) >= 0 && parse_int(buf, &g) >= 0) {
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

typedef struct pending_vf {
	char pci[DM_PCI_ADDR_MAX];
	char pf[DM_PCI_ADDR_MAX];
} pending_vf;

/* Runs the libpci part; separate so that longjmp cannot clobber the caller's locals.
 * libpci enumerates and names; the attributes are read here relative to the bus directory:
 * libpci's own fill opens each by absolute path and resolves the driver and iommu_group
 * links with realpath() (a readlink per path component), too slow for thousands of VFs. */
static int scan_pci(struct pci_access *pacc, dm_inventory *inv, const char *root, unsigned flags)
{
	char busdir[PATH_MAX];
	scan_ctx x = { .inv = inv, .flags = flags, .pacc = pacc };
	_cleanup_free_ pending_vf *vfs = NULL;
	size_t n_vfs = 0, cap_vfs = 0;
	int r;

	snprintf(busdir, sizeof(busdir), "%s/bus/pci/devices", root);
	_cleanup_close_ int busfd = open(busdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (busfd < 0)
		return -errno;
	x.busfd = busfd;
	_cleanup_free_ netdev_map *map = NULL;
	x.have_map = load_netdev_map(root, &map, &x.n_map) >= 0;
	x.map = map;

	pci_scan_bus(pacc);
	/* PFs and other functions first, so that a VF can take what it shares with its PF */
	for (struct pci_dev *p = pacc->devices; p; p = p->next) {
		char pci[DM_PCI_ADDR_MAX + 16], path[DM_PCI_ADDR_MAX + 24], pf[64];
		snprintf(pci, sizeof(pci), "%04x:%02x:%02x.%d", p->domain, p->bus, p->dev, p->func);
		if (!pci_addr_valid(pci))
			continue;
		snprintf(path, sizeof(path), "%s/physfn", pci);
		if (!(flags & DM_INVENTORY_DETAILS) && readlink_base_at(busfd, path, pf, sizeof(pf)) >= 0 &&
		    pci_addr_valid(pf)) {
			if (n_vfs == cap_vfs) {
				cap_vfs = cap_vfs ? cap_vfs * 2 : 256;
				pending_vf *nv = realloc(vfs, cap_vfs * sizeof(*nv));
				if (!nv)
					return -ENOMEM;
				vfs = nv;
			}
			str_copy(vfs[n_vfs].pci, sizeof(vfs[n_vfs].pci), pci);
			str_copy(vfs[n_vfs].pf, sizeof(vfs[n_vfs].pf), pf);
			n_vfs++;
			continue;
		}
		if ((r = add_full(&x, pci)) < 0)
			return r;
	}
	for (size_t i = 0; i < n_vfs; i++)
		if ((r = add_vf_fast(&x, vfs[i].pci, vfs[i].pf)) < 0)
			return r;
	if (flags & DM_INVENTORY_NAMES)
		for (size_t i = 0; i < inv->n; i++) {
			dm_device *d = &inv->devs[i];
			char name[256];
			if (pci_lookup_name(pacc, name, sizeof(name), PCI_LOOKUP_VENDOR | PCI_LOOKUP_NO_NUMBERS, d->vendor_id))
				d->vendor_name = intern(inv, name);
			if (pci_lookup_name(pacc, name, sizeof(name), PCI_LOOKUP_DEVICE | PCI_LOOKUP_NO_NUMBERS,
			                    d->vendor_id, d->device_id))
				d->device_name = intern(inv, name);
		}
	return 0;
}

/* The setjmp() frame of libpci's error hook; nothing here lives across the longjmp. */
static int run_libpci(struct pci_access *pacc, dm_inventory *inv, const char *root, unsigned flags)
{
	jmp_buf jb;
	int r = -EIO; /* libpci gave up (unreadable tree) */
	pci_jmp = &jb;
	if (setjmp(jb) == 0) {
		pci_init(pacc);
		r = scan_pci(pacc, inv, root, flags);
	}
	pci_jmp = NULL;
	return r;
}

int dm_inventory_load(const char *sysfs_root, unsigned flags, dm_inventory **ret)
{
	const char *root = sysfs_root ? sysfs_root : DM_DEFAULT_SYSFS_ROOT;
	char param[PATH_MAX];
	int r;

	if (!ret)
		return -EINVAL;
	snprintf(param, sizeof(param), "%s/bus/pci/devices", root);
	if (access(param, R_OK | X_OK) < 0)
		return -errno;
	dm_inventory *inv = calloc(1, sizeof(*inv));
	if (!inv)
		return -ENOMEM;
	struct pci_access *pacc = pci_alloc();
	if (!pacc) {
		free(inv);
		return -ENOMEM;
	}
	pacc->error = pci_error_hook;
	pacc->warning = pci_quiet_hook;
	pacc->debug = pci_quiet_hook;
	pacc->method = PCI_ACCESS_SYS_BUS_PCI;
	snprintf(param, sizeof(param), "%s/bus/pci", root);
	pci_set_param(pacc, (char *)"sysfs.path", param);

	r = run_libpci(pacc, inv, root, flags);
	pci_cleanup(pacc);
	if (r < 0) {
		dm_inventory_free(inv);
		return r;
	}

	if (inv->n)
		qsort(inv->devs, inv->n, sizeof(dm_device), cmp_dev);

	/* Link VFs to their PFs through the PFs' virtfn<N> links (gives the VF index). */
	char busdir[PATH_MAX];
	snprintf(busdir, sizeof(busdir), "%s/bus/pci/devices", root);
	_cleanup_close_ int busfd = open(busdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (size_t i = 0; busfd >= 0 && i < inv->n; i++) {
		dm_device *pf = &inv->devs[i];
		if (pf->role != DM_ROLE_PF || pf->num_vfs <= 0)
			continue;
		_cleanup_close_ int pffd = openat(busfd, pf->pci, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pffd < 0)
			continue;
		struct link_ctx c = { inv, pf };
		r = pf_for_each_virtfn(pffd, link_vf_cb, &c);
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
