/* The output: the table on stdout and the JSON file with every statistic. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "driver.h"

void print_table(void)
{
	const char *last = "";
	printf("\n%-26s %-5s %-16s %4s %9s %9s %9s %9s %9s\n", "case", "op", "impl", "n", "wall med", "wall p90",
	       "cpu med", "rss med", "failed");
	printf("%-26s %-5s %-16s %4s %9s %9s %9s %9s\n", "", "", "", "", "ms", "ms", "ms", "MB");
	for (int i = 0; i < n_series; i++) {
		struct series *s = &series[i];
		struct stats w = stats_of(s->wall, s->n), c = stats_of(s->cpu, s->n), r = stats_of(s->rss, s->n);
		char key[128];
		snprintf(key, sizeof(key), "%s %s", s->cas, s->op);
		if (strcmp(key, last) != 0 && i)
			putchar('\n');
		printf("%-26s %-5s %-16s %4d %9.2f %9.2f %9.2f %9.2f %9d\n", strcmp(key, last) ? s->cas : "",
		       strcmp(key, last) ? s->op : "", s->impl, s->n, w.median, w.p90, c.median, r.median / 1024,
		       s->failed);
		static char lastbuf[128];
		snprintf(lastbuf, sizeof(lastbuf), "%s", key);
		last = lastbuf;
	}
}

void print_ratios_and_targets(void)
{
	if (n_external) {
		printf("\nreported by other programs                   n  median ms    p90 ms    p99 ms    min ms    max ms\n");
		for (int i = 0; i < n_external; i++)
			printf("%-42s %5d %10.3f %9.3f %9.3f %9.3f %9.3f\n", external[i].what, external[i].n, external[i].median,
			       external[i].p90, external[i].p99, external[i].min, external[i].max);
	}
	printf("\nratios of medians              %-5s %-26s %7s %7s %7s\n", "op", "", "wall", "cpu", "rss");
	for (int i = 0; i < n_ratios; i++) {
		struct ratio *r = &ratios[i];
		char what[64];
		snprintf(what, sizeof(what), "%s/%s", r->num, r->den);
		printf("%-30s %-5s %-26s %7.2f %7.2f %7.2f\n", r->cas, r->op, what, r->wall, r->cpu, r->rss);
	}
	printf("\ntargets\n");
	for (int i = 0; i < n_targets; i++) {
		struct target *t = &targets[i];
		const char *verdict = isnan(t->limit) ? "" : t->value <= t->limit ? "met" : "MISSED";
		printf("  %-62s %8.2f  %s\n", t->what, t->value, verdict);
	}
}

static void json_num(FILE *f, double v)
{
	if (isnan(v) || isinf(v))
		fputs("null", f);
	else
		fprintf(f, "%.4f", v);
}

/* ,"key":value — a member after the first. */
static void json_field(FILE *f, const char *key, double v)
{
	fprintf(f, ",\"%s\":", key);
	json_num(f, v);
}

