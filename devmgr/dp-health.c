/* The health of the device plugin's devices: the facts it rests on (a PF's link, a VF's
 * driver and netdev), the reason an unhealthy device gives, and its update from one link
 * notification without a rescan. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dp-int.h"
#include "internal.h"

const char DP_WHY_NO_DRIVER[] = "VF has no driver";
const char DP_WHY_NO_NETDEV[] = "VF has no netdev";
const char DP_WHY_PF_GONE[] = "PF is gone";
const char DP_WHY_PF_DOWN[] = "PF is down";
const char DP_WHY_PF_NO_CARRIER[] = "PF has no carrier";
const char DP_WHY_VF_GONE[] = "VF is gone";
const char DP_WHY_OUTSIDE[] = "allocated outside the kubelet (devmgr alloc or a pool attachment)";

/* As the inventory decides a link is up (device.c): the carrier when sysfs has one, else
 * the operational state. */
static bool pf_link_up(const dp_pf *p)
{
	if (p->carrier >= 0)
		return p->carrier == 1 && strcmp(p->operstate, "down") != 0;
	return !strcmp(p->operstate, "up") || !strcmp(p->operstate, "unknown");
}

const char *dp_why_of(const dp_pf *pf, const dp_device *v)
{
	if (v->gone)
		return DP_WHY_VF_GONE;
	if (v->outside)
		return DP_WHY_OUTSIDE;
	if (!pf || pf->gone)
		return DP_WHY_PF_GONE;
	if (pf->netdev[0]) {
		int up = pf->admin_up;
		/* a netdev that is down has no carrier to read: operstate says "down" */
		if (up == 0 || (up < 0 && pf->carrier < 0 && !strcmp(pf->operstate, "down")))
			return DP_WHY_PF_DOWN;
		if (!pf_link_up(pf))
			return DP_WHY_PF_NO_CARRIER;
	}
	if (!v->driver[0])
		return DP_WHY_NO_DRIVER;
	if (!v->userspace && !v->netdev[0])
		return DP_WHY_NO_NETDEV;
	return NULL;
}

dp_pf *dp_pf_of(const dp_set *s, const char *pci)
{
	for (size_t i = 0; s && i < s->n_pfs; i++)
		if (!strcmp(s->pfs[i].pci, pci))
			return &s->pfs[i];
	return NULL;
}

/* IF_OPER_* as sysfs names them (net/core/net-sysfs.c). */
static const char *const operstates[] = { "unknown", "notpresent", "down", "lowerlayerdown",
					   "testing", "dormant", "up" };

void dp_pf_read(int busfd, int netfd, dp_pf *p)
{
	char path[DM_PCI_ADDR_MAX + DM_IFNAME_MAX + 32], buf[32];
	int v;
	p->netdev[0] = p->operstate[0] = 0;
	p->admin_up = p->carrier = -1;
	snprintf(path, sizeof(path), "%s/net", p->pci);
	dir_first_at(busfd, path, p->netdev, sizeof(p->netdev));
	if (!p->netdev[0] || netfd < 0)
		return;
	uint32_t flags;
	snprintf(path, sizeof(path), "%s/flags", p->netdev);
	if (read_hex_at(netfd, path, &flags) >= 0) /* "0x1003" */
		p->admin_up = (flags & IFF_UP) != 0;
	snprintf(path, sizeof(path), "%s/operstate", p->netdev);
	if (read_small_at(netfd, path, buf, sizeof(buf)) > 0)
		str_copy(p->operstate, sizeof(p->operstate), buf);
	snprintf(path, sizeof(path), "%s/carrier", p->netdev);
	if (read_int_at(netfd, path, &v) >= 0)
		p->carrier = v != 0;
}

/* The directories the update reads, opened on first use. */
typedef struct link_ctx {
	const char *root, *state_dir;
	int busfd, netfd;
	dm_store *st;
	bool no_store;
} link_ctx;

static int ctx_open(link_ctx *x, int *fd, const char *sub)
{
	char path[PATH_MAX];
	if (*fd >= 0)
		return *fd;
	snprintf(path, sizeof(path), "%s/%s", x->root, sub);
	*fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return *fd;
}
#define BUSFD(x) ctx_open((x), &(x)->busfd, "bus/pci/devices")
#define NETFD(x) ctx_open((x), &(x)->netfd, "class/net")

/* 1 when the store holds a record of VF id (its netdev is in a pod), 0 when not. */
static int held(link_ctx *x, const char *id)
{
	char path[PATH_MAX];
	dm_record *rec = NULL;
	if (x->no_store)
		return 0;
	if (!x->st) {
		snprintf(path, sizeof(path), "%s/vfs", x->state_dir);
		if (access(path, F_OK) < 0) {
			if (errno != ENOENT)
				return -errno;
			x->no_store = true; /* no store yet: nothing is attached, nothing created */
			return 0;
		}
		int r = dm_store_open(x->state_dir, &x->st);
		if (r < 0)
			return r;
	}
	int r = dm_store_get(x->st, id, &rec);
	/* a pool's record is an allocation outside the kubelet, not a pod's VF */
	bool pod = r == 0 && !rec->pool;
	dm_record_free(rec);
	return pod;
}

/* Evaluate v again; 1 when its health (what the stream shows) changed. */
static int reevaluate(link_ctx *x, const dp_set *s, dp_device *v)
{
	const char *why = dp_why_of(dp_pf_of(s, v->pf), v);
	if (why == DP_WHY_NO_NETDEV) {
		int r = held(x, v->id);
		if (r < 0)
			return r;
		if (r)
			why = NULL;
	}
	bool was = v->healthy;
	v->why = why;
	v->healthy = !why;
	return was != v->healthy;
}

