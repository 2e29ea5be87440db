/* The plugin frame every plugin's verbs share (stacked kinds and sriov alike):
 * the container's namespace, CHECK's first steps, ADD's result. */
#pragma once

#include <stdbool.h>
#include "ucni/cni.h"
#include "ucni/nl.h"
#include "ucni/result.h"

/* CNI_NETNS opened as *ret_nsfd, and a netlink socket *ret_sk in it. Records the error. */
int plugin_netns_open(const struct cni_ctx *ctx, int *ret_nsfd, struct nlsk *ret_sk);

/*
 * CHECK's first steps, the same for every plugin: prevResult lists CNI_IFNAME (in
 * the sandbox CNI_NETNS when `in_sandbox`; *ret_idx its index), CNI_NETNS opens
 * (plugin_netns_open), `open` (optional) opens what else the plugin looks at, and
 * the IPAM plugin, when configured, checks its part. Records the error.
 */
int plugin_check_begin(const struct cni_ctx *ctx, bool in_sandbox, int *ret_nsfd, struct nlsk *ret_sk,
		       int (*open)(void *arg), void *arg, int *ret_idx);

/* The interface ADD reports; NULL and 0 leave a field out. */
struct plugin_iface {
	const char *name;
	const char *mac; /* "aa:bb:cc:dd:ee:ff" */
	int mtu;
	const char *pci_id;
};

/*
 * ADD's result, as cniVersion prints it: prevResult (or an empty result) with
 * the interface `iface` in CNI_NETNS appended, ipam's IPs and routes (NULL: none)
 * pointed at it; with `adopt`, so are the IPs that point at no interface; the
 * config's "dns" when it lists any. Records the error.
 */
int plugin_add_result(const struct cni_ctx *ctx, const struct plugin_iface *iface, const struct cni_result *ipam,
		      bool adopt, cJSON **ret);
