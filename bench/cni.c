/* The CNI cases: a plugin's ADD and DEL in pod namespaces, checked after each run, for
 * the macvlan/ipvlan cases and for the VF case of --kind sriov. */
#include <dirent.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver.h"

static const char *const *cni_env(const char *cmd, const char *cid, const char *netns, const char *cni_path)
{
	static char e[7][4200];
	static const char *envp[9];
	snprintf(e[0], sizeof(e[0]), "CNI_COMMAND=%s", cmd);
	snprintf(e[1], sizeof(e[1]), "CNI_CONTAINERID=%s", cid);
	snprintf(e[2], sizeof(e[2]), "CNI_NETNS=%s", netns);
	snprintf(e[3], sizeof(e[3]), "CNI_IFNAME=eth0");
	snprintf(e[4], sizeof(e[4]), "CNI_PATH=%s", cni_path);
	snprintf(e[5], sizeof(e[5]), "PATH=/usr/sbin:/usr/bin:/sbin:/bin");
	snprintf(e[6], sizeof(e[6]), "UCNI_NODE_CONFIG=%s/node.json", tmpdir); /* written by the driver */
	for (int i = 0; i < 7; i++)
		envp[i] = e[i];
	envp[7] = NULL;
	if (!strcmp(opt.kind, "sriov")) {
		/* The plugin's VF allocation store: the driver's own, removed with it. */
		static char st[4200];
		snprintf(st, sizeof(st), "UCNI_STATE_DIR=%s/sriov-state", tmpdir);
		envp[7] = st;
		envp[8] = NULL;
	}
	return envp;
}

static char *static_ipam(const char *addr)
{
	return xasprintf("{\"type\":\"static\",\"addresses\":[{\"address\":\"%s\",\"gateway\":\"10.77.0.1\"}],"
			 "\"routes\":[{\"dst\":\"0.0.0.0/0\"}]}",
			 addr);
}

/* "macvlan-l2" and so on: the kind, then the case. */
const char *case_name(const char *cas)
{
	return xasprintf("%s-%s", opt.kind, cas);
}

static char *net_conf(const struct cni_case *c)
{
	return xasprintf("{\"cniVersion\":\"1.0.0\",\"name\":\"bench\",\"type\":\"%s\",\"master\":\"m0\"%s%s}", opt.kind,
			 c->ipam ? ",\"ipam\":" : "", c->ipam ? c->ipam : "");
}

/* conf + prevResult (what a runtime sends with DEL). */
static char *with_prev(const char *conf, const char *result)
{
	size_t n = strlen(conf);
	const char *r = result;
	while (*r == ' ' || *r == '\n' || *r == '\t')
		r++;
	if (*r != '{')
		return xstrdup(conf);
	return xasprintf("%.*s,\"prevResult\":%s}", (int)(n - 1), conf, r);
}

/* The end of a run: a failure (a non-zero exit, or what `bad` says) or a sample of its
 * series; its output handed to ret_out, or freed. */
static bool run_record(struct series *s, struct run *r, const char *bad, char **ret_out)
{
	if (r->status != 0)
		series_fail(s, "exit status %d: %s %s", r->status, r->out, r->err);
	else if (bad)
		series_fail(s, "%s", bad);
	else
		series_add(s, r);
	bool ok = r->status == 0 && !bad;
	if (ok && ret_out)
		*ret_out = r->out;
	else
		free(r->out);
	return ok;
}