/* The PCI function whose netdev NAME is, from <root>/class/net/<name>/device; -errno. */
static int owner_of(link_ctx *x, const char *name, char *pci, size_t size)
{
	char path[DM_IFNAME_MAX + 16];
	int netfd = NETFD(x);
	if (netfd < 0)
		return -errno;
	snprintf(path, sizeof(path), "%s/device", name);
	int r = readlink_base_at(netfd, path, pci, size);
	return r < 0 ? r : pci_addr_valid(pci) ? 0 : -ENODEV;
}

static dp_device *vf_named(const dp_set *s, const char *name, const char *pci)
{
	for (size_t i = 0; i < s->n; i++)
		for (size_t j = 0; j < s->res[i].n; j++) {
			dp_device *v = &s->res[i].dev[j];
			if (v->gone)
				continue;
			if (name ? !strcmp(v->netdev, name) : !strcmp(v->id, pci))
				return v;
		}
	return NULL;
}

static dp_pf *pf_named(const dp_set *s, const char *name)
{
	for (size_t i = 0; i < s->n_pfs; i++)
		if (!strcmp(s->pfs[i].netdev, name))
			return &s->pfs[i];
	return NULL;
}

/* The PF's facts anew: from the notification when it carries the kernel's own, else from
 * sysfs (a fake tree's files, or no trust in the message). */
static void pf_refresh(link_ctx *x, dp_pf *p, const dp_link *l)
{
	if (l->have_state) {
		p->gone = false;
		if (l->gone) {
			p->netdev[0] = p->operstate[0] = 0;
			p->admin_up = p->carrier = -1;
			return;
		}
		str_copy(p->netdev, sizeof(p->netdev), l->name);
		p->admin_up = (l->flags & IFF_UP) != 0;
		p->carrier = l->carrier < 0 ? -1 : l->carrier != 0;
		if (l->operstate >= 0 && (size_t)l->operstate < sizeof(operstates) / sizeof(*operstates))
			str_copy(p->operstate, sizeof(p->operstate), operstates[l->operstate]);
		else
			p->operstate[0] = 0;
		return;
	}
	int busfd = BUSFD(x);
	p->gone = busfd < 0 || faccessat(busfd, p->pci, F_OK, 0) < 0;
	if (!p->gone)
		dp_pf_read(busfd, NETFD(x), p);
}

/* The VF's netdev anew (its driver changes with a device event: a rescan). */
static void vf_refresh(link_ctx *x, dp_device *v, const dp_link *l)
{
	char path[DM_PCI_ADDR_MAX + 8];
	if (l->have_state) {
		if (l->gone)
			v->netdev[0] = 0;
		else
			str_copy(v->netdev, sizeof(v->netdev), l->name);
		return;
	}
	int busfd = BUSFD(x);
	if (busfd < 0 || faccessat(busfd, v->id, F_OK, 0) < 0) {
		v->gone = true; /* as a rescan would carry it */
		return;
	}
	snprintf(path, sizeof(path), "%s/net", v->id);
	dir_first_at(busfd, path, v->netdev, sizeof(v->netdev));
}

static int bump(dp_resource *r, int changed)
{
	if (changed > 0)
		r->gen++;
	return changed;
}

int dp_set_link_update(dp_set *s, const dp_link *l, const char *sysfs_root, const char *state_dir)
{
	if (!s || !l || !l->name || !l->name[0] || strlen(l->name) >= DM_IFNAME_MAX)
		return -EINVAL;
	link_ctx x = { .root = sysfs_root ? sysfs_root : DM_DEFAULT_SYSFS_ROOT,
		       .state_dir = state_dir ? state_dir : DM_DEFAULT_STATE_DIR,
		       .busfd = -1, .netfd = -1 };
	char pci[DM_PCI_ADDR_MAX + 8];
	dp_pf *pf = pf_named(s, l->name);
	dp_device *vf = pf ? NULL : vf_named(s, l->name, NULL);
	/* a netdev that appeared or was renamed: its PCI function says whose it is */
	if (!pf && !vf && !l->gone && owner_of(&x, l->name, pci, sizeof(pci)) == 0) {
		pf = dp_pf_of(s, pci);
		vf = pf ? NULL : vf_named(s, NULL, pci);
	}
	int r = 0, changed = 0;
	if (pf) {
		pf_refresh(&x, pf, l);
		for (size_t i = 0; i < s->n && r >= 0; i++) {
			int any = 0;
			for (size_t j = 0; j < s->res[i].n && r >= 0; j++)
				if (!strcmp(s->res[i].dev[j].pf, pf->pci) && (r = reevaluate(&x, s, &s->res[i].dev[j])) > 0)
					any = 1;
			changed |= bump(&s->res[i], any);
		}
	} else if (vf) {
		vf_refresh(&x, vf, l);
		r = reevaluate(&x, s, vf);
		for (size_t i = 0; r > 0 && i < s->n; i++)
			if (vf >= s->res[i].dev && vf < s->res[i].dev + s->res[i].n)
				changed |= bump(&s->res[i], 1);
	}
	dm_store_free(x.st);
	if (x.busfd >= 0)
		close(x.busfd);
	if (x.netfd >= 0)
		close(x.netfd);
	return r < 0 ? r : changed;
}
