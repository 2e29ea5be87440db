/* bench_alloc — library-level latency of a pool claim and a release under concurrency.
 *
 *   bench_alloc SYSFS_ROOT STATE_DIR [PROCS [ITERATIONS [NETNS [HELD]]]]   (default 32 x 50)
 *
 * PROCS processes each load the inventory and an every-VF pool once, then claim and
 * release ITERATIONS times, all at once. Prints median/p90/max of each call in ms, and of
 * the inventory load. The store must be empty at the end (exit 1 otherwise).
 * NETNS (a netns path, "-" for none) is every owner's netns; HELD VFs are claimed by owners
 * in it before the run and released after it: each claim passes over them (a busy pool),
 * asking each whether its owner is gone. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "devmgr/devmgr.h"

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void report(const char *what, double *v, size_t n)
{
	qsort(v, n, sizeof(double), cmp_d);
	printf("%-10s n=%-5zu median %.3f ms  p90 %.3f ms  max %.3f ms\n", what, n, v[n / 2], v[n * 9 / 10], v[n - 1]);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: bench_alloc SYSFS_ROOT STATE_DIR [PROCS [ITERATIONS]]\n");
		return 2;
	}
	int procs = argc > 3 ? atoi(argv[3]) : 32, iters = argc > 4 ? atoi(argv[4]) : 50;
	const char *netns = argc > 5 && strcmp(argv[5], "-") ? argv[5] : NULL;
	int held = argc > 6 ? atoi(argv[6]) : 0;
	if (procs < 1 || iters < 1 || held < 0)
		return 2;
	dm_store *hs = NULL;
	dm_inventory *hinv = NULL;
	dm_config *hc = NULL;
	if (held) {
		if (dm_inventory_load(argv[1], 0, &hinv) < 0 ||
		    dm_config_parse("{\"resourceList\": [{\"resourceName\": \"all\", \"selectors\": {}}]}", &hc, NULL, 0) < 0 ||
		    dm_store_open(argv[2], &hs) < 0)
			return 1;
		for (int i = 0; i < held; i++) {
			char id[32];
			snprintf(id, sizeof(id), "held-%d", i);
			dm_owner o = { id, "net1", netns };
			int k = dm_store_claim_from_pool(hs, hc, hinv, "all", &o, -1, NULL);
			if (k < 0) {
				fprintf(stderr, "held claim: %s\n", strerror(-k));
				return 1;
			}
		}
	}
	size_t n = (size_t)procs * (size_t)iters;
	double *claim = mmap(NULL, n * sizeof(double) * 2 + procs * sizeof(double), PROT_READ | PROT_WRITE,
	                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (claim == MAP_FAILED)
		return 1;
	double *rel = claim + n, *inv_ms = rel + n;
	int *go = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	for (int p = 0; p < procs; p++) {
		if (fork() != 0)
			continue;
		dm_inventory *inv = NULL;
		dm_config *c = NULL;
		dm_store *s = NULL;
		double t0 = now_ms();
		if (dm_inventory_load(argv[1], 0, &inv) < 0 ||
		    dm_config_parse("{\"resourceList\": [{\"resourceName\": \"all\", \"selectors\": {}}]}", &c, NULL, 0) < 0 ||
		    dm_store_open(argv[2], &s) < 0)
			_exit(1);
		inv_ms[p] = now_ms() - t0;
		while (!__atomic_load_n(go, __ATOMIC_ACQUIRE))
			usleep(100);
		for (int i = 0; i < iters; i++) {
			char id[32];
			snprintf(id, sizeof(id), "bench-%d-%d", p, i);
			dm_owner o = { id, "net1", netns };
			dm_record *r = NULL;
			double a = now_ms();
			int k = dm_store_claim_from_pool(s, c, inv, "all", &o, -1, &r);
			double b = now_ms();
			if (k < 0) {
				fprintf(stderr, "claim: %s\n", strerror(-k));
				_exit(1);
			}
			k = dm_store_release(s, r->pci, id, "net1");
			double e = now_ms();
			if (k < 0) {
				fprintf(stderr, "release: %s\n", strerror(-k));
				_exit(1);
			}
			dm_record_free(r);
			claim[(size_t)p * iters + i] = b - a;
			rel[(size_t)p * iters + i] = e - b;
		}
		dm_store_free(s);
		dm_config_free(c);
		dm_inventory_free(inv);
		_exit(0);
	}
	usleep(200000);
	__atomic_store_n(go, 1, __ATOMIC_RELEASE);
	int bad = 0, st;
	while (wait(&st) > 0)
		bad |= !WIFEXITED(st) || WEXITSTATUS(st) != 0;
	if (bad) {
		fprintf(stderr, "bench_alloc: a worker failed\n");
		return 1;
	}
	for (int i = 0; i < held; i++) {
		char id[32];
		size_t nrel = 0;
		snprintf(id, sizeof(id), "held-%d", i);
		if (dm_store_release_owner(hs, id, NULL, &nrel) < 0 || nrel != 1)
			return 1;
	}
	dm_store_free(hs);
	dm_config_free(hc);
	dm_inventory_free(hinv);
	printf("%d processes x %d claim+release on one pool%s%s, %d VFs held\n", procs, iters, netns ? ", netns " : "",
	       netns ? netns : "", held);
	report("inventory", inv_ms, (size_t)procs);
	report("claim", claim, n);
	report("release", rel, n);
	dm_store *s = NULL;
	dm_record **list = NULL;
	size_t left = 0;
	if (dm_store_open(argv[2], &s) < 0 || dm_store_list(s, &list, NULL, &left) < 0)
		return 1;
	dm_record_list_free(list, left);
	dm_store_free(s);
	if (left) {
		fprintf(stderr, "bench_alloc: %zu records left\n", left);
		return 1;
	}
	return 0;
}
