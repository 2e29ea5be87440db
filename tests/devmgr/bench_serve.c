/* bench_serve DEVMGR SYSFS-ROOT DIR — devmgr serve with every PF of a fake tree as one pool
 * (8 x 512 VFs in `make bench`), this program as its kubelet: Register answered on
 * DIR/kubelet/kubelet.sock, then over one connection (as the kubelet keeps it) Allocate of
 * one VF and GetPreferredAllocation of 8 out of a pool, each timed from request to answer;
 * the time from a link notification (a veth named as the PF set up/down in the private
 * network namespace this program and serve run in, the PF's carrier flipped on the fake
 * tree before) to the
 * ListAndWatch update, which serve answers without a rescan; the time from SIGHUP (a full
 * rescan) to the update; serve's resident set and its peak. Prints one line per figure for bench/devmgr.c:
 *   "<what> n=N median M ms p90 P ms p99 Q ms max X ms" and "rss VmRSS N kB VmHWM N kB".
 * Runs as root (a network namespace of its own). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "devmgr/devmgr.h"
#include "ucni/nl.h"

#include "api.pb-c.h"
#include "rpc/grpc.h"

#define CALLS 2000
#define EVENTS 20
#define RESCANS 10
#define MAX_POOLS 16

/* the serve this program started: it ends with it, also on a failure */
static pid_t serve_pid = -1;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	if (serve_pid > 0) {
		kill(serve_pid, SIGTERM);
		waitpid(serve_pid, NULL, 0);
	}
	fputs("bench_serve: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* ---- the kubelet's Registration service */
static char endpoints[MAX_POOLS][256];
static int n_registered;

static void on_register(grpc_call *call, const uint8_t *msg, size_t len, void *ud)
{
	V1beta1__RegisterRequest *r = v1beta1__register_request__unpack(NULL, len, msg);
	if (r && n_registered < MAX_POOLS)
		snprintf(endpoints[n_registered++], sizeof(endpoints[0]), "%s", r->endpoint);
	v1beta1__register_request__free_unpacked(r, NULL);
	V1beta1__Empty e = V1BETA1__EMPTY__INIT;
	uint8_t b[8];
	size_t n = v1beta1__empty__pack(&e, b);
	grpc_call_reply(call, b, n);
}
static const grpc_method kubelet_methods[] = { { "/v1beta1.Registration/Register", false, on_register } };

/* ---- the event loop: the kubelet socket, its connections, one client connection */
static int kl_fd = -1;
static grpc_conn *kl_conns[MAX_POOLS * 4];
static int n_kl_conns;
static grpc_conn *client;

static void pump(int timeout_ms)
{
	struct pollfd p[2 + MAX_POOLS * 4];
	int n = 0;
	p[n++] = (struct pollfd){ kl_fd, POLLIN, 0 };
	if (client)
		p[n++] = (struct pollfd){ grpc_conn_fd(client), POLLIN | (grpc_conn_events(client) & POLLOUT), 0 };
	for (int i = 0; i < n_kl_conns; i++)
		p[n++] = (struct pollfd){ kl_conns[i] ? grpc_conn_fd(kl_conns[i]) : -1, POLLIN, 0 };
	if (poll(p, (nfds_t)n, timeout_ms) <= 0)
		return;
	if (p[0].revents & POLLIN) {
		int fd = accept4(kl_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0 && n_kl_conns < MAX_POOLS * 4 &&
		    grpc_conn_server(fd, kubelet_methods, 1, NULL, 1 << 20, &kl_conns[n_kl_conns]) == 0)
			grpc_conn_io(kl_conns[n_kl_conns++]);
	}
	if (client && p[1].revents && grpc_conn_io(client) < 0)
		die("%s", "the connection to serve ended");
	for (int i = 0, k = client ? 2 : 1; i < n_kl_conns; i++, k++)
		if (kl_conns[i] && p[k].revents && grpc_conn_io(kl_conns[i]) < 0) {
			grpc_conn_free(kl_conns[i]);
			kl_conns[i] = NULL;
		}
}

static int unix_socket(const char *path, bool listening)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (listening ? bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0
		      : connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- calls */
static bool answered;
static int answer_status;
static void on_done(int status, const char *message, const uint8_t *reply, size_t len, void *ud)
{
	answered = true;
	answer_status = status;
	if (status)
		fprintf(stderr, "bench_serve: status %d: %s\n", status, message);
}

static int lists;
static double list_at;
static void on_list(const uint8_t *msg, size_t len, void *ud)
{
	lists++;
	list_at = now_ms();
}

static double timed_call(const char *path, const uint8_t *msg, size_t len)
{
	answered = false;
	double t0 = now_ms();
	if (grpc_client_call(client, path, msg, len, NULL, on_done, NULL) < 0)
		die("%s", "cannot send a call");
	while (!answered)
		pump(5000);
	if (answer_status)
		die("%s", path);
	return now_ms() - t0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void report(const char *what, double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
#define Q(q) v[(int)ceil((q) * n) - 1]
	printf("%s n=%d median %.3f ms p90 %.3f ms p99 %.3f ms max %.3f ms\n", what, n, Q(0.5), Q(0.9), Q(0.99),
	       v[n - 1]);
}

static void put(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0 || write(fd, s, strlen(s)) < 0)
		die("cannot write %s", path);
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: bench_serve DEVMGR SYSFS-ROOT DIR\n");
		return 2;
	}
	const char *devmgr = argv[1], *root = argv[2], *dir = argv[3];
	char kd[4096], cfg[4096], path[8400], st[4096], di[4096];
	if (unshare(CLONE_NEWNET) < 0)
		die("unshare(CLONE_NEWNET): %s", strerror(errno));
	dm_inventory *inv;
	if (dm_inventory_load(root, 0, &inv) < 0)
		die("cannot read %s", root);
	const dm_device *pfs[MAX_POOLS];
	int npf = 0;
	for (size_t i = 0; i < dm_inventory_count(inv) && npf < MAX_POOLS; i++)
		if (dm_inventory_get(inv, i)->role == DM_ROLE_PF && dm_inventory_get(inv, i)->n_vfs)
			pfs[npf++] = dm_inventory_get(inv, i);
	if (!npf)
		die("%s has no PF with VFs", root);
	snprintf(kd, sizeof(kd), "%s/kubelet", dir);
	snprintf(st, sizeof(st), "%s/state", dir);
	snprintf(di, sizeof(di), "%s/devinfo", dir);
	snprintf(cfg, sizeof(cfg), "%s/serve-pools.json", dir);
	mkdir(kd, 0755);
	FILE *f = fopen(cfg, "w");
	if (!f)
		die("cannot write %s", cfg);
	fputs("{ \"resourceList\": [", f);
	for (int i = 0; i < npf; i++)
		fprintf(f, "%s{ \"resourceName\": \"pool%d\", \"selectors\": { \"rootDevices\": [\"%s\"] } }", i ? ", " : "",
			i, pfs[i]->pci);
	fputs("] }\n", f);
	fclose(f);
	/* the PF's link as up as the fixture made it (an interrupted run may have left it down) */
	char carrier[4200], oper[4200];
	snprintf(carrier, sizeof(carrier), "%s/class/net/%s/carrier", root, pfs[0]->netdev);
	snprintf(oper, sizeof(oper), "%s/class/net/%s/operstate", root, pfs[0]->netdev);
	put(carrier, "1\n");
	put(oper, "up\n");
	snprintf(path, sizeof(path), "%s/kubelet.sock", kd);
	unlink(path);
	if ((kl_fd = unix_socket(path, true)) < 0)
		die("cannot listen on %s", path);

	pid_t pid = fork();
	if (pid == 0) {
		/* and when this program is killed: serve goes with it */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() == 1)
			_exit(1);
		snprintf(path, sizeof(path), "%s/serve.log", dir);
		int lfd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(lfd, 2);
		execl(devmgr, devmgr, "--sysfs-root", root, "--state-dir", st, "--config", cfg, "serve", "--kubelet-dir", kd,
		      "--devinfo-dir", di, (char *)NULL);
		_exit(127);
	}
	serve_pid = pid;
	double t0 = now_ms();
	while (n_registered < npf && now_ms() - t0 < 60000)
		pump(1000);
	if (n_registered < npf)
		die("%s", "serve did not register every pool within 60 s (see serve.log)");
	printf("startup %d pools, %zu VFs: registered in %.1f ms\n", npf, pfs[0]->n_vfs * (size_t)npf, now_ms() - t0);

	/* the kubelet's connection to pool0: its ListAndWatch stream and the calls */
	const char *ep0 = NULL;
	for (int i = 0; i < n_registered; i++)
		if (strstr(endpoints[i], "_pool0.sock"))
			ep0 = endpoints[i];
	snprintf(path, sizeof(path), "%s/%s", kd, ep0 ? ep0 : endpoints[0]);
	int fd = unix_socket(path, false);
	if (fd < 0 || grpc_conn_client(fd, "localhost", &client) < 0)
		die("cannot connect to %s", path);
	V1beta1__Empty e = V1BETA1__EMPTY__INIT;
	uint8_t eb[8];
	size_t en = v1beta1__empty__pack(&e, eb);
	grpc_client_call(client, "/v1beta1.DevicePlugin/ListAndWatch", eb, en, on_list, on_done, NULL);
	while (!lists)
		pump(5000);

	const dm_device *pf = pfs[0];
	static double v[CALLS];
	for (int i = 0; i < CALLS; i++) {
		V1beta1__AllocateRequest req = V1BETA1__ALLOCATE_REQUEST__INIT;
		V1beta1__ContainerAllocateRequest c = V1BETA1__CONTAINER_ALLOCATE_REQUEST__INIT, *cp = &c;
		char *id = (char *)pf->vfs[(size_t)i % pf->n_vfs]->pci;
		c.n_devices_ids = 1;
		c.devices_ids = &id;
		req.n_container_requests = 1;
		req.container_requests = &cp;
		uint8_t b[256];
		size_t n = v1beta1__allocate_request__pack(&req, b);
		v[i] = timed_call("/v1beta1.DevicePlugin/Allocate", b, n);
	}
	report("Allocate", v, CALLS);

	char **avail = calloc(pf->n_vfs, sizeof(*avail));
	for (size_t k = 0; k < pf->n_vfs; k++)
		avail[k] = (char *)pf->vfs[k]->pci;
	V1beta1__PreferredAllocationRequest preq = V1BETA1__PREFERRED_ALLOCATION_REQUEST__INIT;
	V1beta1__ContainerPreferredAllocationRequest pc = V1BETA1__CONTAINER_PREFERRED_ALLOCATION_REQUEST__INIT, *pcp = &pc;
	pc.n_available_deviceids = pf->n_vfs;
	pc.available_deviceids = avail;
	pc.n_must_include_deviceids = 1;
	pc.must_include_deviceids = &avail[pf->n_vfs / 2];
	pc.allocation_size = 8;
	preq.n_container_requests = 1;
	preq.container_requests = &pcp;
	size_t pn = v1beta1__preferred_allocation_request__get_packed_size(&preq);
	uint8_t *pb = malloc(pn);
	v1beta1__preferred_allocation_request__pack(&preq, pb);
	for (int i = 0; i < CALLS; i++)
		v[i] = timed_call("/v1beta1.DevicePlugin/GetPreferredAllocation", pb, pn);
	char what[64];
	snprintf(what, sizeof(what), "GetPreferredAllocation-8-of-%zu", pf->n_vfs);
	report(what, v, CALLS);

	/* a link notification after the PF's carrier changed on the fake tree */
	struct nlsk sk = NLSK_NULL;
	if (nlsk_open(&sk) < 0)
		die("%s", "cannot open rtnetlink");
	/* a link named as the PF in this namespace: its notifications are about a served device */
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "ip link add %s type veth peer name bsp%d", pf->netdev, (int)getpid() % 100000);
	struct link_info li;
	if (system(cmd) != 0 || link_get_by_name(&sk, pf->netdev, &li) < 0)
		die("cannot make a link named %s", pf->netdev);
	for (int i = 0; i < EVENTS; i++) {
		bool down = i % 2 == 0;
		put(carrier, down ? "0\n" : "1\n");
		put(oper, down ? "down\n" : "up\n");
		int before = lists;
		struct link_change lc = LINK_CHANGE_INIT;
		lc.up = down ? 1 : 0;
		double t = now_ms();
		if (link_change(&sk, li.ifindex, &lc) < 0)
			die("cannot set %s up or down", pf->netdev);
		while (lists == before && now_ms() - t < 5000)
			pump(100);
		if (lists == before)
			die("%s", "no ListAndWatch update within 5 s of the link notification");
		v[i] = list_at - t;
	}
	snprintf(what, sizeof(what), "event-to-stream-%zu", pfs[0]->n_vfs * (size_t)npf);
	report(what, v, EVENTS);

	/* a full rescan (what SIGHUP and device events cost): the carrier flipped on the fake
	 * tree with no notification, SIGHUP, the update on the stream; its peak shows in VmHWM */
	for (int i = 0; i < RESCANS; i++) {
		bool down = i % 2 == 0;
		put(carrier, down ? "0\n" : "1\n");
		put(oper, down ? "down\n" : "up\n");
		int before = lists;
		double t = now_ms();
		kill(pid, SIGHUP);
		while (lists == before && now_ms() - t < 5000)
			pump(100);
		if (lists == before)
			die("%s", "no ListAndWatch update within 5 s of SIGHUP");
		v[i] = list_at - t;
	}
	snprintf(what, sizeof(what), "rescan-to-stream-%zu", pfs[0]->n_vfs * (size_t)npf);
	report(what, v, RESCANS);

	/* serve's resident set once the last rescan is over (it gives the rescan's pages back),
	 * and its peak (during a rescan: the inventory beside the old and the new set) */
	for (double t = now_ms(); now_ms() - t < 300;)
		pump(50);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	char line[256];
	long rss = -1, hwm = -1;
	while (f && fgets(line, sizeof(line), f)) {
		sscanf(line, "VmRSS: %ld kB", &rss);
		sscanf(line, "VmHWM: %ld kB", &hwm);
	}
	if (f)
		fclose(f);
	printf("rss VmRSS %ld kB VmHWM %ld kB\n", rss, hwm);

	kill(pid, SIGTERM);
	int status;
	waitpid(pid, &status, 0);
	serve_pid = -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		die("%s", "serve did not exit 0 on SIGTERM");
	grpc_conn_free(client);
	nlsk_close(&sk);
	dm_inventory_free(inv);
	free(avail);
	free(pb);
	return 0;
}