/* One implementation's run of one verb in a pod; records it and checks the result. */
static bool cni_run(const char *cas, const char *op, const struct impl *im, const struct cni_case *c, int nodefd,
		    const char *pod, const char *conf, char **ret_out)
{
	char *nspath = ns_path(pod), cid[96];
	struct series *s = series_get(cas, op, im->name);
	struct run r;
	bool add = !strcmp(op, "ADD");
	snprintf(cid, sizeof(cid), "bench-%s", pod);

	if (im->kind == K_EXEC) {
		/* The bare cost of spawning a program that does nothing. */
		const char *argv[] = {im->bin, NULL};
		const char *envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
		run_timed(nodefd, argv, envp, "", &r);
	} else if (im->kind == K_FLOOR || im->kind == K_FLOOR_NOTIFY || im->kind == K_FLOOR_DIRECT ||
		   im->kind == K_FLOOR_IPAM) {
		const char *argv[14] = {(char *)im->bin, add ? "add" : "del"};
		int k = 2;
		if (im->kind == K_FLOOR_IPAM) {
			argv[k++] = "--ipam";
			argv[k++] = im->cni_path;
		}
		if (add && !strcmp(opt.kind, "ipvlan"))
			argv[k++] = "--ipvlan";
		if (add && im->kind == K_FLOOR_NOTIFY)
			argv[k++] = "--notify";
		if (add && im->kind == K_FLOOR_DIRECT)
			argv[k++] = "--direct";
		argv[k++] = nspath;
		if (add)
			argv[k++] = "m0";
		argv[k++] = "eth0";
		if (add && c->static_addr) {
			argv[k++] = (char *)c->static_addr;
			argv[k++] = (char *)c->gw;
		}
		argv[k] = NULL;
		const char *envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
		if (im->kind == K_FLOOR_IPAM) /* the IPAM plugin gets what it would get from a plugin */
			run_timed(nodefd, argv, cni_env(op, cid, nspath, opt.ref_dir), conf, &r);
		else
			run_timed(nodefd, argv, envp, "", &r);
	} else {
		const char *argv[] = {(char *)im->bin, NULL};
		char *exec_conf = im->kind == K_CNI_IPAM_EXEC ? xasprintf("{\"ipamInProcess\":false,%s", conf + 1) : NULL;
		run_timed(nodefd, argv, cni_env(op, cid, nspath, im->cni_path), exec_conf ? exec_conf : conf, &r);
		free(exec_conf);
	}
	free(nspath);
	const char *bad = NULL;
	if (r.status == 0 && im->kind != K_IPAM && im->kind != K_EXEC) {
		/* The plugin did what it says. */
		int fd = ns_open(pod);
		int flags = link_flags_in(fd, "eth0");
		close(fd);
		if (add && flags < 0)
			bad = "exit 0 but eth0 is missing in the pod";
		else if (add && !(flags & IFF_UP))
			bad = "exit 0 but eth0 is down in the pod";
		else if (!add && flags >= 0)
			bad = "exit 0 but eth0 is still in the pod";
	}
	return run_record(s, &r, bad, ret_out);
}

struct cni_iter {
	const char *cas;
	const struct cni_case *c;
	const struct impl *impls;
	int n_impls;
	struct node *nodes;
	const char **variant_names;
	int n_variants;
	const char *conf;
};

/* One iteration: every implementation (and variant) ADDs in its own pod, the order
 * rotating with `it`; then each DELs what it added, with its ADD result as prevResult. */
