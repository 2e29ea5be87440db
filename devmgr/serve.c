/* devmgr serve's event loop: epoll over the signals, the kubelet directory (inotify), link
 * notifications (rtnetlink), device events (udev), each resource's listening socket and its
 * gRPC connections. Log lines go to stderr (the journal, or the pod's log). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <net/if.h>
#include <unistd.h>

#include <libudev.h>

#include "ucni/nl.h"

#include "dp.h"
#include "internal.h"
#include "rpc/dpsvc.h"
#include "rpc/grpc.h"
#include "serve.h"

enum src_kind { SRC_SIGNAL, SRC_INOTIFY, SRC_NETLINK, SRC_UDEV, SRC_LISTEN, SRC_CONN, SRC_REGISTER };

typedef struct endpoint endpoint;

/* What an epoll event points at. */
typedef struct src {
	enum src_kind kind;
	int fd;
	endpoint *ep;     /* SRC_LISTEN, SRC_CONN, SRC_REGISTER */
	grpc_conn *conn;  /* SRC_CONN, SRC_REGISTER */
	bool dead;        /* closed in this event batch, freed after it */
	struct src *next; /* in ep->conns */
} src;

/* One resource: its socket, its connections, its registration. */
struct endpoint {
	dp_service svc;
	char name[DP_RESOURCE_MAX];
	char path[PATH_MAX];
	src listen;
	src *conns;
	src *reg;         /* the Register call under way */
	bool registered;
	unsigned long gen; /* svc.res->gen its streams have */
	endpoint *next;
};

typedef struct server {
	const serve_opts *o;
	int epfd;
	src sig, ino, nl, udev;
	struct nlsk nlsk;
	struct udev *u;
	struct udev_monitor *mon;
	dm_config *cfg;
	dp_set *set;
	endpoint *eps;
	src *dead;        /* connections to free once the event batch is handled */
	bool stop, dirty, reload, kubelet_new;
	bool link_state; /* the link notifications are about the devices sysfs_root shows */
	const char *why_dirty; /* what asked for the rescan (log) */
} server;

