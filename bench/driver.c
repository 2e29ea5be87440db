/* bench-driver — times ucni's macvlan (or ipvlan) plugin against the reference Go plugin
 * and against the kernel floor (bench-floor), in throw-away network namespaces; and, when
 * built, devmgr's inventory and allocation.
 *
 *   host ns (the driver)      node ns "<prefix>-node" (plugins run here)       pod namespaces
 *                              m0 ─ veth ─ m0p          (the master)           eth0 (on m0)
 *                             node ns "<prefix>-sN": m0 + N sibling links      one per run
 *
 * Every case alternates the implementations, rotating the order each iteration (A B C,
 * B C A, …); each run gets a pod namespace of its own, made before the timed part (a chunk
 * of iterations at a time). The spawner helper (spawn.c) enters the node namespace with
 * setns and spawns the plugin with posix_spawn: the timed part is spawn..wait4, the CPU
 * time (user+sys) and peak RSS are wait4's rusage, which covers the plugin and every child
 * it waited for (IPAM). After each run the driver checks (untimed) that eth0 exists and is
 * up after ADD and is gone after DEL.
 *
 * --kind sriov (in the VM, tests/vm/run --igb): one real VF (--vf PCI), moved by ucni's
 * sriov plugin into a fresh pod namespace as eth0 (ADD) and back (DEL), against the
 * floor's `vf` mode; the plugin and the floor run in the driver's own namespace, where
 * the VF's netdev lives. Each run's ADD is followed by its DEL (one VF), the order of
 * the implementations rotating each iteration.
 *
 * Output: a table on stdout and a JSON file (--json) with every statistic. Exit status 0
 * when every run succeeded, 1 when a run failed, 2 on a usage or set-up error, 128+N after
 * signal N. Everything the driver creates (namespaces, links, files, a tmpfs) is removed on
 * exit, on error and on SIGINT/SIGTERM/SIGHUP/SIGPIPE. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver.h"

/* ---- state to clean up ---- */
char tmpdir[4096];
bool have_tmpdir;
char tmpfs_mount[4200];
int host_fd = -1;
char prefix[64];

static void cleanup(void)
{
	in_cleanup = true;
	spawner_stop();
	if (host_fd >= 0)
		setns(host_fd, CLONE_NEWNET);
	if (prefix[0])
		ns_delete_matching(prefix, false);
	if (vf_in_use() && !vf_returned()) /* interrupted while a pod held the VF */
		fprintf(stderr, "bench: the VF's netdev did not come back\n");
	if (tmpfs_mount[0]) {
		umount2(tmpfs_mount, MNT_DETACH);
		tmpfs_mount[0] = 0;
	}
	if (have_tmpdir) {
		const char *argv[] = {"rm", "-rf", tmpdir, NULL};
		run_cmd(argv);
		have_tmpdir = false;
	}
}

static void on_signal(int sig)
{
	stop = sig;
}

