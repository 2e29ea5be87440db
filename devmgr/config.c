/* The pool configuration: the SR-IOV network device plugin's resourceList read as is
 * (selectors and their "#0,2-7" VF ranges); ucni's "pfs" list is config-pf.c's. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "dp.h"
#include "internal.h"
#include "ucni/io.h"
#include "ucni/jsoncheck.h"

typedef struct pf_sel {
	char name[DM_IFNAME_MAX > DM_PCI_ADDR_MAX ? DM_IFNAME_MAX : DM_PCI_ADDR_MAX];
	bool has_range;
	vf_range range;
} pf_sel;

typedef struct selector {
	uint16_t *vendors, *devices;
	size_t n_vendors, n_devices;
	char **drivers, **pci_addrs, **link_types;
	size_t n_drivers, n_pci_addrs, n_link_types;
	pf_sel *pf_names, *root_devices;
	size_t n_pf_names, n_root_devices;
} selector;

typedef struct pool {
	char *name, *prefix;
	selector *sels;
	size_t n_sels;
	dp_policy policy;      /* "policy": the device plugin's preferred allocation */
	bool exclude_topology; /* "excludeTopology": no NUMA node to the kubelet */
} pool;

struct dm_config {
	pool *pools;
	size_t n_pools;
	dm_pf_spec *pfs;
	size_t n_pfs;
};

int vf_range_parse(const char *s, vf_range *ret)
{
	vf_range r;
	memset(&r, 0, sizeof(r));
	if (!s || !*s)
		return -EINVAL;
	const char *p = s;
	for (;;) {
		char *end;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		unsigned long a = strtoul(p, &end, 10), b = a;
		p = end;
		if (*p == '-') {
			p++;
			if (!isdigit((unsigned char)*p))
				return -EINVAL;
			b = strtoul(p, &end, 10);
			p = end;
		}
		if (a > b || b >= DM_VF_INDEX_MAX)
			return -ERANGE;
		for (unsigned long i = a; i <= b; i++)
			r.bits[i / 8] |= (unsigned char)(1u << (i % 8));
		if (!*p)
			break;
		if (*p != ',')
			return -EINVAL;
		p++;
	}
	*ret = r;
	return 0;
}

static void selector_done(selector *s)
{
	free(s->vendors);
	free(s->devices);
	for (size_t i = 0; i < s->n_drivers; i++)
		free(s->drivers[i]);
	for (size_t i = 0; i < s->n_pci_addrs; i++)
		free(s->pci_addrs[i]);
	for (size_t i = 0; i < s->n_link_types; i++)
		free(s->link_types[i]);
	free(s->drivers);
	free(s->pci_addrs);
	free(s->link_types);
	free(s->pf_names);
	free(s->root_devices);
}

dm_config *dm_config_free(dm_config *c)
{
	if (!c)
		return NULL;
	for (size_t i = 0; i < c->n_pools; i++) {
		for (size_t j = 0; j < c->pools[i].n_sels; j++)
			selector_done(&c->pools[i].sels[j]);
		free(c->pools[i].sels);
		free(c->pools[i].name);
		free(c->pools[i].prefix);
	}
	free(c->pools);
	for (size_t i = 0; i < c->n_pfs; i++)
		config_pf_done(&c->pfs[i]);
	free(c->pfs);
	free(c);
	return NULL;
}

/* Was V's key seen earlier in its object? A key given twice is refused: which of the
 * two counts would be a guess (and parsing both leaked the first). Found by fuzzing. */
bool config_key_repeated(const cJSON *o, const cJSON *v)
{
	for (const cJSON *e = o->child; e && e != v; e = e->next)
		if (!strcmp(e->string, v->string))
			return true;
	return false;
}