__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
	va_list ap;
	fputs("devmgr: serve: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int watch_fd(server *sv, src *s, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = s };
	return epoll_ctl(sv->epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0 ? -errno : 0;
}

static void src_close(server *sv, src *s)
{
	if (s->fd >= 0)
		epoll_ctl(sv->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	if (s->conn)
		grpc_conn_free(s->conn); /* closes s->fd */
	else if (s->fd >= 0)
		close(s->fd);
	s->conn = NULL;
	s->fd = -1;
}

/* ---------------------------------------------------------------- endpoints */

static int ep_listen(server *sv, endpoint *ep)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	if (strlen(ep->path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, ep->path);
	/* a socket left by an earlier run is replaced; anything else is not ours to remove */
	if (lstat(ep->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		unlink(ep->path);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	mode_t old = umask(0177); /* the socket is created 0600: only root talks to it */
	int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || chmod(ep->path, 0600) < 0 || listen(fd, 64) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	ep->listen.fd = fd;
	r = watch_fd(sv, &ep->listen, EPOLLIN);
	if (r < 0) {
		close(fd);
		ep->listen.fd = -1;
		unlink(ep->path);
	}
	return r;
}

static void ep_drop_conn(server *sv, endpoint *ep, src *c)
{
	for (src **pp = &ep->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	src_close(sv, c);
	free(c);
}

static void ep_close(server *sv, endpoint *ep)
{
	while (ep->conns)
		ep_drop_conn(sv, ep, ep->conns);
	if (ep->reg) {
		src_close(sv, ep->reg);
		free(ep->reg);
		ep->reg = NULL;
	}
	if (ep->listen.fd >= 0) {
		src_close(sv, &ep->listen);
		unlink(ep->path);
	}
}

static void on_registered(int status, const char *message, const uint8_t *reply, size_t len, void *ud)
{
	endpoint *ep = ud;
	ep->registered = status == GRPC_OK;
	if (ep->registered)
		say("%s: registered with the kubelet (endpoint %s)", ep->name, ep->svc.res->endpoint);
	else
		say("%s: registration failed: %s (gRPC status %d)", ep->name, message, status);
}

/* Register ep with the kubelet; the answer comes through the event loop. */
static void ep_register(server *sv, endpoint *ep)
{
	char path[PATH_MAX];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint8_t *msg;
	size_t len;
	if (ep->reg)
		return;
	ep->registered = false;
	snprintf(path, sizeof(path), "%s/%s", sv->o->kubelet_dir, SERVE_KUBELET_SOCK);
	if (strlen(path) >= sizeof(sa.sun_path))
		return;
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		/* no kubelet yet: its socket's creation (inotify) brings us back here */
		if (errno != ENOENT && errno != ECONNREFUSED)
			say("%s: cannot reach the kubelet at %s: %s", ep->name, path, strerror(errno));
		close(fd);
		return;
	}
	src *s = calloc(1, sizeof(*s));
	int r = !s ? -ENOMEM : grpc_conn_client(fd, "localhost", &s->conn);
	if (r < 0) {
		say("%s: cannot register: %s", ep->name, strerror(-r));
		close(fd);
		free(s);
		return;
	}
	r = dp_register_encode(ep->svc.res, &msg, &len);
	if (r == 0) {
		r = grpc_client_call(s->conn, DP_PATH_REGISTER, msg, len, NULL, on_registered, ep);
		free(msg);
	}
	if (r < 0) {
		say("%s: cannot register: %s", ep->name, strerror(-r));
		grpc_conn_free(s->conn);
		free(s);
		return;
	}
	s->kind = SRC_REGISTER;
	s->fd = fd;
	s->ep = ep;
	ep->reg = s;
	if (watch_fd(sv, s, EPOLLIN | EPOLLOUT | EPOLLET) < 0) {
		src_close(sv, s);
		free(s);
		ep->reg = NULL;
	}
}

static endpoint *ep_new(server *sv, const dp_resource *r)
{
	endpoint *ep = calloc(1, sizeof(*ep));
	if (!ep)
		return NULL;
	ep->svc.res = r;
	ep->svc.devinfo_dir = sv->o->devinfo_dir;
	snprintf(ep->name, sizeof(ep->name), "%s", r->name);
	snprintf(ep->path, sizeof(ep->path), "%s/%s", sv->o->kubelet_dir, r->endpoint);
	ep->listen.kind = SRC_LISTEN;
	ep->listen.fd = -1;
	ep->listen.ep = ep;
	int e = ep_listen(sv, ep);
	if (e < 0) {
		say("%s: cannot serve on %s: %s", r->name, ep->path, strerror(-e));
		free(ep);
		return NULL;
	}
	say("%s: serving %zu devices on %s", r->name, r->n, ep->path);
	return ep;
}

/* Every open ListAndWatch stream of ep gets the current list. */
static void ep_stream(server *sv, endpoint *ep)
{
	uint8_t *msg;
	size_t len;
	if (!ep->conns || dp_list_encode(ep->svc.res, &msg, &len) < 0)
		return;
	for (src *c = ep->conns, *next; c; c = next) {
		next = c->next;
		if (grpc_conn_broadcast(c->conn, DP_PATH_LIST_AND_WATCH, msg, len) < 0)
			ep_drop_conn(sv, ep, c);
	}
	free(msg);
}

static void ep_accept(server *sv, endpoint *ep)
{
	for (;;) {
		int fd = accept4(ep->listen.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return; /* EAGAIN, or EMFILE and the like: the next connection tries again */
		}
		src *c = calloc(1, sizeof(*c));
		if (!c || grpc_conn_server(fd, dp_service_methods, dp_service_n_methods, &ep->svc, SERVE_MAX_QUEUED,
					   &c->conn) < 0) {
			free(c);
			close(fd);
			continue;
		}
		c->kind = SRC_CONN;
		c->fd = fd;
		c->ep = ep;
		if (watch_fd(sv, c, EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP) < 0) {
			src_close(sv, c);
			free(c);
			continue;
		}
		c->next = ep->conns;
		ep->conns = c;
		if (grpc_conn_io(c->conn) < 0) /* what arrived with the connection */
			ep_drop_conn(sv, ep, c);
	}
}

/* ------------------------------------------------------------- the model */

/* Rebuild the resources from the kernel's current view (and the configuration when
 * reloading); stream the ones that changed, open and register new ones, close removed ones. */
static int rebuild(server *sv, bool reload)
{
	char err[512];
	dm_config *cfg = NULL;
	dm_inventory *inv = NULL;
	dp_set *ns = NULL;
	if (reload || !sv->cfg) {
		if (sv->o->load_config(sv->o->arg, &cfg))
			return -EINVAL;
	}
	int r = dm_inventory_load(sv->o->sysfs_root, 0, &inv);
	if (r < 0) {
		say("cannot read %s/bus/pci: %s", sv->o->sysfs_root, strerror(-r));
		dm_config_free(cfg);
		return r;
	}
	r = dp_set_build(cfg ? cfg : sv->cfg, inv, sv->o->sysfs_root, sv->o->prefix, &ns, err, sizeof(err));
	dm_inventory_free(inv);
	/* a VF whose netdev the sriov plugin moved into a pod is in use, not broken; a VF that
	 * disappeared on a rescan streams as Unhealthy (a reload drops it) */
	if (r == 0)
		r = dp_set_note_attached(ns, sv->o->state_dir);
	if (r == 0 && !reload && sv->set)
		r = dp_set_carry_gone(ns, sv->set);
	if (r < 0) {
		if (ns)
			snprintf(err, sizeof(err), "cannot rebuild the resources: %s", strerror(-r));
		say("%s", err);
		dp_set_free(ns);
		dm_config_free(cfg);
		return r;
	}
	if (cfg) {
		dm_config_free(sv->cfg);
		sv->cfg = cfg;
	}
	/* resources that are gone */
	for (endpoint **pp = &sv->eps; *pp;) {
		endpoint *ep = *pp;
		if (dp_set_find(ns, ep->name)) {
			pp = &ep->next;
			continue;
		}
		say("%s: no longer in the configuration; its socket is closed", ep->name);
		ep_close(sv, ep);
		*pp = ep->next;
		free(ep);
	}
	/* resources that stay or are new */
	for (size_t i = 0; i < ns->n; i++) {
		const dp_resource *res = &ns->res[i];
		endpoint *ep = sv->eps;
		while (ep && strcmp(ep->name, res->name))
			ep = ep->next;
		if (ep) {
			const dp_resource *old = ep->svc.res;
			ep->svc.res = res;
			ep->gen = res->gen;
			if (!dp_resource_equal(old, res))
				ep_stream(sv, ep);
			if (reload && !ep->registered)
				ep_register(sv, ep); /* the kubelet refused it, or was not there */
			continue;
		}
		ep = ep_new(sv, res);
		if (!ep)
			continue;
		ep->next = sv->eps;
		sv->eps = ep;
		ep_register(sv, ep);
	}
	/* the device-info files of a removed pool, or of a VF a pool no longer has, go with
	 * them (SIGTERM removes only the set it ends with) */
	if (sv->set && (r = dp_devinfo_remove_dropped(sv->set, ns, sv->o->devinfo_dir)) < 0)
		say("cannot remove the device-info files of dropped devices under %s: %s",
		    sv->o->devinfo_dir, strerror(-r));
	dp_set_free(sv->set);
	sv->set = ns;
	/* the inventory and the previous set were freed: give the pages back rather than keep
	 * the rebuild's peak resident */
	malloc_trim(0);
	/* the marker names the pools: it changes with the configuration only */
	r = reload ? dp_served_mark(sv->o->state_dir, sv->set, getpid()) : 0;
	if (r < 0)
		say("cannot record the served pools in %s: %s", sv->o->state_dir, strerror(-r));
	return 0;
}

/* The kubelet (re)started: it removes the plugin sockets it finds; bring ours back and
 * register every resource again. */
static void kubelet_restarted(server *sv)
{
	struct stat st;
	for (endpoint *ep = sv->eps; ep; ep = ep->next) {
		if (lstat(ep->path, &st) < 0 || !S_ISSOCK(st.st_mode)) {
			while (ep->conns)
				ep_drop_conn(sv, ep, ep->conns);
			if (ep->listen.fd >= 0)
				src_close(sv, &ep->listen);
			int r = ep_listen(sv, ep);
			if (r < 0) {
				say("%s: cannot serve on %s again: %s", ep->name, ep->path, strerror(-r));
				continue;
			}
		}
		if (ep->reg) {
			src_close(sv, ep->reg);
			free(ep->reg);
			ep->reg = NULL;
		}
		ep_register(sv, ep);
	}
}

/* ------------------------------------------------------------- event sources */

static void on_signal(server *sv)
{
	struct signalfd_siginfo si;
	while (read(sv->sig.fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			say("SIGHUP: reloading the configuration and rescanning");
			sv->reload = sv->dirty = true;
		} else {
			sv->stop = true;
		}
	}
}

static void on_inotify(server *sv)
{
	char b[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t k;
	while ((k = read(sv->ino.fd, b, sizeof(b))) > 0) {
		for (char *p = b; p < b + k;) {
			const struct inotify_event *e = (const struct inotify_event *)p;
			if (e->len && (e->mask & (IN_CREATE | IN_MOVED_TO)) && !strcmp(e->name, SERVE_KUBELET_SOCK))
				sv->kubelet_new = true;
			p += sizeof(*e) + e->len;
		}
	}
}

/* A link notification updates the health of the devices it is about, without a rescan
 * (the netlink facts stand for sysfs when sysfs_root is the kernel's own); those of other
 * links (veth churn of a busy node) cost a look-up. */
static int on_link_msg(struct nlmsghdr *h, void *arg)
{
	server *sv = arg;
	if ((h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK) ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)) || sv->dirty)
		return 0;
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	dp_link l = { .gone = h->nlmsg_type == RTM_DELLINK, .have_state = sv->link_state, .flags = ifi->ifi_flags,
		      .carrier = -1, .operstate = -1 };
	int alen = (int)IFLA_PAYLOAD(h);
	for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
		size_t n = RTA_PAYLOAD(a);
		if (a->rta_type == IFLA_IFNAME && n > 0 && memchr(RTA_DATA(a), 0, n))
			l.name = RTA_DATA(a);
		else if (a->rta_type == IFLA_CARRIER && n >= 1)
			l.carrier = *(const uint8_t *)RTA_DATA(a);
		else if (a->rta_type == IFLA_OPERSTATE && n >= 1)
			l.operstate = *(const uint8_t *)RTA_DATA(a);
	}
	if (!l.name || !sv->set)
		return 0;
	int r = dp_set_link_update(sv->set, &l, sv->o->sysfs_root, sv->o->state_dir);
	if (r > 0) {
		say("link %s%s: health updated without a rescan", l.name, l.gone ? " (gone)" : "");
	} else if (r < 0 && r != -EINVAL) {
		say("link %s: cannot update the health: %s; rescanning", l.name, strerror(-r));
		sv->dirty = true;
		sv->why_dirty = "a link update failed";
	}
	return 0;
}

static void on_netlink(server *sv)
{
	for (int i = 0; i < 4096; i++) { /* bounded: the notifications may never pause */
		int r = nlsk_recv(&sv->nlsk, on_link_msg, sv);
		if (r == -EAGAIN)
			break;
		if (r == -ENOBUFS) { /* lost notifications: the rebuild reads everything */
			sv->dirty = true;
			sv->why_dirty = "link notifications were lost";
		}
		else if (r < 0 && r != -EINTR)
			break;
	}
}

/* A device event that may change a served VF: a network PCI function's (bound, unbound,
 * added, removed), or a netdev's that sits on a PCI function (not a veth's or a bridge's). */
static bool udev_relevant(struct udev_device *d)
{
	const char *sub = udev_device_get_subsystem(d);
	if (sub && !strcmp(sub, "net"))
		return udev_device_get_parent_with_subsystem_devtype(d, "pci", NULL) != NULL;
	const char *cls = udev_device_get_property_value(d, "PCI_CLASS");
	uint32_t v;
	return !cls || parse_hex_u32(cls, &v) < 0 || (v >> 16) == 0x02;
}

static void on_udev(server *sv)
{
	struct udev_device *d;
	while ((d = udev_monitor_receive_device(sv->mon))) {
		if (udev_relevant(d)) {
			sv->dirty = true;
			sv->why_dirty = "a device event";
		}
		udev_device_unref(d);
	}
}

static void on_conn(server *sv, src *s)
{
	if (!s->conn || s->dead)
		return;
	int r = grpc_conn_io(s->conn);
	if (s->kind == SRC_REGISTER) {
		if (r < 0 || !grpc_conn_events(s->conn)) {
			endpoint *ep = s->ep;
			epoll_ctl(sv->epfd, EPOLL_CTL_DEL, s->fd, NULL);
			ep->reg = NULL;
			s->dead = true;
			s->next = sv->dead; /* freed after this batch: a later event may point at it */
			sv->dead = s;
		}
		return;
	}
	if (r < 0) {
		endpoint *ep = s->ep;
		for (src **pp = &ep->conns; *pp; pp = &(*pp)->next)
			if (*pp == s) {
				*pp = s->next;
				break;
			}
		epoll_ctl(sv->epfd, EPOLL_CTL_DEL, s->fd, NULL);
		s->dead = true;
		s->next = sv->dead;
		sv->dead = s;
	}
}

static int open_sources(server *sv)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sv->epfd = epoll_create1(EPOLL_CLOEXEC);
	sv->sig = (src){ .kind = SRC_SIGNAL, .fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC) };
	sv->ino = (src){ .kind = SRC_INOTIFY, .fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC) };
	if (sv->epfd < 0 || sv->sig.fd < 0 || sv->ino.fd < 0)
		return -errno;
	if (inotify_add_watch(sv->ino.fd, sv->o->kubelet_dir, IN_CREATE | IN_MOVED_TO | IN_ONLYDIR) < 0) {
		int r = -errno;
		say("cannot watch the kubelet directory %s: %s", sv->o->kubelet_dir, strerror(-r));
		return r;
	}
	int r = watch_fd(sv, &sv->sig, EPOLLIN);
	if (!r)
		r = watch_fd(sv, &sv->ino, EPOLLIN);
	if (r < 0)
		return r;
	/* kernel events: without them health would only change on SIGHUP, so say so */
	sv->nlsk = (struct nlsk)NLSK_NULL;
	if (nlsk_open_groups(&sv->nlsk, RTMGRP_LINK) == 0) {
		sv->nl = (src){ .kind = SRC_NETLINK, .fd = sv->nlsk.fd };
		watch_fd(sv, &sv->nl, EPOLLIN);
	} else {
		say("cannot listen to link notifications; link changes are seen on SIGHUP only");
	}
	sv->u = udev_new();
	const char *source = access("/run/udev/control", F_OK) == 0 ? "udev" : "kernel";
	sv->mon = sv->u ? udev_monitor_new_from_netlink(sv->u, source) : NULL;
	if (sv->mon && udev_monitor_filter_add_match_subsystem_devtype(sv->mon, "pci", NULL) >= 0 &&
	    udev_monitor_filter_add_match_subsystem_devtype(sv->mon, "net", NULL) >= 0 &&
	    udev_monitor_enable_receiving(sv->mon) >= 0) {
		sv->udev = (src){ .kind = SRC_UDEV, .fd = udev_monitor_get_fd(sv->mon) };
		watch_fd(sv, &sv->udev, EPOLLIN);
	} else {
		say("cannot listen to %s device events; device changes are seen on SIGHUP only", source);
	}
	return 0;
}

