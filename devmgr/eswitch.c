/* A PF's eswitch mode: read over devlink, and changed by its driver's step list, each
 * step undone when a later one fails. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "ucni/devlink.h"
#include "ucni/fault.h"
#include "internal.h"

static const char *const mode_names[] = {
	[DM_ESWITCH_LEGACY] = "legacy",
	[DM_ESWITCH_SWITCHDEV] = "switchdev",
};

const char *dm_eswitch_mode_name(dm_eswitch_mode m)
{
	return m == DM_ESWITCH_LEGACY || m == DM_ESWITCH_SWITCHDEV ? mode_names[m] : "none";
}

int dm_eswitch_mode_parse(const char *s, dm_eswitch_mode *ret)
{
	for (size_t i = 0; s && i < ELEMENTSOF(mode_names); i++)
		if (!strcmp(s, mode_names[i])) {
			*ret = (dm_eswitch_mode)i;
			return 0;
		}
	return -EINVAL;
}

/* ------------------------------------------------------------------ steps */

typedef enum step {
	STEP_END = 0,
	STEP_VFS_ZERO, /* sriov_numvfs to 0 */
	STEP_VFS_WANT, /* sriov_numvfs to the count asked for */
	STEP_UNBIND,   /* every VF off its driver */
	STEP_MODE,     /* the devlink eswitch mode */
	STEP_REBIND,   /* the VFs back to the drivers STEP_UNBIND took them from */
} step;

#define STEPS_MAX 5

/* What a driver needs, in order, to change its eswitch mode with VFs present. */
typedef struct step_list {
	const char *driver; /* the PF's driver; NULL: every other */
	step to_switchdev[STEPS_MAX];
	step to_legacy[STEPS_MAX];
} step_list;

static const step_list step_lists[] = {
	/* mlx5: VFs are made in legacy, and must be off their driver while the mode changes */
	{ "mlx5_core",
	  { STEP_VFS_WANT, STEP_UNBIND, STEP_MODE, STEP_REBIND },
	  { STEP_UNBIND, STEP_MODE, STEP_REBIND, STEP_VFS_WANT } },
	/* ice: the mode changes only without VFs */
	{ "ice", { STEP_VFS_ZERO, STEP_MODE, STEP_VFS_WANT }, { STEP_VFS_ZERO, STEP_MODE, STEP_VFS_WANT } },
	/* every other driver (netdevsim too, whose eswitch falls back to legacy when its VFs go
	 * to 0, and which makes the representors of VFs that appear in switchdev) */
	{ NULL, { STEP_VFS_ZERO, STEP_MODE, STEP_VFS_WANT }, { STEP_VFS_ZERO, STEP_MODE, STEP_VFS_WANT } },
};

/* The mode stays, the count changes; a driver that leaves switchdev when its VFs go to
 * 0 on the way (netdevsim; a change between two counts passes 0) is put back. */
static const step count_only[STEPS_MAX] = { STEP_VFS_WANT, STEP_MODE };

static const char *step_name(step s)
{
	switch (s) {
	case STEP_VFS_ZERO: return "VFs to 0";
	case STEP_VFS_WANT: return "VFs to the count wanted";
	case STEP_UNBIND: return "unbind the VFs from their driver";
	case STEP_MODE: return "switch the eswitch mode";
	case STEP_REBIND: return "bind the VFs to their driver again";
	default: return "?";
	}
}

/* A VF taken off its driver. */
typedef struct vf_bound {
	char pci[DM_PCI_ADDR_MAX];
	char driver[DM_DRIVER_MAX];
} vf_bound;

typedef struct esw_run {
	const char *root, *name;
	pf_handle h;
	int pffd;
	struct devlink dl;
	dm_eswitch_mode start_mode, want;
	int start_vfs, want_vfs;
	int vfs_before[STEPS_MAX]; /* the count before each VF count step */
	vf_bound *vfs;             /* the VFs STEP_UNBIND took off their drivers */
	size_t n_vfs;
	char kmsg[256];            /* the kernel's text of the failed devlink request */
} esw_run;

static int set_vfs(esw_run *x, int i, int num)
{
	int r = pf_read_num_vfs(x->pffd, &x->vfs_before[i]);
	if (r < 0)
		return r;
	r = FAULT("eswitch.numvfs");
	if (r < 0)
		return r;
	r = dm_pf_set_num_vfs(x->root, x->name, num);
	return r < 0 ? r : 0;
}

