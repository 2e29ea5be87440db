/* The VF cursor: the healthy VFs one at a time for the allocation path, each as the cheap
 * inventory (inventory.c) describes it, reading sysfs only as far as the caller goes. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

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
 * virtfn links agree (where the links point does not matter here). */
static void cursor_place_vfs(vf_cursor *c, int slot)
{
	cursor_pf *p = c->pfs[slot];
	int num = p->dev.num_vfs, offset, stride, siblings;
	if (!pf_vfs_placed(p->fd, p->dev.pci, num, &offset, &stride, &siblings))
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
		pf_read_vf_device(p->fd, &p->dev);
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
		/* a directory that cannot be listed lists no VF */
		int r = pf_list_virtfns(p->fd, &p->virtfns, &p->n_virtfns);
		if (r == -ENOMEM)
			return r;
		p->have_virtfns = true;
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
	bool fast = pf_ok && idx != -2 && p->dev.vf_device_id && c->have_map;
	if (fast)
		vf_read_from_pf(c->busfd, pci, &p->dev, NULL, d); /* as add_vf_fast() */
	else {
		/* as add_full() */
		device_init(d, pci);
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