static int str_array(pctx *x, const cJSON *v, const char *key, char ***ret, size_t *ret_n)
{
	if (!cJSON_IsArray(v))
		FAIL(x, -EINVAL, "%s.%s: must be an array of strings", x->path, key);
	size_t n = (size_t)cJSON_GetArraySize(v), i = 0;
	char **a = calloc(n ? n : 1, sizeof(char *));
	if (!a)
		return -ENOMEM;
	const cJSON *e;
	cJSON_ArrayForEach(e, v) {
		if (!cJSON_IsString(e) || !*e->valuestring || strlen(e->valuestring) > 255) {
			for (size_t j = 0; j < i; j++)
				free(a[j]);
			free(a);
			FAIL(x, -EINVAL, "%s.%s[%zu]: must be a non-empty string", x->path, key, i);
		}
		a[i++] = strdup(e->valuestring);
		if (!a[i - 1]) {
			for (size_t j = 0; j < i; j++)
				free(a[j]);
			free(a);
			return -ENOMEM;
		}
	}
	*ret = a;
	*ret_n = n;
	return 0;
}

static void free_strs(char **a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(a[i]);
	free(a);
}

/* KEY's array of strings V, each turned by CONV (which names a bad one in x->err) into
 * element I, of SIZE bytes, of a new array: *RET, *RET_N. ARG is CONV's. */
static int str_array_conv(pctx *x, const cJSON *v, const char *key, size_t size,
                          int (*conv)(pctx *x, const char *key, size_t i, char *s, void *elem, const void *arg),
                          const void *arg, void **ret, size_t *ret_n)
{
	char **a;
	size_t n;
	int r = str_array(x, v, key, &a, &n);
	if (r < 0)
		return r;
	char *out = calloc(n ? n : 1, size);
	if (!out)
		r = -ENOMEM;
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = conv(x, key, i, a[i], out + i * size, arg);
	free_strs(a, n);
	if (r < 0) {
		free(out);
		return r;
	}
	*ret = out;
	*ret_n = n;
	return 0;
}

/* "8086" or "0x8086" */
static int conv_hex_id(pctx *x, const char *key, size_t i, char *s, void *elem, const void *arg)
{
	const char *h = s;
	uint32_t id;
	if (!strncasecmp(h, "0x", 2))
		h += 2;
	if (strlen(h) < 1 || strlen(h) > 4 || parse_hex_u32(h, &id) < 0)
		FAIL(x, -EINVAL, "%s.%s[%zu]: \"%s\" is not a 16-bit hex id", x->path, key, i, val(x, s));
	*(uint16_t *)elem = (uint16_t)id;
	return 0;
}

static int hex_ids(pctx *x, const cJSON *v, const char *key, uint16_t **ret, size_t *ret_n)
{
	void *ids;
	int r = str_array_conv(x, v, key, sizeof(uint16_t), conv_hex_id, NULL, &ids, ret_n);
	if (r >= 0)
		*ret = ids;
	return r;
}

/* "ens1f0" or "ens1f0#0,2-7" (pfNames), "0000:3b:00.0#0-3" (rootDevices: *ARG true). */
static int conv_pf_sel(pctx *x, const char *key, size_t i, char *s, void *elem, const void *arg)
{
	pf_sel *p = elem;
	char *hash = strchr(s, '#');
	if (hash) {
		*hash = 0;
		int r = vf_range_parse(hash + 1, &p->range);
		if (r < 0) {
			*hash = '#';
			FAIL(x, -EINVAL, "%s.%s[%zu]: bad VF range in \"%s\"%s", x->path, key, i, val(x, s),
			     r == -ERANGE ? " (a range must ascend and stay below 4096)" : "");
		}
		p->has_range = true;
	}
	if (*(const bool *)arg) {
		char addr[DM_PCI_ADDR_MAX];
		if (dm_pci_addr_normalize(s, addr) < 0)
			FAIL(x, -EINVAL, "%s.%s[%zu]: \"%s\" is not a PCI address", x->path, key, i, val(x, s));
		strcpy(p->name, addr);
	} else {
		if (!dm_ifname_valid(s))
			FAIL(x, -EINVAL, "%s.%s[%zu]: \"%s\" is not an interface name", x->path, key, i, val(x, s));
		strcpy(p->name, s);
	}
	return 0;
}

static int pf_sels(pctx *x, const cJSON *v, const char *key, bool pci, pf_sel **ret, size_t *ret_n)
{
	void *sels;
	int r = str_array_conv(x, v, key, sizeof(pf_sel), conv_pf_sel, &pci, &sels, ret_n);
	if (r >= 0)
		*ret = sels;
	return r;
}

