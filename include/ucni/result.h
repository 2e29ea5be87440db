/* CNI results: one version-neutral model, parsed from and printed as any supported version. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include "ucni/cni.h"
#include "ucni/ipaddr.h"

struct cni_iface {
	char *name;
	char *mac;
	char *sandbox;
	char *socket_path; /* 1.1.0 */
	char *pci_id;      /* 1.1.0 */
	int mtu;           /* 1.1.0; 0: not set */
};

struct cni_ip {
	struct ip_prefix address;
	bool has_gateway;
	struct ip_addr gateway;
	int iface; /* index into interfaces, -1: none */
};

struct cni_result {
	struct cni_iface *ifaces;
	size_t n_ifaces;
	struct cni_ip *ips;
	size_t n_ips;
	struct cni_route *routes;
	size_t n_routes;
	cJSON *dns; /* owned; NULL when absent */
};

/* Parse the LEN bytes of JSON TEXT that WHAT names ("network configuration", "IPAM
 * result"). Malformed text, and a string or key holding the escape \u0000 (which cJSON
 * would cut there), are decode errors (6) naming WHAT, the byte offset and the key path.
 * Returns 0 and *ret (the caller deletes it), or the cni_fail() value. */
int cni_json_parse(const char *text, size_t len, const char *what, cJSON **ret);

/* Parse a result of any supported version. `version` is the cniVersion that
 * governs the object (the result's own when it carries one). `what` names it
 * in error messages ("prevResult", "IPAM result"). */
int cni_result_parse(const cJSON *json, const char *what, struct cni_result **ret);
/* One route object {dst, gw, mtu, advmss, priority, table, scope} (scope -1: not set).
 * On a bad field: -EINVAL, *ret_why says what is wrong and *ret_val is the value shown
 * (NULL: none); nothing is recorded, the caller names the object. */
int cni_route_parse(const cJSON *e, struct cni_route *ret, const char **ret_why, const char **ret_val);
/* Print as `version`: 0.3.x/0.4.0 carry ips[].version; 1.1.0 adds mtu,
 * socketPath, pciID and the route extras; older versions drop them. */
cJSON *cni_result_to_json(const struct cni_result *r, enum cni_version version);
struct cni_result *cni_result_new(void);
void cni_result_free(struct cni_result *r);
/* Append an interface (strings copied); returns its index or -ENOMEM. */
int cni_result_add_iface(struct cni_result *r, const char *name, const char *mac,
			 const char *sandbox, int mtu);
/* Append src's interfaces, IPs, routes (and dns when dst has none). IPs that
 * point at no interface, and all IPs of a result without interfaces (IPAM),
 * are pointed at dst's interface `iface`. */
int cni_result_merge(struct cni_result *dst, const struct cni_result *src, int iface);
/* Deep copy. */
struct cni_result *cni_result_dup(const struct cni_result *r);

int ip_prefix_parse(const char *s, struct ip_prefix *ret);
int ip_addr_parse(const char *s, struct ip_addr *ret);
/* "10.1.2.3/24"; buf of INET6_ADDRSTRLEN + 4 */
const char *ip_prefix_format(const struct ip_prefix *p, char *buf, size_t len);
const char *ip_addr_format(const struct ip_addr *a, char *buf, size_t len);
#define IP_PREFIX_STRLEN (INET6_ADDRSTRLEN + 5)
