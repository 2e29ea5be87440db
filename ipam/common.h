/* What the IPAM plugins share: the "ipam" section, requested addresses, routes and dns,
 * the IPAM result, and the main skeleton. Built on lib/cni: its environment, config,
 * result model, printing and errors. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "ucni/cni.h"
#include "ucni/ipaddr.h"
#include "ucni/result.h"

/* ---- addresses ---- */

/* One requested address. `addr` holds the address as written (host bits kept) and,
 * when has_len, its prefix length; a bare address (host-local accepts one) has none. */
struct ipam_req {
	struct ip_prefix addr;
	bool has_len;
	bool has_gateway; /* static: CNI_ARGS GATEWAY= or "gateway" */
	struct ip_addr gateway;
};

struct ipam_reqs {
	struct ipam_req *v;
	size_t n;
};

/* The requests of the three sources the runtime and the user have, each in the order
 * given. What a plugin makes of them is its own: static takes runtime, else args,
 * else its addresses followed by cni_args; host-local takes all three. */
struct ipam_requests {
	struct ipam_reqs cni_args; /* CNI_ARGS IP= */
	struct ipam_reqs args;     /* the config's args.cni.ips */
	struct ipam_reqs runtime;  /* runtimeConfig.ips (capability "ips") */
};

enum {
	/* Every address needs a prefix length ("10.1.2.3/24"); without it a bare address
	 * is accepted too (has_len false). */
	IPAM_REQ_CIDR = 1 << 0,
	/* CNI_ARGS IP= is a comma-separated list, each item trimmed, and GATEWAY= (a
	 * comma-separated list too) sets the gateway of every IP= address whose subnet
	 * holds it, the last one listed winning; without it, IP= is one address. */
	IPAM_REQ_LIST = 1 << 1,
	IPAM_REQ_STATIC = IPAM_REQ_CIDR | IPAM_REQ_LIST,
	IPAM_REQ_HOSTLOCAL = 0,
};

/*
 * Parse an address "a.b.c.d[/len]" or "x::y[/len]" (with need_len, the length is
 * required). An IPv4-mapped IPv6 address (::ffff:a.b.c.d) becomes the IPv4 address,
 * its length less 96 (0 when shorter), as the reference plugins print it.
 * 0, or -EINVAL (nothing recorded).
 */
int ipam_addr_parse(const char *s, bool need_len, struct ip_prefix *ret, bool *ret_has_len);
/* An IP address, IPv4-mapped ones made IPv4. 0 or -EINVAL. */
int ipam_ip_parse(const char *s, struct ip_addr *ret);
/* Make an IPv4-mapped IPv6 address or prefix IPv4 (in place). */
void ipam_prefix_canonical(struct ip_prefix *p);
void ipam_ip_canonical(struct ip_addr *a);
/* Is `a` inside the subnet of `p` (its address masked to its length)? False across families. */
bool ipam_prefix_contains(const struct ip_prefix *p, const struct ip_addr *a);

/* Append one request (copied). 0 or -ENOMEM. */
int ipam_reqs_add(struct ipam_reqs *l, const struct ipam_req *req);
/* Append all of src. 0 or -ENOMEM. */
int ipam_reqs_append(struct ipam_reqs *dst, const struct ipam_reqs *src);
void ipam_reqs_free(struct ipam_reqs *l);

/*
 * The requested addresses of this invocation: CNI_ARGS IP= (and GATEWAY= with
 * IPAM_REQ_LIST), args.cni.ips and runtimeConfig.ips, parsed as `flags` say. An empty
 * IP= or an empty list requests nothing. Errors name the source and the value: code 4
 * for CNI_ARGS, 7 for the config. Records the error; on failure *ret is left empty.
 */
int ipam_requests_load(const struct cni_ctx *ctx, unsigned flags, struct ipam_requests *ret);
void ipam_requests_free(struct ipam_requests *r);

/* ---- the config ---- */

/* The config's "ipam" object; code 7 when it is missing or null. */
int ipam_section(const struct cni_ctx *ctx, const cJSON **ret);
/* Append the routes of `ipam`'s "routes" (each {dst, gw, and for 1.1.0 mtu, advmss,
 * priority, table, scope}) to res. Records a code-7 error naming the entry. */
int ipam_routes_parse(const cJSON *ipam, struct cni_result *res);
/* Set res->dns from `ipam`'s "dns": nameservers, domain, search, options, each kept
 * only when not empty (other keys are dropped). Absent or null: res->dns stays NULL
 * (printed as {}). Records a code-7 error naming the key. */
int ipam_dns_parse(const cJSON *ipam, struct cni_result *res);

/* ---- the result ---- */

/* Append an address (with its gateway when gw is not NULL) to an IPAM result: no
 * interface. 0 or a recorded error (out of memory). */
int ipam_result_add_ip(struct cni_result *res, const struct ip_prefix *addr, const struct ip_addr *gw);
/* The result as the config's cniVersion prints it (any of 0.3.0-1.1.0). */
cJSON *ipam_result_json(const struct cni_ctx *ctx, const struct cni_result *res);

/* ---- the skeleton ---- */

struct ipam_plugin {
	const char *name;
	const char *about;
	const char *const *known_args;                           /* CNI_ARGS keys besides IgnoreUnknown */
	int (*add)(struct cni_ctx *ctx, struct cni_result **ret); /* the result, without interfaces */
	int (*del)(struct cni_ctx *ctx);
	int (*check)(struct cni_ctx *ctx);
	int (*status)(struct cni_ctx *ctx); /* NULL: always available */
	int (*gc)(struct cni_ctx *ctx);     /* NULL: nothing to collect */
	const void *data;                   /* the plugin's own: ipam_data(ctx) */
};

/* The plugin's data from a verb. */
const void *ipam_data(const struct cni_ctx *ctx);

/*
 * Runs one invocation of an IPAM plugin on cni_main() and returns the exit status.
 * The environment is the caller's (the same CNI_* variables as its own plugin gets):
 * no attachment lock is taken, as the plugin that runs this one holds it. ADD prints
 * the result in the config's cniVersion; STATUS and GC are 1.1.0's.
 */
int ipam_main(const struct ipam_plugin *p);
/* The CNI plugin that runs `p` (what ipam_main hands to cni_main). */
void ipam_cni_plugin(const struct ipam_plugin *p, struct cni_plugin *ret);

/* The two IPAM plugins, run by their programs (static-main.c, hostlocal-main.c) and,
 * in-process, by the plugins that link them (inproc.c). */
extern const struct ipam_plugin ipam_static;
extern const struct ipam_plugin ipam_hostlocal;

/*
 * A run in-process inside a plugin ends by the plugin's IPAM deadline (ms on the
 * monotonic clock; 0: none, as in a program of its own): a wait for a lock is cut
 * to what is left of it. ipam_lock_wait_ms(want) is the wait to use.
 */
void ipam_deadline_set(long long deadline_ms);
int ipam_lock_wait_ms(int want);
