/* The apply engine's interface (libdevmgr internal, used by the CLI): one PF brought to
 * its "pfs" entry step by step, each step journaled and undone in reverse on a failure. */
#ifndef DEVMGR_APPLY_H
#define DEVMGR_APPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "internal.h"

/* What a note reports: a change made (or, checking, one that would be made), something
 * left alone, an externallyManaged PF that does not satisfy its entry, an undo. */
typedef enum apply_note {
	APPLY_CHANGE,
	APPLY_KEPT,
	APPLY_MISMATCH,
	APPLY_UNDONE,
} apply_note;

typedef struct apply_opts {
	const char *sysfs_root;
	bool check;        /* change nothing: each difference becomes an APPLY_CHANGE note */
	dm_store *store;   /* the allocations (NULL: none); their VFs are left alone */
	void (*note)(void *arg, apply_note kind, const char *line);
	void *arg;
} apply_opts;

typedef struct apply_result {
	int changes;    /* made, or with check found */
	int mismatches; /* externallyManaged: what does not satisfy the entry */
} apply_result;

/* Brings the PF at PF_PCI (canonical) to SPEC, in the order numVfs, eswitch mode, link
 * up, VF drivers (admin MAC first), PF MTU, VF MTUs, VF trust/spoofchk/MAC. Notes go to
 * O->note, one line each ("pf 0000:3b:00.0: mtu 1500 -> 9000"). On a failure the steps
 * done are undone in reverse and -errno returned, ERR saying which step failed and where
 * the PF stands (what an undo could not put back, if any). *RET counts; ERR (ERRLEN > 0)
 * is required. */
int apply_pf(const apply_opts *o, const dm_pf_spec *spec, const char *pf_pci, apply_result *ret, char *err,
             size_t errlen);

/* apply-steps.c: the sysfs side of the steps, relative to a device directory DEVFD */
/* The netdev of the device (the first entry of its net/): 0, -ENOENT without one. */
int ap_netdev(int devfd, char ret[DM_IFNAME_MAX]);
/* Its MTU and flags (IFF_*) from net/NAME/{mtu,flags}. */
int ap_netdev_read(int devfd, const char *name, unsigned *ret_mtu, unsigned *ret_flags);
int ap_netdev_set_mtu(int devfd, const char *name, unsigned mtu);
int ap_netdev_set_flags(int devfd, const char *name, unsigned flags);
/* The VF's driver (its driver link's name, "" unbound) and driver_override ("" none). */
int ap_driver_read(int devfd, char drv[64], char override[64]);
/* Rebinds the device PCI: driver_override OVERRIDE ("" clears it), unbound from its
 * driver, then bound to DRIVER, left unbound when DRIVER is "", or probed when DRIVER is
 * NULL (the kernel picks, honouring the override). */
int ap_driver_bind(const char *root, int devfd, const char *pci, const char *override, const char *driver);

#endif
