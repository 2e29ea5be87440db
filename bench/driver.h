/* What the benchmark driver's parts share: the options, the clean-up state, and the
 * interfaces of topology.c, runner.c, stats.c, cni.c, devmgr.c and output.c. */
#ifndef UCNI_BENCH_DRIVER_H
#define UCNI_BENCH_DRIVER_H
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

#define MAX_SERIES 96
#define MAX_NS 4096
#define MAX_EXTERNAL 12
#define MAX_RATIOS 128
#define MAX_TARGETS 64

/* ---- options (options.c) ---- */
struct options {
	int iterations;
	const char *ucni, *ref, *floor, *ref_dir, *ucni_ipam_dir, *json, *prefix, *cases, *devmgr, *mkfakesysfs;
	const char *ref_version, *spawner, *devmgr_lib, *devmgr_inv, *devmgr_serve, *kind, *vf;
	int siblings_lo, siblings_hi, dm_pfs, dm_vfs, chunk;
	bool verbose;
};
extern struct options opt;
/* Parse the command line into opt and resolve its paths; -1 to go on, else the exit status. */
int options_parse(int argc, char **argv);
void options_resolve(void);
bool want(const char *cas);

/* ---- what the clean-up removes (driver.c) ---- */
extern char tmpdir[4096];
extern bool have_tmpdir;
extern char tmpfs_mount[4200];
extern int host_fd;
extern char prefix[64];

/* ---- small helpers (util.c) ---- */
extern volatile sig_atomic_t stop;
extern bool in_cleanup;
void check_stop(void);
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
double ms(const struct timespec *a, const struct timespec *b);
double tv_ms(const struct timeval *t);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *read_file(const char *path);
int write_file(const char *path, const char *val);
int run_cmd(const char *const argv[]);
int ip_batch(const char *ns, const char *text);

/* A growing text buffer. */
struct sbuf {
	char *p;
	size_t len, cap;
};
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- namespaces, links, the node and the VF (topology.c) ---- */
char *ns_path(const char *name);
void ns_create(char **names, int n);
void ns_delete_matching(const char *pfx, bool exact);
int ns_open(const char *name);
void ns_enter(int fd);
int link_flags_in(int nsfd, const char *ifname);
void link_bus_in(int nsfd, const char *ifname, char *buf, size_t len);

struct node {
	char name[96];
	int fd;
	int siblings;
};
void node_setup(struct node *nd, const char *suffix, int siblings);
void node_teardown(struct node *nd);

/* The VF of --kind sriov. */
struct vf {
	char pci[64], netdev[IFNAMSIZ];
};
extern struct vf vf;
bool vf_home(void);
bool vf_in_use(void);
void vf_setup(void);
bool vf_returned(void);

/* ---- timed runs and the case frame (runner.c) ---- */
struct run {
	double wall_ms, cpu_ms, user_ms, sys_ms;
	long rss_kb, minflt, csw; /* page faults; context switches, voluntary + involuntary */
	int status; /* exit status, or 128+signal */
	char *out;  /* stdout (malloc'ed) */
	char err[512];
};
char *memfd_contents(int fd);
void spawner_start(const char *path);
void spawner_stop(void);
void wait_runnable(const char *path);
void run_timed(int nsfd, const char *const argv[], const char *const envp[], const char *input, struct run *ret);

void loadavg(char *buf, size_t len);
struct case_meta {
	char name[64], load_before[64], load_after[64];
	double seconds;
	int alive_ns; /* network namespaces on the machine while it ran (sysctl lookups scale with it) */
};
extern struct case_meta metas[32];
extern int n_metas;
struct case_meta *meta_begin(const char *name);
void meta_end(struct case_meta *m, const struct timespec *t0);
typedef void (*iteration_fn)(int it, char **pods, void *arg);
void run_in_chunks(const char *cas, int per_iter, const char *about, iteration_fn body, void *arg);

/* ---- series, statistics, ratios and targets (stats.c) ---- */
struct series {
	char *cas, *op, *impl;
	double *wall, *cpu, *user, *sys, *rss, *flt, *csw;
	int n, cap, failed;
	char first_err[600];
};
extern struct series series[MAX_SERIES];
extern int n_series;
extern int total_failed;
struct series *series_get(const char *cas, const char *op, const char *impl);
struct series *series_find(const char *cas, const char *op, const char *impl);
void series_add(struct series *s, const struct run *r);
void series_fail(struct series *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct stats {
	double median, p90, min, max, mean;
};
struct stats stats_of(const double *v, int n);

/* Ratios between implementations of the same case and verb. */
struct ratio {
	const char *cas, *op, *num, *den;
	double wall, cpu, rss;
};
extern struct ratio ratios[MAX_RATIOS];
extern int n_ratios;

struct target {
	const char *what;
	double value, limit;
};
extern struct target targets[MAX_TARGETS];
extern int n_targets;
void compute_ratios_and_targets(void);
/* A target measured by another program (bench_serve): LIMIT NAN for one only reported. */
void add_target(const char *what, double value, double limit);

/* Statistics reported by another program (median, p90, max of n samples, in ms). */
struct external {
	char *what;
	int n;
	double median, p90, min, max, p99; /* NAN where the program does not say */
};
extern struct external external[MAX_EXTERNAL];
extern int n_external;

/* ---- the CNI and VF cases (cni.c) ---- */
struct impl {
	const char *name;
	/* K_CNI_IPAM_EXEC: K_CNI with "ipamInProcess": false (the IPAM exec'd, never in-process) */
	enum { K_CNI, K_CNI_IPAM_EXEC, K_FLOOR, K_FLOOR_NOTIFY, K_FLOOR_DIRECT, K_FLOOR_IPAM, K_IPAM, K_EXEC } kind;
	const char *bin, *cni_path; /* K_FLOOR_IPAM: cni_path is the IPAM plugin the floor runs */
};

struct cni_case {
	const char *name;
	const char *ipam; /* NULL: L2 only; else the "ipam" object */
	const char *static_addr, *gw; /* for the floor program */
};
const char *case_name(const char *cas);
void run_cni_case(const char *cas, const struct cni_case *c, const struct impl *impls, int n_impls,
		  struct node *nodes, const char **variant_names, int n_variants);
void run_vf_case(const struct impl *impls, int n_impls);
void check_hl_store(const char *data_dir);

/* ---- devmgr's inventory and allocation (devmgr.c) ---- */
void run_devmgr(void);

/* ---- the table and the JSON file (output.c) ---- */
void print_table(void);
void print_ratios_and_targets(void);
void write_json(const char *path, const char *load_start, const char *load_end, double seconds);
#endif
