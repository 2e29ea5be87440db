/* devmgr watch: kernel device events (libudev) and link up/down (rtnetlink) as JSON lines. */
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

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000 /* linux/if.h; clashes with net/if.h */
#endif

#include "cli.h"
#include "internal.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void emit(cJSON *o)
{
	char ts[40];
	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	size_t n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + n, sizeof(ts) - n, ".%03ldZ", now.tv_nsec / 1000000);
	cJSON_AddStringToObject(o, "time", ts);
	char *s = cJSON_PrintUnformatted(o);
	if (s) {
		puts(s);
		fflush(stdout);
		free(s);
	}
	cJSON_Delete(o);
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

static int handle_udev(struct udev_monitor *mon, int *left)
{
	struct udev_device *dev = udev_monitor_receive_device(mon);
	if (!dev)
		return 0;
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
	if (o) {
		emit(o);
		if (*left > 0)
			(*left)--;
	}
out:
	udev_device_unref(dev);
	return 0;
}

struct link_seen {
	int ifindex;
	bool up;
};

static int handle_rtnl(int fd, struct link_seen **seen, size_t *n_seen, bool report, int *left)
{
	char buf[16384];
	ssize_t len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (len < 0)
		return errno == EAGAIN ? 0 : -errno;
	for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
		if (h->nlmsg_type == NLMSG_DONE)
			return 1;
		if (h->nlmsg_type != RTM_NEWLINK)
			continue;
		struct ifinfomsg *ifi = NLMSG_DATA(h);
		bool up = (ifi->ifi_flags & IFF_UP) && (ifi->ifi_flags & IFF_LOWER_UP);
		const char *name = NULL;
		int alen = (int)IFLA_PAYLOAD(h);
		for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, alen); a = RTA_NEXT(a, alen))
			if (a->rta_type == IFLA_IFNAME)
				name = RTA_DATA(a);
		size_t i;
		for (i = 0; i < *n_seen; i++)
			if ((*seen)[i].ifindex == ifi->ifi_index)
				break;
		if (i == *n_seen) {
			struct link_seen *ns = realloc(*seen, (*n_seen + 1) * sizeof(*ns));
			if (!ns)
				return -ENOMEM;
			*seen = ns;
			ns[i].ifindex = ifi->ifi_index;
			ns[i].up = up;
			(*n_seen)++;
			continue; /* new links are reported by udev */
		}
		if ((*seen)[i].up == up)
			continue;
		(*seen)[i].up = up;
		if (!report || !name)
			continue;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "event", up ? "link-up" : "link-down");
		cJSON_AddStringToObject(o, "subsystem", "net");
		cJSON_AddStringToObject(o, "netdev", name);
		char pci[DM_PCI_ADDR_MAX];
		if (dm_netdev_to_pci(NULL, name, pci) >= 0)
			cJSON_AddStringToObject(o, "pciAddress", pci);
		emit(o);
		if (*left > 0)
			(*left)--;
	}
	return 0;
}

int cmd_watch(const char *sysfs_root, int count, int timeout_s)
{
	if (strcmp(sysfs_root, "/sys")) {
		fprintf(stderr, "devmgr: watch follows the kernel's events and cannot use --sysfs-root\n");
		return EXIT_USAGE;
	}
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
	int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	if (nl >= 0 && bind(nl, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(nl);
		nl = -1;
	}
	struct link_seen *seen = NULL;
	size_t n_seen = 0;
	int left = count > 0 ? count : -1;
	if (nl >= 0) {
		/* learn every link's current state so only changes are reported */
		struct {
			struct nlmsghdr h;
			struct rtgenmsg g;
		} req = { { sizeof(req), RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 1, 0 }, { AF_UNSPEC } };
		if (send(nl, &req, sizeof(req), 0) == (ssize_t)sizeof(req)) {
			struct pollfd p = { nl, POLLIN, 0 };
			while (poll(&p, 1, 1000) > 0 && handle_rtnl(nl, &seen, &n_seen, false, &left) == 0)
				;
		}
	}
	struct sigaction act = { .sa_handler = on_signal };
	sigaction(SIGINT, &act, NULL);
	sigaction(SIGTERM, &act, NULL);
	fprintf(stderr, "devmgr: watching %s events%s\n", source, nl >= 0 ? " and link changes" : "");

	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	int rc = EXIT_OK;
	while (!stop && left != 0) {
		struct pollfd p[2] = { { udev_monitor_get_fd(mon), POLLIN, 0 }, { nl, POLLIN, 0 } };
		int wait_ms = -1;
		if (timeout_s > 0) {
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			long el = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
			if (el >= timeout_s * 1000L)
				break;
			wait_ms = (int)(timeout_s * 1000L - el);
		}
		int k = poll(p, nl >= 0 ? 2 : 1, wait_ms);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			rc = EXIT_FAIL;
			break;
		}
		if (p[0].revents & POLLIN)
			handle_udev(mon, &left);
		if (nl >= 0 && (p[1].revents & POLLIN))
			(void)handle_rtnl(nl, &seen, &n_seen, true, &left);
	}
	free(seen);
	if (nl >= 0)
		close(nl);
	udev_monitor_unref(mon);
	udev_unref(udev);
	return rc;
}