int main(int argc, char **argv)
{
	int r = options_parse(argc, argv);
	if (r >= 0)
		return r;
	if (geteuid() != 0)
		die("needs root (network namespaces)");
	options_resolve();
	char *ucni_dir = xstrdup(opt.ucni);
	*strrchr(ucni_dir, '/') = 0;

	snprintf(prefix, sizeof(prefix), "%s", opt.prefix ? opt.prefix : "");
	if (!prefix[0])
		snprintf(prefix, sizeof(prefix), "ucnib%d", (int)getpid());
	const char *tmp = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/ucni-bench.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tmpdir))
		die("mkdtemp: %s", strerror(errno));
	have_tmpdir = true;
	atexit(cleanup);
	/* Node settings that let ucni's host-local keep its store in the temporary folder
	 * (a dataDir elsewhere than the node allows is refused); every CNI run gets them. */
	char *node_json = xasprintf("%s/node.json", tmpdir), *node_dirs = xasprintf("{\"dataDirs\": [\"%s\"]}\n", tmpdir);
	int nfd = open(node_json, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (nfd < 0 || fchmod(nfd, 0644) < 0 || write(nfd, node_dirs, strlen(node_dirs)) != (ssize_t)strlen(node_dirs))
		die("writing %s: %s", node_json, strerror(errno));
	close(nfd);
	free(node_json);
	free(node_dirs);
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL); /* e.g. piped into head: still clean up */
	host_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (host_fd < 0)
		die("/proc/self/ns/net: %s", strerror(errno));
	spawner_start(opt.spawner);

	char load_start[64], load_end[64];
	struct timespec t0, t1;
	loadavg(load_start, sizeof(load_start));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	printf("ucni bench: %d iterations, %ld CPUs, load %s\n", opt.iterations, sysconf(_SC_NPROCESSORS_ONLN),
	       load_start);
	fflush(stdout);

	/* `ucni` is ucni's plugin with the reference IPAM (CNI_PATH: the reference's dir only);
	 * `ucni+ipam` is ucni's plugin with ucni's IPAM (its dir first: the same build, so run
	 * in-process), `ucni+ipam-exec` the same with "ipamInProcess": false (exec'd), and
	 * `ipam-alone-ucni` ucni's IPAM plugin by itself, beside `ipam-alone`, the reference's. */
	char *ucni_path = xasprintf("%s:%s", ucni_dir, opt.ref_dir);
	char *ipam_path = xasprintf("%s:%s", opt.ucni_ipam_dir, opt.ref_dir);
	char *static_ipam = xasprintf("%s/static", opt.ref_dir), *hl_ipam = xasprintf("%s/host-local", opt.ref_dir);
	char *ucni_static = xasprintf("%s/static", opt.ucni_ipam_dir), *ucni_hl = xasprintf("%s/host-local", opt.ucni_ipam_dir);
	struct impl l2_impls[] = {
		{"ucni", K_CNI, opt.ucni, ucni_path},
		{"reference", K_CNI, opt.ref, opt.ref_dir},
		{"floor", K_FLOOR, opt.floor, NULL},
		{"floor+sysctl", K_FLOOR_NOTIFY, opt.floor, NULL},
		{"floor-direct", K_FLOOR_DIRECT, opt.floor, NULL},
		{"exec-true", K_EXEC, "/bin/true", NULL},
	};
	struct impl static_impls[] = {
		{"ucni", K_CNI, opt.ucni, opt.ref_dir},
		{"reference", K_CNI, opt.ref, opt.ref_dir},
		{"floor", K_FLOOR, opt.floor, NULL},
		{"floor+ipam", K_FLOOR_IPAM, opt.floor, static_ipam},
		{"ipam-alone", K_IPAM, static_ipam, opt.ref_dir},
		{"ucni+ipam", K_CNI, opt.ucni, ipam_path},
		{"ipam-alone-ucni", K_IPAM, ucni_static, ipam_path},
		{"ucni+ipam-exec", K_CNI_IPAM_EXEC, opt.ucni, ipam_path},
	};
	struct impl hl_impls[] = {
		{"ucni", K_CNI, opt.ucni, opt.ref_dir},
		{"reference", K_CNI, opt.ref, opt.ref_dir},
		{"ipam-alone", K_IPAM, hl_ipam, opt.ref_dir},
		{"ucni+ipam", K_CNI, opt.ucni, ipam_path},
		{"ipam-alone-ucni", K_IPAM, ucni_hl, ipam_path},
		{"ucni+ipam-exec", K_CNI_IPAM_EXEC, opt.ucni, ipam_path},
	};
	/* Without ucni's IPAM plugins (a tree that does not build them): the reference's only. */
	int n_static = 8, n_hl = 6;
	if (access(ucni_static, X_OK) < 0 || access(ucni_hl, X_OK) < 0) {
		printf("  (no ucni IPAM plugins in %s: the series with them are left out)\n", opt.ucni_ipam_dir);
		n_static = 5;
		n_hl = 3;
	}
	/* host-local's store: in the driver's temporary folder (removed with it), shared by the
	 * reference's and ucni's host-local (the same format on disk). */
	char *hl_dir = xasprintf("%s/hl", tmpdir);
	char *hl_conf = xasprintf("{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":\"10.78.0.0/16\",\"gateway\":"
				  "\"10.78.0.1\"}]],\"routes\":[{\"dst\":\"0.0.0.0/0\"}],\"dataDir\":\"%s\"}",
				  hl_dir);
	const struct cni_case l2 = {"l2", NULL, NULL, NULL};
	/* The address is made per run (run_cni_case); this one only marks the case as static. */
	const struct cni_case st = {"static", NULL, "10.77.0.10/16", "10.77.0.1"};
	const struct cni_case hl = {"host-local", hl_conf, NULL, NULL};
	const char *no_variant[] = {""};

	/* The reference ipvlan (1.1.1) refuses a config without IPAM: no L2-only row for it. */
	int n_l2 = 6, n_scale = 3;
	struct impl scale_impls[3] = {l2_impls[0], l2_impls[1], l2_impls[2]};
	if (!strcmp(opt.kind, "ipvlan")) {
		memmove(&l2_impls[1], &l2_impls[2], 4 * sizeof(l2_impls[0]));
		scale_impls[1] = scale_impls[2];
		n_l2 = 5;
		n_scale = 2;
	}
	struct node node = {.fd = -1};
	if (want("l2") || want("static") || want("host-local")) {
		node_setup(&node, "node", 0);
		if (want("l2"))
			run_cni_case(case_name("l2"), &l2, l2_impls, n_l2, &node, no_variant, 1);
		if (want("static"))
			run_cni_case(case_name("static"), &st, static_impls, n_static, &node, no_variant, 1);
		if (want("host-local")) {
			run_cni_case(case_name("host-local"), &hl, hl_impls, n_hl, &node, no_variant, 1);
			check_hl_store(hl_dir);
		}
		node_teardown(&node);
	}
	if (want("scale")) {
		struct node nodes[2] = {{.fd = -1}, {.fd = -1}};
		char v0[32], v1[32], s0[32], s1[32];
		snprintf(s0, sizeof(s0), "s%d", opt.siblings_lo);
		snprintf(s1, sizeof(s1), "s%d", opt.siblings_hi);
		snprintf(v0, sizeof(v0), "-siblings%d", opt.siblings_lo);
		snprintf(v1, sizeof(v1), "-siblings%d", opt.siblings_hi);
		const char *variants[] = {v0, v1};
		printf("  %-18s creating %d and %d sibling %ss …\n", "scale", opt.siblings_lo, opt.siblings_hi, opt.kind);
		fflush(stdout);
		node_setup(&nodes[0], s0, opt.siblings_lo);
		node_setup(&nodes[1], s1, opt.siblings_hi);
		run_cni_case(case_name("l2"), &l2, scale_impls, n_scale, nodes, variants, 2);
		node_teardown(&nodes[0]);
		node_teardown(&nodes[1]);
	}
	if (want("vf")) {
		const struct impl vf_impls[] = {
			{"ucni", K_CNI, opt.ucni, ucni_path},
			{"floor", K_FLOOR, opt.floor, NULL},
		};
		vf_setup();
		run_vf_case(vf_impls, 2);
	}
	if (want("devmgr"))
		run_devmgr();

	clock_gettime(CLOCK_MONOTONIC, &t1);
	loadavg(load_end, sizeof(load_end));
	compute_ratios_and_targets();
	print_table();
	print_ratios_and_targets();
	if (want("vf"))
		printf("\nsriov: VF %s (%s); no reference sriov plugin exists to compare with. Under qemu's TCG\n"
		       "emulation absolute times are many times the host's (5-35x, depending on the load):\n"
		       "only the ratios mean anything.\n",
		       vf.pci, vf.netdev);
	printf("\nload average: %s at the start, %s at the end; %.1f s in all\n", load_start, load_end, ms(&t0, &t1) / 1e3);
	if (opt.json) {
		write_json(opt.json, load_start, load_end, ms(&t0, &t1) / 1e3);
		printf("wrote %s\n", opt.json);
	}
	if (total_failed)
		printf("\n%d runs FAILED (see above and first_error in the JSON)\n", total_failed);
	fflush(stdout);
	return total_failed ? 1 : 0;
}
