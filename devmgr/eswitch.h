/* A PF's eswitch mode over devlink, and the driver's step list that changes it with its
 * VFs (devmgr/eswitch.c); libdevmgr internal, used by the devmgr command. */
#ifndef DEVMGR_ESWITCH_H
#define DEVMGR_ESWITCH_H

#include <stddef.h>

typedef enum dm_eswitch_mode {
	DM_ESWITCH_NONE = -1, /* the PF has no devlink eswitch */
	DM_ESWITCH_LEGACY = 0,
	DM_ESWITCH_SWITCHDEV = 1,
} dm_eswitch_mode;

/* "legacy", "switchdev", "none" (also for any other value). */
const char *dm_eswitch_mode_name(dm_eswitch_mode m);
/* "legacy" or "switchdev" (exactly): 0 and *RET; -EINVAL otherwise. */
int dm_eswitch_mode_parse(const char *s, dm_eswitch_mode *ret);

/*
 * PF_PCI names the PF by its PCI address or, for a device of another bus that devlink
 * knows, by its devlink handle "netdevsim/netdevsimN" (the emulated PF of the tests);
 * its sysfs directory is <root>/bus/<bus>/devices/<dev>. Errors of both calls:
 *   -EINVAL      a name of neither form
 *   -ENOENT      no such device under SYSFS_ROOT
 *   -EOPNOTSUPP  the PF has no devlink eswitch (no devlink instance, a driver without
 *                eswitch mode, or a kernel without devlink)
 */
/* The PF's mode (DM_ESWITCH_LEGACY or DM_ESWITCH_SWITCHDEV). */
int dm_eswitch_get(const char *sysfs_root, const char *pf_pci, dm_eswitch_mode *ret);
/*
 * Brings the PF to mode WANT with NUM_VFS VFs afterwards, by the step list of its driver
 * (doc/devmgr.8, ESWITCH MODE): mlx5_core sets the VFs in legacy, unbinds them, switches
 * and rebinds them; ice and every other driver take the VFs to 0, switch, and bring them
 * back. VF counts change through dm_pf_set_num_vfs(): the caller makes sure no VF of the
 * PF is allocated (as `devmgr vfs` does). Returns 0 when the PF already was so (nothing
 * done), 1 when it changed; on failure the steps done are undone in reverse order and
 * -errno is returned (-ERANGE: NUM_VFS above sriov_totalvfs, nothing done), with ERR
 * saying which step failed, the kernel's message if any, and the PF's resulting mode
 * and VF count.
 */
int dm_eswitch_set(const char *sysfs_root, const char *pf_pci, dm_eswitch_mode want, int num_vfs, char *err,
                   size_t errlen);

#endif
