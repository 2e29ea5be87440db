/* The driver's command line: defaults, usage, parsing and the paths it resolves. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver.h"

struct options opt = {
	.iterations = 50,
	.kind = "macvlan",
	.floor = "build/bench/floor",
	.ref_dir = "/usr/lib/cni",
	.cases = "l2,static,host-local,scale,devmgr",
	.siblings_lo = 10,
	.siblings_hi = 1000,
	.dm_pfs = 8,
	.dm_vfs = 512,
	.chunk = 10,
};

bool want(const char *cas)
{
	const char *p = opt.cases;
	size_t n = strlen(cas);
	while (*p) {
		size_t k = strcspn(p, ",");
		if (k == n && !strncmp(p, cas, n))
			return true;
		p += k + (p[k] == ',');
	}
	return false;
}

static void usage(FILE *f)
{
	fputs("usage: bench-driver [options]\n"
	      "  --iterations N     runs per implementation and case (default 50; 3 for a smoke run)\n"
	      "  --cases LIST       any of l2,static,host-local,scale,devmgr (default: all);\n"
	      "                     with --kind sriov: vf (the default), devmgr\n"
	      "  --kind KIND        macvlan (default), ipvlan (needs a kernel with ipvlan: the VM), or\n"
	      "                     sriov (case vf: needs --vf and a real VF: the VM with --igb)\n"
	      "  --vf PCI           the VF for --kind sriov, bound to its kernel driver, its netdev\n"
	      "                     in this namespace; moved to pods and back, left down at the end\n"
	      "  --ucni PATH        ucni's plugin (default build/bin/KIND)\n"
	      "  --ref PATH         the reference plugin (default /usr/lib/cni/KIND)\n"
	      "  --ref-dir DIR      the reference plugins, for IPAM (default /usr/lib/cni)\n"
	      "  --ucni-ipam DIR    ucni's IPAM plugins static and host-local (default: --ucni's dir)\n"
	      "  --floor PATH       the floor program (default build/bench/floor)\n"
	      "  --siblings LO,HI   sibling macvlans for the scale case (default 10,1000)\n"
	      "  --chunk N          iterations whose pod namespaces exist at the same time (default 10)\n"
	      "  --devmgr PATH --mkfakesysfs PATH   enable the devmgr cases\n"
	      "  --devmgr-lib-bench PATH            also run tests/devmgr/bench_alloc (library level)\n"
	      "  --devmgr-tree PFS,VFS              size of the fake sysfs tree (default 8,512)\n"
	      "  --devmgr-inventory-bench PATH      also run tests/devmgr/bench_inventory (library level)\n"
	      "  --devmgr-serve-bench PATH          also run tests/devmgr/bench_serve (devmgr serve, gRPC)\n"
	      "  --ref-version V    recorded in the JSON\n"
	      "  --spawner PATH     the bench-spawn helper (default: spawn beside this program)\n"
	      "  --json FILE        write every statistic there\n"
	      "  --prefix NAME      namespace name prefix (default ucnib<pid>)\n"
	      "  -v                 progress dots\n",
	      f);
}

static const char *absolute(const char *p)
{
	char *r = realpath(p, NULL);
	if (!r)
		die("%s: %s", p, strerror(errno));
	return r;
}

/* Parse and check the command line; -1 to go on, else the exit status (0 after --help). */
int options_parse(int argc, char **argv)
{
	static const struct option lo[] = {
		{"iterations", required_argument, NULL, 'n'}, {"cases", required_argument, NULL, 'c'},
		{"ucni", required_argument, NULL, 'u'},	      {"ref", required_argument, NULL, 'r'},
		{"ref-dir", required_argument, NULL, 'R'},    {"floor", required_argument, NULL, 'f'},
		{"siblings", required_argument, NULL, 's'},   {"devmgr", required_argument, NULL, 'd'},
		{"mkfakesysfs", required_argument, NULL, 'm'}, {"json", required_argument, NULL, 'j'},
		{"prefix", required_argument, NULL, 'p'},     {"ref-version", required_argument, NULL, 'V'},
		{"spawner", required_argument, NULL, 'S'},   {"devmgr-lib-bench", required_argument, NULL, 'L'},
		{"devmgr-tree", required_argument, NULL, 'T'}, {"chunk", required_argument, NULL, 'C'},
		{"devmgr-inventory-bench", required_argument, NULL, 'I'}, {"kind", required_argument, NULL, 'K'},
		{"devmgr-serve-bench", required_argument, NULL, 'G'},
		{"vf", required_argument, NULL, 'F'},	      {"ucni-ipam", required_argument, NULL, 'U'},
		{"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0},
	};
	int ch;
	bool cases_given = false;
	while ((ch = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		switch (ch) {
		case 'n': opt.iterations = atoi(optarg); break;
		case 'c': opt.cases = optarg; cases_given = true; break;
		case 'F': opt.vf = optarg; break;
		case 'u': opt.ucni = optarg; break;
		case 'r': opt.ref = optarg; break;
		case 'R': opt.ref_dir = optarg; break;
		case 'U': opt.ucni_ipam_dir = optarg; break;
		case 'f': opt.floor = optarg; break;
		case 's':
			if (sscanf(optarg, "%d,%d", &opt.siblings_lo, &opt.siblings_hi) != 2 || opt.siblings_lo < 0 ||
			    opt.siblings_hi < opt.siblings_lo || opt.siblings_hi > 4000) {
				fprintf(stderr, "bench: --siblings wants LO,HI with 0 <= LO <= HI <= 4000\n");
				return 2;
			}
			break;
		case 'd': opt.devmgr = optarg; break;
		case 'm': opt.mkfakesysfs = optarg; break;
		case 'j': opt.json = optarg; break;
		case 'p': opt.prefix = optarg; break;
		case 'V': opt.ref_version = optarg; break;
		case 'S': opt.spawner = optarg; break;
		case 'L': opt.devmgr_lib = optarg; break;
		case 'C': opt.chunk = atoi(optarg); break;
		case 'I': opt.devmgr_inv = optarg; break;
		case 'G': opt.devmgr_serve = optarg; break;
		case 'K':
			if (strcmp(optarg, "macvlan") && strcmp(optarg, "ipvlan") && strcmp(optarg, "sriov")) {
				fprintf(stderr, "bench: --kind is macvlan, ipvlan or sriov\n");
				return 2;
			}
			opt.kind = optarg;
			break;
		case 'T':
			if (sscanf(optarg, "%d,%d", &opt.dm_pfs, &opt.dm_vfs) != 2 || opt.dm_pfs < 1 || opt.dm_pfs > 8 ||
			    opt.dm_vfs < 1 || opt.dm_vfs > 512) {
				fprintf(stderr, "bench: --devmgr-tree wants PFS,VFS with 1..8 PFs and 1..512 VFs\n");
				return 2;
			}
			break;
		case 'v': opt.verbose = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || opt.iterations < 1 || opt.iterations > 1000 || opt.chunk < 1) {
		usage(stderr);
		return 2;
	}
	bool sriov = !strcmp(opt.kind, "sriov");
	if (sriov && !cases_given)
		opt.cases = "vf";
	if (sriov && (want("l2") || want("static") || want("host-local") || want("scale") || !opt.vf)) {
		fprintf(stderr, "bench: --kind sriov takes --vf PCI and runs only the cases vf and devmgr\n");
		return 2;
	}
	if (!sriov && (want("vf") || opt.vf)) {
		fprintf(stderr, "bench: the case vf and --vf need --kind sriov\n");
		return 2;
	}
	return -1;
}

/* The programs' paths made absolute (the driver runs them from other namespaces). */
void options_resolve(void)
{
	bool sriov = !strcmp(opt.kind, "sriov");
	if (!opt.ucni)
		opt.ucni = xasprintf("build/bin/%s", opt.kind);
	if (!opt.ref)
		opt.ref = sriov ? "" : xasprintf("/usr/lib/cni/%s", opt.kind); /* no reference sriov plugin */
	opt.ucni = absolute(opt.ucni);
	if (!opt.ucni_ipam_dir) {
		char *d = xstrdup(opt.ucni);
		*strrchr(d, '/') = 0;
		opt.ucni_ipam_dir = d;
	}
	opt.ucni_ipam_dir = absolute(opt.ucni_ipam_dir);
	if (*opt.ref)
		opt.ref = absolute(opt.ref);
	opt.floor = absolute(opt.floor);
	opt.ref_dir = absolute(opt.ref_dir);
	if (opt.devmgr && !access(opt.devmgr, X_OK))
		opt.devmgr = absolute(opt.devmgr);
	if (opt.mkfakesysfs && !access(opt.mkfakesysfs, X_OK))
		opt.mkfakesysfs = absolute(opt.mkfakesysfs);
	if (opt.devmgr_lib && !access(opt.devmgr_lib, X_OK))
		opt.devmgr_lib = absolute(opt.devmgr_lib);
	if (opt.devmgr_inv && !access(opt.devmgr_inv, X_OK))
		opt.devmgr_inv = absolute(opt.devmgr_inv);
	if (opt.devmgr_serve && !access(opt.devmgr_serve, X_OK))
		opt.devmgr_serve = absolute(opt.devmgr_serve);
	if (!opt.spawner) {
		char *self = realpath("/proc/self/exe", NULL);
		if (!self)
			die("/proc/self/exe: %s", strerror(errno));
		*strrchr(self, '/') = 0;
		opt.spawner = xasprintf("%s/spawn", self);
	}
	opt.spawner = absolute(opt.spawner);
}