static int parse_selector(pctx *x, const cJSON *o, selector *s)
{
	const cJSON *v;
	int r = 0;

	memset(s, 0, sizeof(*s));
	if (!cJSON_IsObject(o))
		FAIL(x, -EINVAL, "%s: a selector must be an object", x->path);
	cJSON_ArrayForEach(v, o) {
		const char *k = v->string;
		if (config_key_repeated(o, v)) {
			errbuf_set(x->err, x->errlen, "%s: \"%s\" is given twice", x->path, val(x, k));
			r = -EINVAL;
		} else if (!strcmp(k, "vendors"))
			r = hex_ids(x, v, k, &s->vendors, &s->n_vendors);
		else if (!strcmp(k, "devices"))
			r = hex_ids(x, v, k, &s->devices, &s->n_devices);
		else if (!strcmp(k, "drivers"))
			r = str_array(x, v, k, &s->drivers, &s->n_drivers);
		else if (!strcmp(k, "linkTypes"))
			r = str_array(x, v, k, &s->link_types, &s->n_link_types);
		else if (!strcmp(k, "pciAddresses")) {
			r = str_array(x, v, k, &s->pci_addrs, &s->n_pci_addrs);
			for (size_t i = 0; r >= 0 && i < s->n_pci_addrs; i++) {
				char addr[DM_PCI_ADDR_MAX], *canon;
				if (dm_pci_addr_normalize(s->pci_addrs[i], addr) < 0) {
					errbuf_set(x->err, x->errlen, "%s.pciAddresses[%zu]: \"%s\" is not a PCI address",
					           x->path, i, val(x, s->pci_addrs[i]));
					r = -EINVAL;
				} else if (!(canon = strdup(addr)))
					r = -ENOMEM;
				else {
					/* the canonical form is longer than a short "bb:dd.f": a new string */
					free(s->pci_addrs[i]);
					s->pci_addrs[i] = canon;
				}
			}
		} else if (!strcmp(k, "pfNames"))
			r = pf_sels(x, v, k, false, &s->pf_names, &s->n_pf_names);
		else if (!strcmp(k, "rootDevices"))
			r = pf_sels(x, v, k, true, &s->root_devices, &s->n_root_devices);
		else if (!strcmp(k, "isRdma") || !strcmp(k, "needVhostNet")) {
			/* false is the device plugin's "no filter"; true needs facts devmgr does not track */
			if (!cJSON_IsBool(v))
				r = -EINVAL, errbuf_set(x->err, x->errlen, "%s.%s: must be true or false", x->path, k);
			else if (cJSON_IsTrue(v))
				r = -EOPNOTSUPP, errbuf_set(x->err, x->errlen, "%s.%s: true is not supported by devmgr", x->path, k);
		} else {
			errbuf_set(x->err, x->errlen, "%s: unknown selector \"%s\"%s", x->path, val(x, k),
			           !strcmp(k, "acpiIndexes") || !strcmp(k, "ddpProfiles") || !strcmp(k, "pKeys") ||
			           !strcmp(k, "auxTypes") || !strcmp(k, "vdpaType")
			           ? " (a device plugin selector devmgr does not support)" : "");
			r = -EINVAL;
		}
		if (r < 0)
			break;
	}
	if (r < 0)
		selector_done(s);
	return r;
}

/* A resource name the SR-IOV device plugin accepts (^[a-zA-Z0-9_-]+$; it
 * rejects the whole config otherwise), beginning and ending with a letter or
 * digit. Also safe as a file name. */
