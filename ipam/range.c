/* host-local's range sets: parsing and checks as the reference plugin has them, and the allocation order. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ucni/cni.h"
#include "ucni/result.h"
#include "common.h"
#include "range.h"

static size_t alen(int family)
{
	return family == AF_INET ? 4 : 16;
}

static bool v4mapped(const unsigned char *b)
{
	static const unsigned char pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	return memcmp(b, pfx, sizeof(pfx)) == 0;
}

const char *hl_addr_str(const struct ip_addr *a, char buf[HL_ADDR_STRLEN])
{
	const unsigned char *b = a->addr.bytes;
	if (a->family == AF_INET || v4mapped(b)) {
		const unsigned char *v = a->family == AF_INET ? b : b + 12;
		snprintf(buf, HL_ADDR_STRLEN, "%u.%u.%u.%u", v[0], v[1], v[2], v[3]);
		return buf;
	}
	/* The longest run of zero groups, the first of equals, and only from two groups on. */
	int best = -1, best_len = 0;
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && b[2 * j] == 0 && b[2 * j + 1] == 0)
			j++;
		if (j - i > best_len && j - i >= 2)
			best = i, best_len = j - i;
		i = j > i ? j : i + 1;
	}
	char *p = buf;
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			*p++ = ':';
			*p++ = ':';
			i += best_len - 1;
			continue;
		}
		if (i > 0 && i != best + best_len)
			*p++ = ':';
		p += sprintf(p, "%x", (unsigned)(b[2 * i] << 8 | b[2 * i + 1]));
	}
	*p = '\0';
	return buf;
}

int hl_addr_cmp(const struct ip_addr *a, const struct ip_addr *b)
{
	if (a->family != b->family)
		return a->family == AF_INET ? -1 : 1;
	return memcmp(a->addr.bytes, b->addr.bytes, alen(a->family));
}

bool hl_addr_eq(const struct ip_addr *a, const struct ip_addr *b)
{
	return a->family && a->family == b->family && hl_addr_cmp(a, b) == 0;
}

static void addr_next(struct ip_addr *a)
{
	for (int i = (int)alen(a->family) - 1; i >= 0; i--)
		if (++a->addr.bytes[i] != 0)
			break;
}

/* The reference's Contains, with start and end optional while a range is completed. */
static bool contains(const struct hl_range *r, const struct ip_addr *a, bool have_start, bool have_end)
{
	if (!ipam_prefix_contains(&r->subnet, a))
		return false;
	if (have_start && r->start.family == a->family && hl_addr_cmp(a, &r->start) < 0)
		return false;
	if (have_end && r->end.family == a->family && hl_addr_cmp(a, &r->end) > 0)
		return false;
	return true;
}

bool hl_range_contains(const struct hl_range *r, const struct ip_addr *a)
{
	return contains(r, a, true, true);
}

const struct hl_range *hl_rangeset_find(const struct hl_rangeset *s, const struct ip_addr *a)
{
	for (size_t i = 0; i < s->n; i++)
		if (hl_range_contains(&s->r[i], a))
			return &s->r[i];
	return NULL;
}

static const char *range_str(const struct hl_range *r, char *buf, size_t len)
{
	char a[HL_ADDR_STRLEN], b[HL_ADDR_STRLEN];
	snprintf(buf, len, "%s-%s", hl_addr_str(&r->start, a), hl_addr_str(&r->end, b));
	return buf;
}

const char *hl_rangeset_str(const struct hl_rangeset *s, char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < s->n && off < len; i++) {
		char one[2 * HL_ADDR_STRLEN + 2];
		int n = snprintf(buf + off, len - off, "%s%s", i ? "," : "", range_str(&s->r[i], one, sizeof(one)));
		if (n < 0)
			break;
		off += (size_t)n;
	}
	return buf;
}

/* end - start + 1, saturated */
static unsigned long long span(const struct ip_addr *start, const struct ip_addr *end)
{
	unsigned __int128 s = 0, e = 0;
	for (size_t i = 0; i < alen(start->family); i++) {
		s = s << 8 | start->addr.bytes[i];
		e = e << 8 | end->addr.bytes[i];
	}
	unsigned __int128 n = e - s + 1;
	return n > (unsigned __int128)UINT64_MAX ? UINT64_MAX : (unsigned long long)n;
}

unsigned long long hl_rangeset_size(const struct hl_rangeset *s)
{
	unsigned long long total = 0;
	for (size_t i = 0; i < s->n; i++) {
		unsigned long long n = span(&s->r[i].start, &s->r[i].end);
		if (hl_range_contains(&s->r[i], &s->r[i].gw) && n != UINT64_MAX)
			n--;
		total = total + n < total ? UINT64_MAX : total + n;
	}
	return total;
}

/* ---- parsing ---- */

