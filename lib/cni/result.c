/* CNI results: parse any supported version into one model, print as any version. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ucni/jsoncheck.h"
#include "ucni/result.h"

int ip_addr_parse(const char *s, struct ip_addr *ret)
{
	struct ip_addr a = {0};
	if (!s)
		return -EINVAL;
	if (inet_pton(AF_INET, s, &a.addr.v4) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, s, &a.addr.v6) == 1)
		a.family = AF_INET6;
	else
		return -EINVAL;
	*ret = a;
	return 0;
}

int ip_prefix_parse(const char *s, struct ip_prefix *ret)
{
	char buf[INET6_ADDRSTRLEN + 8];
	struct ip_addr a;
	char *slash, *end;
	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash || !slash[1])
		return -EINVAL;
	*slash = '\0';
	if (ip_addr_parse(buf, &a) < 0)
		return -EINVAL;
	errno = 0;
	long len = strtol(slash + 1, &end, 10);
	if (*end || errno || len < 0 || len > (a.family == AF_INET ? 32 : 128) || slash[1] == '+' ||
	    slash[1] == '-' || slash[1] == ' ')
		return -EINVAL;
	ret->family = a.family;
	memcpy(ret->addr.bytes, a.addr.bytes, sizeof(a.addr.bytes));
	ret->len = (int)len;
	return 0;
}

const char *ip_addr_format(const struct ip_addr *a, char *buf, size_t len)
{
	return inet_ntop(a->family, a->addr.bytes, buf, (socklen_t)len);
}

const char *ip_prefix_format(const struct ip_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	if (!inet_ntop(p->family, p->addr.bytes, a, sizeof(a)))
		return NULL;
	snprintf(buf, len, "%s/%d", a, p->len);
	return buf;
}

struct cni_result *cni_result_new(void)
{
	return calloc(1, sizeof(struct cni_result));
}

void cni_result_free(struct cni_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_ifaces; i++) {
		free(r->ifaces[i].name);
		free(r->ifaces[i].mac);
		free(r->ifaces[i].sandbox);
		free(r->ifaces[i].socket_path);
		free(r->ifaces[i].pci_id);
	}
	free(r->ifaces);
	free(r->ips);
	free(r->routes);
	cJSON_Delete(r->dns);
	free(r);
}

static char *dup_or_null(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

int cni_result_add_iface(struct cni_result *r, const char *name, const char *mac, const char *sandbox,
			 int mtu)
{
	struct cni_iface *n = realloc(r->ifaces, (r->n_ifaces + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	r->ifaces = n;
	struct cni_iface *i = &n[r->n_ifaces];
	memset(i, 0, sizeof(*i));
	i->name = dup_or_null(name);
	i->mac = dup_or_null(mac);
	i->sandbox = dup_or_null(sandbox);
	i->mtu = mtu;
	return (int)r->n_ifaces++;
}

static int bad(const char *what, const char *field, int idx, const char *why, const char *val)
{
	if (idx >= 0)
		return cni_fail(CNI_ERR_DECODE, -EINVAL, "%s: %s[%d]: %s%s%s%s", what, field, idx, why,
				val ? " \"" : "", val ? val : "", val ? "\"" : "");
	return cni_fail(CNI_ERR_DECODE, -EINVAL, "%s: %s: %s", what, field, why);
}

static const char *str_of(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool has(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return v && !cJSON_IsNull(v);
}

static int int_of(const cJSON *o, const char *k, int *ret)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!v || cJSON_IsNull(v))
		return 0;
	/* range first: converting an out-of-range double to int is undefined */
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= INT_MIN && v->valuedouble <= INT_MAX) ||
	    v->valuedouble != (double)(int)v->valuedouble)
		return -EINVAL;
	*ret = (int)v->valuedouble;
	return 1;
}

static const cJSON *array_of(const cJSON *o, const char *k, const char *what, int *r)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	*r = 0;
	if (!v || cJSON_IsNull(v))
		return NULL;
	if (!cJSON_IsArray(v))
		*r = bad(what, k, -1, "must be an array", NULL);
	return v;
}

