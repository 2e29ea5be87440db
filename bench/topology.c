/* The topology the runs need: named network namespaces, the node namespace with its
 * master and sibling links, the pod namespaces, and where the VF's netdev is. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "driver.h"

static char *ns_names[MAX_NS];
static int n_ns;

char *ns_path(const char *name)
{
	return xasprintf("/var/run/netns/%s", name);
}

/* Create the named namespaces in one `ip -batch` (never timed). */
void ns_create(char **names, int n)
{
	struct sbuf b = {0};
	for (int i = 0; i < n; i++) {
		if (n_ns >= MAX_NS)
			die("too many namespaces");
		ns_names[n_ns++] = xstrdup(names[i]);
		sb_printf(&b, "netns add %s\n", names[i]);
	}
	if (n && ip_batch(NULL, b.p) < 0)
		die("creating %d namespaces failed", n);
	free(b.p);
}

/* Delete the namespaces whose names start with `pfx` (all of ours when pfx is the
 * prefix), or the one named `pfx` when exact. */
static bool ns_matches(const char *name, const char *pfx, bool exact)
{
	return exact ? strcmp(name, pfx) == 0 : strncmp(name, pfx, strlen(pfx)) == 0;
}

void ns_delete_matching(const char *pfx, bool exact)
{
	struct sbuf b = {0};
	int k = 0;
	for (int i = 0; i < n_ns; i++) {
		if (!ns_names[i] || !ns_matches(ns_names[i], pfx, exact))
			continue;
		sb_printf(&b, "netns del %s\n", ns_names[i]);
		free(ns_names[i]);
		ns_names[i] = NULL;
		k++;
	}
	if (k)
		ip_batch(NULL, b.p);
	free(b.p);
	/* Anything a killed earlier step left under our prefix. */
	DIR *d = opendir("/var/run/netns");
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (ns_matches(e->d_name, pfx, exact)) {
			const char *argv[] = {"ip", "netns", "del", e->d_name, NULL};
			run_cmd(argv);
		}
	if (d)
		closedir(d);
}

int ns_open(const char *name)
{
	char *p = ns_path(name);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("%s: %s", p, strerror(errno));
	free(p);
	return fd;
}

void ns_enter(int fd)
{
	if (setns(fd, CLONE_NEWNET) < 0)
		die("setns: %s", strerror(errno));
}

/* Whether IFNAME exists in namespace nsfd. Through /proc/self/net/dev, which shows the
 * namespace the reader is in: an ioctl on a missing name makes the kernel run modprobe
 * for "netdev-IFNAME" (≈0.1 s under TCG). */
static bool link_exists_in(int nsfd, const char *ifname)
{
	char line[512];
	size_t n = strlen(ifname);
	bool found = false;
	ns_enter(nsfd);
	FILE *f = fopen("/proc/self/net/dev", "re");
	while (f && !found && fgets(line, sizeof(line), f)) {
		const char *p = line + strspn(line, " ");
		found = !strncmp(p, ifname, n) && p[n] == ':';
	}
	if (f)
		fclose(f);
	ns_enter(host_fd);
	return found;
}

/* IFNAME's flags in namespace nsfd, -1 when it does not exist. Looked for first:
 * SIOCGIFFLAGS on a missing name makes the kernel run modprobe (netdev-NAME),
 * which costs ≈ 0.1 s in the VM and adds a process to the machine between runs. */
int link_flags_in(int nsfd, const char *ifname)
{
	struct ifreq ifr = {0};
	int flags = -1;
	if (!link_exists_in(nsfd, ifname))
		return -1;
	ns_enter(nsfd);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0)
		flags = ifr.ifr_flags & 0xffff;
	if (s >= 0)
		close(s);
	ns_enter(host_fd);
	return flags;
}

/* A node namespace with master m0 (veth) and `siblings` macvlans on it, all up. IPv6 is
 * off in the node so a thousand siblings do not start a thousand DADs and router
 * solicitations; pods keep their IPv6 as a real one would. */
