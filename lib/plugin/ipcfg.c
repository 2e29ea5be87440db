/* Inside the container: notify sysctls, addresses, routes, DAD wait, and the
 * gratuitous ARP / unsolicited neighbour advertisement that announce them. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <netinet/icmp6.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ucni/clock.h"
#include "ucni/fault.h"
#include "ucni/ipcfg.h"
#include "ucni/log.h"
#include "ucni/netns.h"

#define DAD_TIMEOUT_MS 10000

static int write_sysctl(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, val, strlen(val));
	int r = n < 0 ? -errno : 0;
	close(fd);
	return r;
}

static int ndisc_notify(int nsfd, const char *ifname)
{
	char path[128];
	int orig, r = netns_enter(nsfd, &orig);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/ndisc_notify", ifname);
	r = write_sysctl(path, "1");
	if (r == -ENOENT) /* no IPv6 in this namespace is fine */
		r = 0;
	netns_leave(&orig);
	return r;
}

/* The route's gateway, or the gateway of the first IP of its family (what the
 * reference plugins do for routes without "gw"). */
static struct cni_route effective_route(const struct cni_route *rt, const struct cni_result *r, int iface)
{
	struct cni_route e = *rt;
	if (e.has_gw)
		return e;
	for (size_t i = 0; i < r->n_ips; i++)
		if (r->ips[i].iface == iface && r->ips[i].has_gateway &&
		    r->ips[i].address.family == rt->dst.family) {
			e.has_gw = true;
			e.gw = r->ips[i].gateway;
			break;
		}
	return e;
}

/* Wait until none of the link's IPv6 addresses is tentative. */
static int dad_wait(struct nlsk *sk, int ifindex)
{
	long long deadline = now_ms() + DAD_TIMEOUT_MS;
	for (;;) {
		struct addr_entry *v = NULL;
		size_t n = 0;
		bool tentative = false;
		char buf[IP_PREFIX_STRLEN];
		int r = addr_list(sk, ifindex, AF_INET6, &v, &n);
		if (r < 0)
			return r;
		for (size_t i = 0; i < n; i++) {
			if (v[i].flags & IFA_F_DADFAILED) {
				r = cni_fail(CNI_ERR_DEVICE, -EADDRINUSE,
					     "IPv6 address %s failed duplicate address detection",
					     ip_prefix_format(&v[i].prefix, buf, sizeof(buf)));
				free(v);
				return r;
			}
			if ((v[i].flags & IFA_F_TENTATIVE) && !(v[i].flags & IFA_F_NODAD))
				tentative = true;
		}
		free(v);
		if (!tentative)
			return 0;
		if (now_ms() > deadline)
			return cni_fail(CNI_ERR_DEVICE, -ETIMEDOUT,
					"IPv6 duplicate address detection did not finish within %d ms",
					DAD_TIMEOUT_MS);
		struct timespec ts = {0, 20 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

struct arp_pkt {
	uint16_t htype, ptype;
	uint8_t hlen, plen;
	uint16_t op;
	uint8_t sha[6], spa[4], tha[6], tpa[4];
} __attribute__((packed));

static void send_garp(int ifindex, const unsigned char mac[6], const struct in_addr *ip)
{
	struct arp_pkt p = {
		.htype = htons(1), .ptype = htons(ETH_P_IP), .hlen = 6, .plen = 4, .op = htons(1),
	};
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP), .sll_ifindex = ifindex,
		.sll_halen = 6, .sll_addr = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	};
	memcpy(p.sha, mac, 6);
	memcpy(p.spa, ip, 4);
	memcpy(p.tpa, ip, 4);
	int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP));
	if (fd < 0)
		return;
	if (sendto(fd, &p, sizeof(p), 0, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		log_warn("gratuitous ARP on ifindex %d failed: %s", ifindex, strerror(errno));
	close(fd);
}

static void send_unsolicited_na(int ifindex, const unsigned char mac[6], const struct in6_addr *ip)
{
	struct {
		struct nd_neighbor_advert na;
		uint8_t opt_type, opt_len, mac[6];
	} __attribute__((packed)) p;
	struct sockaddr_in6 src = {.sin6_family = AF_INET6, .sin6_addr = *ip, .sin6_scope_id = (uint32_t)ifindex};
	struct sockaddr_in6 dst = {.sin6_family = AF_INET6, .sin6_scope_id = (uint32_t)ifindex};
	int hops = 255;
	memset(&p, 0, sizeof(p));
	p.na.nd_na_type = ND_NEIGHBOR_ADVERT;
	p.na.nd_na_flags_reserved = ND_NA_FLAG_OVERRIDE;
	p.na.nd_na_target = *ip;
	p.opt_type = ND_OPT_TARGET_LINKADDR;
	p.opt_len = 1;
	memcpy(p.mac, mac, 6);
	inet_pton(AF_INET6, "ff02::1", &dst.sin6_addr);
	int fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	if (fd < 0)
		return;
	setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops));
	setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex, sizeof(ifindex));
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0 ||
	    sendto(fd, &p, sizeof(p), 0, (struct sockaddr *)&dst, sizeof(dst)) < 0)
		log_warn("unsolicited neighbour advertisement on ifindex %d failed: %s", ifindex,
			 strerror(errno));
	close(fd);
}