int cni_route_parse(const cJSON *e, struct cni_route *ret, const char **ret_why, const char **ret_val)
{
	struct cni_route rt = {.scope = -1};
	const char *dst = str_of(e, "dst"), *gw = str_of(e, "gw");
	*ret_val = NULL;
	if (!dst || ip_prefix_parse(dst, &rt.dst) < 0) {
		*ret_why = "\"dst\" is not an address/prefix";
		*ret_val = dst;
		return -EINVAL;
	}
	if (has(e, "gw")) {
		if (!gw || ip_addr_parse(gw, &rt.gw) < 0 || rt.gw.family != rt.dst.family) {
			*ret_why = "\"gw\" is not an address of the same family";
			*ret_val = gw;
			return -EINVAL;
		}
		rt.has_gw = true;
	}
	if (int_of(e, "mtu", &rt.mtu) < 0 || int_of(e, "advmss", &rt.advmss) < 0 ||
	    int_of(e, "priority", &rt.priority) < 0 || int_of(e, "table", &rt.table) < 0 ||
	    int_of(e, "scope", &rt.scope) < 0 || rt.mtu < 0 || rt.advmss < 0 || rt.priority < 0 || rt.table < 0 ||
	    rt.scope > 255) {
		*ret_why = "mtu, advmss, priority, table and scope must be non-negative integers";
		return -EINVAL;
	}
	*ret = rt;
	return 0;
}

int cni_json_parse(const char *text, size_t len, const char *what, cJSON **ret)
{
	struct json_nul nul;
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithLengthOpts(text, len, &end, false);
	if (!j)
		return cni_fail(CNI_ERR_DECODE, -EINVAL, "%s is not valid JSON (error at byte %td)", what,
				end ? end - text : (ptrdiff_t)0);
	if (json_find_nul(text, len, &nul)) {
		cJSON_Delete(j);
		const char *what_nul = nul.raw ? "a NUL byte" : "an escaped NUL (\\u0000)";
		if (nul.in_key)
			return cni_fail(CNI_ERR_DECODE, -EINVAL, "%s: a key of %s%s%s holds %s at byte %zu", what,
					nul.path[0] ? "\"" : "the top-level object", nul.path, nul.path[0] ? "\"" : "",
					what_nul, nul.offset);
		return cni_fail(CNI_ERR_DECODE, -EINVAL, "%s: %s%s%s holds %s at byte %zu", what,
				nul.path[0] ? "\"" : "the top-level value", nul.path, nul.path[0] ? "\"" : "", what_nul,
				nul.offset);
	}
	*ret = j;
	return 0;
}

