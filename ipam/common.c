/* What the IPAM plugins share: requested addresses, routes, dns, the result, the skeleton. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ucni/clock.h"
#include "common.h"

/* ---- addresses ---- */

static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* An IPv4-mapped IPv6 address in bytes made IPv4 in place; false when it is none. */
static bool unmap(int *family, unsigned char bytes[16])
{
	unsigned char v4[4];
	if (*family != AF_INET6 || memcmp(bytes, v4mapped, sizeof(v4mapped)) != 0)
		return false;
	memcpy(v4, bytes + 12, 4);
	memset(bytes, 0, 16);
	memcpy(bytes, v4, 4);
	*family = AF_INET;
	return true;
}

void ipam_prefix_canonical(struct ip_prefix *p)
{
	if (unmap(&p->family, p->addr.bytes))
		p->len = p->len >= 96 ? p->len - 96 : 0;
}

void ipam_ip_canonical(struct ip_addr *a)
{
	unmap(&a->family, a->addr.bytes);
}

int ipam_ip_parse(const char *s, struct ip_addr *ret)
{
	struct ip_addr a;
	if (ip_addr_parse(s, &a) < 0)
		return -EINVAL;
	ipam_ip_canonical(&a);
	*ret = a;
	return 0;
}

int ipam_addr_parse(const char *s, bool need_len, struct ip_prefix *ret, bool *ret_has_len)
{
	struct ip_prefix p = {0};
	bool has_len = s && strchr(s, '/');
	if (!s || (need_len && !has_len))
		return -EINVAL;
	if (has_len) {
		if (ip_prefix_parse(s, &p) < 0)
			return -EINVAL;
	} else {
		struct ip_addr a;
		if (ip_addr_parse(s, &a) < 0)
			return -EINVAL;
		p.family = a.family;
		memcpy(p.addr.bytes, a.addr.bytes, sizeof(p.addr.bytes));
		p.len = a.family == AF_INET ? 32 : 128;
	}
	ipam_prefix_canonical(&p); /* a mapped address without a length: 128 - 96, its own 32 */
	*ret = p;
	if (ret_has_len)
		*ret_has_len = has_len;
	return 0;
}

bool ipam_prefix_contains(const struct ip_prefix *p, const struct ip_addr *a)
{
	int n = a->family == AF_INET ? 4 : 16;
	if (p->family != a->family || p->len < 0 || p->len > n * 8)
		return false;
	for (int i = 0; i < n; i++) {
		int bits = p->len - i * 8;
		unsigned char m = bits >= 8 ? 0xff : bits <= 0 ? 0 : (unsigned char)(0xff << (8 - bits));
		if ((p->addr.bytes[i] & m) != (a->addr.bytes[i] & m))
			return false;
	}
	return true;
}

int ipam_reqs_add(struct ipam_reqs *l, const struct ipam_req *req)
{
	struct ipam_req *v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	l->v = v;
	v[l->n++] = *req;
	return 0;
}