/*
 * Announcements are best effort: a lost one only delays neighbours' caches.
 * Setting the MAC the link already has makes the kernel announce every address
 * itself (NETDEV_CHANGEADDR: a gratuitous ARP per IPv4 address with
 * arp_notify, an unsolicited NA per IPv6 address with ndisc_notify). That is
 * one netlink request, where closing a packet socket waits for an RCU grace
 * period (~10 ms on a busy node). Links that cannot take a MAC (ipvlan, some
 * VFs) get the packets sent by hand.
 */
static void announce(struct nlsk *sk, int nsfd, int ifindex, const unsigned char mac[6],
		     const struct cni_result *r, int iface)
{
	struct link_change same = LINK_CHANGE_INIT;
	int orig;
	same.mac = mac;
	if (FAULT("announce.mac") == 0 && link_change(sk, ifindex, &same) == 0)
		return;
	if (netns_enter(nsfd, &orig) < 0)
		return;
	for (size_t i = 0; i < r->n_ips; i++) {
		if (r->ips[i].iface != iface)
			continue;
		if (r->ips[i].address.family == AF_INET)
			send_garp(ifindex, mac, &r->ips[i].address.addr.v4);
		else
			send_unsolicited_na(ifindex, mac, &r->ips[i].address.addr.v6);
	}
	netns_leave(&orig);
}

/* The kernel announces a family's addresses only with that family's notify
 * setting on: arp_notify (IPv4, over netlink) and ndisc_notify (IPv6, which
 * only /proc/sys can set). Set for the families being configured, before the
 * addresses; a link without addresses gets neither, as with the reference
 * plugins. */
static int set_notify(struct nlsk *sk, int nsfd, int ifindex, const char *ifname, bool v4, bool v6)
{
	int rc = FAULT("add.notify");
	if (rc < 0)
		return cni_fail(CNI_ERR_KERNEL, rc, "setting arp_notify/ndisc_notify on %s failed", ifname);
	if (v4) {
		struct link_change ch = LINK_CHANGE_INIT;
		ch.arp_notify = true;
		if ((rc = link_change(sk, ifindex, &ch)) < 0)
			return cni_fail_kernel(CNI_ERR_KERNEL, rc, nlsk_message(sk), "setting arp_notify on %s failed",
					       ifname);
	}
	if (v6 && (rc = ndisc_notify(nsfd, ifname)) < 0)
		return cni_fail(CNI_ERR_KERNEL, rc, "setting ndisc_notify on %s failed", ifname);
	return 0;
}

