/* The device plugin's resources: each pool of the config as one resource of VFs, with the
 * health, NUMA node, driver, IOMMU group and RDMA device the kubelet's answers need. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "dp-int.h"
#include "internal.h"

/* A resource prefix as Kubernetes takes one: a DNS subdomain (lower-case letters, digits,
 * '-' and '.', each label beginning and ending with a letter or digit), here at most 128
 * characters. Also what keeps the socket name a plain file name. */
static bool prefix_valid(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 128)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && c != '-' && c != '.')
			return false;
		bool edge = i == 0 || i == n - 1 || s[i - 1] == '.' || s[i + 1] == '.';
		if (edge && !alnum)
			return false;
	}
	return true;
}

/* "ucni-<prefix>_<name>.sock": the resource name with '/' as '_' (both parts are already
 * letters, digits, '-', '.', '_'), so one socket per resource and never a path. */
static void endpoint_of(const char *resource, char *buf, size_t size)
{
	size_t n = (size_t)snprintf(buf, size, "ucni-%s.sock", resource);
	for (size_t i = 0; i < n && i < size; i++)
		if (buf[i] == '/')
			buf[i] = '_';
}

static int cmp_dev(const void *a, const void *b)
{
	return pci_addr_cmp(((const dp_device *)a)->id, ((const dp_device *)b)->id);
}

/* The NUMA node of the function PCI as sysfs has it (-1: none), else FALLBACK. */
static int read_numa(int busfd, const char *pci, int fallback)
{
	char path[DM_PCI_ADDR_MAX + 16];
	int v;
	snprintf(path, sizeof(path), "%s/numa_node", pci);
	if (read_int_at(busfd, path, &v) < 0)
		return fallback;
	return v < 0 ? -1 : v;
}

/* The RDMA devices of the node, each with the PCI function it sits on: one listing of
 * <root>/class/infiniband (its entries link to <function>/infiniband/<name>) rather than
 * a look into every VF's directory. No such class: no RDMA device. */
typedef struct rdma_ent {
	char pci[DM_PCI_ADDR_MAX];
	char name[DM_IFNAME_MAX * 4];
} rdma_ent;

static int rdma_list(const char *root, rdma_ent **ret, size_t *ret_n)
{
	char path[PATH_MAX], target[PATH_MAX];
	rdma_ent *v = NULL;
	size_t n = 0;
	snprintf(path, sizeof(path), "%s/class/infiniband", root);
	_cleanup_closedir_ DIR *d = opendir(path);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(v->name))
			continue;
		ssize_t k = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
		if (k < 0)
			continue;
		target[k] = 0;
		char *ib = strstr(target, "/infiniband/");
		if (!ib)
			continue;
		*ib = 0;
		const char *fn = strrchr(target, '/');
		fn = fn ? fn + 1 : target;
		if (!pci_addr_valid(fn))
			continue;
		rdma_ent *nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv) {
			free(v);
			return -ENOMEM;
		}
		v = nv;
		str_copy(v[n].pci, sizeof(v[n].pci), fn);
		str_copy(v[n].name, sizeof(v[n].name), de->d_name);
		n++;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* The PF of the VF d in s's table, added on first sight with its link facts (the
 * inventory's carrier and operstate, the flags from netfd: <root>/class/net). */
static dp_pf *pf_entry(dp_set *s, size_t *cap, const dm_device *d, int netfd)
{
	const char *pci = d->pf ? d->pf->pci : d->pf_pci;
	if (s->n_pfs && !strcmp(s->pfs[s->n_pfs - 1].pci, pci))
		return &s->pfs[s->n_pfs - 1]; /* the VFs of a PF come together */
	dp_pf *p = dp_pf_of(s, pci);
	if (p)
		return p;
	if (s->n_pfs == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		dp_pf *np = realloc(s->pfs, nc * sizeof(*np));
		if (!np)
			return NULL;
		s->pfs = np;
		*cap = nc;
	}
	p = &s->pfs[s->n_pfs++];
	memset(p, 0, sizeof(*p));
	str_copy(p->pci, sizeof(p->pci), pci);
	p->admin_up = p->carrier = -1;
	p->gone = !d->pf || (d->health & DM_UNHEALTHY_PF_GONE);
	if (p->gone || !d->pf->netdev[0])
		return p;
	str_copy(p->netdev, sizeof(p->netdev), d->pf->netdev);
	str_copy(p->operstate, sizeof(p->operstate), d->pf->operstate);
	p->carrier = d->pf->carrier;
	char path[DM_IFNAME_MAX + 16];
	uint32_t flags;
	snprintf(path, sizeof(path), "%s/flags", p->netdev);
	if (netfd >= 0 && read_hex_at(netfd, path, &flags) >= 0) /* "0x1003" */
		p->admin_up = (flags & IFF_UP) != 0;
	return p;
}