int ipam_reqs_append(struct ipam_reqs *dst, const struct ipam_reqs *src)
{
	for (size_t i = 0; i < src->n; i++) {
		int r = ipam_reqs_add(dst, &src->v[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

void ipam_reqs_free(struct ipam_reqs *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void ipam_requests_free(struct ipam_requests *r)
{
	ipam_reqs_free(&r->cni_args);
	ipam_reqs_free(&r->args);
	ipam_reqs_free(&r->runtime);
}

static int oom(void)
{
	return cni_fail(CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
}

/* The last value of CNI_ARGS key (a key given twice: the later one counts). */
static const char *last_arg(const struct cni_env *env, const char *key)
{
	const char *v = NULL;
	for (size_t i = 0; i < env->n_args; i++)
		if (strcmp(env->args[i].key, key) == 0)
			v = env->args[i].value;
	return v;
}

/* s without leading and trailing white space, into buf. */
static const char *trim(const char *s, size_t n, char *buf, size_t size)
{
	while (n && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\v' || *s == '\f')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r' ||
		     s[n - 1] == '\v' || s[n - 1] == '\f'))
		n--;
	if (n >= size)
		n = size - 1; /* too long for any address: still refused */
	memcpy(buf, s, n);
	buf[n] = 0;
	return buf;
}

static const char *addr_form(unsigned flags)
{
	return flags & IPAM_REQ_CIDR ? "an address with a prefix length (CIDR, as 10.1.2.3/24)"
				     : "an IP address (as 10.1.2.3, or 10.1.2.3/24)";
}

/* CNI_ARGS IP= and, with IPAM_REQ_LIST, GATEWAY=. */
static int cni_args_load(const struct cni_env *env, unsigned flags, struct ipam_reqs *ret)
{
	const char *ip = last_arg(env, "IP"), *gw = (flags & IPAM_REQ_LIST) ? last_arg(env, "GATEWAY") : NULL;
	char buf[128];
	struct ipam_req q;
	if (ip && *ip) {
		const char *p = ip;
		for (;;) {
			const char *comma = (flags & IPAM_REQ_LIST) ? strchr(p, ',') : NULL;
			size_t n = comma ? (size_t)(comma - p) : strlen(p);
			const char *item = (flags & IPAM_REQ_LIST) ? trim(p, n, buf, sizeof(buf)) : p;
			memset(&q, 0, sizeof(q));
			if (ipam_addr_parse(item, flags & IPAM_REQ_CIDR, &q.addr, &q.has_len) < 0)
				return cni_fail(CNI_ERR_INVALID_ENV, -EINVAL, "CNI_ARGS: IP value \"%s\" is not %s", item,
						addr_form(flags));
			if (ipam_reqs_add(ret, &q) < 0)
				return oom();
			if (!comma)
				break;
			p = comma + 1;
		}
	}
	if (gw && *gw) {
		const char *p = gw;
		for (;;) {
			const char *comma = strchr(p, ',');
			size_t n = comma ? (size_t)(comma - p) : strlen(p);
			struct ip_addr a;
			if (ipam_ip_parse(trim(p, n, buf, sizeof(buf)), &a) < 0)
				return cni_fail(CNI_ERR_INVALID_ENV, -EINVAL, "CNI_ARGS: GATEWAY value \"%.*s\" is not an IP address",
						(int)n, p);
			for (size_t i = 0; i < ret->n; i++)
				if (ipam_prefix_contains(&ret->v[i].addr, &a)) {
					ret->v[i].gateway = a;
					ret->v[i].has_gateway = true;
				}
			if (!comma)
				break;
			p = comma + 1;
		}
	}
	return 0;
}

/* A list of address strings at obj.key, named `name` in messages. */
static int ips_load(const cJSON *obj, const char *key, const char *name, unsigned flags, struct ipam_reqs *ret)
{
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(obj, key), *e;
	int i = 0;
	if (!l || cJSON_IsNull(l))
		return 0;
	if (!cJSON_IsArray(l)) {
		char *s = cJSON_PrintUnformatted(l);
		int r = cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid config: \"%s\" must be a list of addresses, got %.64s",
				 name, s ? s : "?");
		free(s);
		return r;
	}
	cJSON_ArrayForEach(e, l)
	{
		struct ipam_req q = {0};
		if (!cJSON_IsString(e)) {
			char *s = cJSON_PrintUnformatted(e);
			int r = cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid config: \"%s[%d]\" must be a string, got %.64s",
					 name, i, s ? s : "?");
			free(s);
			return r;
		}
		if (ipam_addr_parse(e->valuestring, flags & IPAM_REQ_CIDR, &q.addr, &q.has_len) < 0)
			return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid config: \"%s[%d]\" value \"%s\" is not %s", name,
					i, e->valuestring, addr_form(flags));
		if (ipam_reqs_add(ret, &q) < 0)
			return oom();
		i++;
	}
	return 0;
}

/* obj.key as an object (NULL when absent or null); code 7 when it is something else. */
static int object_at(const cJSON *obj, const char *key, const char *name, const cJSON **ret)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	*ret = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsObject(v)) {
		char *s = cJSON_PrintUnformatted(v);
		int r = cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid config: \"%s\" must be an object, got %.64s", name,
				 s ? s : "?");
		free(s);
		return r;
	}
	*ret = v;
	return 1;
}

