/* static: the addresses, routes and dns its config (or the runtime) names; nothing is stored. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static const char *const static_args[] = {"IP", "GATEWAY", NULL};

/* ipam.addresses: [{"address": CIDR, "gateway": IP}], appended to ret. */
static int conf_addresses(const cJSON *ipam, struct ipam_reqs *ret)
{
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(ipam, "addresses"), *e;
	char where[48];
	int i = 0;
	if (!l || cJSON_IsNull(l))
		return 0;
	if (!cJSON_IsArray(l))
		return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL,
				"invalid config: \"ipam.addresses\" must be a list of {\"address\", \"gateway\"}");
	cJSON_ArrayForEach(e, l)
	{
		struct ipam_req q = {0};
		const char *addr = NULL, *gw = NULL;
		if (!cJSON_IsObject(e))
			return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid config: \"ipam.addresses[%d]\" must be an object",
					i);
		snprintf(where, sizeof(where), "ipam.addresses[%d]", i);
		if (conf_string(e, where, "address", &addr) < 0 || conf_string(e, where, "gateway", &gw) < 0)
			return -EINVAL;
		if (ipam_addr_parse(addr, true, &q.addr, &q.has_len) < 0)
			return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL,
					"invalid config: \"ipam.addresses[%d].address\" %s%s%s is not an address with a prefix length (CIDR, as 10.1.2.3/24)",
					i, addr ? "value \"" : "is missing: it", addr ? addr : "", addr ? "\"" : "");
		if (gw) {
			if (ipam_ip_parse(gw, &q.gateway) < 0)
				return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL,
						"invalid config: \"ipam.addresses[%d].gateway\" value \"%s\" is not an IP address", i, gw);
			if (q.gateway.family != q.addr.family)
				return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL,
						"invalid config: \"ipam.addresses[%d].gateway\" value \"%s\" is not of the family of its address \"%s\"",
						i, gw, addr);
			q.has_gateway = true;
		}
		if (ipam_reqs_add(ret, &q) < 0)
			return cni_fail(CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
		i++;
	}
	return 0;
}

/*
 * The addresses, by precedence: runtimeConfig.ips, else args.cni.ips, else
 * ipam.addresses followed by CNI_ARGS IP= (whose gateways GATEWAY= sets). The
 * addresses of the config are read only when they count.
 */
static int static_addresses(const struct cni_ctx *ctx, const cJSON *ipam, struct ipam_reqs *ret)
{
	struct ipam_requests q;
	struct ipam_reqs l = {0};
	int r = ipam_requests_load(ctx, IPAM_REQ_STATIC, &q);
	if (r < 0)
		return r;
	if (q.runtime.n)
		r = ipam_reqs_append(&l, &q.runtime);
	else if (q.args.n)
		r = ipam_reqs_append(&l, &q.args);
	else if ((r = conf_addresses(ipam, &l)) >= 0)
		r = ipam_reqs_append(&l, &q.cni_args);
	ipam_requests_free(&q);
	if (r == -ENOMEM && !cni_failed())
		r = cni_fail(CNI_ERR_INTERNAL, r, "out of memory");
	if (r < 0) {
		ipam_reqs_free(&l);
		return r;
	}
	*ret = l;
	return 0;
}

static int static_add(struct cni_ctx *ctx, struct cni_result **ret)
{
	const cJSON *ipam;
	struct ipam_reqs l = {0};
	struct cni_result *res = NULL;
	int r;
	if ((r = ipam_section(ctx, &ipam)) < 0 || (r = static_addresses(ctx, ipam, &l)) < 0)
		goto out;
	if (!(res = cni_result_new())) {
		r = cni_fail(CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < l.n; i++)
		if ((r = ipam_result_add_ip(res, &l.v[i].addr, l.v[i].has_gateway ? &l.v[i].gateway : NULL)) < 0)
			goto out;
	if ((r = ipam_routes_parse(ipam, res)) < 0 || (r = ipam_dns_parse(ipam, res)) < 0)
		goto out;
	*ret = res;
	res = NULL;
out:
	cni_result_free(res);
	ipam_reqs_free(&l);
	return r;
}

static bool same_ip(const struct ip_addr *a, const struct ip_addr *b)
{
	size_t n = a->family == AF_INET ? 4 : 16;
	return a->family == b->family && memcmp(a->addr.bytes, b->addr.bytes, n) == 0;
}

/* CHECK: every address is in prevResult's ips, with its gateway when it has one. */
static int static_check(struct cni_ctx *ctx)
{
	const cJSON *ipam;
	struct ipam_reqs l = {0};
	const struct cni_result *prev = ctx->conf.prev;
	char a[INET6_ADDRSTRLEN], g[INET6_ADDRSTRLEN], h[INET6_ADDRSTRLEN];
	int r;
	if ((r = ipam_section(ctx, &ipam)) < 0 || (r = static_addresses(ctx, ipam, &l)) < 0)
		goto out;
	if (!prev) {
		r = cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid config: CHECK needs \"prevResult\"");
		goto out;
	}
	for (size_t i = 0; i < l.n; i++) {
		struct ip_addr want = {.family = l.v[i].addr.family}, have, gw;
		const struct cni_ip *found = NULL;
		memcpy(want.addr.bytes, l.v[i].addr.addr.bytes, sizeof(want.addr.bytes));
		for (size_t k = 0; k < prev->n_ips && !found; k++) {
			have.family = prev->ips[k].address.family;
			memcpy(have.addr.bytes, prev->ips[k].address.addr.bytes, sizeof(have.addr.bytes));
			ipam_ip_canonical(&have);
			if (same_ip(&want, &have))
				found = &prev->ips[k];
		}
		ip_addr_format(&want, a, sizeof(a));
		if (!found) {
			r = cni_fail(CNI_ERR_INVALID_CONFIG, -ENOENT,
				     "CHECK: address %s of interface \"%s\" is not in prevResult's ips", a, ctx->env.ifname);
			goto out;
		}
		if (!l.v[i].has_gateway)
			continue;
		gw = found->gateway;
		ipam_ip_canonical(&gw);
		if (!found->has_gateway || !same_ip(&gw, &l.v[i].gateway)) {
			ip_addr_format(&l.v[i].gateway, g, sizeof(g));
			r = cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL,
				     "CHECK: address %s of interface \"%s\" has gateway %s in prevResult, not %s", a,
				     ctx->env.ifname, found->has_gateway ? ip_addr_format(&gw, h, sizeof(h)) : "none", g);
			goto out;
		}
	}
	r = 0;
out:
	ipam_reqs_free(&l);
	return r;
}

/* Nothing was reserved: DEL has nothing to release. */
static int static_del(struct cni_ctx *ctx)
{
	return 0;
}

const struct ipam_plugin ipam_static = {
	.name = "static",
	.about = "ucni static IPAM plugin",
	.known_args = static_args,
	.add = static_add,
	.del = static_del,
	.check = static_check,
};

#ifdef UCNI_FUZZ
/* The config parser alone, for tests/fuzz/fuzz_ipam.c: ADD and CHECK have no effect
 * beyond their answer. */
int static_fuzz_parse(struct cni_ctx *ctx);
int static_fuzz_parse(struct cni_ctx *ctx)
{
	struct cni_result *res = NULL;
	int r = static_add(ctx, &res);
	cni_result_free(res);
	if (r < 0 || !ctx->conf.prev)
		return r;
	return static_check(ctx);
}
#endif
