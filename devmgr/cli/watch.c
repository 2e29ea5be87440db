/* devmgr watch: kernel device events (libudev) and link changes (rtnetlink) as JSON lines;
 * with --apply, a configuration re-applied after them (rate-limited). */
#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <libudev.h>

#include "ucni/clock.h"
#include "ucni/nl.h"

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000 /* linux/if.h; clashes with net/if.h */
#endif

#include "cli.h"
#include "../internal.h"

/* Signals: SIGINT and SIGTERM are blocked except inside ppoll() and while a line is
 * written, so one arriving between the check of `stop` and the wait is not lost: it is
 * delivered when ppoll() unblocks it and ends that wait. While a line is written (which
 * may block on a stalled reader) it ends the process at once. */
static volatile sig_atomic_t stop, writing;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
	if (writing)
		_exit(EXIT_OK);
}

typedef struct watch {
	sigset_t run_mask; /* the mask while waiting or writing: without SIGINT and SIGTERM */
	sigset_t blocked;  /* the mask otherwise */
	int left;          /* lines still to print, -1 for no limit */
	const char *apply; /* --apply CONFIG, or NULL */
	bool dirty;        /* an event since the last apply */
	long long last_event_ms, last_apply_ms;
} watch;

/* --apply: a burst of events is let settle for APPLY_QUIET_MS, and applies are at least
 * APPLY_MIN_GAP_MS apart (an apply's own changes are events too: the next apply finds
 * nothing to change, and the stream ends there). */
#define APPLY_QUIET_MS 500
#define APPLY_MIN_GAP_MS 2000

/* One line on stdout with a single write(2): a line is written whole or not at all. */
static void emit(watch *w, cJSON *o)
{
	char ts[40];
	const cJSON *ev = cJSON_GetObjectItemCaseSensitive(o, "event");
	if (w->apply && !(cJSON_IsString(ev) && !strcmp(ev->valuestring, "apply"))) {
		w->dirty = true;
		w->last_event_ms = now_ms();
	}
	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	size_t n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + n, sizeof(ts) - n, ".%03ldZ", now.tv_nsec / 1000000);
	cJSON_AddStringToObject(o, "time", ts);
	if (w->left == 0) { /* --count lines printed already */
		cJSON_Delete(o);
		return;
	}
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!s)
		return;
	size_t len = strlen(s);
	char *line = realloc(s, len + 2);
	if (!line) {
		free(s);
		return;
	}
	line[len++] = '\n';
	writing = 1;
	sigprocmask(SIG_SETMASK, &w->run_mask, NULL);
	for (size_t off = 0; !stop && off < len;) {
		ssize_t k = write(STDOUT_FILENO, line + off, len - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			stop = 1; /* the reader is gone */
			break;
		}
		off += (size_t)k;
	}
	sigprocmask(SIG_SETMASK, &w->blocked, NULL);
	writing = 0;
	free(line);
	if (w->left > 0)
		w->left--;
}

static void add_opt(cJSON *o, const char *k, const char *v)
{
	if (v && *v)
		cJSON_AddStringToObject(o, k, v);
}

static const char *base_name(const char *p)
{
	const char *s = p ? strrchr(p, '/') : NULL;
	return s ? s + 1 : p;
}

/* The PCI function facts still readable at event time (gone on "remove"). */
static void add_pci_facts(cJSON *o, const char *pci)
{
	dm_device d;
	if (dm_device_lookup(NULL, pci, &d) < 0)
		return;
	cJSON_AddStringToObject(o, "role", d.role == DM_ROLE_VF ? "vf" : d.role == DM_ROLE_PF ? "pf" : "nic");
	if (d.role == DM_ROLE_VF) {
		cJSON_AddStringToObject(o, "pf", d.pf_pci);
		if (d.vf_index >= 0)
			cJSON_AddNumberToObject(o, "vfIndex", d.vf_index);
	}
	if (d.role == DM_ROLE_PF)
		cJSON_AddNumberToObject(o, "numVfs", d.num_vfs);
}