static int bad_range(size_t set, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad_range(size_t set, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid range set %zu: %s", set, msg);
}

/* An address key of a range: 1 when given, 0 when absent or "", the error otherwise. */
static int addr_key(const cJSON *obj, const char *where, const char *key, struct ip_addr *ret)
{
	const char *s;
	int r = conf_string(obj, where, key, &s);
	if (r <= 0 || !*s)
		return r < 0 ? r : 0;
	if (ipam_ip_parse(s, ret) < 0)
		return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid IP address: %s (%s.%s)", s, where, key);
	return 1;
}

/* One range object, completed and checked (the reference's Range.Canonicalize). */
static int range_parse(const cJSON *obj, const char *where, size_t set, struct hl_range *ret)
{
	struct hl_range rg = {0};
	char sub[HL_ADDR_STRLEN + 8], a[HL_ADDR_STRLEN], b[HL_ADDR_STRLEN];
	const char *s = NULL;
	int r, have_start, have_end, have_gw;

	if (!cJSON_IsObject(obj))
		return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid config: \"%s\" must be an object", where);
	if ((r = conf_string(obj, where, "subnet", &s)) < 0)
		return r;
	if (r == 0)
		return bad_range(set, "IP <nil> not v4 nor v6");
	if (ip_prefix_parse(s, &rg.subnet) < 0)
		return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid CIDR address: %s (%s.subnet)", s, where);
	if ((have_start = addr_key(obj, where, "rangeStart", &rg.start)) < 0 ||
	    (have_end = addr_key(obj, where, "rangeEnd", &rg.end)) < 0 ||
	    (have_gw = addr_key(obj, where, "gateway", &rg.gw)) < 0)
		return -EINVAL;

	int bits = rg.subnet.family == AF_INET ? 32 : 128;
	struct ip_addr net = {.family = rg.subnet.family};
	memcpy(net.addr.bytes, rg.subnet.addr.bytes, sizeof(net.addr.bytes));
	snprintf(sub, sizeof(sub), "%s/%d", hl_addr_str(&net, a), rg.subnet.len);
	if (rg.subnet.len > bits - 2)
		return bad_range(set, "Network %s too small to allocate from", sub);
	if (rg.subnet.family == AF_INET6 && v4mapped(rg.subnet.addr.bytes))
		return bad_range(set, "IPNet IP and Mask version mismatch");
	/* The network address: the subnet's host bits cleared. */
	struct ip_addr masked = net;
	for (int i = 0; i < bits / 8; i++) {
		int keep = rg.subnet.len - 8 * i;
		masked.addr.bytes[i] &= keep >= 8 ? 0xff : keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
	}
	if (!hl_addr_eq(&masked, &net)) {
		return bad_range(set,
				 "Network has host bits set. For a subnet mask of length %d the network address is %s",
				 rg.subnet.len, hl_addr_str(&masked, a));
	}
	if (!have_gw) {
		rg.gw = net;
		addr_next(&rg.gw);
	}
	if (have_start) {
		if (!contains(&rg, &rg.start, false, have_end))
			return bad_range(set, "RangeStart %s not in network %s", hl_addr_str(&rg.start, a), sub);
	} else {
		rg.start = net;
		addr_next(&rg.start);
	}
	if (have_end) {
		if (!contains(&rg, &rg.end, true, true))
			return bad_range(set, "RangeEnd %s not in network %s", hl_addr_str(&rg.end, b), sub);
	} else {
		/* The subnet's last address; for IPv4 the one before the broadcast address. */
		rg.end = net;
		for (int i = 0; i < bits / 8; i++) {
			int keep = rg.subnet.len - 8 * i;
			rg.end.addr.bytes[i] |= keep >= 8 ? 0 : keep <= 0 ? 0xff : (unsigned char)(0xff >> keep);
		}
		if (rg.end.family == AF_INET)
			rg.end.addr.bytes[3]--;
	}
	*ret = rg;
	return 0;
}

static bool overlaps(const struct hl_range *x, const struct hl_range *y)
{
	if (x->start.family != y->start.family)
		return false;
	return hl_range_contains(x, &y->start) || hl_range_contains(x, &y->end) || hl_range_contains(y, &x->start) ||
	       hl_range_contains(y, &x->end);
}