/* One VF: what the inventory has, its own NUMA node, its RDMA device (of rdma, n_rdma). */
static void device_fill(dp_device *v, const dm_device *d, int busfd, const dp_pf *pf, const rdma_ent *rdma,
			size_t n_rdma)
{
	memset(v, 0, sizeof(*v));
	str_copy(v->id, sizeof(v->id), d->pci);
	str_copy(v->pf, sizeof(v->pf), pf->pci);
	str_copy(v->driver, sizeof(v->driver), d->driver);
	str_copy(v->netdev, sizeof(v->netdev), d->netdev);
	v->userspace = d->userspace_driver;
	v->iommu_group = d->userspace_driver ? d->iommu_group : -1;
	v->numa = busfd >= 0 ? read_numa(busfd, d->pci, d->numa_node) : d->numa_node;
	for (size_t i = 0; i < n_rdma; i++)
		if (!strcmp(rdma[i].pci, d->pci)) {
			str_copy(v->rdma, sizeof(v->rdma), rdma[i].name);
			break;
		}
	v->why = dp_why_of(pf, v);
	v->healthy = !v->why;
}

static void resource_done(dp_resource *r)
{
	free(r->dev);
	r->dev = NULL;
	r->n = 0;
}

void dp_set_free(dp_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		resource_done(&s->res[i]);
	free(s->res);
	free(s->pfs);
	free(s);
}

/* Every VF of INV into the resource of the pool it belongs to (one match per VF): counted
 * first, so each resource's array is allocated once at its size. */
static int set_fill(dp_set *s, const dm_config *c, const dm_inventory *inv, const char *root, int busfd,
		    int netfd)
{
	size_t n = dm_inventory_count(inv), pf_cap = 0, n_rdma = 0;
	_cleanup_free_ rdma_ent *rdma = NULL;
	_cleanup_free_ int *pool = malloc((n ? n : 1) * sizeof(*pool));
	if (!pool || rdma_list(root, &rdma, &n_rdma) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const dm_device *d = dm_inventory_get(inv, i);
		int p = d->role == DM_ROLE_VF ? dm_config_match(c, d) : -1;
		pool[i] = p >= 0 && (size_t)p < s->n ? p : -1;
		if (pool[i] >= 0)
			s->res[p].n++;
	}
	for (size_t p = 0; p < s->n; p++) {
		if (s->res[p].n && !(s->res[p].dev = malloc(s->res[p].n * sizeof(dp_device))))
			return -ENOMEM;
		s->res[p].n = 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (pool[i] < 0)
			continue;
		const dm_device *d = dm_inventory_get(inv, i);
		dp_resource *r = &s->res[pool[i]];
		const dp_pf *pf = pf_entry(s, &pf_cap, d, netfd);
		if (!pf)
			return -ENOMEM;
		device_fill(&r->dev[r->n++], d, busfd, pf, rdma, n_rdma);
	}
	for (size_t p = 0; p < s->n; p++)
		if (s->res[p].n > 1)
			qsort(s->res[p].dev, s->res[p].n, sizeof(dp_device), cmp_dev);
	return 0;
}

