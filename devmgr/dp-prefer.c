/* The device plugin's preferred allocation (GetPreferredAllocation): every must_include
 * device, then the rest by NUMA node, PF and the resource's policy (packed or spread). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dp.h"
#include "internal.h"

/* One available device not chosen yet, with where it sits. */
typedef struct cand {
	const char *id;     /* the caller's string (available[i]) */
	const dp_device *d; /* NULL: not a device of the resource (ranked last) */
	bool taken;
} cand;

/* The candidates of one PF, in address order. */
typedef struct group {
	const char *pf;
	int numa;
	size_t first, n; /* into the sorted candidates */
	size_t free;     /* not taken yet */
	size_t chosen;   /* devices of this PF already chosen (must_include and picks) */
} group;

static int cmp_cand(const void *a, const void *b)
{
	const cand *x = a, *y = b;
	if (!x->d || !y->d)
		return !x->d != !y->d ? !x->d - !y->d : strcmp(x->id, y->id);
	int c = pci_addr_cmp(x->d->pf, y->d->pf);
	return c ? c : pci_addr_cmp(x->id, y->id);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* LIST's N strings sorted into *RET (the caller frees it); the first one given twice in
 * *RET_DUP (NULL: none). */
static int sorted_copy(const char *const *list, size_t n, const char ***ret, const char **ret_dup)
{
	const char **a = malloc((n ? n : 1) * sizeof(*a));
	if (!a)
		return -ENOMEM;
	if (n)
		memcpy(a, list, n * sizeof(*a));
	qsort(a, n, sizeof(*a), cmp_str);
	*ret_dup = NULL;
	for (size_t i = 1; i < n && !*ret_dup; i++)
		if (!strcmp(a[i - 1], a[i]))
			*ret_dup = a[i];
	*ret = a;
	return 0;
}

static bool in_sorted(const char *const *a, size_t n, const char *s)
{
	return n && bsearch(&s, a, n, sizeof(*a), cmp_str);
}

/* The NUMA node to fill from when nothing is chosen yet: the one whose free devices
 * cover NEED with the fewest (packed) or the most (spread) to spare; when none covers it,
 * the one with the most free. -1: no preference (no node known). */
static int pick_numa(const group *g, size_t ng, size_t need, dp_policy policy)
{
	int best = -1, most = -1;
	size_t best_free = 0, most_free = 0;
	for (size_t i = 0; i < ng; i++) {
		int node = g[i].numa;
		size_t sum = 0;
		if (node < 0)
			continue;
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = g[j].numa == node;
		if (seen)
			continue;
		for (size_t j = i; j < ng; j++)
			if (g[j].numa == node)
				sum += g[j].free;
		if (sum >= need && (best < 0 || (policy == DP_POLICY_PACKED ? sum < best_free : sum > best_free) ||
				    (sum == best_free && node < best)))
			best = node, best_free = sum;
		if (most < 0 || sum > most_free || (sum == most_free && node < most))
			most = node, most_free = sum;
	}
	return best >= 0 ? best : most;
}

/* Is group A a better source than B for the next pick? NUMA is the preferred node. */
static bool better(const group *a, const group *b, int numa, size_t need, dp_policy policy)
{
	if (!b)
		return true;
	bool an = numa >= 0 && a->numa == numa, bn = numa >= 0 && b->numa == numa;
	if (an != bn)
		return an;
	if (policy == DP_POLICY_PACKED) {
		/* the PF of what is already chosen first, then the smallest that covers the
		 * rest, else the largest: whole PFs stay free for large requests */
		if (!!a->chosen != !!b->chosen)
			return a->chosen;
		bool af = a->free >= need, bf = b->free >= need;
		if (af != bf)
			return af;
		if (a->free != b->free)
			return af ? a->free < b->free : a->free > b->free;
	} else {
		/* spread: one per PF in turn (the fewest chosen so far), the most free first */
		if (a->chosen != b->chosen)
			return a->chosen < b->chosen;
		if (a->free != b->free)
			return a->free > b->free;
	}
	return pci_addr_cmp(a->pf, b->pf) < 0;
}

int dp_preferred(const dp_resource *r, const char *const *available, size_t n_available, const char *const *must,
		 size_t n_must, size_t size, const char **ret, size_t *ret_n, char *err, size_t errlen)
{
	if (!r || !ret || !ret_n || (n_available && !available) || (n_must && !must))
		return -EINVAL;
	if (size < n_must) {
		errbuf_set(err, errlen, "allocation size %zu is smaller than the %zu devices that must be included", size,
			   n_must);
		return -EINVAL;
	}
	if (size > n_available) {
		errbuf_set(err, errlen, "allocation size %zu is larger than the %zu devices available", size, n_available);
		return -EINVAL;
	}
	_cleanup_free_ const char **avail_sorted = NULL, **must_sorted = NULL;
	const char *dup;
	int e = sorted_copy(available, n_available, &avail_sorted, &dup);
	if (e < 0)
		return e;
	if (dup) {
		errbuf_set(err, errlen, "device %s is available twice", dup);
		return -EINVAL;
	}
	if ((e = sorted_copy(must, n_must, &must_sorted, &dup)) < 0)
		return e;
	if (dup) {
		errbuf_set(err, errlen, "device %s must be included twice", dup);
		return -EINVAL;
	}
	for (size_t i = 0; i < n_must; i++)
		if (!in_sorted(avail_sorted, n_available, must[i])) {
			errbuf_set(err, errlen, "device %s must be included but is not available", must[i]);
			return -EINVAL;
		}

	size_t nc = 0, ng = 0, k = 0;
	_cleanup_free_ cand *c = calloc(n_available ? n_available : 1, sizeof(*c));
	_cleanup_free_ group *g = calloc(n_available ? n_available : 1, sizeof(*g));
	if (!c || !g)
		return -ENOMEM;
	for (size_t i = 0; i < n_available; i++)
		if (!in_sorted(must_sorted, n_must, available[i]))
			c[nc++] = (cand){ available[i], dp_resource_device(r, available[i]), false };
	qsort(c, nc, sizeof(*c), cmp_cand);
	for (size_t i = 0; i < nc && c[i].d; i++) {
		if (!ng || strcmp(g[ng - 1].pf, c[i].d->pf))
			g[ng++] = (group){ c[i].d->pf, c[i].d->numa, i, 0, 0, 0 };
		g[ng - 1].n++;
		g[ng - 1].free++;
	}

	/* what must be included comes first, in the order given, and sets NUMA and PF */
	int numa = -1;
	for (size_t i = 0; i < n_must; i++) {
		const dp_device *d = dp_resource_device(r, must[i]);
		ret[k++] = must[i];
		if (d && numa < 0)
			numa = d->numa;
		for (size_t j = 0; d && j < ng; j++)
			if (!strcmp(g[j].pf, d->pf))
				g[j].chosen++;
	}
	if (numa < 0 && k < size)
		numa = pick_numa(g, ng, size - k, r->policy);

	while (k < size) {
		group *best = NULL;
		for (size_t j = 0; j < ng; j++)
			if (g[j].free && better(&g[j], best, numa, size - k, r->policy))
				best = &g[j];
		if (!best) {
			/* only devices the resource does not know are left: in address order */
			for (size_t i = 0; i < nc && k < size; i++)
				if (!c[i].d)
					ret[k++] = c[i].id;
			break;
		}
		size_t want = r->policy == DP_POLICY_PACKED ? size - k : 1;
		for (size_t i = best->first; i < best->first + best->n && want; i++)
			if (!c[i].taken) {
				c[i].taken = true;
				ret[k++] = c[i].id;
				best->free--;
				best->chosen++;
				want--;
			}
		if (numa < 0)
			numa = best->numa;
	}
	*ret_n = k;
	return 0;
}
