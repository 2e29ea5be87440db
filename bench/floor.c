/* bench-floor — the kernel floor for a stacked-link ADD and DEL: only the netlink
 * operations no plugin can avoid, nothing else (no config parsing, no checks, no result).
 *
 *   bench-floor add [--ipvlan] [--notify] NETNS MASTER IFNAME [ADDRESS/PLEN GATEWAY]
 *       create a macvlan (bridge; --ipvlan: an ipvlan, l2) on MASTER directly in NETNS
 *       under a temporary name,
 *       rename it to IFNAME and bring it up in one request, then optionally add the
 *       IPv4 address and a default route via GATEWAY. --notify also writes the two
 *       sysctls the plugins set (arp_notify, ndisc_notify) the way they do, through
 *       /proc/sys: not part of the floor, it measures what those writes cost.
 *   bench-floor add [--ipvlan] --direct NETNS MASTER IFNAME
 *       below the floor: one request that creates the macvlan in NETNS under its final
 *       name and up (the name is checked in NETNS, so no temporary name is needed to
 *       avoid a clash with the host's interfaces); what skipping the rename would save.
 *   bench-floor del NETNS IFNAME
 *       delete IFNAME inside NETNS (by name, one request)
 *   bench-floor add|del --ipam PATH …
 *       also run the IPAM plugin PATH the way any plugin has to (the CNI environment
 *       and the config this program got, config on its stdin, its result read from its
 *       stdout, then waited for), right after the create / before the delete. Its
 *       result is not used (ADDRESS/GATEWAY are): the cost of having a child at all.
 *   bench-floor vf add NETNS NETDEV IFNAME
 *       the floor of an SR-IOV VF ADD (no VF settings): one request that moves the host
 *       netdev NETDEV into NETNS, renames it IFNAME there and brings it up
 *   bench-floor vf del NETNS IFNAME NETDEV
 *       the floor of its DEL: one request, from inside NETNS, that moves IFNAME back to
 *       the namespace this program started in under its host name NETDEV (a move takes
 *       the link down)
 *   bench-floor inventory SYSFS_ROOT
 *       the floor of `devmgr list --json` on a (fake) sysfs tree: for each netdev of
 *       <root>/class/net that sits on a PCI function, only the reads no inventory can
 *       avoid (its link there, its MAC, operstate, carrier and type, the function's
 *       numa_node and iommu_group link), each file opened relative to a descriptor of
 *       the directory holding the function; one line printed per netdev. No bus scan,
 *       no ids, no names, no JSON. The netdevs are shared out between threads by the
 *       rule devmgr's inventory follows (par_run(): one per CPU, at most 4), so both
 *       have the same CPUs to spend.
 *
 * Linked like the plugins (libnl static, libc dynamic) so that the start-up cost is
 * comparable; it uses libnl only to build messages and to wait for the kernel's ack.
 * Exit status 0 on success, 1 with a message on stderr otherwise. */
#include <arpa/inet.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <sched.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/rtnetlink.h>

#include "ucni/parallel.h"

extern char **environ;

static int fail(const char *what, int err)
{
	fprintf(stderr, "bench-floor: %s: %s\n", what, err < 0 ? nl_geterror(err) : strerror(err));
	return 1;
}

/* Send one request and wait for its ack; libnl error code (negative) or 0. */
static int request(struct nl_sock *sk, struct nl_msg *m)
{
	int r = nl_send_auto(sk, m);
	nlmsg_free(m);
	if (r < 0)
		return r;
	return nl_wait_for_ack(sk);
}

/* Every socket opened, freed before exit (keeps sanitizer builds quiet). */
static struct nl_sock *socks[2];

static struct nl_sock *sock_open(void)
{
	struct nl_sock *sk = nl_socket_alloc();
	for (size_t i = 0; i < 2; i++)
		if (!socks[i]) {
			socks[i] = sk;
			break;
		}
	if (!sk || nl_connect(sk, NETLINK_ROUTE) < 0)
		return NULL;
	return sk;
}

static int done(int r)
{
	for (size_t i = 0; i < 2; i++)
		if (socks[i])
			nl_socket_free(socks[i]);
	return r;
}

static int write_sysctl(const char *family, const char *ifname, const char *key)
{
	char path[128];
	snprintf(path, sizeof(path), "/proc/sys/net/%s/conf/%s/%s", family, ifname, key);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "1", 1) != 1)
		return fail(path, errno);
	close(fd);
	return 0;
}

/* Run the IPAM plugin `path` with this program's environment and stdin (the config),
 * read its stdout to the end and wait for it. 0 when it exited 0. */
