/* bench_inventory — time of dm_inventory_load on a sysfs tree (wall and CPU, best and
 * median of N runs), for the cheap view pools and allocation use and the detailed one.
 *
 *   bench_inventory SYSFS_ROOT [RUNS]        e.g. on `mkfakesysfs DIR --pfs 8 --vfs 512` */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "devmgr/devmgr.h"

static double ms(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_inventory SYSFS_ROOT [RUNS]\n");
		return 2;
	}
	int runs = argc > 2 ? atoi(argv[2]) : 11;
	if (runs < 1 || runs > 1000)
		return 2;
	static const struct { const char *name; unsigned flags; } views[] = {
		{ "cheap", 0 },
		{ "details+names", DM_INVENTORY_DETAILS | DM_INVENTORY_NAMES },
	};
	for (size_t v = 0; v < 2; v++) {
		double wall[1000], cpu[1000];
		size_t n = 0;
		for (int i = 0; i < runs; i++) {
			dm_inventory *inv = NULL;
			double w0 = ms(CLOCK_MONOTONIC), c0 = ms(CLOCK_PROCESS_CPUTIME_ID);
			int r = dm_inventory_load(argv[1], views[v].flags, &inv);
			wall[i] = ms(CLOCK_MONOTONIC) - w0;
			cpu[i] = ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
			if (r < 0) {
				fprintf(stderr, "bench_inventory: load failed: %d\n", r);
				return 1;
			}
			n = dm_inventory_count(inv);
			dm_inventory_free(inv);
		}
		qsort(wall, (size_t)runs, sizeof(double), cmp_d);
		qsort(cpu, (size_t)runs, sizeof(double), cmp_d);
		printf("%-14s %zu functions: wall best %.1f ms median %.1f ms, cpu best %.1f ms median %.1f ms\n",
		       views[v].name, n, wall[0], wall[runs / 2], cpu[0], cpu[runs / 2]);
	}
	return 0;
}
