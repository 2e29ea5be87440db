/* A PF's VFs as sysfs shows them: its virtfn links, the addresses its offset and stride
 * give, and what a VF takes over from its PF. Shared by the inventory's scan and the VF
 * cursor, which must describe every VF alike. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

bool vf_addr(const char *pf_pci, int offset, int stride, int n, char ret[DM_PCI_ADDR_MAX])
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

bool pf_vfs_placed(int pffd, const char *pf_pci, int num, int *ret_offset, int *ret_stride, int *ret_siblings)
{
	char first[DM_PCI_ADDR_MAX], last[DM_PCI_ADDR_MAX];
	bool sib_first = false, sib_last = false;
	int offset, stride;
	if (read_int_at(pffd, "sriov_offset", &offset) < 0 || offset <= 0 ||
	    read_int_at(pffd, "sriov_stride", &stride) < 0 || stride <= 0 ||
	    !vf_addr(pf_pci, offset, stride, 0, first) || !vf_addr(pf_pci, offset, stride, num - 1, last) ||
	    !virtfn_is(pffd, 0, first, &sib_first) || !virtfn_is(pffd, num - 1, last, &sib_last))
		return false;
	*ret_offset = offset;
	*ret_stride = stride;
	*ret_siblings = sib_first == sib_last ? sib_first : -1;
	return true;
}

void pf_read_vf_device(int pffd, dm_device *d)
{
	char buf[16];
	uint32_t id;
	if (read_small_at(pffd, "sriov_vf_device", buf, sizeof(buf)) > 0 && parse_hex_u32(buf, &id) >= 0)
		d->vf_device_id = (uint16_t)id;
}

typedef struct virtfn_list {
	vf_link *v;
	size_t n, cap;
} virtfn_list;

static int collect_virtfn(int index, const char *vf_pci, void *arg)
{
	virtfn_list *l = arg;
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		vf_link *nv = realloc(l->v, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = nc;
	}
	vf_link *e = &l->v[l->n++];
	memset(e, 0, sizeof(*e));
	str_copy(e->vf, sizeof(e->vf), vf_pci);
	e->index = index;
	return 0;
}

int pf_list_virtfns(int pffd, vf_link **ret, size_t *ret_n)
{
	virtfn_list l = { NULL, 0, 0 };
	int r = pf_for_each_virtfn(pffd, collect_virtfn, &l);
	if (r < 0) {
		free(l.v);
		return r;
	}
	*ret = l.v;
	*ret_n = l.n;
	return 0;
}

void vf_read_from_pf(int dirfd, const char *pci, const dm_device *pf, const char *driver, dm_device *d)
{
	char path[DM_PCI_ADDR_MAX + 16];
	device_init(d, pci);
	d->role = DM_ROLE_VF;
	d->vendor_id = pf->vendor_id;
	d->device_id = pf->vf_device_id;
	d->class_code = pf->class_code;
	str_copy(d->pf_pci, sizeof(d->pf_pci), pf->pci);
	if (driver)
		str_copy(d->driver, sizeof(d->driver), driver);
	else {
		snprintf(path, sizeof(path), "%s/driver", pci);
		(void)readlink_base_at(dirfd, path, d->driver, sizeof(d->driver));
	}
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
}