static int run_ipam(const char *path)
{
	static char conf[1 << 16], out[1 << 16];
	size_t len = 0;
	ssize_t n;
	while (len < sizeof(conf) && (n = read(STDIN_FILENO, conf + len, sizeof(conf) - len)) > 0)
		len += (size_t)n;
	int in[2], res[2], st;
	pid_t pid;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(res, O_CLOEXEC) < 0)
		return fail("pipe", errno);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, res[1], STDOUT_FILENO);
	char *argv[] = {(char *)path, NULL};
	int r = posix_spawn(&pid, path, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(res[1]);
	if (r != 0)
		return fail(path, r);
	if (write(in[1], conf, len) != (ssize_t)len) /* a config fits the pipe's buffer */
		return fail("writing the config to the IPAM plugin", errno);
	close(in[1]);
	while ((n = read(res[0], out, sizeof(out))) > 0)
		;
	close(res[0]);
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return fail("the IPAM plugin failed", EIO);
	return 0;
}

static int floor_add(int argc, char **argv, bool notify, bool direct, bool ipvlan, const char *ipam)
{
	const char *netns = argv[0], *master = argv[1], *ifname = argv[2];
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	char tmp[IFNAMSIZ];
	struct nlattr *li, *data;
	struct nl_sock *sk;
	struct nl_msg *m;
	int nsfd, r;

	nsfd = open(netns, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return fail(netns, errno);
	unsigned int mindex = if_nametoindex(master);
	if (!mindex)
		return fail(master, errno);
	if (!(sk = sock_open()))
		return fail("netlink socket", ENOMEM);

	snprintf(tmp, sizeof(tmp), "flr%d", (int)getpid());
	if (direct) {
		snprintf(tmp, sizeof(tmp), "%s", ifname);
		ifi.ifi_flags = ifi.ifi_change = IFF_UP;
	}
	m = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	if (!m || nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_string(m, IFLA_IFNAME, tmp) < 0 || nla_put_u32(m, IFLA_LINK, mindex) < 0 ||
	    nla_put_u32(m, IFLA_NET_NS_FD, (uint32_t)nsfd) < 0 || !(li = nla_nest_start(m, IFLA_LINKINFO)) ||
	    nla_put_string(m, IFLA_INFO_KIND, ipvlan ? "ipvlan" : "macvlan") < 0 ||
	    !(data = nla_nest_start(m, IFLA_INFO_DATA)) ||
	    (ipvlan ? nla_put_u16(m, IFLA_IPVLAN_MODE, IPVLAN_MODE_L2) : nla_put_u32(m, IFLA_MACVLAN_MODE, MACVLAN_MODE_BRIDGE)) < 0)
		return fail("building RTM_NEWLINK", ENOBUFS);
	nla_nest_end(m, data);
	nla_nest_end(m, li);
	if ((r = request(sk, m)) < 0)
		return fail("creating the macvlan", r);
	if (direct)
		return 0;
	if (ipam && run_ipam(ipam))
		return 1;

	/* Everything else happens inside the container. */
	if (setns(nsfd, CLONE_NEWNET) < 0)
		return fail("setns", errno);
	if (!(sk = sock_open()))
		return fail("netlink socket in the container", ENOMEM);
	int index = (int)if_nametoindex(tmp);
	if (!index)
		return fail(tmp, errno);
	if (notify && (write_sysctl("ipv4", tmp, "arp_notify") || write_sysctl("ipv6", tmp, "ndisc_notify")))
		return 1;

	ifi.ifi_index = index;
	ifi.ifi_flags = IFF_UP;
	ifi.ifi_change = IFF_UP;
	m = nlmsg_alloc_simple(RTM_NEWLINK, 0);
	if (!m || nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 || nla_put_string(m, IFLA_IFNAME, ifname) < 0)
		return fail("building RTM_NEWLINK", ENOBUFS);
	if ((r = request(sk, m)) < 0)
		return fail("rename and up", r);
	if (argc < 5)
		return 0;

	char buf[64];
	snprintf(buf, sizeof(buf), "%s", argv[3]);
	char *slash = strchr(buf, '/');
	struct in_addr a, gw;
	if (!slash || (*slash++ = 0, inet_pton(AF_INET, buf, &a) != 1) || inet_pton(AF_INET, argv[4], &gw) != 1)
		return fail("address or gateway", EINVAL);
	struct ifaddrmsg ifa = {.ifa_family = AF_INET, .ifa_prefixlen = (unsigned char)atoi(slash),
				.ifa_index = (unsigned int)index};
	m = nlmsg_alloc_simple(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	if (!m || nlmsg_append(m, &ifa, sizeof(ifa), NLMSG_ALIGNTO) < 0 || nla_put(m, IFA_LOCAL, 4, &a) < 0 ||
	    nla_put(m, IFA_ADDRESS, 4, &a) < 0)
		return fail("building RTM_NEWADDR", ENOBUFS);
	if ((r = request(sk, m)) < 0)
		return fail("adding the address", r);

	struct rtmsg rtm = {.rtm_family = AF_INET, .rtm_table = RT_TABLE_MAIN, .rtm_protocol = RTPROT_BOOT,
			    .rtm_scope = RT_SCOPE_UNIVERSE, .rtm_type = RTN_UNICAST};
	m = nlmsg_alloc_simple(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	if (!m || nlmsg_append(m, &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0 || nla_put(m, RTA_GATEWAY, 4, &gw) < 0 ||
	    nla_put_u32(m, RTA_OIF, (uint32_t)index) < 0)
		return fail("building RTM_NEWROUTE", ENOBUFS);
	if ((r = request(sk, m)) < 0)
		return fail("adding the default route", r);
	return 0;
}

static int floor_del(char **argv, const char *ipam)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	struct nl_sock *sk;
	struct nl_msg *m;
	int nsfd = open(argv[0], O_RDONLY | O_CLOEXEC), r;
	if (nsfd < 0)
		return fail(argv[0], errno);
	if (ipam && run_ipam(ipam))
		return 1;
	if (setns(nsfd, CLONE_NEWNET) < 0)
		return fail("setns", errno);
	if (!(sk = sock_open()))
		return fail("netlink socket", ENOMEM);
	m = nlmsg_alloc_simple(RTM_DELLINK, 0);
	if (!m || nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 || nla_put_string(m, IFLA_IFNAME, argv[1]) < 0)
		return fail("building RTM_DELLINK", ENOBUFS);
	if ((r = request(sk, m)) < 0)
		return fail("deleting the link", r);
	return 0;
}

/* One RTM_NEWLINK on an existing link: move it into the namespace nsfd, name it `name`
 * there, and set `flags` (IFF_UP or 0). The kernel moves first, then renames (the
 * name only counts in the target namespace) and changes the flags. */
static int vf_move(struct nl_sock *sk, int index, int nsfd, const char *name, unsigned int flags)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = flags, .ifi_change = IFF_UP};
	struct nl_msg *m = nlmsg_alloc_simple(RTM_NEWLINK, 0);
	if (!m || nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(m, IFLA_NET_NS_FD, (uint32_t)nsfd) < 0 || nla_put_string(m, IFLA_IFNAME, name) < 0) {
		nlmsg_free(m);
		return -NLE_NOMEM;
	}
	return request(sk, m);
}

/* bench-floor vf add NETNS NETDEV IFNAME | vf del NETNS IFNAME NETDEV */
static int floor_vf(char **argv)
{
	bool add = strcmp(argv[0], "add") == 0;
	const char *netns = argv[1], *from = argv[2], *to = argv[3];
	struct nl_sock *sk;
	int nsfd, hostfd = -1, r;

	nsfd = open(netns, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return fail(netns, errno);
	if (!add) {
		hostfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (hostfd < 0)
			return fail("/proc/self/ns/net", errno);
		if (setns(nsfd, CLONE_NEWNET) < 0)
			return fail("setns", errno);
	}
	int index = (int)if_nametoindex(from);
	if (!index)
		return fail(from, errno);
	if (!(sk = sock_open()))
		return fail("netlink socket", ENOMEM);
	if ((r = vf_move(sk, index, add ? nsfd : hostfd, to, add ? IFF_UP : 0)) < 0)
		return fail(add ? "moving the VF netdev into the pod" : "moving the VF netdev back", r);
	return 0;
}

/* The small file DIRFD/PATH into BUF (NUL-terminated, trailing newline cut); "" when
 * unreadable (a down link's carrier). */
static void read_small(int dirfd, const char *path, char *buf, size_t size)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);
	if (fd >= 0)
		close(fd);
	n = n < 0 ? 0 : n;
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = 0;
}