int ipam_requests_load(const struct cni_ctx *ctx, unsigned flags, struct ipam_requests *ret)
{
	struct ipam_requests q = {0};
	const cJSON *args, *cni;
	int r;
	memset(ret, 0, sizeof(*ret));
	if ((r = cni_args_load(&ctx->env, flags, &q.cni_args)) < 0 ||
	    (r = object_at(ctx->conf.root, "args", "args", &args)) < 0 ||
	    (r = object_at(args, "cni", "args.cni", &cni)) < 0 ||
	    (r = ips_load(cni, "ips", "args.cni.ips", flags, &q.args)) < 0 ||
	    (r = ips_load(ctx->conf.runtime, "ips", "runtimeConfig.ips", flags, &q.runtime)) < 0) {
		ipam_requests_free(&q);
		return r;
	}
	*ret = q;
	return 0;
}

/* ---- the config ---- */

int ipam_section(const struct cni_ctx *ctx, const cJSON **ret)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(ctx->conf.root, "ipam");
	if (!v || cJSON_IsNull(v))
		return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid config: \"ipam\" is missing");
	if (!cJSON_IsObject(v))
		return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid config: \"ipam\" must be an object");
	*ret = v;
	return 0;
}

int ipam_routes_parse(const cJSON *ipam, struct cni_result *res)
{
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(ipam, "routes"), *e;
	int i = 0;
	if (!l || cJSON_IsNull(l))
		return 0;
	if (!cJSON_IsArray(l))
		return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid config: \"ipam.routes\" must be a list of routes");
	struct cni_route *v = realloc(res->routes, (res->n_routes + (size_t)cJSON_GetArraySize(l) + 1) * sizeof(*v));
	if (!v)
		return oom();
	res->routes = v;
	cJSON_ArrayForEach(e, l)
	{
		struct cni_route rt;
		const char *why, *val;
		if (!cJSON_IsObject(e))
			return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid config: \"ipam.routes[%d]\" must be an object",
					i);
		if (cni_route_parse(e, &rt, &why, &val) < 0)
			return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid config: \"ipam.routes[%d]\": %s%s%s%s", i, why,
					val ? " (\"" : "", val ? val : "", val ? "\")" : "");
		ipam_prefix_canonical(&rt.dst);
		if (rt.has_gw)
			ipam_ip_canonical(&rt.gw);
		res->routes[res->n_routes++] = rt;
		i++;
	}
	return 0;
}

/* A list of strings at dns.key, copied into out when not empty. */
static int dns_list(const cJSON *dns, const char *key, cJSON *out)
{
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(dns, key), *e;
	if (!l || cJSON_IsNull(l))
		return 0;
	if (!cJSON_IsArray(l))
		return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid config: \"ipam.dns.%s\" must be a list of strings",
				key);
	cJSON_ArrayForEach(e, l)
	{
		if (!cJSON_IsString(e))
			return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL,
					"invalid config: \"ipam.dns.%s\" must be a list of strings", key);
	}
	if (cJSON_GetArraySize(l) == 0)
		return 0;
	cJSON *c = cJSON_Duplicate(l, true);
	if (!c || !cJSON_AddItemToObject(out, key, c)) {
		cJSON_Delete(c);
		return oom();
	}
	return 0;
}