static void handle_udev(watch *w, struct udev_monitor *mon)
{
	struct udev_device *dev = udev_monitor_receive_device(mon);
	if (!dev)
		return;
	const char *sub = udev_device_get_subsystem(dev), *action = udev_device_get_action(dev);
	cJSON *o = NULL;
	if (sub && !strcmp(sub, "pci")) {
		const char *cls = udev_device_get_property_value(dev, "PCI_CLASS");
		/* network functions only (class 02xxxx); on remove the class may be all we have */
		uint32_t v;
		if (cls && parse_hex_u32(cls, &v) >= 0 && (v >> 16) != 0x02)
			goto out;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "event", action ? action : "change");
		cJSON_AddStringToObject(o, "subsystem", "pci");
		cJSON_AddStringToObject(o, "pciAddress", udev_device_get_sysname(dev));
		add_opt(o, "driver", udev_device_get_property_value(dev, "DRIVER"));
		add_opt(o, "pciId", udev_device_get_property_value(dev, "PCI_ID"));
		if (!action || strcmp(action, "remove"))
			add_pci_facts(o, udev_device_get_sysname(dev));
	} else if (sub && !strcmp(sub, "net")) {
		struct udev_device *parent = udev_device_get_parent_with_subsystem_devtype(dev, "pci", NULL);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "event", action ? action : "change");
		cJSON_AddStringToObject(o, "subsystem", "net");
		cJSON_AddStringToObject(o, "netdev", udev_device_get_sysname(dev));
		const char *old = udev_device_get_property_value(dev, "DEVPATH_OLD");
		if (old)
			cJSON_AddStringToObject(o, "oldName", base_name(old));
		if (parent)
			cJSON_AddStringToObject(o, "pciAddress", udev_device_get_sysname(parent));
	}
	if (o)
		emit(w, o);
out:
	udev_device_unref(dev);
}

/* ------------------------------------------------------------------ links */

typedef struct link_seen {
	int ifindex;
	bool up;
	unsigned gen;                /* the dump that last listed it */
	char name[IF_NAMESIZE];
	char pci[DM_PCI_ADDR_MAX];   /* "" when not a PCI function */
} link_seen;

typedef struct links {
	struct nlsk mcast;           /* RTNLGRP_LINK notifications */
	struct nlsk dump;            /* requests (no groups: only the answers) */
	unsigned gen;
	link_seen *v;
	size_t n;
} links;

/* One link message, parsed. */
typedef struct link_msg {
	int type; /* RTM_NEWLINK, RTM_DELLINK */
	int ifindex;
	bool up;
	const char *name;
	bool moved; /* RTM_DELLINK of a link that went to another netns */
	int32_t new_nsid;
} link_msg;

static bool parse_link(const struct nlmsghdr *h, link_msg *m)
{
	if ((h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK) || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
		return false;
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	if (ifi->ifi_family != AF_UNSPEC)
		return false; /* AF_BRIDGE port notifications share the group */
	memset(m, 0, sizeof(*m));
	m->type = h->nlmsg_type;
	m->ifindex = ifi->ifi_index;
	m->up = (ifi->ifi_flags & IFF_UP) && (ifi->ifi_flags & IFF_LOWER_UP);
	int alen = (int)IFLA_PAYLOAD(h);
	for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
		if (a->rta_type == IFLA_IFNAME && RTA_PAYLOAD(a) > 0 && memchr(RTA_DATA(a), 0, RTA_PAYLOAD(a)))
			m->name = RTA_DATA(a);
		else if (a->rta_type == IFLA_NEW_NETNSID && RTA_PAYLOAD(a) >= sizeof(int32_t)) {
			m->moved = true;
			memcpy(&m->new_nsid, RTA_DATA(a), sizeof(int32_t));
		}
	}
	return true;
}

static link_seen *find_link(links *ls, int ifindex)
{
	for (size_t i = 0; i < ls->n; i++)
		if (ls->v[i].ifindex == ifindex)
			return &ls->v[i];
	return NULL;
}

static cJSON *link_event(const char *event, const link_seen *l)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "event", event);
	cJSON_AddStringToObject(o, "subsystem", "net");
	cJSON_AddStringToObject(o, "netdev", l->name);
	cJSON_AddNumberToObject(o, "ifindex", l->ifindex);
	if (l->pci[0])
		cJSON_AddStringToObject(o, "pciAddress", l->pci);
	return o;
}

/* A link left this network namespace: deleted, moved elsewhere (MOVED), or missing
 * from a dump after events were lost. */
static void link_gone(watch *w, links *ls, link_seen *l, bool report, const link_msg *m)
{
	if (report) {
		cJSON *o = link_event("link-removed", l);
		if (m && m->moved)
			cJSON_AddNumberToObject(o, "movedToNetnsId", m->new_nsid);
		if (!m)
			cJSON_AddBoolToObject(o, "resync", true);
		emit(w, o);
	}
	*l = ls->v[--ls->n];
}

/* Applies one link message to the table; REPORT: tell what changed. A link first seen is
 * only recorded: udev tells that it appeared. */
