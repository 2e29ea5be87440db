/* Address configuration inside the container: sysctls, addresses, routes,
 * DAD wait and announcements. */
#pragma once

#include "ucni/nl.h"
#include "ucni/result.h"

/* Set arp_notify / ndisc_notify for the families among the result's addresses
 * (those of interface `iface`), add them and the routes to ifindex, wait
 * (bounded) for IPv6 DAD, then announce each address (gratuitous ARP,
 * unsolicited neighbour advertisement) from `mac` (the link's 6-byte MAC;
 * NULL: no announcements). */
int ipcfg_apply(struct nlsk *sk, int nsfd, int ifindex, const char *ifname, const unsigned char *mac,
		const struct cni_result *r, int iface);
/* CHECK: every address of interface `iface` and every route is there. */
int ipcfg_verify(struct nlsk *sk, int ifindex, const char *ifname, const struct cni_result *r,
		 int iface);
/* CHECK: the link has prevResult's MAC (if given), the configured MTU (if
 * not 0) and is up. */
int ipcfg_verify_link(const struct link_info *li, const char *ifname, const char *want_mac, unsigned int mtu);
