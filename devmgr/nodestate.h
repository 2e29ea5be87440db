/* The node's SR-IOV state as `devmgr status` reports it (devmgr/nodestate.c), shaped
 * after the SR-IOV network operator's SriovNetworkNodeState status.interfaces. */
#ifndef DEVMGR_NODESTATE_H
#define DEVMGR_NODESTATE_H

#include <stdbool.h>
#include <stddef.h>

#include "devmgr/devmgr.h"
#include "eswitch.h"

/* Unknown numbers are -1, unknown strings "". */
typedef struct ns_vf {
	int id;                        /* the VF's index at its PF */
	char name[DM_IFNAME_MAX];      /* its netdev */
	char mac[DM_MAC_MAX];
	char driver[DM_DRIVER_MAX];
	char pci[DM_PCI_ADDR_MAX];     /* "" for a VF that is no PCI function (netdevsim) */
	int vendor, device;
	int mtu;
	int vlan;                      /* from the PF's VF list over netlink */
	char representor[DM_IFNAME_MAX]; /* switchdev: the representor netdev */
} ns_vf;

typedef struct ns_pf {
	char bus[16];                  /* "pci" or "netdevsim" */
	char dev[24];                  /* PCI address or "netdevsimN" */
	char name[DM_IFNAME_MAX];
	char mac[DM_MAC_MAX];
	char driver[DM_DRIVER_MAX];
	int vendor, device;
	int mtu;
	int num_vfs, total_vfs;
	int speed;                     /* Mbit/s */
	char link_type[16];            /* "ETH", "IB", or the ARPHRD number */
	int admin_up;                  /* IFF_UP: 1/0 */
	bool eswitch_known;            /* asked devlink: eswitch then holds the answer */
	dm_eswitch_mode eswitch;       /* DM_ESWITCH_NONE: no devlink eswitch */
	ns_vf *vfs;
	size_t n_vfs;
} ns_pf;

typedef struct dm_nodestate {
	ns_pf *pfs;
	size_t n;
} dm_nodestate;

enum {
	/* ask the kernel too: VF VLANs over rtnetlink, the eswitch mode over devlink, and the
	 * representors (the tree must be the running kernel's /sys) */
	NODESTATE_KERNEL = 1 << 0,
};

/* Every SR-IOV PF of the tree: network PCI functions with sriov_totalvfs, and netdevsim
 * devices, in address order; ONLY (NULL: all) keeps the one PF of that PCI address,
 * netdev name or devlink handle: -ENOENT when there is none. */
int dm_nodestate_load(const char *sysfs_root, unsigned flags, const char *only, dm_nodestate **ret);
dm_nodestate *dm_nodestate_free(dm_nodestate *s);

struct cJSON;
/* The documented JSON (doc/devmgr.8, STATUS JSON). */
struct cJSON *dm_nodestate_json(const dm_nodestate *s);

#endif
