/* The devmgr cases: inventory of a fake sysfs tree, and allocation with 32 concurrent
 * callers, through the CLI and (when built) at the library level. */
#include <errno.h>
#include <math.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "driver.h"

struct external external[MAX_EXTERNAL];
int n_external;

/* lspci, the yardstick of the inventory case; NULL when pciutils is not installed. */
static const char *find_lspci(void)
{
	static const char *const where[] = {"/usr/bin/lspci", "/usr/sbin/lspci", "/bin/lspci", "/sbin/lspci"};
	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++)
		if (!access(where[i], X_OK))
			return where[i];
	return NULL;
}

/* devmgr serve with every PF of the tree as a pool, under tests/devmgr/bench_serve as its
 * kubelet: Allocate and GetPreferredAllocation latency, link event to ListAndWatch update,
 * serve's resident set; the targets on them. */
static void run_serve_bench(const char *root, const char *fs)
{
	char *dir = xasprintf("%s/serve", fs);
	if (mkdir(dir, 0755) < 0)
		die("%s: %s", dir, strerror(errno));
	const char *argv[] = {opt.devmgr_serve, opt.devmgr, root, dir, NULL};
	const char *envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
	struct run r;
	run_timed(host_fd, argv, envp, "", &r);
	if (r.status != 0) {
		series_fail(series_get("devmgr-serve", "Allocate", "ucni"), "bench_serve exit status %d: %s %s", r.status,
			    r.out, r.err);
		free(r.out);
		free(dir);
		return;
	}
	for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n")) {
		char what[64];
		int n;
		double m, p9, p99, mx;
		long rss, hwm;
		if (sscanf(line, "%63s n=%d median %lf ms p90 %lf ms p99 %lf ms max %lf ms", what, &n, &m, &p9, &p99, &mx) == 6 &&
		    n_external < MAX_EXTERNAL) {
			external[n_external++] = (struct external){xasprintf("devmgr-serve %s", what), n, m, p9, NAN, mx, p99};
			if (!strcmp(what, "Allocate"))
				add_target(xasprintf("devmgr serve Allocate, %d VFs in %d pools, p99 ms <= 2", opt.dm_pfs * opt.dm_vfs,
						     opt.dm_pfs), p99, 2);
			else if (!strncmp(what, "GetPreferredAllocation", 22))
				add_target(xasprintf("devmgr serve %s p99 ms (reported)", what), p99, NAN);
			else if (!strncmp(what, "event-to-stream", 15)) {
				add_target(xasprintf("devmgr serve link event to ListAndWatch update, %d VFs, median ms (reported)",
						     opt.dm_pfs * opt.dm_vfs), m, NAN);
				add_target(xasprintf("devmgr serve link event to ListAndWatch update, %d VFs, p99 ms <= 100",
						     opt.dm_pfs * opt.dm_vfs), p99, 100);
			} else if (!strncmp(what, "rescan-to-stream", 16))
				add_target(xasprintf("devmgr serve rescan (SIGHUP) to ListAndWatch update, %d VFs, p99 ms (reported)",
						     opt.dm_pfs * opt.dm_vfs), p99, NAN);
		} else if (sscanf(line, "rss VmRSS %ld kB VmHWM %ld kB", &rss, &hwm) == 2) {
			add_target(xasprintf("devmgr serve resident set with %d VFs, MB <= 8", opt.dm_pfs * opt.dm_vfs),
				   rss / 1024.0, 8);
			add_target(xasprintf("devmgr serve peak resident set (during a rescan) with %d VFs, MB <= 8",
					     opt.dm_pfs * opt.dm_vfs), hwm / 1024.0, 8);
		}
	}
	free(r.out);
	free(dir);
}

/* Inventory of a fake tree, and alloc+release with 32 concurrent callers (one process
 * each, started together; wall time per call). Only when devmgr and the fixture
 * generator are built. */
