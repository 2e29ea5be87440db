/* What the files of the device plugin model share inside the library (not in dp.h). */
#ifndef DEVMGR_DP_INT_H
#define DEVMGR_DP_INT_H

#include "dp.h"

/* The reasons an unhealthy device gives (dp_device.why): compared by address. */
extern const char DP_WHY_NO_DRIVER[], DP_WHY_NO_NETDEV[], DP_WHY_PF_GONE[], DP_WHY_PF_DOWN[],
	DP_WHY_PF_NO_CARRIER[], DP_WHY_VF_GONE[], DP_WHY_OUTSIDE[];

/* Why the VF v of PF pf (NULL: not known) is unhealthy, from the facts alone; NULL when it
 * is healthy (the store is not asked: DP_WHY_NO_NETDEV may still be a VF in a pod). */
const char *dp_why_of(const dp_pf *pf, const dp_device *v);
/* The PF of v in s (by address), NULL when s has none. */
dp_pf *dp_pf_of(const dp_set *s, const char *pci);
/* The first entry of dirfd/path (a device's net or infiniband directory) into buf, ""
 * when none: one getdents, no DIR buffer. */
/* A PF's link facts from sysfs: its netdev (busfd: <root>/bus/pci/devices), the IFF_UP of
 * its flags, carrier and operstate (netfd: <root>/class/net). */
void dp_pf_read(int busfd, int netfd, dp_pf *p);

#endif