static bool resource_name_valid(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 63 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

static int parse_pool(pctx *x, const cJSON *o, pool *p)
{
	const cJSON *v, *sels = NULL;
	size_t base = strlen(x->path);
	int r;

	memset(p, 0, sizeof(*p));
	if (!cJSON_IsObject(o))
		FAIL(x, -EINVAL, "%s: must be an object", x->path);
	cJSON_ArrayForEach(v, o) {
		const char *k = v->string;
		if (config_key_repeated(o, v))
			FAIL(x, -EINVAL, "%s: \"%s\" is given twice", x->path, val(x, k));
		if (!strcmp(k, "resourceName")) {
			if (!cJSON_IsString(v) || !resource_name_valid(v->valuestring))
				FAIL(x, -EINVAL, "%s.resourceName: must be a name of letters, digits, '_' and '-' "
				     "that begins and ends with a letter or digit", x->path);
		} else if (!strcmp(k, "resourcePrefix")) {
			if (!cJSON_IsString(v) || !*v->valuestring)
				FAIL(x, -EINVAL, "%s.resourcePrefix: must be a non-empty string", x->path);
		} else if (!strcmp(k, "deviceType")) {
			if (!cJSON_IsString(v) || strcmp(v->valuestring, "netDevice"))
				FAIL(x, -EOPNOTSUPP, "%s.deviceType: only \"netDevice\" is supported", x->path);
		} else if (!strcmp(k, "excludeTopology")) {
			if (!cJSON_IsBool(v))
				FAIL(x, -EINVAL, "%s.excludeTopology: must be true or false", x->path);
			p->exclude_topology = cJSON_IsTrue(v);
		} else if (!strcmp(k, "policy")) {
			if (cJSON_IsString(v) && !strcmp(v->valuestring, "packed"))
				p->policy = DP_POLICY_PACKED;
			else if (cJSON_IsString(v) && !strcmp(v->valuestring, "spread"))
				p->policy = DP_POLICY_SPREAD;
			else
				FAIL(x, -EINVAL, "%s.policy: must be \"packed\" or \"spread\"", x->path);
		} else if (!strcmp(k, "additionalInfo")) {
			if (!cJSON_IsObject(v))
				FAIL(x, -EINVAL, "%s.additionalInfo: must be an object", x->path);
		} else if (!strcmp(k, "selectors"))
			sels = v;
		else
			FAIL(x, -EINVAL, "%s: unknown key \"%s\"", x->path, val(x, k));
	}
	v = cJSON_GetObjectItemCaseSensitive(o, "resourceName");
	if (!v)
		FAIL(x, -EINVAL, "%s: resourceName is missing", x->path);
	if (!sels)
		FAIL(x, -EINVAL, "%s: selectors is missing", x->path);
	if (!(p->name = strdup(v->valuestring)))
		return -ENOMEM;
	v = cJSON_GetObjectItemCaseSensitive(o, "resourcePrefix");
	if (v && !(p->prefix = strdup(v->valuestring)))
		return -ENOMEM;

	size_t n = cJSON_IsArray(sels) ? (size_t)cJSON_GetArraySize(sels) : 1;
	if (cJSON_IsArray(sels) && n == 0)
		FAIL(x, -EINVAL, "%s.selectors: is empty", x->path);
	p->sels = calloc(n, sizeof(selector));
	if (!p->sels)
		return -ENOMEM;
	if (cJSON_IsArray(sels)) {
		size_t i = 0;
		cJSON_ArrayForEach(v, sels) {
			snprintf(x->path + base, sizeof(x->path) - base, ".selectors[%zu]", i);
			r = parse_selector(x, v, &p->sels[i]);
			if (r < 0)
				return r;
			p->n_sels = ++i;
		}
	} else {
		snprintf(x->path + base, sizeof(x->path) - base, ".selectors");
		r = parse_selector(x, sels, &p->sels[0]);
		if (r < 0)
			return r;
		p->n_sels = 1;
	}
	x->path[base] = 0;
	return 0;
}

/* Element I of the resourceList LIST: a pool, its name not taken by an earlier one. */
static int parse_pool_at(pctx *x, const cJSON *o, void *list, size_t i)
{
	pool *p = list;
	int r = parse_pool(x, o, &p[i]);
	if (r < 0)
		return r;
	for (size_t j = 0; j < i; j++)
		if (!strcmp(p[j].name, p[i].name))
			FAIL(x, -EINVAL, "%s.resourceName: \"%s\" is defined twice", x->path, val(x, p[i].name));
	return 0;
}

static int parse_pf_at(pctx *x, const cJSON *o, void *list, size_t i)
{
	return config_parse_pf(x, o, &((dm_pf_spec *)list)[i]);
}

/* The array V of the top-level KEY: *RET gets one element of SIZE bytes (zeroed) per
 * entry, each parsed by PARSE with x->path "KEY[i]". *RET_N counts the elements begun,
 * so that after a failure the caller frees what was parsed. */
static int parse_list(pctx *x, const cJSON *v, const char *key, size_t size,
                      int (*parse)(pctx *x, const cJSON *o, void *list, size_t i), void **ret, size_t *ret_n)
{
	if (!cJSON_IsArray(v))
		FAIL(x, -EINVAL, "%s: must be an array", key);
	size_t n = (size_t)cJSON_GetArraySize(v), i = 0;
	if (!(*ret = calloc(n ? n : 1, size)))
		return -ENOMEM;
	const cJSON *e;
	cJSON_ArrayForEach(e, v) {
		snprintf(x->path, sizeof(x->path), "%s[%zu]", key, i);
		*ret_n = i + 1;
		int r = parse(x, e, *ret, i);
		if (r < 0)
			return r;
		i++;
	}
	return 0;
}

int dm_config_parse(const char *json, dm_config **ret, char *errbuf, size_t errlen)
{
	if (!json)
		return -EINVAL;
	return dm_config_parse_text(json, strlen(json), 0, ret, errbuf, errlen);
}

int dm_config_parse_text(const char *json, size_t len, unsigned flags, dm_config **ret, char *errbuf,
                         size_t errlen)
{
	pctx x = { errbuf, errlen, flags & DM_CONFIG_QUIET, "" };
	struct json_nul nul;
	const char *end = NULL;
	const cJSON *v;
	int r = 0;

	if (!json || !ret)
		return -EINVAL;
	cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, false);
	if (!root) {
		size_t at = end && end >= json ? (size_t)(end - json) : 0;
		if (x.quiet)
			errbuf_set(errbuf, errlen, "not valid JSON (error at byte %zu)", at);
		else
			errbuf_set(errbuf, errlen, "not valid JSON (error at byte %zu, near \"%.20s\")", at,
			           end ? end : "");
		return -EINVAL;
	}
	/* cJSON cuts a string at a NUL: "ens1f0\u0000x" would select ens1f0 */
	if (json_find_nul(json, len, &nul)) {
		cJSON_Delete(root);
		errbuf_set(errbuf, errlen, "%s%s holds %s at byte %zu", nul.in_key ? "a key of " : "",
		           nul.path[0] ? nul.path : "the top level",
		           nul.raw ? "a NUL byte" : "an escaped NUL (\\u0000)", nul.offset);
		return -EBADMSG;
	}
	dm_config *c = calloc(1, sizeof(*c));
	if (!c) {
		cJSON_Delete(root);
		return -ENOMEM;
	}
	if (!cJSON_IsObject(root)) {
		errbuf_set(errbuf, errlen, "the configuration must be a JSON object");
		r = -EINVAL;
		goto out;
	}
	cJSON_ArrayForEach(v, root) {
		const char *k = v->string;
		if (config_key_repeated(root, v)) {
			errbuf_set(errbuf, errlen, "\"%s\" is given twice", val(&x, k));
			r = -EINVAL;
			goto out;
		}
		if (!strcmp(k, "resourceList")) {
			void *list = NULL;
			r = parse_list(&x, v, k, sizeof(pool), parse_pool_at, &list, &c->n_pools);
			c->pools = list;
			if (r < 0)
				goto out;
		} else if (!strcmp(k, "pfs")) {
			void *list = NULL;
			r = parse_list(&x, v, k, sizeof(dm_pf_spec), parse_pf_at, &list, &c->n_pfs);
			c->pfs = list;
			if (r < 0)
				goto out;
		} else {
			errbuf_set(errbuf, errlen, "unknown key \"%s\" (expected resourceList, pfs)", val(&x, k));
			r = -EINVAL;
			goto out;
		}
	}
out:
	cJSON_Delete(root);
	if (r < 0) {
		dm_config_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

int config_read_text(const char *path, char **ret, size_t *ret_len)
{
	/* non-blocking: a FIFO or a device there must not hang the reader; checked below */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	return read_all(fd, CONFIG_FILE_MAX, ret, ret_len);
}

int dm_config_load(const char *path, dm_config **ret, char *errbuf, size_t errlen)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = config_read_text(path, &buf, &len);
	if (r == -EINVAL || r == -EFBIG) {
		errbuf_set(errbuf, errlen, "%s: not a regular file of at most 1 MiB", path);
		return -EINVAL;
	}
	if (r < 0) {
		errbuf_set(errbuf, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	char sub[256] = "";
	r = dm_config_parse_text(buf, len, 0, ret, sub, sizeof(sub));
	if (r < 0)
		errbuf_set(errbuf, errlen, "%s: %s", path, sub);
	return r;
}

size_t dm_config_pool_count(const dm_config *c)
{
	return c ? c->n_pools : 0;
}

const char *dm_config_pool_name(const dm_config *c, size_t i)
{
	return c && i < c->n_pools ? c->pools[i].name : NULL;
}

const char *dm_config_pool_prefix(const dm_config *c, size_t i)
{
	return c && i < c->n_pools ? c->pools[i].prefix : NULL;
}

int config_pool_policy(const dm_config *c, size_t i)
{
	return c && i < c->n_pools ? (int)c->pools[i].policy : DP_POLICY_PACKED;
}

bool config_pool_exclude_topology(const dm_config *c, size_t i)
{
	return c && i < c->n_pools && c->pools[i].exclude_topology;
}

int dm_config_pool_index(const dm_config *c, const char *name)
{
	for (size_t i = 0; c && name && i < c->n_pools; i++)
		if (!strcmp(c->pools[i].name, name))
			return (int)i;
	return -ENOENT;
}

size_t dm_config_pf_count(const dm_config *c)
{
	return c ? c->n_pfs : 0;
}

const dm_pf_spec *dm_config_pf(const dm_config *c, size_t i)
{
	return c && i < c->n_pfs ? &c->pfs[i] : NULL;
}

static bool in_strs(char **a, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(a[i], s))
			return true;
	return false;
}

static bool in_ids(const uint16_t *a, size_t n, uint16_t id)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] == id)
			return true;
	return false;
}