static int vf_unbind(const esw_run *x, const vf_bound *v)
{
	_cleanup_close_ int fd = pci_dev_open(x->root, v->pci);
	return fd < 0 ? fd : pci_driver_unbind(fd, v->pci);
}

static int vf_bind(const esw_run *x, const vf_bound *v)
{
	return pci_driver_bind(x->root, v->pci, v->driver);
}

static int collect_bound(int index, const char *vf_pci, void *arg)
{
	esw_run *x = arg;
	char link[32];
	vf_bound v = { "", "" };
	snprintf(link, sizeof(link), "virtfn%d/driver", index);
	if (readlink_base_at(x->pffd, link, v.driver, sizeof(v.driver)) < 0)
		return 0; /* no driver: nothing to unbind */
	vf_bound *n = realloc(x->vfs, (x->n_vfs + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	str_copy(v.pci, sizeof(v.pci), vf_pci);
	x->vfs = n;
	x->vfs[x->n_vfs++] = v;
	return 0;
}

static int unbind_all(esw_run *x)
{
	free(x->vfs);
	x->vfs = NULL;
	x->n_vfs = 0;
	int r = pf_for_each_virtfn(x->pffd, collect_bound, x);
	if (r < 0)
		return r;
	r = FAULT("eswitch.unbind");
	if (r < 0)
		return r;
	for (size_t i = 0; i < x->n_vfs; i++)
		if ((r = vf_unbind(x, &x->vfs[i])) < 0) {
			while (i--)
				(void)vf_bind(x, &x->vfs[i]);
			return r;
		}
	return 0;
}

static int set_mode(esw_run *x, dm_eswitch_mode m, bool injectable)
{
	int cur, r = injectable ? FAULT("eswitch.set") : 0;
	if (r < 0)
		return r;
	/* already there (the driver may have moved with its VFs): nothing to ask the driver */
	if (devlink_eswitch_get_on(&x->dl, x->h.bus, x->h.dev, &cur) >= 0 && cur == (int)m)
		return 0;
	r = devlink_eswitch_set_on(&x->dl, x->h.bus, x->h.dev, (int)m);
	if (r < 0)
		str_copy(x->kmsg, sizeof(x->kmsg), nlsk_message(&x->dl.sk));
	return r;
}

static int rebind_all(esw_run *x)
{
	int r = FAULT("eswitch.bind");
	if (r < 0)
		return r;
	for (size_t i = 0; i < x->n_vfs; i++)
		if ((r = vf_bind(x, &x->vfs[i])) < 0) {
			while (i--)
				(void)vf_unbind(x, &x->vfs[i]);
			return r;
		}
	return 0;
}

static int step_do(esw_run *x, int i, step s)
{
	switch (s) {
	case STEP_VFS_ZERO: return set_vfs(x, i, 0);
	case STEP_VFS_WANT: return set_vfs(x, i, x->want_vfs);
	case STEP_UNBIND: return unbind_all(x);
	case STEP_MODE: return set_mode(x, x->want, true);
	case STEP_REBIND: return rebind_all(x);
	default: return -EINVAL;
	}
}

/* Undoes step I, done: the mode goes back to the one the PF started in. */
static int step_undo(esw_run *x, int i, step s)
{
	int r = 0;
	/* FAULTS=1 builds: an undo that fails, for the message that tells where the PF is */
	if (SIMULATE("eswitch-undo-fails"))
		return -EIO;
	switch (s) {
	case STEP_VFS_ZERO:
	case STEP_VFS_WANT:
		r = dm_pf_set_num_vfs(x->root, x->name, x->vfs_before[i]);
		return r < 0 ? r : 0;
	case STEP_UNBIND:
		for (size_t k = 0; k < x->n_vfs; k++) {
			int e = vf_bind(x, &x->vfs[k]);
			r = r < 0 ? r : e;
		}
		return r;
	case STEP_MODE: return set_mode(x, x->start_mode, false);
	case STEP_REBIND:
		for (size_t k = 0; k < x->n_vfs; k++) {
			int e = vf_unbind(x, &x->vfs[k]);
			r = r < 0 ? r : e;
		}
		return r;
	default: return -EINVAL;
	}
}

/* "legacy with 2 VFs", as the PF is now. */
static void where_now(esw_run *x, char *buf, size_t len)
{
	int mode = -1, n = -1;
	bool have_mode = devlink_eswitch_get_on(&x->dl, x->h.bus, x->h.dev, &mode) >= 0;
	bool have_n = pf_read_num_vfs(x->pffd, &n) >= 0;
	char vfs[32];
	snprintf(vfs, sizeof(vfs), "%d VF%s", n, n == 1 ? "" : "s");
	snprintf(buf, len, "%s with %s", have_mode ? dm_eswitch_mode_name((dm_eswitch_mode)mode) : "an unknown mode",
	         have_n ? vfs : "an unknown number of VFs");
}

static const step *steps_for(const char *driver, dm_eswitch_mode want)
{
	const step_list *l = &step_lists[ELEMENTSOF(step_lists) - 1];
	/* FAULTS=1 builds: the mlx5 list on any PF (netdevsim), so its steps can fail in tests */
	if (SIMULATE("eswitch-mlx5"))
		driver = "mlx5_core";
	for (size_t i = 0; i + 1 < ELEMENTSOF(step_lists); i++)
		if (!strcmp(step_lists[i].driver, driver))
			l = &step_lists[i];
	return want == DM_ESWITCH_SWITCHDEV ? l->to_switchdev : l->to_legacy;
}

/* What dm_eswitch_get() and _set() share: the PF's directory, then devlink. */
static int esw_open(esw_run *x, const char *sysfs_root, const char *pf, char *err, size_t errlen)
{
	int r = pf_handle_parse(pf, &x->h);
	x->root = sysfs_root ? sysfs_root : DM_DEFAULT_SYSFS_ROOT;
	x->name = pf;
	if (r < 0) {
		errbuf_set(err, errlen, "%s: neither a PCI address nor a devlink handle netdevsim/netdevsimN", pf ? pf : "");
		return -EINVAL;
	}
	x->pffd = pf_handle_open(x->root, &x->h);
	if (x->pffd < 0) {
		errbuf_set(err, errlen, "%s: no such device", pf);
		return x->pffd;
	}
	return 0;
}

static int esw_open_devlink(esw_run *x, char *err, size_t errlen)
{
	int r = devlink_open(&x->dl);
	if (r < 0) {
		errbuf_set(err, errlen, "%s: devlink: %s", x->name,
		           r == -EOPNOTSUPP ? "the kernel has no devlink" : strerror(-r));
		return r;
	}
	return 0;
}

static void esw_close(esw_run *x)
{
	if (x->pffd >= 0)
		close(x->pffd);
	devlink_close(&x->dl);
	free(x->vfs);
}

/* The PF's mode; a device devlink does not know has no eswitch. */
static int esw_mode(esw_run *x, dm_eswitch_mode *ret, char *err, size_t errlen)
{
	int mode, r = devlink_eswitch_get_on(&x->dl, x->h.bus, x->h.dev, &mode);
	if (r == -ENODEV || r == -EOPNOTSUPP) {
		errbuf_set(err, errlen, "%s: no devlink eswitch (%s)", x->name,
		           r == -ENODEV ? "devlink does not know the device" : "its driver has no eswitch mode");
		return -EOPNOTSUPP;
	}
	if (r < 0) {
		errbuf_set(err, errlen, "%s: devlink eswitch get: %s", x->name, strerror(-r));
		return r;
	}
	if (mode != DM_ESWITCH_LEGACY && mode != DM_ESWITCH_SWITCHDEV) {
		errbuf_set(err, errlen, "%s: devlink reports eswitch mode %d, neither legacy nor switchdev", x->name, mode);
		return -EPROTO;
	}
	*ret = (dm_eswitch_mode)mode;
	return 0;
}

int dm_eswitch_get(const char *sysfs_root, const char *pf_pci, dm_eswitch_mode *ret)
{
	esw_run x = { .pffd = -1, .dl = DEVLINK_NULL };
	dm_eswitch_mode m;
	int r = esw_open(&x, sysfs_root, pf_pci, NULL, 0);
	if (r >= 0)
		r = esw_open_devlink(&x, NULL, 0);
	if (r >= 0)
		r = esw_mode(&x, &m, NULL, 0);
	esw_close(&x);
	if (r < 0)
		return r;
	*ret = m;
	return 0;
}

static int run_steps(esw_run *x, const step *steps, char *err, size_t errlen)
{
	char driver[DM_DRIVER_MAX] = "", where[96];
	int n = 0, i, r = 0;
	(void)readlink_base_at(x->pffd, "driver", driver, sizeof(driver));
	while (n < STEPS_MAX && steps[n] != STEP_END)
		n++;
	for (i = 0; i < n; i++)
		if ((r = step_do(x, i, steps[i])) < 0)
			break;
	if (i == n)
		return 1;
	int failed = i, undo_r = 0, undo_at = -1;
	while (i-- > 0 && undo_r >= 0)
		if ((undo_r = step_undo(x, i, steps[i])) < 0)
			undo_at = i;
	dm_eswitch_mode m;
	/* a driver may leave its mode when its VFs go (netdevsim falls back to legacy at 0) */
	if (undo_r >= 0 && esw_mode(x, &m, NULL, 0) >= 0 && m != x->start_mode)
		undo_r = set_mode(x, x->start_mode, false);
	where_now(x, where, sizeof(where));
	char kmsg[300] = "";
	if (x->kmsg[0])
		snprintf(kmsg, sizeof(kmsg), " (kernel: %s)", x->kmsg);
	if (undo_r >= 0)
		errbuf_set(err, errlen, "%s (%s): eswitch %s -> %s: step %d of %d, %s, failed: %s%s; undone: the PF is %s",
		           x->name, driver[0] ? driver : "no driver", dm_eswitch_mode_name(x->start_mode),
		           dm_eswitch_mode_name(x->want), failed + 1, n, step_name(steps[failed]), strerror(-r), kmsg, where);
	else
		errbuf_set(err, errlen,
		           "%s (%s): eswitch %s -> %s: step %d of %d, %s, failed: %s%s; undoing step %d, %s, failed "
		           "too (%s): the PF is now %s, it was %s with %d VFs",
		           x->name, driver[0] ? driver : "no driver", dm_eswitch_mode_name(x->start_mode),
		           dm_eswitch_mode_name(x->want), failed + 1, n, step_name(steps[failed]), strerror(-r), kmsg,
		           undo_at + 1, undo_at >= 0 ? step_name(steps[undo_at]) : "the mode", strerror(-undo_r), where,
		           dm_eswitch_mode_name(x->start_mode), x->start_vfs);
	return r;
}

int dm_eswitch_set(const char *sysfs_root, const char *pf_pci, dm_eswitch_mode want, int num_vfs, char *err,
                   size_t errlen)
{
	esw_run x = { .pffd = -1, .dl = DEVLINK_NULL, .want = want, .want_vfs = num_vfs };
	char driver[DM_DRIVER_MAX] = "";
	int total, r;
	if (want != DM_ESWITCH_LEGACY && want != DM_ESWITCH_SWITCHDEV) {
		errbuf_set(err, errlen, "%s: eswitch mode %d is neither legacy nor switchdev", pf_pci ? pf_pci : "", want);
		return -EINVAL;
	}
	if (num_vfs < 0) {
		errbuf_set(err, errlen, "%s: %d is not a VF count", pf_pci ? pf_pci : "", num_vfs);
		return -EINVAL;
	}
	if ((r = esw_open(&x, sysfs_root, pf_pci, err, errlen)) < 0)
		goto out;
	if ((r = pf_read_num_vfs(x.pffd, &x.start_vfs)) < 0) {
		errbuf_set(err, errlen, "%s: not an SR-IOV PF (no sriov_numvfs)", pf_pci);
		r = -ENODEV;
		goto out;
	}
	if (read_int_at(x.pffd, "sriov_totalvfs", &total) >= 0 && num_vfs > total) {
		errbuf_set(err, errlen, "%s: %d VFs requested but sriov_totalvfs is %d", pf_pci, num_vfs, total);
		r = -ERANGE;
		goto out;
	}
	if ((r = esw_open_devlink(&x, err, errlen)) < 0 || (r = esw_mode(&x, &x.start_mode, err, errlen)) < 0)
		goto out;
	(void)readlink_base_at(x.pffd, "driver", driver, sizeof(driver));
	if (x.start_mode == want && x.start_vfs == num_vfs)
		r = 0;
	else if (x.start_mode == want)
		r = run_steps(&x, count_only, err, errlen);
	else
		r = run_steps(&x, steps_for(driver, want), err, errlen);
out:
	esw_close(&x);
	return r;
}