int dp_set_build(const dm_config *c, const dm_inventory *inv, const char *sysfs_root, const char *default_prefix,
		 dp_set **ret, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int r = 0;

	if (!c || !inv || !ret)
		return -EINVAL;
	if (!sysfs_root)
		sysfs_root = DM_DEFAULT_SYSFS_ROOT;
	if (!default_prefix || !*default_prefix)
		default_prefix = DP_RESOURCE_PREFIX_DEFAULT;
	if (!prefix_valid(default_prefix)) {
		errbuf_set(err, errlen, "resource prefix \"%s\" is not a DNS subdomain of at most 128 characters",
			   default_prefix);
		return -EINVAL;
	}
	dp_set *s = calloc(1, sizeof(*s));
	size_t np = dm_config_pool_count(c);
	if (!s || !(s->res = calloc(np ? np : 1, sizeof(dp_resource)))) {
		free(s);
		return -ENOMEM;
	}
	snprintf(path, sizeof(path), "%s/bus/pci/devices", sysfs_root);
	_cleanup_close_ int busfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(path, sizeof(path), "%s/class/net", sysfs_root);
	_cleanup_close_ int netfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (size_t p = 0; p < np; p++) {
		dp_resource *res = &s->res[p];
		const char *name = dm_config_pool_name(c, p), *prefix = dm_config_pool_prefix(c, p);
		if (prefix && !prefix_valid(prefix)) {
			errbuf_set(err, errlen, "pool \"%s\": resourcePrefix \"%s\" is not a DNS subdomain of at most 128 "
				   "characters", name, prefix);
			r = -EINVAL;
			break;
		}
		str_copy(res->pool, sizeof(res->pool), name);
		snprintf(res->name, sizeof(res->name), "%s/%s", prefix ? prefix : default_prefix, name);
		endpoint_of(res->name, res->endpoint, sizeof(res->endpoint));
		res->policy = (dp_policy)config_pool_policy(c, p);
		res->exclude_topology = config_pool_exclude_topology(c, p);
		s->n = p + 1;
	}
	if (r == 0)
		r = set_fill(s, c, inv, sysfs_root, busfd, netfd);
	if (r < 0) {
		dp_set_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

const dp_resource *dp_set_find(const dp_set *s, const char *name)
{
	for (size_t i = 0; s && name && i < s->n; i++)
		if (!strcmp(s->res[i].name, name) || !strcmp(s->res[i].pool, name))
			return &s->res[i];
	return NULL;
}

const dp_device *dp_resource_device(const dp_resource *r, const char *id)
{
	if (!r || !id || !r->n)
		return NULL;
	dp_device key;
	str_copy(key.id, sizeof(key.id), id);
	return bsearch(&key, r->dev, r->n, sizeof(*r->dev), cmp_dev);
}

bool dp_resource_equal(const dp_resource *a, const dp_resource *b)
{
	if (!a || !b)
		return a == b;
	if (strcmp(a->name, b->name) || a->n != b->n || a->exclude_topology != b->exclude_topology)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const dp_device *x = &a->dev[i], *y = &b->dev[i];
		if (strcmp(x->id, y->id) || x->healthy != y->healthy || (!a->exclude_topology && x->numa != y->numa))
			return false;
	}
	return true;
}

int dp_set_note_attached(dp_set *s, const char *state_dir)
{
	char path[PATH_MAX];
	dm_store *st = NULL;
	dm_record **recs = NULL;
	int *errs = NULL;
	size_t n = 0;
	if (!s)
		return -EINVAL;
	if (!state_dir)
		state_dir = DM_DEFAULT_STATE_DIR;
	/* no store yet: nothing is attached (and nothing is created here) */
	snprintf(path, sizeof(path), "%s/vfs", state_dir);
	if (access(path, F_OK) < 0)
		return errno == ENOENT ? 0 : -errno;
	int r = dm_store_open(state_dir, &st);
	if (r == 0)
		r = dm_store_list(st, &recs, &errs, &n);
	/* one read of the store: its records are the allocated VFs, few beside the pools' */
	for (size_t k = 0; r == 0 && k < n; k++) {
		if (errs[k] < 0)
			continue; /* an unreadable record proves nothing either way */
		for (size_t i = 0; i < s->n; i++) {
			dp_device *d = (dp_device *)dp_resource_device(&s->res[i], recs[k]->pci);
			if (!d)
				continue;
			d->outside = recs[k]->pool != NULL;
			d->why = dp_why_of(dp_pf_of(s, d->pf), d);
			/* a deviceID record: its netdev is in the namespace of the pod holding it */
			if (d->why == DP_WHY_NO_NETDEV)
				d->why = NULL;
			d->healthy = !d->why;
		}
	}
	dm_record_list_free(recs, n);
	free(errs);
	dm_store_free(st);
	return r;
}

int dp_set_carry_gone(dp_set *now, const dp_set *before)
{
	if (!now)
		return -EINVAL;
	for (size_t i = 0; before && i < now->n; i++) {
		dp_resource *r = &now->res[i];
		const dp_resource *old = dp_set_find(before, r->name);
		size_t add = 0;
		for (size_t j = 0; old && j < old->n; j++)
			add += !dp_resource_device(r, old->dev[j].id);
		if (!add)
			continue;
		dp_device *nd = realloc(r->dev, (r->n + add) * sizeof(*nd));
		if (!nd)
			return -ENOMEM;
		r->dev = nd;
		size_t n = r->n;
		for (size_t j = 0; j < old->n; j++)
			if (!dp_resource_device(r, old->dev[j].id)) {
				nd[n] = old->dev[j];
				nd[n].healthy = false;
				nd[n].gone = true;
				nd[n].why = DP_WHY_VF_GONE;
				n++;
			}
		/* sorted again only after all were added: the look-ups above need the old order */
		r->n = n;
		qsort(r->dev, r->n, sizeof(*r->dev), cmp_dev);
	}
	return 0;
}
