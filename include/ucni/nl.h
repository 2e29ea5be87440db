/* netlink: a socket bound to one namespace, requests with extended-ack
 * errors, generic netlink families (lib/kernel/nl.c), and the rtnetlink link (link.c), address and route
 * (route.c) operations the plugins and devmgr need. */
#pragma once

#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ucni/ipaddr.h"

struct nlsk {
	int fd;
	uint32_t seq;
	uint32_t portid;
	/* The kernel's extended-ack text for the socket's last request when it
	 * failed, "" otherwise: nlsk_message(). */
	char msg[256];
};
#define NLSK_NULL { .fd = -1 }

/* The one place that opens rtnetlink sockets. A socket in the caller's
 * namespace, or in namespace `nsfd`: a netlink socket stays bound to the
 * namespace it was opened in. */
int nlsk_open(struct nlsk *sk);
int nlsk_open_in(struct nlsk *sk, int nsfd);
/* A socket that also receives the notifications of the multicast groups
 * `groups` (RTMGRP_* bits): a monitor reads them with nlsk_recv(). Its requests
 * would meet notifications among their replies: a monitor makes its requests
 * on another socket. */
int nlsk_open_groups(struct nlsk *sk, uint32_t groups);
/* A generic netlink socket (NETLINK_GENERIC) in the caller's namespace: its
 * requests are genl_msg()s to a family genl_family_id() resolved. */
int nlsk_open_generic(struct nlsk *sk);
void nlsk_close(struct nlsk *sk);
/* A generic netlink request: the family id as message type, a genlmsghdr with
 * cmd (version 1). NULL when out of memory. */
struct nl_msg *genl_msg(uint16_t family, uint8_t cmd, int flags);
/* The id of the generic netlink family `name` (CTRL_CMD_GETFAMILY to the
 * controller): -ENOENT when the kernel has no such family (its module not
 * loaded or not built). */
int genl_family_id(struct nlsk *sk, const char *name, uint16_t *ret_id);
/* CTRL_ATTR_FAMILY_ID of the controller's reply h: -EBADMSG when it has none. */
int genl_family_parse(struct nlmsghdr *h, uint16_t *ret_id);

/* Called for each reply message; return <0 to stop with that error, NL_STOP
 * to stop reading at once with success (the rest of a dump is left unread:
 * close the socket afterwards). It must make no request itself: the replies
 * are read into one buffer shared by all sockets. */
typedef int (*nl_reply_fn)(struct nlmsghdr *h, void *arg);
#define NL_STOP 1

/* Send msg and collect the replies until the ACK (or DONE for a dump); a
 * request with a callback that is not a dump is a GET of one object: its one
 * reply ends it, no ACK is asked for. Returns 0 or the kernel's -errno
 * (-EBADMSG for a reply that is cut short); the kernel's extended-ack text, if
 * any, stays with the socket until its next request (nlsk_message()). A dump
 * is nl_request_dump() without a restart hook. */
int nl_request(struct nlsk *sk, struct nl_msg *msg, nl_reply_fn fn, void *arg);
/*
 * A dump the kernel marks inconsistent (NLM_F_DUMP_INTR: the table changed
 * while it was read) is read again, at most NL_DUMP_TRIES times in all, then
 * fails with -EAGAIN. restart(arg) runs before every new try, so that fn can
 * drop what it collected; without one, fn must keep nothing a new try would
 * repeat. A dump that fn stops (NL_STOP) is not read again.
 */
#define NL_DUMP_TRIES 5
int nl_request_dump(struct nlsk *sk, struct nl_msg *msg, nl_reply_fn fn, void *arg, void (*restart)(void *arg));
/* Read the notifications at hand on a socket of nlsk_open_groups(), one
 * datagram, without waiting: fn (NULL: drop them) sees each message. 0 when a
 * datagram was read, -EAGAIN when none was there, -ENOBUFS when the kernel
 * dropped notifications (the receive buffer overran: what is queued is stale),
 * fn's error, or -errno. */
int nlsk_recv(struct nlsk *sk, nl_reply_fn fn, void *arg);
/* The kernel's extended-ack text for the last request on sk if it failed, ""
 * when there is none: the caller reporting that failure attaches it
 * (cni_fail_kernel), as only it knows which request failed. */
const char *nlsk_message(const struct nlsk *sk);
/*
 * The errno policy of the kernel layer: the kernel's own -errno passes as it
 * is; a reply cut short or malformed is -EBADMSG; libnl's -NLE_* codes (from
 * building or parsing a message) go through nl_errno(), the one conversion
 * point, where a code without an errno of its own is -EIO.
 */
int nl_errno(int nle);

/*
 * The reply parser, apart from the socket (nl_request() feeds it each
 * datagram it reads; its tests feed it buffers). seq, dump, get, fn and arg
 * describe the request; msg receives the extended-ack text of a failure.
 */
