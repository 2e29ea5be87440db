/* The apply engine: one PF brought to its "pfs" entry in a fixed order, each change
 * journaled, the journal undone in reverse when a step fails. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "apply.h"
#include "eswitch.h"
#include "ucni/fault.h"

typedef enum jkind { J_NUMVFS, J_ESWITCH, J_LINK, J_DRIVER, J_PFMTU, J_VFMTU, J_VFATTR } jkind;

/* One change made: enough to put it back. */
typedef struct jent {
	jkind kind;
	int vf;                      /* the VF index, -1 for the PF */
	char pci[DM_PCI_ADDR_MAX];   /* the device changed */
	char netdev[DM_IFNAME_MAX];  /* J_LINK, J_PFMTU, J_VFMTU */
	unsigned old;                /* J_NUMVFS count, J_ESWITCH mode, J_LINK flags, J_*MTU */
	int num_vfs;                 /* J_ESWITCH: the VF count to keep */
	char old_drv[64], old_ov[64];
	dm_vf_attr attr;             /* J_VFATTR */
	dm_vf_settings old_vf;
} jent;

typedef struct run {
	const apply_opts *o;
	const dm_pf_spec *spec;
	const char *pf;
	int pffd;
	char pf_netdev[DM_IFNAME_MAX];
	unsigned char *skip;         /* per VF index: allocated, left alone */
	int n_vfs;                   /* the VF count after the numVfs step */
	unsigned pf_mtu;             /* the PF's MTU after its step (checking: as it would be) */
	jent *j;
	size_t n_j;
	apply_result *res;
	char pending[512];           /* applying: the change being made, told once journaled */
	char *err;
	size_t errlen;
} run;

static void emit(run *x, apply_note kind, const char *line)
{
	if (kind == APPLY_CHANGE)
		x->res->changes++;
	else if (kind == APPLY_MISMATCH)
		x->res->mismatches++;
	if (x->o->note)
		x->o->note(x->o->arg, kind, line);
}

