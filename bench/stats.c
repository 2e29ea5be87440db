/* The statistics: series of runs per case, verb and implementation, their medians and
 * percentiles, and the ratios and targets computed from them. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"

struct series series[MAX_SERIES];
int n_series;
int total_failed;

struct series *series_find(const char *cas, const char *op, const char *impl)
{
	for (int i = 0; i < n_series; i++)
		if (!strcmp(series[i].cas, cas) && !strcmp(series[i].op, op) && !strcmp(series[i].impl, impl))
			return &series[i];
	return NULL;
}

/* The series of (case, verb, implementation), made when it is not there yet. */
struct series *series_get(const char *cas, const char *op, const char *impl)
{
	struct series *s = series_find(cas, op, impl);
	if (s)
		return s;
	if (n_series == MAX_SERIES)
		die("too many series");
	s = &series[n_series++];
	s->cas = xstrdup(cas);
	s->op = xstrdup(op);
	s->impl = xstrdup(impl);
	return s;
}

void series_add(struct series *s, const struct run *r)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		double **v[] = {&s->wall, &s->cpu, &s->user, &s->sys, &s->rss, &s->flt, &s->csw};
		for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
			if (!(*v[i] = realloc(*v[i], (size_t)s->cap * sizeof(double))))
				die("out of memory");
	}
	s->wall[s->n] = r->wall_ms;
	s->cpu[s->n] = r->cpu_ms;
	s->user[s->n] = r->user_ms;
	s->sys[s->n] = r->sys_ms;
	s->rss[s->n] = (double)r->rss_kb;
	s->flt[s->n] = (double)r->minflt;
	s->csw[s->n] = (double)r->csw;
	s->n++;
}