struct nl_replies {
	uint32_t seq;
	bool dump;      /* NLM_F_DUMP: ends with DONE */
	bool get;       /* a GET of one object: its one reply ends it */
	nl_reply_fn fn;
	void *arg;
	int cb_err;     /* fn's first error or NL_STOP */
	bool intr;      /* a reply of the dump carried NLM_F_DUMP_INTR */
	char *msg;
	size_t msg_size;
};
/* One datagram of replies: 1 when it ends the exchange (*ret: 0, NL_STOP or
 * -errno), 0 when more are to come. Replies to other requests are skipped. */
int nl_replies_feed(struct nl_replies *st, void *buf, size_t len, int *ret);
/* After a dump try ended with r and its intr flag: 1 to read it again, else 0
 * with *ret its final result (-EAGAIN once `try` reached NL_DUMP_TRIES). */
int nl_dump_again(int r, bool intr, int try, int *ret);

struct link_info {
	int ifindex;
	char name[IFNAMSIZ];
	unsigned int flags;
	unsigned int mtu;
	unsigned char mac[6];
	int maclen;
	int link;       /* IFLA_LINK (parent ifindex), 0 when none */
	int link_netnsid; /* -1 when the parent is in the same namespace */
	int master;     /* IFLA_MASTER */
	char kind[16];  /* IFLA_INFO_KIND, "" for physical devices */
	char alias[IFALIASZ]; /* IFLA_IFALIAS, "" when none */
	unsigned char info_data[256] __attribute__((aligned(4))); /* raw IFLA_INFO_DATA payload */
	int info_data_len;
	unsigned char perm_mac[6];
	int perm_maclen;
	char parent_dev[64]; /* IFLA_PARENT_DEV_NAME (PCI address of a PCI netdev) */
	unsigned int num_vf;
	int operstate;  /* IFLA_OPERSTATE (IF_OPER_*), -1 when absent */
	int carrier;    /* IFLA_CARRIER, -1 when absent */
	unsigned short type; /* ifi_type (ARPHRD_*) */
};

/* Look one link up by name or index (no dump). -ENODEV when absent. */
int link_get_by_name(struct nlsk *sk, const char *name, struct link_info *ret);
int link_get_by_index(struct nlsk *sk, int ifindex, struct link_info *ret);
/* Look a link up by name in the namespace that sk's namespace knows as
 * `netnsid` (IFLA_TARGET_NETNSID): no socket in that namespace needed.
 * -ENODEV when absent, -EOPNOTSUPP when the kernel did not honour the target
 * (its answer does not name it back: a kernel before 4.20 looks in sk's own
 * namespace), -EPERM without CAP_NET_ADMIN there. */
int link_get_by_name_at(struct nlsk *sk, int netnsid, const char *name, struct link_info *ret);
/* Every link of sk's namespace, from one RTM_GETLINK dump without statistics: fn sees each
 * (0 to go on, <0 stops the dump with that error). RESTART(arg) (may be NULL) is called
 * before the dump is read again after the kernel marked it inconsistent. */
int link_dump(struct nlsk *sk, int (*fn)(const struct link_info *l, void *arg), void *arg,
	      void (*restart)(void *arg));
int link_del(struct nlsk *sk, int ifindex);
/* Change a link: NULL / 0 / -1 mean "leave as is". */
struct link_change {
	const char *name;
	const unsigned char *mac;
	unsigned int mtu;
	int up;     /* 1 up, 0 down, -1 unchanged */
	int netns_fd; /* move to this namespace; -1 unchanged */
	bool arp_notify; /* set the link's IPv4 arp_notify (no /proc/sys write needed) */
	const char *alias; /* IFLA_IFALIAS (at most IFALIASZ - 1 bytes) */
};
#define LINK_CHANGE_INIT { .up = -1, .netns_fd = -1 }
int link_change(struct nlsk *sk, int ifindex, const struct link_change *c);
/* Parse an RTM_NEWLINK message into *ret. */
int link_parse(struct nlmsghdr *h, struct link_info *ret);
/* The id that the namespace of sk gives the namespace nsfd (IFLA_LINK_NETNSID
 * of a link whose parent lives there), nsfd -1: the namespace of the calling
 * process; -1 when it has given it none. */
int nl_nsid(struct nlsk *sk, int nsfd, int *ret);

/* Interface of the first default route (IPv4, then IPv6). -ENOENT if none. */
int route_default_ifindex(struct nlsk *sk, int *ret_ifindex);

int addr_add(struct nlsk *sk, int ifindex, const struct ip_prefix *p);
int route_add(struct nlsk *sk, int ifindex, const struct cni_route *r);

/* Addresses on a link, for CHECK and DAD. */
struct addr_entry {
	struct ip_prefix prefix;
	unsigned int flags; /* IFA_F_* */
};
int addr_list(struct nlsk *sk, int ifindex, int family, struct addr_entry **ret, size_t *ret_n);
/* Routes in the main (or r->table) table through ifindex, for CHECK. */
int route_exists(struct nlsk *sk, int ifindex, const struct cni_route *r, bool *ret);