int cni_result_parse(const cJSON *j, const char *what, struct cni_result **ret)
{
	struct cni_result *r = cni_result_new();
	const cJSON *a, *e;
	int rc, idx;

	if (!r)
		return cni_fail(CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
	if (!cJSON_IsObject(j)) {
		rc = cni_fail(CNI_ERR_DECODE, -EINVAL, "%s is not a JSON object", what);
		goto fail;
	}
	const char *ver = str_of(j, "cniVersion");
	if (ver && cni_version_parse(ver) < 0) {
		rc = cni_fail(CNI_ERR_INCOMPATIBLE_VERSION, -ENOTSUP, "%s has unsupported cniVersion \"%s\"",
			      what, ver);
		goto fail;
	}

	a = array_of(j, "interfaces", what, &rc);
	if (rc < 0)
		goto fail;
	idx = 0;
	cJSON_ArrayForEach(e, a)
	{
		const char *name = str_of(e, "name");
		int mtu = 0;
		if (!cJSON_IsObject(e) || !name) {
			rc = bad(what, "interfaces", idx, "needs a \"name\"", NULL);
			goto fail;
		}
		if (int_of(e, "mtu", &mtu) < 0 || mtu < 0) {
			rc = bad(what, "interfaces", idx, "\"mtu\" must be a non-negative integer", NULL);
			goto fail;
		}
		int i = cni_result_add_iface(r, name, str_of(e, "mac"), str_of(e, "sandbox"), mtu);
		if (i < 0) {
			rc = cni_fail(CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
			goto fail;
		}
		r->ifaces[i].socket_path = dup_or_null(str_of(e, "socketPath"));
		r->ifaces[i].pci_id = dup_or_null(str_of(e, "pciID"));
		idx++;
	}

	a = array_of(j, "ips", what, &rc);
	if (rc < 0)
		goto fail;
	r->ips = calloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(*r->ips));
	if (!r->ips) {
		rc = cni_fail(CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
		goto fail;
	}
	idx = 0;
	cJSON_ArrayForEach(e, a)
	{
		struct cni_ip *ip = &r->ips[r->n_ips];
		const char *addr = str_of(e, "address"), *gw = str_of(e, "gateway"),
			   *v = str_of(e, "version");
		ip->iface = -1;
		if (!addr || ip_prefix_parse(addr, &ip->address) < 0) {
			rc = bad(what, "ips", idx, "\"address\" is not an address/prefix", addr);
			goto fail;
		}
		if (has(e, "gateway")) {
			if (!gw || ip_addr_parse(gw, &ip->gateway) < 0 ||
			    ip->gateway.family != ip->address.family) {
				rc = bad(what, "ips", idx, "\"gateway\" is not an address of the same family", gw);
				goto fail;
			}
			ip->has_gateway = true;
		}
		if (v && !((strcmp(v, "4") == 0 && ip->address.family == AF_INET) ||
			   (strcmp(v, "6") == 0 && ip->address.family == AF_INET6))) {
			rc = bad(what, "ips", idx, "\"version\" does not match the address", v);
			goto fail;
		}
		int ifi;
		int k = int_of(e, "interface", &ifi);
		/* A result without interfaces (IPAM) cannot point into them: ignore the index. */
		if (k > 0 && r->n_ifaces == 0)
			k = 0;
		if (k < 0 || (k > 0 && (ifi < 0 || (size_t)ifi >= r->n_ifaces))) {
			rc = bad(what, "ips", idx, "\"interface\" is not an index into interfaces", NULL);
			goto fail;
		}
		if (k > 0)
			ip->iface = ifi;
		r->n_ips++;
		idx++;
	}

	a = array_of(j, "routes", what, &rc);
	if (rc < 0)
		goto fail;
	r->routes = calloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(*r->routes));
	if (!r->routes) {
		rc = cni_fail(CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
		goto fail;
	}
	idx = 0;
	cJSON_ArrayForEach(e, a)
	{
		const char *why, *val;
		if (cni_route_parse(e, &r->routes[r->n_routes], &why, &val) < 0) {
			rc = bad(what, "routes", idx, why, val);
			goto fail;
		}
		r->n_routes++;
		idx++;
	}

	const cJSON *dns = cJSON_GetObjectItemCaseSensitive(j, "dns");
	if (dns && !cJSON_IsNull(dns)) {
		if (!cJSON_IsObject(dns)) {
			rc = bad(what, "dns", -1, "must be an object", NULL);
			goto fail;
		}
		r->dns = cJSON_Duplicate(dns, true);
	}
	*ret = r;
	return 0;
fail:
	cni_result_free(r);
	return rc;
}

cJSON *cni_result_to_json(const struct cni_result *r, enum cni_version v)
{
	char buf[IP_PREFIX_STRLEN];
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "cniVersion", cni_version_str(v));

	if (r->n_ifaces) {
		cJSON *l = cJSON_AddArrayToObject(o, "interfaces");
		for (size_t i = 0; i < r->n_ifaces; i++) {
			const struct cni_iface *f = &r->ifaces[i];
			cJSON *e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "name", f->name ? f->name : "");
			if (f->mac)
				cJSON_AddStringToObject(e, "mac", f->mac);
			if (v >= CNI_V110 && f->mtu > 0)
				cJSON_AddNumberToObject(e, "mtu", f->mtu);
			if (f->sandbox)
				cJSON_AddStringToObject(e, "sandbox", f->sandbox);
			if (v >= CNI_V110 && f->socket_path)
				cJSON_AddStringToObject(e, "socketPath", f->socket_path);
			if (v >= CNI_V110 && f->pci_id)
				cJSON_AddStringToObject(e, "pciID", f->pci_id);
			cJSON_AddItemToArray(l, e);
		}
	}
	if (r->n_ips) {
		cJSON *l = cJSON_AddArrayToObject(o, "ips");
		for (size_t i = 0; i < r->n_ips; i++) {
			const struct cni_ip *ip = &r->ips[i];
			cJSON *e = cJSON_CreateObject();
			if (v < CNI_V100)
				cJSON_AddStringToObject(e, "version", ip->address.family == AF_INET ? "4" : "6");
			if (ip->iface >= 0)
				cJSON_AddNumberToObject(e, "interface", ip->iface);
			cJSON_AddStringToObject(e, "address", ip_prefix_format(&ip->address, buf, sizeof(buf)));
			if (ip->has_gateway)
				cJSON_AddStringToObject(e, "gateway", ip_addr_format(&ip->gateway, buf, sizeof(buf)));
			cJSON_AddItemToArray(l, e);
		}
	}
	if (r->n_routes) {
		cJSON *l = cJSON_AddArrayToObject(o, "routes");
		for (size_t i = 0; i < r->n_routes; i++) {
			const struct cni_route *rt = &r->routes[i];
			cJSON *e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "dst", ip_prefix_format(&rt->dst, buf, sizeof(buf)));
			if (rt->has_gw)
				cJSON_AddStringToObject(e, "gw", ip_addr_format(&rt->gw, buf, sizeof(buf)));
			if (v >= CNI_V110) {
				if (rt->mtu)
					cJSON_AddNumberToObject(e, "mtu", rt->mtu);
				if (rt->advmss)
					cJSON_AddNumberToObject(e, "advmss", rt->advmss);
				if (rt->priority)
					cJSON_AddNumberToObject(e, "priority", rt->priority);
				if (rt->table)
					cJSON_AddNumberToObject(e, "table", rt->table);
				if (rt->scope >= 0)
					cJSON_AddNumberToObject(e, "scope", rt->scope);
			}
			cJSON_AddItemToArray(l, e);
		}
	}
	cJSON_AddItemToObject(o, "dns", r->dns ? cJSON_Duplicate(r->dns, true) : cJSON_CreateObject());
	return o;
}