void series_fail(struct series *s, const char *fmt, ...)
{
	va_list ap;
	s->failed++;
	total_failed++;
	if (s->first_err[0])
		return;
	va_start(ap, fmt);
	vsnprintf(s->first_err, sizeof(s->first_err), fmt, ap);
	va_end(ap);
	for (char *p = s->first_err; *p; p++)
		if (*p == '\n' || *p == '"' || *p == '\\')
			*p = ' ';
	fprintf(stderr, "bench: %s %s %s failed: %s\n", s->cas, s->op, s->impl, s->first_err);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

struct stats stats_of(const double *v, int n)
{
	struct stats s = {NAN, NAN, NAN, NAN, NAN};
	if (n <= 0)
		return s;
	double *c = malloc((size_t)n * sizeof(double)), sum = 0;
	if (!c)
		die("out of memory");
	memcpy(c, v, (size_t)n * sizeof(double));
	qsort(c, (size_t)n, sizeof(double), cmp_double);
	for (int i = 0; i < n; i++)
		sum += c[i];
	s.median = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
	int k = (int)ceil(0.9 * n) - 1; /* nearest rank */
	s.p90 = c[k < 0 ? 0 : k];
	s.min = c[0];
	s.max = c[n - 1];
	s.mean = sum / n;
	free(c);
	return s;
}

enum { WALL, CPU, RSS };

static double med(const char *cas, const char *op, const char *impl, int what)
{
	struct series *s = series_find(cas, op, impl);
	if (!s || !s->n)
		return NAN;
	const double *v[] = {s->wall, s->cpu, s->rss};
	return stats_of(v[what], s->n).median;
}

/* ---- ratios and targets ---- */
struct target targets[MAX_TARGETS];
int n_targets;

static void target(const char *what, double value, double limit)
{
	if (n_targets == MAX_TARGETS)
		die("too many targets");
	targets[n_targets++] = (struct target){what, value, limit};
}

void add_target(const char *what, double value, double limit)
{
	target(what, value, limit);
}

static double ratio(double a, double b)
{
	return b > 0 ? a / b : NAN;
}

struct ratio ratios[MAX_RATIOS];
int n_ratios;

static void add_ratio(const char *cas, const char *op, const char *num, const char *den)
{
	if (!series_find(cas, op, num) || !series_find(cas, op, den))
		return;
	if (n_ratios == MAX_RATIOS)
		die("too many ratios");
	ratios[n_ratios++] = (struct ratio){xstrdup(cas), op, num, den,
					    ratio(med(cas, op, num, WALL), med(cas, op, den, WALL)),
					    ratio(med(cas, op, num, CPU), med(cas, op, den, CPU)),
					    ratio(med(cas, op, num, RSS), med(cas, op, den, RSS))};
}

/* ucni's IPAM plugin `cas` ("macvlan-static", "macvlan-host-local"): by itself against the
 * reference's (<= 0.35 wall, <= 0.30 CPU), and macvlan with it end to end (in-process)
 * against the L2-only case (<= 1.6, wall and CPU); the figures with the reference IPAM and
 * with ucni's IPAM exec'd ("ipamInProcess": false) beside it (reported).
 * The limits are ADD's; DEL's figures are reported beside them. */
static void ipam_targets(const char *cas, const char *l2)
{
	static const char *ops[] = {"ADD", "DEL"};
	static const struct {
		const char *pre, *post, *num, *den;
		bool vs_l2; /* den is the L2-only case's series */
		int what;
		double limit;
	} t[] = {
		{" IPAM alone", "wall ucni/reference <= 0.35", "ipam-alone-ucni", "ipam-alone", false, WALL, 0.35},
		{" IPAM alone", "cpu ucni/reference <= 0.30", "ipam-alone-ucni", "ipam-alone", false, CPU, 0.30},
		{"", "wall ucni+ipam/L2 ucni <= 1.6", "ucni+ipam", "ucni", true, WALL, 1.6},
		{"", "cpu ucni+ipam/L2 ucni <= 1.6", "ucni+ipam", "ucni", true, CPU, 1.6},
		{"", "wall ucni (reference IPAM)/L2 ucni (reported)", "ucni", "ucni", true, WALL, NAN},
		{"", "wall ucni+ipam-exec/L2 ucni (reported)", "ucni+ipam-exec", "ucni", true, WALL, NAN},
		{"", "cpu ucni+ipam-exec/L2 ucni (reported)", "ucni+ipam-exec", "ucni", true, CPU, NAN},
	};
	const char *ipam = strchr(cas, '-') + 1; /* "static", "host-local" */
	for (size_t o = 0; o < 2; o++)
		for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
			const char *op = ops[o], *den_cas = t[i].vs_l2 ? l2 : cas;
			if (!series_find(cas, op, t[i].num) || !series_find(den_cas, op, t[i].den))
				continue;
			bool limited = o == 0 && !isnan(t[i].limit);
			int keep = limited ? (int)strlen(t[i].post) : (int)(strstr(t[i].post, " <=") ? strstr(t[i].post, " <=") - t[i].post : (long)strlen(t[i].post));
			target(xasprintf("%s%s %s %.*s%s", ipam, t[i].pre, op, keep, t[i].post,
			                 limited || strstr(t[i].post, "(reported)") ? "" : " (reported)"),
			       ratio(med(cas, op, t[i].num, t[i].what), med(den_cas, op, t[i].den, t[i].what)),
			       limited ? t[i].limit : NAN);
		}
}