int ipam_dns_parse(const cJSON *ipam, struct cni_result *res)
{
	const cJSON *dns, *dom;
	cJSON *out;
	int r = object_at(ipam, "dns", "ipam.dns", &dns);
	if (r <= 0)
		return r;
	if (!(out = cJSON_CreateObject()))
		return oom();
	dom = cJSON_GetObjectItemCaseSensitive(dns, "domain");
	if (dom && !cJSON_IsNull(dom) && !cJSON_IsString(dom)) {
		r = cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid config: \"ipam.dns.domain\" must be a string");
		goto out;
	}
	/* the order the reference plugins print */
	if ((r = dns_list(dns, "nameservers", out)) < 0)
		goto out;
	if (cJSON_IsString(dom) && *dom->valuestring && !cJSON_AddStringToObject(out, "domain", dom->valuestring)) {
		r = oom();
		goto out;
	}
	if ((r = dns_list(dns, "search", out)) < 0 || (r = dns_list(dns, "options", out)) < 0)
		goto out;
	if (cJSON_GetArraySize(out) > 0) {
		cJSON_Delete(res->dns);
		res->dns = out;
		out = NULL;
	}
	r = 0;
out:
	cJSON_Delete(out);
	return r;
}

/* ---- the result ---- */

int ipam_result_add_ip(struct cni_result *res, const struct ip_prefix *addr, const struct ip_addr *gw)
{
	struct cni_ip *v = realloc(res->ips, (res->n_ips + 2) * sizeof(*v));
	if (!v)
		return oom();
	res->ips = v;
	struct cni_ip *ip = &v[res->n_ips++];
	memset(ip, 0, sizeof(*ip));
	ip->address = *addr;
	ip->iface = -1;
	if (gw) {
		ip->has_gateway = true;
		ip->gateway = *gw;
	}
	return 0;
}

cJSON *ipam_result_json(const struct cni_ctx *ctx, const struct cni_result *res)
{
	return cni_result_to_json(res, ctx->conf.version);
}

/* ---- the skeleton ---- */

static const struct ipam_plugin *ipam_of(const struct cni_ctx *ctx)
{
	return ctx->plugin->data;
}

const void *ipam_data(const struct cni_ctx *ctx)
{
	return ipam_of(ctx)->data;
}

static int ipam_add(struct cni_ctx *ctx, cJSON **ret)
{
	struct cni_result *res = NULL;
	int r = ipam_of(ctx)->add(ctx, &res);
	if (r >= 0 && res && !(*ret = ipam_result_json(ctx, res)))
		r = oom();
	cni_result_free(res);
	return r;
}

static int ipam_del(struct cni_ctx *ctx)
{
	return ipam_of(ctx)->del(ctx);
}

static int ipam_check(struct cni_ctx *ctx)
{
	return ipam_of(ctx)->check(ctx);
}

static int ipam_status(struct cni_ctx *ctx)
{
	return ipam_of(ctx)->status ? ipam_of(ctx)->status(ctx) : 0;
}

static int ipam_gc(struct cni_ctx *ctx)
{
	return ipam_of(ctx)->gc ? ipam_of(ctx)->gc(ctx) : 0;
}

void ipam_cni_plugin(const struct ipam_plugin *p, struct cni_plugin *ret)
{
	*ret = (struct cni_plugin){
		.name = p->name,
		.about = p->about,
		.known_args = p->known_args,
		.add = ipam_add,
		.del = ipam_del,
		.check = ipam_check,
		.status = ipam_status,
		.gc = ipam_gc,
		.data = p,
		.ipam = true,
	};
}

int ipam_main(const struct ipam_plugin *p)
{
	struct cni_plugin cp;
	ipam_cni_plugin(p, &cp);
	return cni_main(&cp);
}

/* The deadline of an in-process run (ms on the monotonic clock), 0 when none. */
static long long run_deadline;

void ipam_deadline_set(long long deadline_ms)
{
	run_deadline = deadline_ms;
}

int ipam_lock_wait_ms(int want)
{
	if (!run_deadline)
		return want;
	long long left = run_deadline - now_ms();
	/* a wait cut short ends at the deadline: the caller sees it passed */
	return left <= 0 ? 0 : left < want ? (int)left : want;
}
