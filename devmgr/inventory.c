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
	snprintf(key.pci, sizeof(key.pci), "%s", pci);
	return bsearch(&key, inv->devs, inv->n, sizeof(dm_device), cmp_dev);
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

/* Runs the libpci part; separate so that longjmp cannot clobber the caller's locals. */
static int scan_pci(struct pci_access *pacc, dm_inventory *inv, const char *root, unsigned flags)
{
	char busdir[PATH_MAX];
	size_t cap = 0;

	snprintf(busdir, sizeof(busdir), "%s/bus/pci/devices", root);
	_cleanup_close_ int busfd = open(busdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (busfd < 0)
		return -errno;

	pci_scan_bus(pacc);
	for (struct pci_dev *p = pacc->devices; p; p = p->next) {
		pci_fill_info(p, PCI_FILL_IDENT | PCI_FILL_CLASS | PCI_FILL_NUMA_NODE |
		                 PCI_FILL_IOMMU_GROUP | PCI_FILL_DRIVER);
		if ((p->device_class >> 8) != 0x02)
			continue;
		if (inv->n == cap) {
			cap = cap ? cap * 2 : 64;
			dm_device *d = realloc(inv->devs, cap * sizeof(*d));
			if (!d)
				return -ENOMEM;
			inv->devs = d;
		}
		dm_device *d = &inv->devs[inv->n];
		char pci[DM_PCI_ADDR_MAX + 16];
		snprintf(pci, sizeof(pci), "%04x:%02x:%02x.%d", p->domain, p->bus, p->dev, p->func);
		if (!pci_addr_valid(pci))
			continue;
		memset(d, 0, sizeof(*d));
		snprintf(d->pci, sizeof(d->pci), "%s", pci);
		d->carrier = -1;
		d->iommu_group = -1;
		d->vf_index = -1;
		d->vf_config.spoofchk = d->vf_config.trust = d->vf_config.link_state = -1;
		d->vendor_id = p->vendor_id;
		d->device_id = p->device_id;
		d->numa_node = p->numa_node < 0 ? -1 : p->numa_node;
		const char *s = pci_get_string_property(p, PCI_FILL_DRIVER);
		if (s)
			snprintf(d->driver, sizeof(d->driver), "%s", s);
		s = pci_get_string_property(p, PCI_FILL_IOMMU_GROUP);
		if (s)
			(void)parse_int(s, &d->iommu_group);
		/* sysfs "class" has all 24 bits; libpci gives class+subclass only */
		char buf[32];
		uint32_t cls;
		_cleanup_close_ int devfd = openat(busfd, d->pci, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (devfd < 0)
			continue;
		if (read_small_at(devfd, "class", buf, sizeof(buf)) >= 0 && parse_hex_u32(buf, &cls) >= 0)
			d->class_code = cls & 0xffffff;
		else
			d->class_code = (uint32_t)p->device_class << 8;
		if (device_read_sysfs(devfd, d->pci, false, d) < 0)
			continue;
		if (flags & DM_INVENTORY_NAMES) {
			char name[256];
			if (pci_lookup_name(pacc, name, sizeof(name), PCI_LOOKUP_VENDOR | PCI_LOOKUP_NO_NUMBERS, p->vendor_id))
				d->vendor_name = intern(inv, name);
			if (pci_lookup_name(pacc, name, sizeof(name), PCI_LOOKUP_DEVICE | PCI_LOOKUP_NO_NUMBERS,
			                    p->vendor_id, p->device_id))
				d->device_name = intern(inv, name);
		}
		inv->n++;
	}
	return 0;
}

int dm_vf_config_query_all(dm_device *pf);

int dm_inventory_load(const char *sysfs_root, unsigned flags, dm_inventory **ret)
{
	const char *root = sysfs_root ? sysfs_root : DM_DEFAULT_SYSFS_ROOT;
	char param[PATH_MAX];
	jmp_buf jb;
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
	pci_set_param(pacc, "sysfs.path", param);

	pci_jmp = &jb;
	if (setjmp(jb) == 0) {
		pci_init(pacc);
		r = scan_pci(pacc, inv, root, flags);
	} else
		r = -EIO; /* libpci gave up (unreadable tree) */
	pci_jmp = NULL;
	pci_cleanup(pacc);
	if (r < 0) {
		dm_inventory_free(inv);
		return r;
	}

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
		if (d->pf)
			snprintf(d->pf_netdev, sizeof(d->pf_netdev), "%s", d->pf->netdev);
		device_update_health(d, d->pf);
	}
	if (flags & DM_INVENTORY_NETLINK)
		for (size_t i = 0; i < inv->n; i++)
			if (inv->devs[i].role == DM_ROLE_PF && inv->devs[i].n_vfs && inv->devs[i].netdev[0])
				(void)dm_vf_config_query_all(&inv->devs[i]);
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