void compute_ratios_and_targets(void)
{
	const char *cases[] = {case_name("l2"), case_name("static"), case_name("host-local")};
	static const char *ops[] = {"ADD", "DEL"};
	char lo[64], hi[64];
	snprintf(lo, sizeof(lo), "%s-l2-siblings%d", opt.kind, opt.siblings_lo);
	snprintf(hi, sizeof(hi), "%s-l2-siblings%d", opt.kind, opt.siblings_hi);
	for (size_t c = 0; c < 3; c++)
		for (size_t o = 0; o < 2; o++) {
			add_ratio(cases[c], ops[o], "ucni", "reference");
			add_ratio(cases[c], ops[o], "ucni", "floor");
			add_ratio(cases[c], ops[o], "ucni", "floor+sysctl");
			add_ratio(cases[c], ops[o], "ucni", "floor+ipam");
			add_ratio(cases[c], ops[o], "ipam-alone", "ucni");
			add_ratio(cases[c], ops[o], "ucni+ipam", "reference");
			add_ratio(cases[c], ops[o], "ucni+ipam", "ucni");
			add_ratio(cases[c], ops[o], "ipam-alone-ucni", "ipam-alone");
			add_ratio(cases[c], ops[o], "ipam-alone-ucni", "ucni+ipam");
			add_ratio(cases[c], ops[o], "ucni+ipam", "ucni+ipam-exec");
		}
	for (size_t o = 0; o < 2; o++)
		add_ratio(case_name("vf"), ops[o], "ucni", "floor");
	for (size_t o = 0; o < 2; o++) {
		add_ratio(lo, ops[o], "ucni", "reference");
		add_ratio(hi, ops[o], "ucni", "reference");
		add_ratio(lo, ops[o], "ucni", "floor");
		add_ratio(hi, ops[o], "ucni", "floor");
	}

	/* The targets: ucni against the floor and the reference, and how it scales. */
	const char *l2 = cases[0];
	if (series_find(l2, "ADD", "floor")) {
		target("L2 ADD wall ucni/floor <= 1.15", ratio(med(l2, "ADD", "ucni", WALL), med(l2, "ADD", "floor", WALL)), 1.15);
		target("L2 ADD cpu ucni/floor <= 1.15", ratio(med(l2, "ADD", "ucni", CPU), med(l2, "ADD", "floor", CPU)), 1.15);
		target("L2 DEL wall ucni/floor <= 1.15", ratio(med(l2, "DEL", "ucni", WALL), med(l2, "DEL", "floor", WALL)), 1.15);
		target("L2 DEL cpu ucni/floor <= 1.15", ratio(med(l2, "DEL", "ucni", CPU), med(l2, "DEL", "floor", CPU)), 1.15);
	}
	if (series_find(l2, "ADD", "reference")) {
		target("L2 ADD wall ucni/reference <= 0.33", ratio(med(l2, "ADD", "ucni", WALL), med(l2, "ADD", "reference", WALL)), 0.33);
		target("L2 ADD cpu ucni/reference <= 0.30", ratio(med(l2, "ADD", "ucni", CPU), med(l2, "ADD", "reference", CPU)), 0.30);
		target("L2 ADD rss ucni/reference <= 0.40", ratio(med(l2, "ADD", "ucni", RSS), med(l2, "ADD", "reference", RSS)), 0.40);
	}
	const char *st = cases[1];
	if (series_find(st, "ADD", "ipam-alone") && series_find(st, "ADD", "floor")) {
		/* The IPAM child's own time taken out. */
		target("static ADD wall (ucni - ipam)/floor <= 1.15",
		       ratio(med(st, "ADD", "ucni", WALL) - med(st, "ADD", "ipam-alone", WALL), med(st, "ADD", "floor", WALL)), 1.15);
		target("static ADD cpu (ucni - ipam)/floor <= 1.15",
		       ratio(med(st, "ADD", "ucni", CPU) - med(st, "ADD", "ipam-alone", CPU), med(st, "ADD", "floor", CPU)), 1.15);
	}
	if (series_find(st, "ADD", "floor+ipam")) {
		/* The same, against a floor that runs the IPAM plugin itself: what a child
		 * costs its parent (spawn, pipes, wait) is in both. */
		target("static ADD wall ucni/(floor+ipam) <= 1.15",
		       ratio(med(st, "ADD", "ucni", WALL), med(st, "ADD", "floor+ipam", WALL)), 1.15);
		target("static ADD cpu ucni/(floor+ipam) <= 1.15",
		       ratio(med(st, "ADD", "ucni", CPU), med(st, "ADD", "floor+ipam", CPU)), 1.15);
	}
	for (size_t c = 1; c < 3; c++)
		ipam_targets(cases[c], l2);
	if (series_find(hi, "ADD", "ucni") && series_find(lo, "ADD", "ucni")) {
		char *w = xasprintf("ADD wall siblings%d/siblings%d <= 1.2", opt.siblings_hi, opt.siblings_lo);
		char *d = xasprintf("DEL wall siblings%d/siblings%d (reported)", opt.siblings_hi, opt.siblings_lo);
		target(w, ratio(med(hi, "ADD", "ucni", WALL), med(lo, "ADD", "ucni", WALL)), 1.2);
		target(xasprintf("ADD cpu siblings%d/siblings%d (reported)", opt.siblings_hi, opt.siblings_lo),
		       ratio(med(hi, "ADD", "ucni", CPU), med(lo, "ADD", "ucni", CPU)), NAN);
		target(xasprintf("floor's ADD cpu siblings%d/siblings%d (reported: the kernel's share)", opt.siblings_hi,
				 opt.siblings_lo),
		       ratio(med(hi, "ADD", "floor", CPU), med(lo, "ADD", "floor", CPU)), NAN);
		target(d, ratio(med(hi, "DEL", "ucni", WALL), med(lo, "DEL", "ucni", WALL)), NAN);
	}
	const char *vfc = case_name("vf");
	if (series_find(vfc, "ADD", "floor")) {
		target("sriov VF ADD wall ucni/floor <= 1.15", ratio(med(vfc, "ADD", "ucni", WALL), med(vfc, "ADD", "floor", WALL)), 1.15);
		target("sriov VF ADD cpu ucni/floor <= 1.15", ratio(med(vfc, "ADD", "ucni", CPU), med(vfc, "ADD", "floor", CPU)), 1.15);
		target("sriov VF DEL wall ucni/floor <= 1.15", ratio(med(vfc, "DEL", "ucni", WALL), med(vfc, "DEL", "floor", WALL)), 1.15);
		target("sriov VF DEL cpu ucni/floor <= 1.15", ratio(med(vfc, "DEL", "ucni", CPU), med(vfc, "DEL", "floor", CPU)), 1.15);
	}
	char inv[64];
	snprintf(inv, sizeof(inv), "devmgr-inventory-%d", opt.dm_pfs * opt.dm_vfs);
	if (series_find(inv, "list", "ucni"))
		target(xasprintf("devmgr list --json of %d VFs, CLI, wall median (reported)", opt.dm_pfs * opt.dm_vfs),
		       med(inv, "list", "ucni", WALL), NAN);
	add_ratio(inv, "list", "ucni", "lspci");
	/* how much of lspci's time the unavoidable per-VF reads take, and ucni above them */
	add_ratio(inv, "list", "floor", "lspci");
	add_ratio(inv, "list", "ucni", "floor");
	if (series_find(inv, "list", "lspci")) {
		/* the table against the same lspci runs */
		double lw = med(inv, "list", "lspci", WALL);
		if (series_find(inv, "table", "ucni") && n_ratios < MAX_RATIOS)
			ratios[n_ratios++] = (struct ratio){xstrdup(inv), "table", "ucni", "lspci",
							    ratio(med(inv, "table", "ucni", WALL), lw),
							    ratio(med(inv, "table", "ucni", CPU), med(inv, "list", "lspci", CPU)),
							    ratio(med(inv, "table", "ucni", RSS), med(inv, "list", "lspci", RSS))};
		target(xasprintf("devmgr list --json of %d VFs wall / lspci -D <= 0.30", opt.dm_pfs * opt.dm_vfs),
		       ratio(med(inv, "list", "ucni", WALL), lw), 0.30);
		target(xasprintf("devmgr list (table) of %d VFs wall / lspci -D <= 0.30", opt.dm_pfs * opt.dm_vfs),
		       ratio(med(inv, "table", "ucni", WALL), lw), 0.30);
	}
	for (int i = 0; i < n_external; i++) {
		if (strstr(external[i].what, " claim") || strstr(external[i].what, " release"))
			target(xasprintf("%s (library), median <= 2 ms", external[i].what), external[i].median, 2);
		if (strstr(external[i].what, "-inventory-") && strstr(external[i].what, " cheap wall"))
			target(xasprintf("%s (library), median <= 50 ms", external[i].what), external[i].median, 50);
	}
	if (series_find("devmgr-32-concurrent", "alloc", "ucni")) {
		struct series *s = series_find("devmgr-32-concurrent", "alloc", "ucni");
		target("devmgr alloc CLI (exec incl.), 32 concurrent, median (reported)", stats_of(s->wall, s->n).median, NAN);
		s = series_find("devmgr-32-concurrent", "release", "ucni");
		if (s)
			target("devmgr release CLI (exec incl.), 32 concurrent, median (reported)", stats_of(s->wall, s->n).median, NAN);
	}
}