static void close_sources(server *sv)
{
	if (sv->nlsk.fd >= 0)
		nlsk_close(&sv->nlsk);
	udev_monitor_unref(sv->mon);
	udev_unref(sv->u);
	if (sv->ino.fd >= 0)
		close(sv->ino.fd);
	if (sv->sig.fd >= 0)
		close(sv->sig.fd);
	if (sv->epfd >= 0)
		close(sv->epfd);
}

/* One serve per state dir: the second is told who holds it. */
static int take_lock(const char *state_dir, int *ret_fd)
{
	char path[PATH_MAX], pid[32] = "";
	snprintf(path, sizeof(path), "%s/serve.lock", state_dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int r = errno == EWOULDBLOCK ? -EBUSY : -errno;
		ssize_t k = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[k > 0 ? k : 0] = 0;
		pid[strcspn(pid, "\n")] = 0;
		if (r == -EBUSY)
			say("another devmgr serve%s%s already serves the state directory %s", pid[0] ? " (pid " : "",
			    pid[0] ? strcat(pid, ")") : "", state_dir);
		close(fd);
		return r;
	}
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, strlen(pid), 0) < 0) {
		/* the pid is only for the message above */
	}
	*ret_fd = fd;
	return 0;
}

int serve_run(const serve_opts *o)
{
	server sv = { .o = o, .epfd = -1, .sig.fd = -1, .ino.fd = -1 };
	/* a rescan's big arrays (the inventory, a resource's devices) are mapped and unmapped
	 * on their own: glibc would otherwise raise its threshold after the first free and
	 * put the next ones on the heap, beside the set being served (peak RSS) */
	mallopt(M_MMAP_THRESHOLD, 64 * 1024);
	/* on the kernel's own /sys (serve's namespace mounted it) a link notification carries
	 * the facts sysfs would give; on another tree (tests) they are read from its files */
	sv.link_state = !strcmp(o->sysfs_root ? o->sysfs_root : DM_DEFAULT_SYSFS_ROOT, DM_DEFAULT_SYSFS_ROOT);
	sv.nlsk = (struct nlsk)NLSK_NULL;
	int lockfd = -1;
	int r = take_lock(o->state_dir, &lockfd);
	if (r < 0) {
		if (r != -EBUSY)
			say("cannot lock %s/serve.lock: %s", o->state_dir, strerror(-r));
		return r;
	}
	r = open_sources(&sv);
	if (r == 0) {
		r = rebuild(&sv, true);
		if (r == -EINVAL)
			r = -ENOEXEC; /* the configuration was refused: said already */
	}
	if (r == 0)
		say("ready: %zu resources, kubelet directory %s", sv.set->n, o->kubelet_dir);
	while (r == 0 && !sv.stop) {
		struct epoll_event ev[64];
		int n = epoll_wait(sv.epfd, ev, 64, -1);
		if (n < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		for (int i = 0; i < n; i++) {
			src *s = ev[i].data.ptr;
			switch (s->kind) {
			case SRC_SIGNAL: on_signal(&sv); break;
			case SRC_INOTIFY: on_inotify(&sv); break;
			case SRC_NETLINK: on_netlink(&sv); break;
			case SRC_UDEV: on_udev(&sv); break;
			case SRC_LISTEN: ep_accept(&sv, s->ep); break;
			case SRC_CONN: case SRC_REGISTER: on_conn(&sv, s); break;
			}
		}
		while (sv.dead) {
			src *s = sv.dead;
			sv.dead = s->next;
			s->fd = -1; /* out of epoll already; grpc_conn_free closes it */
			grpc_conn_free(s->conn);
			free(s);
		}
		if (sv.stop)
			break;
		if (sv.dirty) {
			bool reload = sv.reload;
			if (!reload)
				say("rescan: %s", sv.why_dirty ? sv.why_dirty : "requested");
			sv.dirty = sv.reload = false;
			sv.why_dirty = NULL;
			rebuild(&sv, reload); /* on failure the previous resources stay served */
		} else {
			/* what link notifications changed in place */
			for (endpoint *ep = sv.eps; ep; ep = ep->next)
				if (ep->gen != ep->svc.res->gen) {
					ep->gen = ep->svc.res->gen;
					ep_stream(&sv, ep);
				}
		}
		if (sv.kubelet_new) {
			sv.kubelet_new = false;
			say("the kubelet's socket was created: registering again");
			kubelet_restarted(&sv);
		}
	}
	/* the end: no socket, device-info file or marker of ours stays behind */
	while (sv.eps) {
		endpoint *ep = sv.eps;
		sv.eps = ep->next;
		ep_close(&sv, ep);
		free(ep);
	}
	if (sv.set) {
		int e = dp_devinfo_remove(sv.set, o->devinfo_dir);
		if (e < 0)
			say("cannot remove the device-info files under %s: %s", o->devinfo_dir, strerror(-e));
	}
	int e = dp_served_clear(o->state_dir);
	if (e < 0 && e != -ENOENT)
		say("cannot clear the served marker in %s: %s", o->state_dir, strerror(-e));
	dp_set_free(sv.set);
	dm_config_free(sv.cfg);
	close_sources(&sv);
	close(lockfd);
	if (r == 0)
		say("stopped");
	return r;
}