/* One netdev of <root>/class/net and its line of output ("" when it is not on a PCI
 * function). */
struct floor_ent {
	char name[256];
	char line[512];
};

struct floor_inv {
	int rootfd, netfd;
	struct floor_ent *ents;
};

/* The reads of ENTS[BEGIN, END); a parent directory opened once for all its functions. */
static void floor_chunk(size_t begin, size_t end, void *arg)
{
	const struct floor_inv *fi = arg;
	char parent[4096] = "";
	int parentfd = -1;
	for (size_t k = begin; k < end; k++) {
		struct floor_ent *fe = &fi->ents[k];
		char target[4096], file[4200], mac[64], oper[32], carrier[16], type[16], numa[16], group[4096];
		fe->line[0] = 0;
		ssize_t len = readlinkat(fi->netfd, fe->name, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = 0;
		/* ../../devices/<dir>/<pci>/net/<if> */
		char *rel = target, *netp = strstr(target, "/net/");
		while (!strncmp(rel, "../", 3))
			rel += 3;
		if (!netp)
			continue;
		*netp = 0;
		char *pci = strrchr(rel, '/');
		if (!pci)
			continue;
		*pci++ = 0;
		if (strcmp(parent, rel)) {
			if (parentfd >= 0)
				close(parentfd);
			parent[0] = 0;
			if ((parentfd = openat(fi->rootfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
				continue;
			snprintf(parent, sizeof(parent), "%s", rel);
		}
		static const char *const names[] = {"address", "operstate", "carrier", "type"};
		char *bufs[] = {mac, oper, carrier, type};
		size_t sizes[] = {sizeof(mac), sizeof(oper), sizeof(carrier), sizeof(type)};
		for (int i = 0; i < 4; i++) {
			snprintf(file, sizeof(file), "%s/net/%s/%s", pci, fe->name, names[i]);
			read_small(parentfd, file, bufs[i], sizes[i]);
		}
		snprintf(file, sizeof(file), "%s/numa_node", pci);
		read_small(parentfd, file, numa, sizeof(numa));
		snprintf(file, sizeof(file), "%s/iommu_group", pci);
		len = readlinkat(parentfd, file, group, sizeof(group) - 1);
		group[len < 0 ? 0 : len] = 0;
		snprintf(fe->line, sizeof(fe->line), "%s %s %s %s %s %s %s %s\n", pci, fe->name, mac, oper, carrier, type,
			 numa, strrchr(group, '/') ? strrchr(group, '/') + 1 : "-");
	}
	if (parentfd >= 0)
		close(parentfd);
}

static int floor_inventory(const char *root)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/class/net", root);
	struct floor_inv fi = {open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), -1, NULL};
	DIR *net = opendir(path);
	if (fi.rootfd < 0 || !net)
		return fail(path, errno);
	fi.netfd = dirfd(net);
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(net))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			if (!(fi.ents = realloc(fi.ents, cap * sizeof(*fi.ents))))
				return fail("memory", ENOMEM);
		}
		snprintf(fi.ents[n++].name, sizeof(fi.ents->name), "%s", de->d_name);
	}
	/* shared out between threads as devmgr does (the same chunking rule) */
	par_run(n, 32, 128, floor_chunk, &fi);
	for (size_t k = 0; k < n; k++)
		fputs(fi.ents[k].line, stdout);
	free(fi.ents);
	closedir(net);
	close(fi.rootfd);
	return fflush(stdout) == 0 ? 0 : fail("stdout", errno);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "inventory") == 0)
		return floor_inventory(argv[2]);
	if (argc == 6 && strcmp(argv[1], "vf") == 0 && (strcmp(argv[2], "add") == 0 || strcmp(argv[2], "del") == 0))
		return done(floor_vf(argv + 2));
	/* Options come right after "add": shift them out. */
	bool notify = false, direct = false, ipvlan = false;
	const char *ipam = NULL;
	while (argc > 2 && strncmp(argv[2], "--", 2) == 0) {
		if (strcmp(argv[2], "--ipam") == 0 && argc > 3) {
			ipam = argv[3];
			argv[3] = argv[1];
			argv[2] = argv[0];
			argv += 2;
			argc -= 2;
			continue;
		}
		if (strcmp(argv[2], "--notify") == 0)
			notify = true;
		else if (strcmp(argv[2], "--direct") == 0)
			direct = true;
		else if (strcmp(argv[2], "--ipvlan") == 0)
			ipvlan = true;
		else
			break;
		argv[2] = argv[1];
		argv++;
		argc--;
	}
	if (direct && argc != 5)
		argc = 0; /* addresses are not supported with --direct */
	if (argc >= 5 && strcmp(argv[1], "add") == 0 && argc != 6)
		return done(floor_add(argc - 2, argv + 2, notify, direct, ipvlan, ipam));
	if (argc == 4 && strcmp(argv[1], "del") == 0)
		return done(floor_del(argv + 2, ipam));
	fputs("usage: bench-floor add [--ipvlan] [--notify] [--ipam PATH] NETNS MASTER IFNAME [ADDRESS/PLEN GATEWAY]\n"
	      "       bench-floor add [--ipvlan] --direct NETNS MASTER IFNAME\n"
	      "       bench-floor del [--ipam PATH] NETNS IFNAME\n"
	      "       bench-floor vf add NETNS NETDEV IFNAME\n"
	      "       bench-floor vf del NETNS IFNAME NETDEV\n"
	      "       bench-floor inventory SYSFS_ROOT\n",
	      stderr);
	return 2;
}