/* A note "pf PCI: ...". A change being applied is told once it is made (journal()). */
static void note(run *x, apply_note kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void note(run *x, apply_note kind, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n = snprintf(line, sizeof(line), "pf %s: ", x->pf);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (kind == APPLY_CHANGE && !x->o->check)
		str_copy(x->pending, sizeof(x->pending), line);
	else
		emit(x, kind, line);
}

/* A step failed: the message, and R (-errno) back. */
static int fail(run *x, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(run *x, int r, const char *fmt, ...)
{
	char what[384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	errbuf_set(x->err, x->errlen, "pf %s: %s: %s", x->pf, what, strerror(-r));
	return r;
}

static int journal(run *x, const jent *e)
{
	jent *n = realloc(x->j, (x->n_j + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	x->j = n;
	x->j[x->n_j++] = *e;
	if (x->pending[0])
		emit(x, APPLY_CHANGE, x->pending);
	x->pending[0] = 0;
	return 0;
}

/* ------------------------------------------------------------------ undo */

static int undo_one(run *x, const jent *e)
{
	const char *root = x->o->sysfs_root;
	_cleanup_close_ int fd = -1;
	int r = FAULT_EVERY("apply.undo");
	if (r < 0)
		return r;
	switch (e->kind) {
	case J_NUMVFS:
		r = dm_pf_set_num_vfs(root, x->pf, (int)e->old);
		return r < 0 ? r : 0;
	case J_ESWITCH: {
		char sub[256];
		r = dm_eswitch_set(root, x->pf, (dm_eswitch_mode)e->old, e->num_vfs, sub, sizeof(sub));
		return r < 0 ? r : 0;
	}
	case J_LINK:
		return ap_netdev_set_flags(x->pffd, e->netdev, e->old);
	case J_PFMTU:
		return ap_netdev_set_mtu(x->pffd, e->netdev, e->old);
	case J_VFMTU:
		if ((fd = pci_dev_open(root, e->pci)) < 0)
			return fd;
		return ap_netdev_set_mtu(fd, e->netdev, e->old);
	case J_DRIVER:
		if ((fd = pci_dev_open(root, e->pci)) < 0)
			return fd;
		return ap_driver_bind(root, fd, e->pci, e->old_ov, e->old_drv);
	case J_VFATTR:
		return dm_vf_set(x->pf_netdev, e->attr, &e->old_vf);
	}
	return -EINVAL;
}

static void describe(const jent *e, char *buf, size_t len)
{
	char v[96];
	switch (e->kind) {
	case J_NUMVFS: snprintf(buf, len, "numVfs back to %u", e->old); break;
	case J_ESWITCH: snprintf(buf, len, "eswitch back to %s", dm_eswitch_mode_name((dm_eswitch_mode)e->old)); break;
	case J_LINK: snprintf(buf, len, "%s down again", e->netdev); break;
	case J_PFMTU: snprintf(buf, len, "%s mtu back to %u", e->netdev, e->old); break;
	case J_VFMTU: snprintf(buf, len, "vf %d %s mtu back to %u", e->vf, e->netdev, e->old); break;
	case J_DRIVER:
		snprintf(buf, len, "vf %d (%s) back to driver %s", e->vf, e->pci, e->old_drv[0] ? e->old_drv : "(none)");
		break;
	case J_VFATTR:
		snprintf(buf, len, "vf %d back to %s", e->vf, dm_vf_attr_describe(e->attr, &e->old_vf, v, sizeof(v)));
		break;
	}
}

/* Puts back every change of this run in reverse; appends to x->err what it did and, for
 * an undo that failed, what the PF keeps. */
static void undo_all(run *x)
{
	size_t len = strlen(x->err), failed = 0;
	for (size_t i = x->n_j; i-- > 0;) {
		char what[160];
		describe(&x->j[i], what, sizeof(what));
		int r = undo_one(x, &x->j[i]);
		if (r < 0) {
			len += (size_t)snprintf(x->err + len, len < x->errlen ? x->errlen - len : 0,
			                        "; undo failed: %s (%s), so that change stays", what, strerror(-r));
			failed++;
		} else if (x->o->note) {
			char line[256];
			snprintf(line, sizeof(line), "pf %s: undone: %s", x->pf, what);
			x->o->note(x->o->arg, APPLY_UNDONE, line);
		}
		if (len >= x->errlen)
			len = x->errlen ? x->errlen - 1 : 0;
	}
	if (!failed && x->errlen > len)
		snprintf(x->err + len, x->errlen - len, "; %s", x->n_j ? "every change of this run undone: the PF is as it was"
		                                                        : "nothing had changed on the PF");
}

/* ----------------------------------------------------------------- steps */

static int step_num_vfs(run *x)
{
	int cur, want = x->spec->num_vfs, r;
	if ((r = pf_read_num_vfs(x->pffd, &cur)) < 0)
		return fail(x, r, "cannot read sriov_numvfs");
	x->n_vfs = cur;
	if (cur == want)
		return 0;
	note(x, APPLY_CHANGE, "numVfs %d -> %d", cur, want);
	if (x->o->check) {
		x->n_vfs = want;
		return 0;
	}
	if ((r = FAULT("apply.numvfs")) < 0 || (r = dm_pf_set_num_vfs(x->o->sysfs_root, x->pf, want)) < 0)
		return fail(x, r, "numVfs %d -> %d", cur, want);
	x->n_vfs = want;
	return journal(x, &(jent){ .kind = J_NUMVFS, .vf = -1, .old = (unsigned)cur });
}

static int step_eswitch(run *x)
{
	dm_eswitch_mode cur, want = (dm_eswitch_mode)x->spec->eswitch_mode;
	char sub[384];
	int r;
	if (x->spec->eswitch_mode < 0)
		return 0;
	if ((r = dm_eswitch_get(x->o->sysfs_root, x->pf, &cur)) < 0)
		return fail(x, r, "eswitchMode: reading the PF's eswitch mode%s",
		            r == -EOPNOTSUPP ? " (the PF has no devlink eswitch)" : "");
	if (cur == want)
		return 0;
	note(x, APPLY_CHANGE, "eswitch %s -> %s", dm_eswitch_mode_name(cur), dm_eswitch_mode_name(want));
	if (x->o->check)
		return 0;
	if ((r = FAULT("apply.eswitch")) < 0)
		return fail(x, r, "eswitch %s -> %s", dm_eswitch_mode_name(cur), dm_eswitch_mode_name(want));
	if ((r = dm_eswitch_set(x->o->sysfs_root, x->pf, want, x->n_vfs, sub, sizeof(sub))) < 0)
		return fail(x, r, "eswitch %s -> %s (%s)", dm_eswitch_mode_name(cur), dm_eswitch_mode_name(want), sub);
	return journal(x, &(jent){ .kind = J_ESWITCH, .vf = -1, .old = (unsigned)cur, .num_vfs = x->n_vfs });
}

static int step_link(run *x)
{
	unsigned mtu, flags;
	int r;
	if (x->spec->link_up <= 0)
		return 0;
	if (!x->pf_netdev[0])
		return fail(x, -ENODEV, "linkUp: the PF has no netdev");
	if ((r = ap_netdev_read(x->pffd, x->pf_netdev, &mtu, &flags)) < 0)
		return fail(x, r, "cannot read %s's flags", x->pf_netdev);
	if (flags & IFF_UP)
		return 0;
	note(x, APPLY_CHANGE, "%s link down -> up", x->pf_netdev);
	if (x->o->check)
		return 0;
	if ((r = FAULT("apply.linkup")) < 0 || (r = ap_netdev_set_flags(x->pffd, x->pf_netdev, flags | IFF_UP)) < 0)
		return fail(x, r, "bringing %s up", x->pf_netdev);
	jent e = { .kind = J_LINK, .vf = -1, .old = flags };
	str_copy(e.netdev, sizeof(e.netdev), x->pf_netdev);
	return journal(x, &e);
}

/* The VF I's address: 0, -ENOENT when the PF has no such VF (yet). */
static int vf_pci(run *x, int i, char ret[DM_PCI_ADDR_MAX])
{
	char link[32], base[64];
	snprintf(link, sizeof(link), "virtfn%d", i);
	int r = readlink_base_at(x->pffd, link, base, sizeof(base));
	if (r < 0)
		return r;
	if (!pci_addr_valid(base))
		return -ENOENT;
	str_copy(ret, DM_PCI_ADDR_MAX, base);
	return 0;
}

/* Which VFs of the groups are allocated or being allocated: noted once, skipped by every
 * VF step. The others' locks are taken (without waiting) and stay held through the store
 * handle, so no allocation lands on a VF while it is reconfigured. */
static int mark_allocated(run *x)
{
	if (!x->o->store)
		return 0;
	for (size_t g = 0; g < x->spec->n_vf_groups; g++)
		for (int i = x->spec->vf_groups[g].first; i <= x->spec->vf_groups[g].last; i++) {
			char pci[DM_PCI_ADDR_MAX];
			dm_record *rec = NULL;
			if (vf_pci(x, i, pci) < 0)
				continue;
			int r = x->o->check ? 0 : dm_store_lock_vf(x->o->store, pci, false);
			if (r == -EWOULDBLOCK) {
				x->skip[i] = 1;
				note(x, APPLY_KEPT, "vf %d (%s): locked by an allocation at work; left alone", i, pci);
				continue;
			}
			if (r < 0 && r != -EROFS) /* a read-only store takes no allocation */
				return fail(x, r, "vf %d (%s): taking its lock", i, pci);
			r = dm_store_get(x->o->store, pci, &rec);
			if (r == -ENOENT)
				continue;
			x->skip[i] = 1;
			if (r < 0)
				note(x, APPLY_KEPT, "vf %d (%s): its allocation record cannot be read (%s); left alone", i, pci,
				     strerror(-r));
			else
				note(x, APPLY_KEPT, "vf %d (%s): allocated to %s; left alone", i, pci, rec->owner);
			dm_record_free(rec);
		}
	return 0;
}

/* VF I as the VF steps see it; false when the step passes it by (*RET_R 0) or fails. */
static bool vf_at(run *x, int i, char pci[DM_PCI_ADDR_MAX], int *ret_r)
{
	*ret_r = 0;
	if (x->skip[i])
		return false;
	int r = vf_pci(x, i, pci);
	if (r < 0) {
		/* checking, a VF that numVfs would create is not there yet: numVfs said so */
		if (!x->o->check)
			*ret_r = fail(x, r, "vf %d: no virtfn%d link", i, i);
		return false;
	}
	return true;
}

static int set_mac_first(run *x, const dm_vf_group *g, int i)
{
	dm_vf_settings cur, want;
	char a[96], b[96];
	int r;
	if (!g->has_mac)
		return 0;
	if ((r = dm_vf_get(x->pf_netdev, i, &cur)) < 0)
		return fail(x, r, "vf %d: reading its settings from %s", i, x->pf_netdev);
	want = cur;
	memcpy(want.mac, g->mac, 6);
	if (!dm_vf_attr_differs(DM_VF_MAC, &cur, &want))
		return 0;
	note(x, APPLY_CHANGE, "vf %d %s -> %s", i, dm_vf_attr_describe(DM_VF_MAC, &cur, a, sizeof(a)),
	     dm_vf_attr_describe(DM_VF_MAC, &want, b, sizeof(b)));
	if (x->o->check)
		return 0;
	if ((r = FAULT("apply.vfattr")) < 0 || (r = dm_vf_set(x->pf_netdev, DM_VF_MAC, &want)) < 0)
		return fail(x, r, "vf %d: setting its mac through %s", i, x->pf_netdev);
	return journal(x, &(jent){ .kind = J_VFATTR, .vf = i, .attr = DM_VF_MAC, .old_vf = cur });
}

static int step_drivers(run *x)
{
	const char *root = x->o->sysfs_root;
	for (size_t gi = 0; gi < x->spec->n_vf_groups; gi++) {
		const dm_vf_group *g = &x->spec->vf_groups[gi];
		if (g->driver == DM_VF_DRIVER_ANY)
			continue;
		bool vfio = g->driver == DM_VF_DRIVER_VFIO;
		for (int i = g->first; i <= g->last; i++) {
			char pci[DM_PCI_ADDR_MAX], drv[64], ov[64], now[64];
			int r;
			if (!vf_at(x, i, pci, &r)) {
				if (r < 0)
					return r;
				continue;
			}
			_cleanup_close_ int fd = pci_dev_open(root, pci);
			if (fd < 0)
				return fail(x, fd, "vf %d (%s)", i, pci);
			if ((r = ap_driver_read(fd, drv, ov)) < 0)
				return fail(x, r, "vf %d (%s): reading its driver", i, pci);
			if (vfio ? !strcmp(drv, "vfio-pci") : !ov[0] && strcmp(drv, "vfio-pci"))
				continue;
			/* the admin MAC through the PF first: a VF driver takes it at probe time */
			if ((r = set_mac_first(x, g, i)) < 0)
				return r;
			note(x, APPLY_CHANGE, "vf %d (%s): driver %s -> %s", i, pci, drv[0] ? drv : "(none)",
			     vfio ? "vfio-pci" : "default");
			if (x->o->check)
				continue;
			jent e = { .kind = J_DRIVER, .vf = i };
			str_copy(e.pci, sizeof(e.pci), pci);
			str_copy(e.old_drv, sizeof(e.old_drv), drv);
			str_copy(e.old_ov, sizeof(e.old_ov), ov);
			if ((r = FAULT("apply.driver")) < 0 ||
			    (r = ap_driver_bind(root, fd, pci, vfio ? "vfio-pci" : "", NULL)) < 0) {
				/* half done (override written, maybe unbound): put it back with the rest */
				x->pending[0] = 0;
				(void)journal(x, &e);
				return fail(x, r, "vf %d (%s): binding %s", i, pci, vfio ? "vfio-pci" : "its default driver");
			}
			if ((r = journal(x, &e)) < 0)
				return r;
			if ((r = ap_driver_read(fd, now, ov)) < 0)
				return fail(x, r, "vf %d (%s): reading its driver", i, pci);
			if (vfio && strcmp(now, "vfio-pci"))
				return fail(x, -ENXIO, "vf %d (%s): vfio-pci did not take it (module loaded? an IOMMU?)", i, pci);
		}
	}
	return 0;
}

static int step_pf_mtu(run *x)
{
	unsigned mtu, flags;
	int r;
	if (!x->pf_netdev[0]) {
		if (x->spec->mtu)
			return fail(x, -ENODEV, "mtu: the PF has no netdev");
		return 0;
	}
	if ((r = ap_netdev_read(x->pffd, x->pf_netdev, &mtu, &flags)) < 0)
		return fail(x, r, "cannot read %s's mtu", x->pf_netdev);
	x->pf_mtu = mtu;
	if (!x->spec->mtu || mtu >= x->spec->mtu)
		return 0; /* raised, never lowered */
	note(x, APPLY_CHANGE, "%s mtu %u -> %u", x->pf_netdev, mtu, x->spec->mtu);
	x->pf_mtu = x->spec->mtu;
	if (x->o->check)
		return 0;
	if ((r = FAULT("apply.mtu")) < 0 || (r = ap_netdev_set_mtu(x->pffd, x->pf_netdev, x->spec->mtu)) < 0)
		return fail(x, r, "%s mtu %u -> %u", x->pf_netdev, mtu, x->spec->mtu);
	jent e = { .kind = J_PFMTU, .vf = -1, .old = mtu };
	str_copy(e.netdev, sizeof(e.netdev), x->pf_netdev);
	return journal(x, &e);
}

static int step_vf_mtu(run *x)
{
	for (size_t gi = 0; gi < x->spec->n_vf_groups; gi++) {
		const dm_vf_group *g = &x->spec->vf_groups[gi];
		if (!g->mtu)
			continue;
		if (g->mtu > x->pf_mtu)
			return fail(x, -EINVAL, "vfGroups[%zu].mtu %u is above the PF's mtu %u", gi, g->mtu, x->pf_mtu);
		for (int i = g->first; i <= g->last; i++) {
			char pci[DM_PCI_ADDR_MAX], nd[DM_IFNAME_MAX];
			unsigned mtu, flags;
			int r;
			if (!vf_at(x, i, pci, &r)) {
				if (r < 0)
					return r;
				continue;
			}
			_cleanup_close_ int fd = pci_dev_open(x->o->sysfs_root, pci);
			if (fd < 0)
				return fail(x, fd, "vf %d (%s)", i, pci);
			if ((r = ap_netdev(fd, nd)) < 0) {
				if (x->o->check) /* a driver change pending: the driver step said so */
					continue;
				return fail(x, r, "vf %d (%s): no netdev to set its mtu on", i, pci);
			}
			if ((r = ap_netdev_read(fd, nd, &mtu, &flags)) < 0)
				return fail(x, r, "vf %d: cannot read %s's mtu", i, nd);
			if (mtu == g->mtu)
				continue;
			note(x, APPLY_CHANGE, "vf %d %s mtu %u -> %u", i, nd, mtu, g->mtu);
			if (x->o->check)
				continue;
			if ((r = FAULT("apply.vfmtu")) < 0 || (r = ap_netdev_set_mtu(fd, nd, g->mtu)) < 0)
				return fail(x, r, "vf %d %s mtu %u -> %u", i, nd, mtu, g->mtu);
			jent e = { .kind = J_VFMTU, .vf = i, .old = mtu };
			str_copy(e.pci, sizeof(e.pci), pci);
			str_copy(e.netdev, sizeof(e.netdev), nd);
			if ((r = journal(x, &e)) < 0)
				return r;
		}
	}
	return 0;
}

static int set_attr(run *x, int i, dm_vf_attr attr, const dm_vf_settings *cur, const dm_vf_settings *want)
{
	char a[96], b[96];
	int r;
	if (!dm_vf_attr_differs(attr, cur, want))
		return 0;
	note(x, APPLY_CHANGE, "vf %d %s -> %s", i, dm_vf_attr_describe(attr, cur, a, sizeof(a)),
	     dm_vf_attr_describe(attr, want, b, sizeof(b)));
	if (x->o->check)
		return 0;
	if ((r = FAULT("apply.vfattr")) < 0 || (r = dm_vf_set(x->pf_netdev, attr, want)) < 0)
		return fail(x, r, "vf %d: setting %s through %s", i, dm_vf_attr_name(attr), x->pf_netdev);
	return journal(x, &(jent){ .kind = J_VFATTR, .vf = i, .attr = attr, .old_vf = *cur });
}

static int step_vf_attrs(run *x)
{
	for (size_t gi = 0; gi < x->spec->n_vf_groups; gi++) {
		const dm_vf_group *g = &x->spec->vf_groups[gi];
		if (g->trust < 0 && g->spoofchk < 0 && !g->has_mac)
			continue;
		if (!x->pf_netdev[0])
			return fail(x, -ENODEV, "vfGroups[%zu]: the PF has no netdev to set VF settings through", gi);
		for (int i = g->first; i <= g->last; i++) {
			char pci[DM_PCI_ADDR_MAX];
			dm_vf_settings cur, want;
			int r;
			if (!vf_at(x, i, pci, &r)) {
				if (r < 0)
					return r;
				continue;
			}
			if ((r = dm_vf_get(x->pf_netdev, i, &cur)) < 0)
				return fail(x, r, "vf %d: reading its settings from %s", i, x->pf_netdev);
			want = cur;
			if (g->has_mac)
				memcpy(want.mac, g->mac, 6);
			if (g->trust >= 0)
				want.trust = g->trust;
			if (g->spoofchk >= 0)
				want.spoofchk = g->spoofchk;
			if ((g->has_mac && (r = set_attr(x, i, DM_VF_MAC, &cur, &want)) < 0) ||
			    (g->trust >= 0 && (r = set_attr(x, i, DM_VF_TRUST, &cur, &want)) < 0) ||
			    (g->spoofchk >= 0 && (r = set_attr(x, i, DM_VF_SPOOFCHK, &cur, &want)) < 0))
				return r;
		}
	}
	return 0;
}

/* externallyManaged: nothing changes, the PF must already satisfy the entry. */
static int verify_external(run *x)
{
	unsigned mtu, flags;
	int cur, r;
	if ((r = pf_read_num_vfs(x->pffd, &cur)) < 0)
		return fail(x, r, "cannot read sriov_numvfs");
	if (cur < x->spec->num_vfs)
		note(x, APPLY_MISMATCH, "externallyManaged: numVfs %d wanted, %d enabled", x->spec->num_vfs, cur);
	if (x->spec->eswitch_mode >= 0) {
		dm_eswitch_mode m;
		if ((r = dm_eswitch_get(x->o->sysfs_root, x->pf, &m)) < 0 && r != -EOPNOTSUPP)
			return fail(x, r, "reading the PF's eswitch mode");
		if (r < 0 || (int)m != x->spec->eswitch_mode)
			note(x, APPLY_MISMATCH, "externallyManaged: eswitch %s wanted, the PF has %s",
			     dm_eswitch_mode_name((dm_eswitch_mode)x->spec->eswitch_mode),
			     r < 0 ? "no devlink eswitch" : dm_eswitch_mode_name(m));
	}
	if (x->spec->mtu) {
		if (!x->pf_netdev[0])
			note(x, APPLY_MISMATCH, "externallyManaged: mtu %u wanted, the PF has no netdev", x->spec->mtu);
		else if ((r = ap_netdev_read(x->pffd, x->pf_netdev, &mtu, &flags)) < 0)
			return fail(x, r, "cannot read %s's mtu", x->pf_netdev);
		else if (mtu < x->spec->mtu)
			note(x, APPLY_MISMATCH, "externallyManaged: mtu %u wanted, %s has %u", x->spec->mtu, x->pf_netdev, mtu);
	}
	return 0;
}

int apply_pf(const apply_opts *o, const dm_pf_spec *spec, const char *pf_pci, apply_result *ret, char *err,
             size_t errlen)
{
	run x = { .o = o, .spec = spec, .pf = pf_pci, .pffd = -1, .res = ret, .err = err, .errlen = errlen };
	int r;

	if (!o || !spec || !pf_pci || !ret || !err || !errlen)
		return -EINVAL;
	*ret = (apply_result){ 0, 0 };
	err[0] = 0;
	if ((x.pffd = pci_dev_open(o->sysfs_root, pf_pci)) < 0)
		return fail(&x, x.pffd, "cannot open its sysfs directory");
	if (ap_netdev(x.pffd, x.pf_netdev) < 0)
		x.pf_netdev[0] = 0;
	if (spec->externally_managed) {
		r = verify_external(&x);
		goto out;
	}
	if (!(x.skip = calloc(DM_VF_INDEX_MAX, 1))) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = step_num_vfs(&x)) < 0 || (r = step_eswitch(&x)) < 0 || (r = step_link(&x)) < 0 || (r = mark_allocated(&x)) < 0 ||
	    (r = step_drivers(&x)) < 0 || (r = step_pf_mtu(&x)) < 0 || (r = step_vf_mtu(&x)) < 0 ||
	    (r = step_vf_attrs(&x)) < 0 ||
	    /* fault point: every step done, then a failure whose every undo fails too */
	    (!o->check && (r = FAULT_EVERY("apply.undo")) < 0 && (r = fail(&x, r, "after the last step")) < 0)) {
		if (r == -ENOMEM && !err[0])
			errbuf_set(err, errlen, "pf %s: out of memory", pf_pci);
		if (!o->check)
			undo_all(&x);
	}
out:
	free(x.j);
	free(x.skip);
	if (x.pffd >= 0)
		close(x.pffd);
	return r < 0 ? r : 0;
}
