/* IP addresses, prefixes and routes as the kernel layer takes them and CNI
 * results carry them (plain types: no JSON, no netlink). */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>

struct ip_prefix {
	int family; /* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
		unsigned char bytes[16];
	} addr;
	int len; /* prefix length */
};

struct ip_addr {
	int family;
	union {
		struct in_addr v4;
		struct in6_addr v6;
		unsigned char bytes[16];
	} addr;
};

struct cni_route {
	struct ip_prefix dst;
	bool has_gw;
	struct ip_addr gw;
	/* 1.1.0 fields; 0 (or scope -1): not set */
	int mtu;
	int advmss;
	int priority;
	int table;
	int scope;
};