static int apply_link(watch *w, links *ls, const link_msg *m, bool report)
{
	link_seen *l = find_link(ls, m->ifindex);
	if (m->type == RTM_DELLINK) {
		if (l)
			link_gone(w, ls, l, report, m);
		return 0;
	}
	if (!l) {
		link_seen *nv = realloc(ls->v, (ls->n + 1) * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		ls->v = nv;
		l = &nv[ls->n++];
		memset(l, 0, sizeof(*l));
		l->ifindex = m->ifindex;
		l->up = m->up;
		l->gen = ls->gen;
		if (m->name) {
			str_copy(l->name, sizeof(l->name), m->name);
			/* remembered now: when the link goes, its sysfs entry is gone with it */
			if (dm_netdev_to_pci(NULL, l->name, l->pci) < 0)
				l->pci[0] = 0;
		}
		return 0;
	}
	l->gen = ls->gen;
	if (m->name)
		str_copy(l->name, sizeof(l->name), m->name);
	if (l->up == m->up)
		return 0;
	l->up = m->up;
	if (report && l->name[0])
		emit(w, link_event(m->up ? "link-up" : "link-down", l));
	return 0;
}

/* What a link message does to the table: the one walk of a dump and of the
 * notifications. */
typedef struct link_walk {
	watch *w;
	links *ls;
	bool report;
} link_walk;

static int on_link_msg(struct nlmsghdr *h, void *arg)
{
	link_walk *lw = arg;
	link_msg m;
	return parse_link(h, &m) ? apply_link(lw->w, lw->ls, &m, lw->report) : 0;
}

/* A new try of the dump: what it does not list again is gone. */
static void dump_restart(void *arg)
{
	((link_walk *)arg)->ls->gen++;
}

/* Dumps every link through the request socket and brings the table up to date; a dump
 * the kernel marks interrupted (NLM_F_DUMP_INTR: the table changed meanwhile) is run
 * again. REPORT: tell each change, and each link no longer there. */
static int dump_links(watch *w, links *ls, bool report)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	link_walk lw = { w, ls, report };
	struct nl_msg *m = nlmsg_alloc_simple(RTM_GETLINK, NLM_F_DUMP);
	int r;
	if (!m)
		return -ENOMEM;
	ls->gen++;
	r = nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ? -ENOBUFS
	                                                          : nl_request_dump(&ls->dump, m, on_link_msg, &lw, dump_restart);
	nlmsg_free(m);
	if (r < 0)
		return r; /* -EAGAIN: the table changed during every try: it stays as the last try left it */
	/* a complete dump: what it did not list is gone */
	for (size_t i = 0; i < ls->n;)
		if (ls->v[i].gen != ls->gen)
			link_gone(w, ls, &ls->v[i], report, NULL);
		else
			i++;
	return 0;
}

/* The notifications at hand. After an overrun (ENOBUFS: the kernel dropped some) the
 * rest of the queue is stale: it is dropped, a "resync" line says so, and a new dump
 * tells what changed meanwhile. */
static int handle_rtnl(watch *w, links *ls)
{
	link_walk lw = { w, ls, true };
	int r = nlsk_recv(&ls->mcast, on_link_msg, &lw);
	if (r == -ENOBUFS) {
		for (int i = 0; i < 4096; i++) { /* bounded: the stream may never pause */
			int k = nlsk_recv(&ls->mcast, NULL, NULL);
			if (k < 0 && k != -ENOBUFS)
				break;
		}
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "event", "resync");
		cJSON_AddStringToObject(o, "subsystem", "net");
		cJSON_AddStringToObject(o, "reason", "link notifications were lost (receive buffer overrun); "
		                                     "the links are read again");
		emit(w, o);
		r = dump_links(w, ls, true);
		return r == -EAGAIN ? 0 : r;
	}
	return r == -EAGAIN || r == -EINTR ? 0 : r;
}

static int open_links(links *ls)
{
	memset(ls, 0, sizeof(*ls));
	ls->mcast.fd = ls->dump.fd = -1;
	int r = nlsk_open_groups(&ls->mcast, RTMGRP_LINK);
	return r < 0 ? r : nlsk_open(&ls->dump);
}

static void close_links(links *ls)
{
	nlsk_close(&ls->mcast);
	nlsk_close(&ls->dump);
	free(ls->v);
	ls->v = NULL;
}

/* --apply: CONFIG applied (its report on stderr: stdout carries JSON lines only), an
 * "apply" line with its exit code. */
static int run_apply(watch *w, const char *why)
{
	fflush(stdout);
	int rc = apply_file(w->apply, false, stderr);
	w->dirty = false;
	w->last_apply_ms = now_ms();
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "event", "apply");
	cJSON_AddStringToObject(o, "config", w->apply);
	cJSON_AddStringToObject(o, "reason", why);
	cJSON_AddNumberToObject(o, "exit", rc);
	emit(w, o);
	return rc;
}