static int rangeset_parse(const cJSON *arr, const char *where, size_t set, struct hl_rangeset *ret)
{
	char w[96], a[2 * HL_ADDR_STRLEN + 2], b[2 * HL_ADDR_STRLEN + 2];
	const cJSON *e;
	size_t n = 0;
	int r;

	if (!cJSON_IsArray(arr))
		return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid config: \"%s\" must be a list of ranges",
				where);
	if (cJSON_GetArraySize(arr) == 0)
		return bad_range(set, "empty range set");
	ret->r = calloc((size_t)cJSON_GetArraySize(arr), sizeof(*ret->r));
	if (!ret->r)
		return cni_fail(CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
	cJSON_ArrayForEach(e, arr) {
		snprintf(w, sizeof(w), "%s[%zu]", where, n);
		if ((r = range_parse(e, w, set, &ret->r[n])) < 0)
			return r;
		if (n > 0 && ret->r[n].start.family != ret->r[0].start.family)
			return bad_range(set, "mixed address families");
		ret->n = ++n;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (overlaps(&ret->r[i], &ret->r[j]))
				return bad_range(set, "subnets %s and %s overlap", range_str(&ret->r[i], a, sizeof(a)),
						 range_str(&ret->r[j], b, sizeof(b)));
	return 0;
}

static int add_set(struct hl_ranges *rs, const cJSON *arr, const char *where)
{
	struct hl_rangeset *n = realloc(rs->sets, (rs->n + 1) * sizeof(*n));
	if (!n)
		return cni_fail(CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
	rs->sets = n;
	memset(&n[rs->n], 0, sizeof(*n));
	rs->n++;
	return rangeset_parse(arr, where, rs->n - 1, &n[rs->n - 1]);
}

static int add_sets(struct hl_ranges *rs, const cJSON *list, const char *where)
{
	char w[64];
	const cJSON *e;
	size_t i = 0;
	int r;
	if (!list || cJSON_IsNull(list))
		return 0;
	if (!cJSON_IsArray(list))
		return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid config: \"%s\" must be a list of range sets",
				where);
	cJSON_ArrayForEach(e, list) {
		snprintf(w, sizeof(w), "%s[%zu]", where, i++);
		if ((r = add_set(rs, e, w)) < 0)
			return r;
	}
	return 0;
}

int hl_ranges_parse(const cJSON *ipam, const cJSON *runtime, struct hl_ranges *ret)
{
	struct hl_ranges rs = {0};
	const char *s;
	int r;

	if (runtime &&
	    (r = add_sets(&rs, cJSON_GetObjectItemCaseSensitive(runtime, "ipRanges"), "runtimeConfig.ipRanges")) < 0)
		goto fail;
	/* The legacy form: one range in ipam itself, when it names a subnet. */
	if ((r = conf_string(ipam, "ipam", "subnet", &s)) < 0)
		goto fail;
	if (r > 0) {
		cJSON *set = cJSON_CreateArray(), *range = cJSON_CreateObject();
		static const char *const keys[] = {"subnet", "rangeStart", "rangeEnd", "gateway"};
		for (size_t i = 0; i < 4 && set && range; i++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(ipam, keys[i]);
			if (v)
				cJSON_AddItemToObject(range, keys[i], cJSON_Duplicate(v, true));
		}
		if (!set || !range) {
			cJSON_Delete(set);
			cJSON_Delete(range);
			r = cni_fail(CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
			goto fail;
		}
		cJSON_AddItemToArray(set, range);
		r = add_set(&rs, set, "ipam");
		cJSON_Delete(set);
		if (r < 0)
			goto fail;
	}
	if ((r = add_sets(&rs, cJSON_GetObjectItemCaseSensitive(ipam, "ranges"), "ipam.ranges")) < 0)
		goto fail;
	if (rs.n == 0) {
		r = cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL, "no IP ranges specified");
		goto fail;
	}
	for (size_t i = 0; i < rs.n; i++)
		for (size_t j = i + 1; j < rs.n; j++)
			for (size_t x = 0; x < rs.sets[i].n; x++)
				for (size_t y = 0; y < rs.sets[j].n; y++)
					if (overlaps(&rs.sets[i].r[x], &rs.sets[j].r[y])) {
						r = cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL,
							     "range set %zu overlaps with %zu", i, j);
						goto fail;
					}
	*ret = rs;
	return 0;
fail:
	hl_ranges_free(&rs);
	return r;
}

void hl_ranges_free(struct hl_ranges *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		free(rs->sets[i].r);
	free(rs->sets);
	rs->sets = NULL;
	rs->n = 0;
}

/* ---- the allocation order (the reference's RangeIter) ---- */

void hl_iter_init(struct hl_iter *it, const struct hl_rangeset *set, const struct ip_addr *last)
{
	memset(it, 0, sizeof(*it));
	it->set = set;
	for (size_t i = 0; last && i < set->n; i++)
		if (hl_range_contains(&set->r[i], last)) {
			it->idx = i;
			it->cur = *last;
			it->has_cur = true;
			return;
		}
	it->start = set->r[0].start;
	it->has_start = true;
}

bool hl_iter_next(struct hl_iter *it, struct ip_addr *ret, const struct hl_range **ret_range)
{
	for (;;) {
		const struct hl_range *r = &it->set->r[it->idx];
		if (!it->has_cur) {
			it->cur = it->start = r->start;
			it->has_cur = it->has_start = true;
		} else {
			if (hl_addr_eq(&it->cur, &r->end)) {
				it->idx = (it->idx + 1) % it->set->n;
				r = &it->set->r[it->idx];
				it->cur = r->start;
			} else
				addr_next(&it->cur);
			if (!it->has_start) {
				it->start = it->cur;
				it->has_start = true;
			} else if (hl_addr_eq(&it->cur, &it->start))
				return false;
		}
		if (hl_addr_eq(&it->cur, &r->gw))
			continue;
		*ret = it->cur;
		if (ret_range)
			*ret_range = r;
		return true;
	}
}