static void json_stats(FILE *f, const char *key, const double *v, int n, bool last)
{
	struct stats s = stats_of(v, n);
	fprintf(f, "\"%s\":{\"median\":", key);
	json_num(f, s.median);
	json_field(f, "p90", s.p90);
	json_field(f, "min", s.min);
	json_field(f, "max", s.max);
	json_field(f, "mean", s.mean);
	fprintf(f, "}%s", last ? "" : ",");
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

void write_json(const char *path, const char *load_start, const char *load_end, double seconds)
{
	FILE *f = fopen(path, "w");
	struct utsname u;
	char cpu[256] = "";
	if (!f)
		die("%s: %s", path, strerror(errno));
	uname(&u);
	const char *ci = read_file("/proc/cpuinfo"), *m = strstr(ci, "model name");
	if (m && (m = strchr(m, ':'))) {
		m++;
		while (*m == ' ' || *m == '\t')
			m++;
		snprintf(cpu, sizeof(cpu), "%.*s", (int)strcspn(m, "\n"), m);
	}
	time_t now = time(NULL);
	char ts[64];
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	fprintf(f, "{\n\"date\":\"%s\",\n\"iterations\":%d,\n\"seconds\":%.1f,\n\"machine\":{\"nproc\":%ld,\"kernel\":", ts,
		opt.iterations, seconds, sysconf(_SC_NPROCESSORS_ONLN));
	json_str(f, u.release);
	fputs(",\"cpu\":", f);
	json_str(f, cpu);
	fputs(",\"loadavg_start\":", f);
	json_str(f, load_start);
	fputs(",\"loadavg_end\":", f);
	json_str(f, load_end);
	fputs("},\n\"implementations\":{\"ucni\":", f);
	json_str(f, opt.ucni);
	fputs(",\"reference\":", f);
	json_str(f, opt.ref);
	fputs(",\"reference_version\":", f);
	json_str(f, opt.ref_version ? opt.ref_version : "");
	fputs(",\"floor\":", f);
	json_str(f, opt.floor);
	if (vf.pci[0]) {
		fputs(",\"vf\":", f);
		json_str(f, vf.pci);
		fputs(",\"vf_netdev\":", f);
		json_str(f, vf.netdev);
	}
	fputs("},\n\"cases\":[", f);
	for (int i = 0; i < n_metas; i++) {
		fprintf(f, "%s\n {\"name\":", i ? "," : "");
		json_str(f, metas[i].name);
		fprintf(f, ",\"seconds\":%.1f,\"netns_alive\":%d,\"loadavg_before\":", metas[i].seconds, metas[i].alive_ns);
		json_str(f, metas[i].load_before);
		fputs(",\"loadavg_after\":", f);
		json_str(f, metas[i].load_after);
		fputs("}", f);
	}
	fputs("],\n\"series\":[", f);
	for (int i = 0; i < n_series; i++) {
		struct series *s = &series[i];
		fprintf(f, "%s\n {\"case\":", i ? "," : "");
		json_str(f, s->cas);
		fputs(",\"op\":", f);
		json_str(f, s->op);
		fputs(",\"impl\":", f);
		json_str(f, s->impl);
		fprintf(f, ",\"n\":%d,\"failed\":%d,", s->n, s->failed);
		if (s->first_err[0]) {
			fputs("\"first_error\":", f);
			json_str(f, s->first_err);
			fputc(',', f);
		}
		json_stats(f, "wall_ms", s->wall, s->n, false);
		json_stats(f, "cpu_ms", s->cpu, s->n, false);
		json_stats(f, "user_ms", s->user, s->n, false);
		json_stats(f, "sys_ms", s->sys, s->n, false);
		json_stats(f, "maxrss_kb", s->rss, s->n, false);
		json_stats(f, "page_faults", s->flt, s->n, false);
		json_stats(f, "context_switches", s->csw, s->n, true);
		fputs("}", f);
	}
	fputs("],\n\"ratios\":[", f);
	for (int i = 0; i < n_ratios; i++) {
		struct ratio *r = &ratios[i];
		fprintf(f, "%s\n {\"case\":\"%s\",\"op\":\"%s\",\"num\":\"%s\",\"den\":\"%s\",\"wall\":", i ? "," : "", r->cas,
			r->op, r->num, r->den);
		json_num(f, r->wall);
		json_field(f, "cpu", r->cpu);
		json_field(f, "rss", r->rss);
		fputs("}", f);
	}
	fputs("],\n\"external\":[", f);
	for (int i = 0; i < n_external; i++) {
		fprintf(f, "%s\n {\"what\":", i ? "," : "");
		json_str(f, external[i].what);
		fprintf(f, ",\"n\":%d", external[i].n);
		json_field(f, "median_ms", external[i].median);
		json_field(f, "p90_ms", external[i].p90);
		json_field(f, "min_ms", external[i].min);
		json_field(f, "max_ms", external[i].max);
		json_field(f, "p99_ms", external[i].p99);
		fputs("}", f);
	}
	fputs("],\n\"targets\":[", f);
	for (int i = 0; i < n_targets; i++) {
		struct target *t = &targets[i];
		fprintf(f, "%s\n {\"what\":", i ? "," : "");
		json_str(f, t->what);
		json_field(f, "value", t->value);
		json_field(f, "limit", t->limit);
		fprintf(f, ",\"met\":%s}", isnan(t->limit) ? "null" : t->value <= t->limit ? "true" : "false");
	}
	fputs("]\n}\n", f);
	if (fclose(f) != 0)
		die("%s: %s", path, strerror(errno));
}