static void cni_iteration(int it, char **pods, void *arg)
{
	const struct cni_iter *x = arg;
	int per_iter = x->n_impls * x->n_variants;
	bool *added = calloc((size_t)per_iter, sizeof(*added));
	char **outs = calloc((size_t)per_iter, sizeof(*outs)), **confs = calloc((size_t)per_iter, sizeof(*confs));
	char name[96];
	if (!added || !outs || !confs)
		die("out of memory");
	for (int v = 0; v < x->n_variants; v++)
		for (int j = 0; j < x->n_impls; j++) {
			int k = (j + it) % x->n_impls, i = v * x->n_impls + k, idx = it * per_iter + i;
			snprintf(name, sizeof(name), "%s%s", x->cas, x->variant_names[v]);
			/* A static address of its own per run: ipvlan refuses an address
			 * another ipvlan on the same master holds. */
			struct cni_case cc = *x->c;
			char addr[32], *ipam = NULL;
			if (x->c->static_addr) {
				snprintf(addr, sizeof(addr), "10.77.%d.%d/16", 1 + idx / 250, 2 + idx % 250);
				cc.static_addr = addr;
				cc.ipam = ipam = static_ipam(addr);
				confs[i] = net_conf(&cc);
			}
			added[i] = cni_run(name, "ADD", &x->impls[k], &cc, x->nodes[v].fd, pods[i],
					   confs[i] ? confs[i] : x->conf, &outs[i]);
			free(ipam);
		}
	for (int v = 0; v < x->n_variants; v++)
		for (int j = 0; j < x->n_impls; j++) {
			int k = (j + it) % x->n_impls, i = v * x->n_impls + k;
			if (!added[i])
				continue;
			snprintf(name, sizeof(name), "%s%s", x->cas, x->variant_names[v]);
			char *dconf = with_prev(confs[i] ? confs[i] : x->conf, outs[i]);
			cni_run(name, "DEL", &x->impls[k], x->c, x->nodes[v].fd, pods[i], dconf, NULL);
			free(dconf);
		}
	for (int i = 0; i < per_iter; i++) {
		free(outs[i]);
		free(confs[i]);
	}
	free(confs);
	free(outs);
	free(added);
}

/* Run a CNI case: per iteration, ADD by every implementation in turn, then DEL by every
 * implementation in turn (A B C … for each verb), each in a fresh pod namespace. The
 * order rotates each iteration (A B C, B C A, C A B, …) so that no implementation always
 * runs right after the same other one.
 * nodes: one per "variant" (sibling counts); case names get the variant's suffix. */
void run_cni_case(const char *cas, const struct cni_case *c, const struct impl *impls, int n_impls,
			 struct node *nodes, const char **variant_names, int n_variants)
{
	char *conf = net_conf(c);
	struct cni_iter x = {cas, c, impls, n_impls, nodes, variant_names, n_variants, conf};
	run_in_chunks(cas, n_impls * n_variants, "", cni_iteration, &x);
	free(conf);
}

/* After the host-local case every ADD has had its DEL: the store of the network ("bench")
 * must hold no reservation, only the lock and the last_reserved_ip.N files. A leftover
 * counts as a failed run. */
void check_hl_store(const char *data_dir)
{
	char *dir = xasprintf("%s/bench", data_dir);
	DIR *d = opendir(dir);
	struct dirent *e;
	int left = 0;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.' && strcmp(e->d_name, "lock") && strncmp(e->d_name, "last_reserved_ip.", 17))
			left++;
	if (d)
		closedir(d);
	if (left) {
		fprintf(stderr, "bench: host-local's store %s still holds %d reservations after every DEL\n", dir, left);
		total_failed++;
	}
	free(dir);
}

/* ---- sriov: one VF into a pod and back ---- */
/* After a failed run: the plugin's DEL (untimed; its record and saved state), then, if the
 * netdev is still out, the pod namespace goes and the kernel returns the VF to the initial
 * namespace, where it gets its name back. No later run can work without the VF. */
static void vf_recover(const struct impl *ucni, const char *pod, const char *conf)
{
	char *nspath = ns_path(pod), cid[96];
	struct run r;
	snprintf(cid, sizeof(cid), "bench-%s", pod);
	const char *argv[] = {ucni->bin, NULL};
	run_timed(host_fd, argv, cni_env("DEL", cid, nspath, ucni->cni_path), conf, &r);
	free(r.out);
	free(nspath);
	if (vf_home())
		return;
	ns_delete_matching(pod, true);
	if (!vf_returned())
		die("VF %s: its netdev %s could not be brought back", vf.pci, vf.netdev);
}

/* What is wrong after a VF run that exited 0, or NULL: the VF is in the pod as eth0 and
 * up (ADD), or back home under its name, its allocation record gone (DEL). */