void run_devmgr(void)
{
	if (!opt.devmgr || !opt.mkfakesysfs || access(opt.devmgr, X_OK) || access(opt.mkfakesysfs, X_OK)) {
		printf("  devmgr             skipped: %s or %s is not built\n", opt.devmgr ? opt.devmgr : "devmgr",
		       opt.mkfakesysfs ? opt.mkfakesysfs : "mkfakesysfs");
		return;
	}
	/* On tmpfs: 135 000 small files for 8 × 512 take seconds instead of a minute there, and
	 * the allocation store lives on tmpfs in production too (/run/ucni/devmgr). */
	char *fs = xasprintf("%s/tmpfs", tmpdir);
	if (mkdir(fs, 0755) < 0)
		die("%s: %s", fs, strerror(errno));
	if (mount("ucni-bench", fs, "tmpfs", MS_NOSUID | MS_NODEV, "size=2g,mode=0755") == 0)
		snprintf(tmpfs_mount, sizeof(tmpfs_mount), "%s", fs);
	char *root = xasprintf("%s/sysfs", fs), *state = xasprintf("%s/dmstate", fs);
	char *conf = xasprintf("%s/pools.json", tmpdir);
	char pfs[16], vfs[16], inv_case[64];
	snprintf(pfs, sizeof(pfs), "%d", opt.dm_pfs);
	snprintf(vfs, sizeof(vfs), "%d", opt.dm_vfs);
	snprintf(inv_case, sizeof(inv_case), "devmgr-inventory-%d", opt.dm_pfs * opt.dm_vfs);
	const char *gen[] = {opt.mkfakesysfs, root, "--pfs", pfs, "--vfs", vfs, NULL};
	struct timespec g0, g1;
	clock_gettime(CLOCK_MONOTONIC, &g0);
	if (run_cmd(gen) < 0)
		die("mkfakesysfs failed");
	clock_gettime(CLOCK_MONOTONIC, &g1);
	printf("  %-18s fake sysfs tree made in %.1f s%s\n", "", ms(&g0, &g1) / 1e3, tmpfs_mount[0] ? " (tmpfs)" : "");
	FILE *f = fopen(conf, "w");
	if (!f)
		die("%s: %s", conf, strerror(errno));
	fputs("{\"resourceList\":[{\"resourceName\":\"bench\",\"selectors\":{\"vendors\":[\"8086\",\"15b3\"]}}]}\n", f);
	fclose(f);
	const char *envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
	printf("  %-18s %d iterations (%d PFs × %d VFs), 32 concurrent alloc+release …\n", "devmgr", opt.iterations,
	       opt.dm_pfs, opt.dm_vfs);
	fflush(stdout);
	struct case_meta *meta = meta_begin("devmgr");
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);

	/* Inventory of 4096 VFs, side by side with what libpci makes of the same tree:
	 * `devmgr list --json` (op list), the table `devmgr list` (op table) and
	 * `lspci -D` (impl lspci), one after the other in each iteration, and the floor of
	 * list --json (op list, impl floor: `bench-floor inventory`, only the per-VF reads
	 * no inventory can avoid). */
	struct series *inv = series_get(inv_case, "list", "ucni");
	struct series *tab = series_get(inv_case, "table", "ucni");
	const char *lspci = find_lspci();
	struct series *lsp = lspci ? series_get(inv_case, "list", "lspci") : NULL;
	char *lspci_path = xasprintf("sysfs.path=%s/bus/pci", root);
	struct series *flr = opt.floor && !access(opt.floor, X_OK) ? series_get(inv_case, "list", "floor") : NULL;
	for (int it = 0; it < opt.iterations; it++) {
		const char *json_argv[] = {opt.devmgr, "--sysfs-root", root, "--state-dir", state, "list", "--json", NULL};
		const char *table_argv[] = {opt.devmgr, "--sysfs-root", root, "--state-dir", state, "list", NULL};
		const char *lspci_argv[] = {lspci, "-A", "linux-sysfs", "-O", lspci_path, "-D", NULL};
		const char *floor_argv[] = {opt.floor, "inventory", root, NULL};
		const char *const *argvs[] = {json_argv, table_argv, lspci_argv, floor_argv};
		struct series *ss[] = {inv, tab, lsp, flr};
		for (int k = 0; k < 4; k++) {
			struct run r;
			if (!ss[k])
				continue;
			run_timed(host_fd, argvs[k], envp, "", &r);
			/* every command prints at least a line per VF */
			if (r.status != 0 || strlen(r.out) < (size_t)(opt.dm_pfs * opt.dm_vfs))
				series_fail(ss[k], "exit status %d (%zu bytes of output): %s", r.status, strlen(r.out), r.err);
			else
				series_add(ss[k], &r);
			free(r.out);
		}
		check_stop();
	}
	free(lspci_path);

	/* alloc+release: 32 callers at once, each one alloc then one release. */
	struct series *sa = series_get("devmgr-32-concurrent", "alloc", "ucni");
	struct series *sr = series_get("devmgr-32-concurrent", "release", "ucni");
	int rounds = opt.iterations < 20 ? 1 : 2;
	for (int it = 0; it < rounds; it++)
		for (int phase = 0; phase < 2; phase++) {
			pid_t pids[32];
			struct timespec ts[32];
			char owner[32][32];
			int outfd[32], started = 0;
			for (int k = 0; k < 32; k++) {
				snprintf(owner[k], sizeof(owner[k]), "bench-%d-%d", it, k);
				const char *a_argv[] = {(char *)opt.devmgr, "--sysfs-root", root, "--state-dir", state,
						  "--config", conf, "alloc", "--pool", "bench", "--owner", owner[k], NULL};
				const char *r_argv[] = {(char *)opt.devmgr, "--sysfs-root", root, "--state-dir", state,
						  "--config", conf, "release", "--owner", owner[k], NULL};
				posix_spawn_file_actions_t fa;
				outfd[k] = memfd_create("bench-dm", MFD_CLOEXEC);
				posix_spawn_file_actions_init(&fa);
				posix_spawn_file_actions_adddup2(&fa, outfd[k], STDOUT_FILENO);
				posix_spawn_file_actions_adddup2(&fa, outfd[k], STDERR_FILENO);
				wait_runnable(opt.devmgr);
				clock_gettime(CLOCK_MONOTONIC, &ts[k]);
				int e = posix_spawn(&pids[k], opt.devmgr, &fa, NULL, (char *const *)(phase ? r_argv : a_argv),
						    (char *const *)envp);
				posix_spawn_file_actions_destroy(&fa);
				if (e != 0) {
					/* Not die(): the callers already started must be waited for
					 * before the clean-up removes their state directory. */
					pids[k] = -1;
					close(outfd[k]);
					series_fail(phase ? sr : sa, "cannot run %s: %s", opt.devmgr, strerror(e));
					continue;
				}
				started++;
			}
			for (int done = 0; done < started; done++) {
				struct rusage ru;
				int st;
				pid_t p = wait4(-1, &st, 0, &ru);
				struct timespec t1;
				clock_gettime(CLOCK_MONOTONIC, &t1);
				if (p < 0) {
					if (errno == EINTR) {
						done--;
						continue;
					}
					die("wait4: %s", strerror(errno));
				}
				int k = 0;
				while (k < 32 && (pids[k] < 0 || pids[k] != p))
					k++;
				if (k == 32) {
					done--;
					continue;
				}
				struct run r = {.wall_ms = ms(&ts[k], &t1),
						.user_ms = tv_ms(&ru.ru_utime),
						.sys_ms = tv_ms(&ru.ru_stime),
						.rss_kb = ru.ru_maxrss,
						.minflt = ru.ru_minflt,
						.csw = ru.ru_nvcsw + ru.ru_nivcsw};
				r.cpu_ms = r.user_ms + r.sys_ms;
				int status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
				if (status != 0) {
					char *o = memfd_contents(outfd[k]);
					series_fail(phase ? sr : sa, "exit status %d: %s", status, o);
					free(o);
				} else {
					series_add(phase ? sr : sa, &r);
				}
				close(outfd[k]);
			}
			check_stop();
		}
	/* Library level (no exec): tests/devmgr/bench_alloc, when built. */
	if (opt.devmgr_lib && !access(opt.devmgr_lib, X_OK)) {
		char *lstate = xasprintf("%s/dmstate-lib", fs), iters[16];
		snprintf(iters, sizeof(iters), "%d", opt.iterations);
		const char *argv[] = {opt.devmgr_lib, root, lstate, "32", iters, NULL};
		struct run r;
		run_timed(host_fd, argv, envp, "", &r);
		if (r.status != 0) {
			series_fail(series_get("devmgr-lib-32-concurrent", "claim", "ucni"), "bench_alloc exit status %d: %s %s", r.status, r.out, r.err);
		} else {
			/* "claim      n=1600  median 0.123 ms  p90 0.456 ms  max 1.234 ms" */
			for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n")) {
				char what[32];
				double m, p9, mx;
				int n;
				if (sscanf(line, "%31s n=%d median %lf ms p90 %lf ms max %lf ms", what, &n, &m, &p9, &mx) == 5 &&
				    n_external < MAX_EXTERNAL)
					external[n_external++] =
						(struct external){xasprintf("devmgr-lib-32-concurrent %s", what), n, m, p9, NAN, mx, NAN};
			}
		}
		free(r.out);
		free(lstate);
	}
	/* Library-level inventory: tests/devmgr/bench_inventory, when built. */
	if (opt.devmgr_inv && !access(opt.devmgr_inv, X_OK)) {
		char runs[16];
		snprintf(runs, sizeof(runs), "%d", opt.iterations);
		const char *argv[] = {opt.devmgr_inv, root, runs, NULL};
		struct run r;
		run_timed(host_fd, argv, envp, "", &r);
		if (r.status != 0) {
			series_fail(series_get("devmgr-lib-inventory", "load", "ucni"), "bench_inventory exit status %d: %s %s",
				    r.status, r.out, r.err);
		} else {
			/* "cheap          4104 functions: wall best 48.1 ms median 52.0 ms, cpu best … median … ms" */
			for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n")) {
				char view[32];
				int n;
				double wb, wm, cb, cm;
				if (sscanf(line, "%31s %d functions: wall best %lf ms median %lf ms, cpu best %lf ms median %lf ms",
					   view, &n, &wb, &wm, &cb, &cm) == 6 &&
				    n_external + 2 <= MAX_EXTERNAL) {
					external[n_external++] = (struct external){
						xasprintf("devmgr-lib-inventory-%d %s wall", n, view), opt.iterations, wm, NAN, wb, NAN, NAN};
					external[n_external++] = (struct external){
						xasprintf("devmgr-lib-inventory-%d %s cpu", n, view), opt.iterations, cm, NAN, cb, NAN, NAN};
				}
			}
		}
		free(r.out);
	}
	if (opt.devmgr_serve && !access(opt.devmgr_serve, X_OK))
		run_serve_bench(root, fs);
	meta_end(meta, &t0);
	printf("  %-18s %.1f s\n", "", meta->seconds);
	free(fs);
	free(root);
	free(state);
	free(conf);
}