int ipcfg_apply(struct nlsk *sk, int nsfd, int ifindex, const char *ifname, const unsigned char *mac,
		const struct cni_result *r, int iface)
{
	char buf[IP_PREFIX_STRLEN], gbuf[INET6_ADDRSTRLEN];
	bool v4 = false, v6 = false;
	int rc;
	for (size_t i = 0; i < r->n_ips; i++)
		if (r->ips[i].iface == iface) {
			v4 |= r->ips[i].address.family == AF_INET;
			v6 |= r->ips[i].address.family == AF_INET6;
		}
	if ((rc = set_notify(sk, nsfd, ifindex, ifname, v4, v6)) < 0)
		return rc;
	for (size_t i = 0; i < r->n_ips; i++) {
		const struct cni_ip *ip = &r->ips[i];
		if (ip->iface != iface)
			continue;
		rc = FAULT("add.addr") ?: addr_add(sk, ifindex, &ip->address);
		if (rc < 0)
			return cni_fail_kernel(CNI_ERR_KERNEL, rc, nlsk_message(sk), "adding address %s to %s failed",
					ip_prefix_format(&ip->address, buf, sizeof(buf)), ifname);
	}
	if (v6 && (rc = dad_wait(sk, ifindex)) < 0)
		return rc;
	for (size_t i = 0; i < r->n_routes; i++) {
		struct cni_route rt = effective_route(&r->routes[i], r, iface);
		rc = FAULT("add.route") ?: route_add(sk, ifindex, &rt);
		char kmsg[sizeof(sk->msg)];
		snprintf(kmsg, sizeof(kmsg), "%s", nlsk_message(sk)); /* route_exists asks again */
		if (rc == -EEXIST) {
			/* Fine when it is this very route (e.g. the kernel's own prefix
			 * route); a route through another interface is a conflict. */
			bool same = false;
			if (route_exists(sk, ifindex, &rt, &same) == 0 && same)
				rc = 0;
		}
		if (rc < 0)
			return cni_fail_kernel(CNI_ERR_KERNEL, rc, kmsg, "adding route to %s%s%s on %s failed",
					ip_prefix_format(&rt.dst, buf, sizeof(buf)), rt.has_gw ? " via " : "",
					rt.has_gw ? ip_addr_format(&rt.gw, gbuf, sizeof(gbuf)) : "", ifname);
	}
	if (mac)
		announce(sk, nsfd, ifindex, mac, r, iface);
	return 0;
}

int ipcfg_verify(struct nlsk *sk, int ifindex, const char *ifname, const struct cni_result *r, int iface)
{
	char buf[IP_PREFIX_STRLEN], gbuf[INET6_ADDRSTRLEN];
	struct addr_entry *v = NULL;
	size_t n = 0;
	int rc = addr_list(sk, ifindex, AF_UNSPEC, &v, &n);
	if (rc < 0)
		return cni_fail_kernel(CNI_ERR_KERNEL, rc, nlsk_message(sk), "listing addresses of %s failed", ifname);
	for (size_t i = 0; i < r->n_ips; i++) {
		const struct cni_ip *ip = &r->ips[i];
		bool found = false;
		if (ip->iface != iface)
			continue;
		for (size_t k = 0; k < n && !found; k++)
			found = v[k].prefix.family == ip->address.family && v[k].prefix.len == ip->address.len &&
				memcmp(v[k].prefix.addr.bytes, ip->address.addr.bytes,
				       ip->address.family == AF_INET ? 4 : 16) == 0;
		if (!found) {
			free(v);
			return cni_fail(CNI_ERR_DEVICE, -ENOENT, "CHECK: address %s is missing on %s",
					ip_prefix_format(&ip->address, buf, sizeof(buf)), ifname);
		}
	}
	free(v);
	for (size_t i = 0; i < r->n_routes; i++) {
		struct cni_route rt = effective_route(&r->routes[i], r, iface);
		bool found = false;
		rc = route_exists(sk, ifindex, &rt, &found);
		if (rc < 0)
			return cni_fail_kernel(CNI_ERR_KERNEL, rc, nlsk_message(sk), "listing routes failed");
		if (!found)
			return cni_fail(CNI_ERR_DEVICE, -ENOENT, "CHECK: route to %s%s%s via %s is missing",
					ip_prefix_format(&rt.dst, buf, sizeof(buf)), rt.has_gw ? " gw " : "",
					rt.has_gw ? ip_addr_format(&rt.gw, gbuf, sizeof(gbuf)) : "", ifname);
	}
	return 0;
}

int ipcfg_verify_link(const struct link_info *li, const char *ifname, const char *want_mac, unsigned int mtu)
{
	char mac[18];
	format_mac(li->mac, mac);
	if (want_mac && strcasecmp(want_mac, mac) != 0)
		return cni_fail(CNI_ERR_DEVICE, -EINVAL, "CHECK: \"%s\" has MAC %s, prevResult says %s", ifname, mac,
				want_mac);
	if (mtu && li->mtu != mtu)
		return cni_fail(CNI_ERR_DEVICE, -EINVAL, "CHECK: \"%s\" has MTU %u, the config says %u", ifname,
				li->mtu, mtu);
	if (!(li->flags & IFF_UP))
		return cni_fail(CNI_ERR_DEVICE, -EINVAL, "CHECK: \"%s\" is down", ifname);
	return 0;
}