static const char *vf_check(const struct impl *im, const char *pod, bool add)
{
	char bus[64];
	int fd = ns_open(pod);
	int flags = link_flags_in(fd, "eth0");
	link_bus_in(fd, "eth0", bus, sizeof(bus));
	close(fd);
	const char *bad = NULL;
	if (add && flags < 0)
		bad = "exit 0 but eth0 is missing in the pod";
	else if (add && strcmp(bus, vf.pci))
		bad = "exit 0 but eth0 in the pod is not the VF";
	else if (add && !(flags & IFF_UP))
		bad = "exit 0 but eth0 is down in the pod";
	else if (!add && flags >= 0)
		bad = "exit 0 but eth0 is still in the pod";
	else if (!add && !vf_home())
		bad = "exit 0 but the VF netdev is not back in the node under its name";
	if (!bad && !add && im->kind == K_CNI) {
		char *rec = xasprintf("%s/sriov-state/vfs/%s.json", tmpdir, vf.pci);
		if (access(rec, F_OK) == 0)
			bad = "exit 0 but the VF's allocation record is still there";
		free(rec);
	}
	return bad;
}

/* One implementation's ADD or DEL of the VF in `pod`; records it and checks, untimed, that
 * the VF is in the pod as eth0 and up (ADD), or back home under its name (DEL). */
static bool vf_run(const char *cas, const char *op, const struct impl *im, const char *pod, const char *conf,
		   char **ret_out)
{
	char *nspath = ns_path(pod), cid[96];
	struct series *s = series_get(cas, op, im->name);
	struct run r;
	bool add = !strcmp(op, "ADD");
	snprintf(cid, sizeof(cid), "bench-%s", pod);
	if (im->kind == K_FLOOR) {
		const char *argv[] = {im->bin, "vf", add ? "add" : "del", nspath, add ? vf.netdev : "eth0",
				      add ? "eth0" : vf.netdev, NULL};
		const char *envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
		run_timed(host_fd, argv, envp, "", &r);
	} else {
		const char *argv[] = {im->bin, NULL};
		run_timed(host_fd, argv, cni_env(op, cid, nspath, im->cni_path), conf, &r);
	}
	free(nspath);
	return run_record(s, &r, r.status == 0 ? vf_check(im, pod, add) : NULL, ret_out);
}

/* The sriov case: per iteration, each implementation in turn (order rotating) ADDs the VF
 * into a fresh pod namespace and DELs it again. Pod namespaces are made a chunk at a time,
 * outside the timed part. */
struct vf_iter {
	const char *cas, *conf;
	const struct impl *impls;
	int n_impls;
};

/* One iteration: each implementation in turn (order rotating) ADDs the VF into its pod
 * and DELs it again; a failed run is followed by an untimed recovery. */
static void vf_iteration(int it, char **pods, void *arg)
{
	const struct vf_iter *x = arg;
	for (int j = 0; j < x->n_impls; j++) {
		int k = (j + it) % x->n_impls;
		char *out = NULL;
		bool ok = vf_run(x->cas, "ADD", &x->impls[k], pods[k], x->conf, &out);
		if (ok) {
			char *dconf = with_prev(x->conf, out);
			ok = vf_run(x->cas, "DEL", &x->impls[k], pods[k], dconf, NULL);
			free(dconf);
		}
		if (!ok)
			vf_recover(&x->impls[0], pods[k], x->conf);
		free(out);
	}
}

void run_vf_case(const struct impl *impls, int n_impls)
{
	const char *cas = case_name("vf");
	char *conf = xasprintf("{\"cniVersion\":\"1.0.0\",\"name\":\"bench\",\"type\":\"sriov\",\"deviceID\":\"%s\"}",
			       vf.pci);
	char *about = xasprintf(" on VF %s (%s)", vf.pci, vf.netdev);
	/* The table lists the series in the order they were made: ADDs first, then DELs. */
	for (int o = 0; o < 2; o++)
		for (int k = 0; k < n_impls; k++)
			series_get(cas, o ? "DEL" : "ADD", impls[k].name);
	struct vf_iter x = {cas, conf, impls, n_impls};
	run_in_chunks(cas, n_impls, about, vf_iteration, &x);
	free(about);
	free(conf);
}