static bool in_pf_sels(const pf_sel *a, size_t n, const char *name, int vf_index)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(a[i].name, name) && (!a[i].has_range || vf_range_has(&a[i].range, vf_index)))
			return true;
	return false;
}

static bool selector_matches(const selector *s, const dm_device *d)
{
	const dm_device *pf = d->pf;
	if (s->n_vendors && !in_ids(s->vendors, s->n_vendors, d->vendor_id))
		return false;
	if (s->n_devices && !in_ids(s->devices, s->n_devices, d->device_id))
		return false;
	if (s->n_drivers && !in_strs(s->drivers, s->n_drivers, d->driver))
		return false;
	if (s->n_pci_addrs && !in_strs(s->pci_addrs, s->n_pci_addrs, d->pci))
		return false;
	if (s->n_pf_names && !in_pf_sels(s->pf_names, s->n_pf_names, d->pf_netdev, d->vf_index))
		return false;
	if (s->n_root_devices && !in_pf_sels(s->root_devices, s->n_root_devices, d->pf_pci, d->vf_index))
		return false;
	if (s->n_link_types) {
		/* a VF on a userspace driver has no netdev: its PF's link type counts */
		const char *lt = d->link_type[0] ? d->link_type : pf ? pf->link_type : "";
		if (!in_strs(s->link_types, s->n_link_types, lt))
			return false;
	}
	return true;
}

int dm_config_match(const dm_config *c, const dm_device *d)
{
	if (!c || !d)
		return -EINVAL;
	if (d->role != DM_ROLE_VF)
		return -ENODEV;
	for (size_t i = 0; i < c->n_pools; i++)
		for (size_t j = 0; j < c->pools[i].n_sels; j++)
			if (selector_matches(&c->pools[i].sels[j], d))
				return (int)i;
	return -ENOENT;
}