/* Milliseconds until the pending apply is due (0: now), or -1 when none is pending. */
static long long apply_due_in(const watch *w)
{
	if (!w->apply || !w->dirty)
		return -1;
	long long t = now_ms(), a = w->last_event_ms + APPLY_QUIET_MS - t, b = w->last_apply_ms + APPLY_MIN_GAP_MS - t;
	long long d = a > b ? a : b;
	return d > 0 ? d : 0;
}

int cmd_watch(const char *sysfs_root, int count, int timeout_s, const char *apply)
{
	if (strcmp(sysfs_root, "/sys")) {
		fprintf(stderr, "devmgr: watch follows the kernel's events and cannot use --sysfs-root\n");
		return EXIT_USAGE;
	}
	watch w = { .left = count > 0 ? count : -1, .apply = apply };
	sigemptyset(&w.blocked);
	sigaddset(&w.blocked, SIGINT);
	sigaddset(&w.blocked, SIGTERM);
	sigprocmask(SIG_BLOCK, &w.blocked, &w.run_mask);
	w.blocked = w.run_mask;
	sigaddset(&w.blocked, SIGINT);
	sigaddset(&w.blocked, SIGTERM);
	sigdelset(&w.run_mask, SIGINT);
	sigdelset(&w.run_mask, SIGTERM);
	struct sigaction act = { .sa_handler = on_signal }; /* no SA_RESTART */
	sigaction(SIGINT, &act, NULL);
	sigaction(SIGTERM, &act, NULL);

	struct udev *udev = udev_new();
	if (!udev) {
		fprintf(stderr, "devmgr: watch: cannot create a udev context\n");
		return EXIT_FAIL;
	}
	/* without a udev daemon (a minimal VM, a container) listen to the kernel directly */
	const char *source = access("/run/udev/control", F_OK) == 0 ? "udev" : "kernel";
	struct udev_monitor *mon = udev_monitor_new_from_netlink(udev, source);
	if (!mon || udev_monitor_filter_add_match_subsystem_devtype(mon, "pci", NULL) < 0 ||
	    udev_monitor_filter_add_match_subsystem_devtype(mon, "net", NULL) < 0 ||
	    udev_monitor_enable_receiving(mon) < 0) {
		fprintf(stderr, "devmgr: watch: cannot listen to %s events\n", source);
		udev_monitor_unref(mon);
		udev_unref(udev);
		return EXIT_FAIL;
	}
	/* learn every link's current state so only changes are reported */
	links ls;
	bool have_links = open_links(&ls) >= 0 && dump_links(&w, &ls, false) >= 0;
	if (!have_links)
		close_links(&ls);
	fprintf(stderr, "devmgr: watching %s events%s\n", source, have_links ? " and link changes" : "");
	/* a configuration that does not parse ends the watch at once (exit 3) */
	int rc = apply && run_apply(&w, "start") == EXIT_CONFIG ? EXIT_CONFIG : EXIT_OK;

	long long start = now_ms();
	while (rc == EXIT_OK && !stop && w.left != 0) {
		struct pollfd p[2] = { { udev_monitor_get_fd(mon), POLLIN, 0 }, { have_links ? ls.mcast.fd : -1, POLLIN, 0 } };
		struct timespec wait, *waitp = NULL;
		long long left_ms = -1, due = apply_due_in(&w);
		if (timeout_s > 0) {
			left_ms = timeout_s * 1000LL - (now_ms() - start);
			if (left_ms <= 0)
				break;
		}
		if (due == 0) {
			run_apply(&w, "events");
			continue;
		}
		if (due > 0 && (left_ms < 0 || due < left_ms))
			left_ms = due;
		if (left_ms >= 0) {
			wait.tv_sec = left_ms / 1000;
			wait.tv_nsec = (left_ms % 1000) * 1000000;
			waitp = &wait;
		}
		/* SIGINT/SIGTERM are unblocked only inside ppoll(): none is lost before it */
		int k = ppoll(p, have_links ? 2 : 1, waitp, &w.run_mask);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			rc = EXIT_FAIL;
			break;
		}
		if (p[0].revents & POLLIN)
			handle_udev(&w, mon);
		int r = !stop && w.left != 0 && have_links && (p[1].revents & POLLIN) ? handle_rtnl(&w, &ls) : 0;
		if (r < 0) {
			fprintf(stderr, "devmgr: watch: reading link changes: %s\n", strerror(-r));
			rc = EXIT_FAIL;
			break;
		}
	}
	if (have_links)
		close_links(&ls);
	udev_monitor_unref(mon);
	udev_unref(udev);
	return rc;
}
