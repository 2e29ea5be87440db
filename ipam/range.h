/* host-local's ranges: range sets parsed and checked as the reference plugin does, and
 * the allocation order over a range set (round robin after the last reserved address). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "ucni/ipaddr.h"

/* One range: every address from start to end (both inclusive) of subnet. */
struct hl_range {
	struct ip_prefix subnet;
	struct ip_addr start, end, gw;
};

/* A range set: ranges of one family that do not overlap; an attachment gets one address
 * of each set. */
struct hl_rangeset {
	struct hl_range *r;
	size_t n;
};

struct hl_ranges {
	struct hl_rangeset *sets;
	size_t n;
};

/* Addresses as the reference prints and names them (Go's rendering: an IPv4-mapped IPv6
 * address is its IPv4 address; the longest run of two or more zero groups is "::"). */
#define HL_ADDR_STRLEN 46
const char *hl_addr_str(const struct ip_addr *a, char buf[HL_ADDR_STRLEN]);
int hl_addr_cmp(const struct ip_addr *a, const struct ip_addr *b);
bool hl_addr_eq(const struct ip_addr *a, const struct ip_addr *b);

/*
 * The range sets of an ipam config: runtimeConfig.ipRanges first, then the legacy single
 * range (ipam.subnet, rangeStart, rangeEnd, gateway), then ipam.ranges. Each range is
 * completed (gateway: the subnet's first address; start: the first after the network
 * address; end: the last before the IPv4 broadcast address, or the last IPv6 one) and
 * checked; errors are code 7 with the reference plugin's message. 0 or the cni_fail() value.
 */
int hl_ranges_parse(const cJSON *ipam, const cJSON *runtime, struct hl_ranges *ret);
void hl_ranges_free(struct hl_ranges *r);

bool hl_range_contains(const struct hl_range *r, const struct ip_addr *a);
/* The range of the set that holds a, or NULL. */
const struct hl_range *hl_rangeset_find(const struct hl_rangeset *s, const struct ip_addr *a);
/* "start-end,start-end" (buf of at least 2 * HL_ADDR_STRLEN per range). */
const char *hl_rangeset_str(const struct hl_rangeset *s, char *buf, size_t len);
/* How many addresses the set hands out (gateways excluded), saturated at UINT64_MAX. */
unsigned long long hl_rangeset_size(const struct hl_rangeset *s);

/*
 * The allocation order: after `last` (the set's last reserved address, when the set holds
 * it) the next address, to the end of its range, on to the next range, round to the
 * start, and last of all `last` itself; without one, from the first range's start.
 * Gateways are skipped.
 */
struct hl_iter {
	const struct hl_rangeset *set;
	size_t idx;
	bool has_cur, has_start;
	struct ip_addr cur, start;
};
void hl_iter_init(struct hl_iter *it, const struct hl_rangeset *set, const struct ip_addr *last);
/* The next address (and its range), or false when the set has been gone round. */
bool hl_iter_next(struct hl_iter *it, struct ip_addr *ret, const struct hl_range **ret_range);