int cni_result_merge(struct cni_result *dst, const struct cni_result *src, int iface)
{
	size_t base = dst->n_ifaces;
	for (size_t i = 0; i < src->n_ifaces; i++) {
		const struct cni_iface *f = &src->ifaces[i];
		int k = cni_result_add_iface(dst, f->name, f->mac, f->sandbox, f->mtu);
		if (k < 0)
			return k;
		dst->ifaces[k].socket_path = dup_or_null(f->socket_path);
		dst->ifaces[k].pci_id = dup_or_null(f->pci_id);
	}
	struct cni_ip *ips = realloc(dst->ips, (dst->n_ips + src->n_ips + 1) * sizeof(*ips));
	if (!ips)
		return -ENOMEM;
	dst->ips = ips;
	for (size_t i = 0; i < src->n_ips; i++) {
		struct cni_ip ip = src->ips[i];
		/* An IPAM result has no interfaces: its IPs are the new interface's. */
		ip.iface = ip.iface >= 0 && src->n_ifaces ? ip.iface + (int)base : iface;
		dst->ips[dst->n_ips++] = ip;
	}
	struct cni_route *rts = realloc(dst->routes, (dst->n_routes + src->n_routes + 1) * sizeof(*rts));
	if (!rts)
		return -ENOMEM;
	dst->routes = rts;
	memcpy(rts + dst->n_routes, src->routes, src->n_routes * sizeof(*rts));
	dst->n_routes += src->n_routes;
	if (!dst->dns && src->dns)
		dst->dns = cJSON_Duplicate(src->dns, true);
	return 0;
}

struct cni_result *cni_result_dup(const struct cni_result *r)
{
	struct cni_result *d = cni_result_new();
	if (d && cni_result_merge(d, r, -1) < 0) {
		cni_result_free(d);
		return NULL;
	}
	return d;
}
