/* The device plugin's resources: each pool of the config as one resource of VFs, with the
 * health, NUMA node, driver, IOMMU group and RDMA device the kubelet's answers need. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "dp.h"
#include "internal.h"

/* The reasons an unhealthy device gives (dp_device.why). */
static const char WHY_NO_DRIVER[] = "VF has no driver";
static const char WHY_NO_NETDEV[] = "VF has no netdev";
static const char WHY_PF_GONE[] = "PF is gone";
static const char WHY_PF_DOWN[] = "PF is down";
static const char WHY_PF_NO_CARRIER[] = "PF has no carrier";
static const char WHY_VF_GONE[] = "VF is gone";

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

/* The RDMA device of the function PCI: the first entry of its infiniband/ directory. */
static void read_rdma(int busfd, const char *pci, char *buf, size_t size)
{
	char path[DM_PCI_ADDR_MAX + 16];
	buf[0] = 0;
	snprintf(path, sizeof(path), "%s/infiniband", pci);
	_cleanup_closedir_ DIR *d = opendir_at(busfd, path);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && strlen(de->d_name) < size) {
			str_copy(buf, size, de->d_name);
			return;
		}
}

/* Is the PF's netdev administratively up? Its flags in sysfs (IFF_UP); 1, 0, or -1 when
 * they cannot be read. */
static int pf_admin_up(int netfd, const char *netdev)
{
	char path[DM_IFNAME_MAX + 16], buf[32];
	int v;
	snprintf(path, sizeof(path), "%s/flags", netdev);
	if (read_small_at(netfd, path, buf, sizeof(buf)) < 0 || parse_int(buf, &v) < 0)
		return -1;
	return (v & IFF_UP) != 0;
}

/* Health facts read once per PF: its administrative state. */
typedef struct pf_cache {
	const dm_device *pf;
	int admin_up; /* pf_admin_up() */
} pf_cache;

/* Why the VF D is unhealthy (NULL: it is healthy); NETFD is <root>/class/net. */
static const char *vf_why(const dm_device *d, int netfd, pf_cache *pc)
{
	const dm_device *pf = d->pf;
	if (!pf || (d->health & DM_UNHEALTHY_PF_GONE))
		return WHY_PF_GONE;
	if (pf->netdev[0]) {
		if (pc->pf != pf) {
			pc->pf = pf;
			pc->admin_up = netfd >= 0 ? pf_admin_up(netfd, pf->netdev) : -1;
		}
		int up = pc->admin_up;
		/* a netdev that is down has no carrier to read: operstate says "down" */
		if (up == 0 || (up < 0 && pf->carrier < 0 && !strcmp(pf->operstate, "down")))
			return WHY_PF_DOWN;
		if (pf->carrier == 0 || (d->health & DM_UNHEALTHY_PF_NO_LINK))
			return WHY_PF_NO_CARRIER;
	}
	if (!d->driver[0])
		return WHY_NO_DRIVER;
	if (!d->userspace_driver && !d->netdev[0])
		return WHY_NO_NETDEV;
	return NULL;
}

static void device_fill(dp_device *v, const dm_device *d, int busfd, int netfd, pf_cache *pc)
{
	memset(v, 0, sizeof(*v));
	str_copy(v->id, sizeof(v->id), d->pci);
	str_copy(v->pf, sizeof(v->pf), d->pf ? d->pf->pci : d->pf_pci);
	str_copy(v->driver, sizeof(v->driver), d->driver);
	v->numa = busfd >= 0 ? read_numa(busfd, d->pci, d->numa_node) : d->numa_node;
	v->iommu_group = d->userspace_driver ? d->iommu_group : -1;
	if (busfd >= 0)
		read_rdma(busfd, d->pci, v->rdma, sizeof(v->rdma));
	v->why = vf_why(d, netfd, pc);
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
	free(s);
}

/* Every VF of INV into the resource of the pool it belongs to (one match per VF). */
static int set_fill(dp_set *s, const dm_config *c, const dm_inventory *inv, int busfd, int netfd)
{
	_cleanup_free_ size_t *cap = calloc(s->n ? s->n : 1, sizeof(*cap));
	pf_cache pc = { NULL, -1 };
	if (!cap)
		return -ENOMEM;
	for (size_t i = 0; i < dm_inventory_count(inv); i++) {
		const dm_device *d = dm_inventory_get(inv, i);
		int p = d->role == DM_ROLE_VF ? dm_config_match(c, d) : -1;
		if (p < 0 || (size_t)p >= s->n)
			continue;
		dp_resource *r = &s->res[p];
		if (r->n == cap[p]) {
			size_t nc = cap[p] ? cap[p] * 2 : 16;
			dp_device *nd = realloc(r->dev, nc * sizeof(*nd));
			if (!nd)
				return -ENOMEM;
			r->dev = nd;
			cap[p] = nc;
		}
		device_fill(&r->dev[r->n++], d, busfd, netfd, &pc);
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
		r = set_fill(s, c, inv, busfd, netfd);
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
	int r = 0;
	if (!s)
		return -EINVAL;
	if (!state_dir)
		state_dir = DM_DEFAULT_STATE_DIR;
	/* no store yet: nothing is attached (and nothing is created here) */
	snprintf(path, sizeof(path), "%s/vfs", state_dir);
	if (access(path, F_OK) < 0)
		return errno == ENOENT ? 0 : -errno;
	for (size_t i = 0; i < s->n && r >= 0; i++)
		for (size_t j = 0; j < s->res[i].n; j++) {
			dp_device *d = &s->res[i].dev[j];
			dm_record *rec = NULL;
			if (d->why != WHY_NO_NETDEV)
				continue;
			if (!st && (r = dm_store_open(state_dir, &st)) < 0)
				break;
			if (dm_store_get(st, d->id, &rec) == 0) {
				/* its netdev is in the namespace of the attachment that holds it */
				d->healthy = true;
				d->why = NULL;
			}
			dm_record_free(rec);
		}
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
				nd[n].why = WHY_VF_GONE;
				n++;
			}
		/* sorted again only after all were added: the look-ups above need the old order */
		r->n = n;
		qsort(r->dev, r->n, sizeof(*r->dev), cmp_dev);
	}
	return 0;
}