void node_setup(struct node *nd, const char *suffix, int siblings)
{
	char *names[1];
	snprintf(nd->name, sizeof(nd->name), "%s-%s", prefix, suffix);
	names[0] = nd->name;
	ns_create(names, 1);
	nd->fd = ns_open(nd->name);
	nd->siblings = siblings;
	ns_enter(nd->fd);
	write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	ns_enter(host_fd);
	struct sbuf b = {0};
	sb_printf(&b, "link set lo up\nlink add m0 type veth peer name m0p\nlink set m0 up\nlink set m0p up\n");
	for (int i = 0; i < siblings; i++)
		sb_printf(&b, "link add sib%d link m0 type %s\nlink set sib%d up\n", i,
			  strcmp(opt.kind, "ipvlan") ? "macvlan mode bridge" : "ipvlan mode l2", i);
	if (ip_batch(nd->name, b.p) < 0)
		die("setting up node namespace %s failed", nd->name);
	free(b.p);
	char last[32];
	snprintf(last, sizeof(last), "sib%d", siblings - 1);
	int f = link_flags_in(nd->fd, siblings ? last : "m0");
	if (f < 0 || !(f & IFF_UP))
		die("node namespace %s: %s is not up after the set-up", nd->name, siblings ? last : "m0");
}

void node_teardown(struct node *nd)
{
	if (nd->fd >= 0)
		close(nd->fd);
	nd->fd = -1;
	ns_delete_matching(nd->name, true);
}

/* ---- the VF of --kind sriov ---- */
struct vf vf;

/* The PCI address of IFNAME's device in namespace nsfd (ethtool's bus-info), "" when
 * IFNAME does not exist there. Tells a VF netdev apart whatever its name. */
void link_bus_in(int nsfd, const char *ifname, char *buf, size_t len)
{
	struct ethtool_drvinfo di = {.cmd = ETHTOOL_GDRVINFO};
	struct ifreq ifr = {0};
	buf[0] = 0;
	if (!link_exists_in(nsfd, ifname))
		return;
	ns_enter(nsfd);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&di;
	if (s >= 0 && ioctl(s, SIOCETHTOOL, &ifr) == 0)
		snprintf(buf, len, "%.*s", (int)sizeof(di.bus_info), di.bus_info);
	if (s >= 0)
		close(s);
	ns_enter(host_fd);
}

/* The VF's netdev as sysfs shows it in this namespace, "" when it is elsewhere. */
static void vf_sysfs_netdev(char *buf, size_t len)
{
	char *dir = xasprintf("/sys/bus/pci/devices/%s/net", vf.pci);
	DIR *d = opendir(dir);
	struct dirent *e;
	buf[0] = 0;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(buf, len, "%.*s", IFNAMSIZ - 1, e->d_name);
			break;
		}
	if (d)
		closedir(d);
	free(dir);
}

bool vf_home(void)
{
	char bus[64];
	link_bus_in(host_fd, vf.netdev, bus, sizeof(bus));
	return !strcmp(bus, vf.pci);
}

/* A sriov run whose VF netdev is out of the node (in a pod, or on its way back). */
bool vf_in_use(void)
{
	return vf.pci[0] && vf.netdev[0] && !vf_home();
}

void vf_setup(void)
{
	char *p = xasprintf("/sys/bus/pci/devices/%s/physfn", opt.vf);
	if (access(p, F_OK) < 0)
		die("--vf %s: not an SR-IOV VF (no %s)", opt.vf, p);
	free(p);
	snprintf(vf.pci, sizeof(vf.pci), "%s", opt.vf);
	vf_sysfs_netdev(vf.netdev, sizeof(vf.netdev));
	if (!vf.netdev[0] || !vf_home())
		die("--vf %s: no netdev of it in this namespace (a kernel driver must be bound: igbvf)", vf.pci);
	/* Down, as DEL leaves it (a move takes a link down; the plugin restores what it saved). */
	const char *argv[] = {"ip", "link", "set", vf.netdev, "down", NULL};
	if (run_cmd(argv) < 0)
		die("ip link set %s down failed", vf.netdev);
}

/* Once the namespace that held the VF's netdev is gone: wait for the kernel to return it
 * (from a work queue; under another name if its own was taken) and give it its name back. */
bool vf_returned(void)
{
	char now[IFNAMSIZ] = "";
	struct timespec ts = {0, 100 * 1000 * 1000};
	for (int i = 0; i < 100 && !now[0]; i++) {
		vf_sysfs_netdev(now, sizeof(now));
		if (!now[0])
			nanosleep(&ts, NULL);
	}
	if (now[0] && strcmp(now, vf.netdev)) {
		const char *ren[] = {"ip", "link", "set", now, "down", "name", vf.netdev, NULL};
		run_cmd(ren);
	}
	return vf_home();
}
