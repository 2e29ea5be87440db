/* The rtnetlink transport without a kernel: replies are queued on the other
 * end of a datagram socket pair, or fed to the reply parser as buffers. Dumps
 * the kernel marks interrupted (NLM_F_DUMP_INTR) are read again, an
 * extended-ack message stays with the request that produced it, replies cut
 * short fail, and libnl's codes map to errno in one place; the VF codec reads
 * a PF's link and writes one setting per request. */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include "unit.h"
#include <netlink/errno.h>
#include "ucni/nl.h"
#include "ucni/vf.h"

#define SEQ0 1000u

/* Messages queued with the queue_* helpers go out as one datagram per flush(),
 * as the kernel packs a dump's messages. */
struct pair {
	struct nlsk sk;
	int peer;
	char buf[8192] __attribute__((aligned(8)));
	size_t len;
};

static int setup(void **state)
{
	struct pair *p = calloc(1, sizeof(*p));
	int sv[2];
	assert_non_null(p);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	/* a reply queue that overflows fails the test instead of hanging it */
	assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	p->sk.fd = sv[0];
	p->sk.seq = SEQ0;
	p->peer = sv[1];
	cni_error_reset();
	*state = p;
	return 0;
}

static int teardown(void **state)
{
	struct pair *p = *state;
	close(p->sk.fd);
	close(p->peer);
	free(p);
	cni_error_reset();
	return 0;
}

static void send_msg(struct pair *p, struct nl_msg *m)
{
	struct nlmsghdr *h = nlmsg_hdr(m);
	assert_true(p->len + NLMSG_ALIGN(h->nlmsg_len) <= sizeof(p->buf));
	memcpy(p->buf + p->len, h, h->nlmsg_len);
	p->len += NLMSG_ALIGN(h->nlmsg_len);
	nlmsg_free(m);
}

static void flush(struct pair *p)
{
	assert_int_equal(send(p->peer, p->buf, p->len, 0), (ssize_t)p->len);
	p->len = 0;
}

/* An RTM_NEWADDR of 10.0.0.<last>/24 on ifindex 7, part of the reply to request seq. */
static void queue_addr(struct pair *peer, uint32_t seq, int last, bool intr)
{
	struct ifaddrmsg ifa = {.ifa_family = AF_INET, .ifa_prefixlen = 24, .ifa_index = 7};
	uint32_t a = htonl(0x0a000000u | (uint32_t)last);
	struct nl_msg *m = nlmsg_alloc_simple(RTM_NEWADDR, NLM_F_MULTI | (intr ? NLM_F_DUMP_INTR : 0));
	assert_non_null(m);
	nlmsg_hdr(m)->nlmsg_seq = seq;
	assert_int_equal(nlmsg_append(m, &ifa, sizeof(ifa), NLMSG_ALIGNTO), 0);
	assert_int_equal(nla_put(m, IFA_LOCAL, 4, &a), 0);
	send_msg(peer, m);
}

/* NLMSG_DONE of request seq, carrying error (0: a complete dump). */
static void append_done(struct pair *peer, uint32_t seq, bool intr, int error)
{
	struct nl_msg *m = nlmsg_alloc_simple(NLMSG_DONE, NLM_F_MULTI | (intr ? NLM_F_DUMP_INTR : 0));
	assert_non_null(m);
	nlmsg_hdr(m)->nlmsg_seq = seq;
	assert_int_equal(nlmsg_append(m, &error, sizeof(error), NLMSG_ALIGNTO), 0);
	send_msg(peer, m);
}

static void queue_done(struct pair *peer, uint32_t seq, bool intr)
{
	append_done(peer, seq, intr, 0);
	flush(peer);
}

/* NLMSG_ERROR for request seq: error (0: an ACK), with an extended-ack text;
 * capped: without the request's payload (NETLINK_CAP_ACK). */
static void append_error(struct pair *peer, uint32_t seq, int error, const char *text, bool capped)
{
	struct nlmsgerr e = {.error = error};
	struct ifinfomsg echo = {.ifi_index = 7};
	struct nl_msg *m = nlmsg_alloc_simple(NLMSG_ERROR, (capped ? NLM_F_CAPPED : 0) | (text ? NLM_F_ACK_TLVS : 0));
	assert_non_null(m);
	nlmsg_hdr(m)->nlmsg_seq = seq;
	e.msg.nlmsg_len = (uint32_t)(sizeof(struct nlmsghdr) + (capped ? 0 : sizeof(echo)));
	e.msg.nlmsg_seq = seq;
	assert_int_equal(nlmsg_append(m, &e, sizeof(e), NLMSG_ALIGNTO), 0);
	if (!capped)
		assert_int_equal(nlmsg_append(m, &echo, sizeof(echo), NLMSG_ALIGNTO), 0);
	if (text)
		assert_int_equal(nla_put_string(m, NLMSGERR_ATTR_MSG, text), 0);
	send_msg(peer, m);
}

static void queue_error(struct pair *peer, uint32_t seq, int error, const char *text)
{
	append_error(peer, seq, error, text, true);
	flush(peer);
}

static struct nl_msg *addr_dump_request(void)
{
	struct ifaddrmsg ifa = {.ifa_family = AF_INET};
	struct nl_msg *m = nlmsg_alloc_simple(RTM_GETADDR, NLM_F_DUMP);
	assert_non_null(m);
	assert_int_equal(nlmsg_append(m, &ifa, sizeof(ifa), NLMSG_ALIGNTO), 0);
	return m;
}

struct count {
	int msgs, restarts;
	int stop_at; /* NL_STOP at this message (0: never) */
};

static int on_msg(struct nlmsghdr *h, void *arg)
{
	struct count *c = arg;
	c->msgs++;
	return c->stop_at && c->msgs == c->stop_at ? NL_STOP : 0;
}

static void on_restart(void *arg)
{
	struct count *c = arg;
	c->restarts++;
	c->msgs = 0;
}

static void interrupted_dump_is_read_again(void **state)
{
	struct pair *p = *state;
	struct count c = {0};
	/* try 1: interrupted (the flag on a message and on DONE); try 2: clean */
	queue_addr(p, SEQ0 + 1, 1, false);
	queue_addr(p, SEQ0 + 1, 2, true);
	queue_done(p, SEQ0 + 1, true);
	queue_addr(p, SEQ0 + 2, 3, false);
	queue_done(p, SEQ0 + 2, false);
	struct nl_msg *m = addr_dump_request();
	assert_int_equal(nl_request_dump(&p->sk, m, on_msg, &c, on_restart), 0);
	nlmsg_free(m);
	assert_int_equal(c.restarts, 1);
	assert_int_equal(c.msgs, 1); /* only the clean try's */
	assert_int_equal(p->sk.seq, SEQ0 + 2);
}

static void interrupted_only_on_done(void **state)
{
	struct pair *p = *state;
	struct count c = {0};
	queue_addr(p, SEQ0 + 1, 1, false);
	queue_done(p, SEQ0 + 1, true);
	queue_done(p, SEQ0 + 2, false);
	struct nl_msg *m = addr_dump_request();
	assert_int_equal(nl_request_dump(&p->sk, m, on_msg, &c, on_restart), 0);
	nlmsg_free(m);
	assert_int_equal(c.restarts, 1);
	assert_int_equal(c.msgs, 0);
}

/* An RTM_NEWLINK of ifindex IDX "vfIDX" on PCI function 0000:01:10.IDX, part of the reply
 * to request seq: MAC 02:..:IDX, operstate OPER, carrier CARRIER, up or not. */
static void queue_link(struct pair *peer, uint32_t seq, int idx, int oper, int carrier, bool up, bool intr)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_type = 1, .ifi_index = idx,
				.ifi_flags = up ? IFF_UP : 0};
	unsigned char mac[6] = {2, 0, 0, 0, 0, (unsigned char)idx};
	char name[16], parent[16];
	snprintf(name, sizeof(name), "vf%d", idx);
	snprintf(parent, sizeof(parent), "0000:01:10.%d", idx);
	struct nl_msg *m = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_MULTI | (intr ? NLM_F_DUMP_INTR : 0));
	assert_non_null(m);
	nlmsg_hdr(m)->nlmsg_seq = seq;
	assert_int_equal(nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO), 0);
	assert_int_equal(nla_put_string(m, IFLA_IFNAME, name), 0);
	assert_int_equal(nla_put(m, IFLA_ADDRESS, 6, mac), 0);
	assert_int_equal(nla_put_string(m, IFLA_PARENT_DEV_NAME, parent), 0);
	if (oper >= 0)
		assert_int_equal(nla_put_u8(m, IFLA_OPERSTATE, (uint8_t)oper), 0);
	if (carrier >= 0)
		assert_int_equal(nla_put_u8(m, IFLA_CARRIER, (uint8_t)carrier), 0);
	send_msg(peer, m);
}

struct links_seen {
	struct link_info li[4];
	int n, restarts;
};

static int on_dumped(const struct link_info *l, void *arg)
{
	struct links_seen *s = arg;
	if (s->n == 4)
		return -E2BIG;
	s->li[s->n++] = *l;
	return 0;
}

static void on_links_restart(void *arg)
{
	struct links_seen *s = arg;
	s->restarts++;
	s->n = 0;
}

/* link_dump: one dump request without statistics; each link's facts as the kernel sent
 * them (-1 for an absent operstate or carrier); an interrupted dump restarts with the
 * caller's own argument. */
static void link_dump_gives_each_links_facts(void **state)
{
	struct pair *p = *state;
	struct links_seen s = {0};
	queue_link(p, SEQ0 + 1, 1, 6, 1, true, true);
	queue_done(p, SEQ0 + 1, true);
	queue_link(p, SEQ0 + 2, 1, 6, 1, true, false);
	queue_link(p, SEQ0 + 2, 2, 2, 0, false, false);
	queue_link(p, SEQ0 + 2, 3, -1, -1, false, false);
	queue_done(p, SEQ0 + 2, false);
	assert_int_equal(link_dump(&p->sk, on_dumped, &s, on_links_restart), 0);
	assert_int_equal(s.restarts, 1);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.li[0].name, "vf1");
	assert_string_equal(s.li[0].parent_dev, "0000:01:10.1");
	assert_int_equal(s.li[0].maclen, 6);
	assert_int_equal(s.li[0].mac[5], 1);
	assert_int_equal(s.li[0].operstate, 6);
	assert_int_equal(s.li[0].carrier, 1);
	assert_int_equal(s.li[0].type, 1);
	assert_true(s.li[0].flags & IFF_UP);
	assert_int_equal(s.li[1].operstate, 2);
	assert_int_equal(s.li[1].carrier, 0);
	assert_false(s.li[1].flags & IFF_UP);
	assert_int_equal(s.li[2].operstate, -1);
	assert_int_equal(s.li[2].carrier, -1);
	/* the request: a dump of all links, statistics left out */
	char req[256];
	ssize_t n = recv(p->peer, req, sizeof(req), MSG_DONTWAIT);
	assert_true(n >= (ssize_t)(NLMSG_HDRLEN + sizeof(struct ifinfomsg)));
	struct nlmsghdr *h = (struct nlmsghdr *)req;
	assert_int_equal(h->nlmsg_type, RTM_GETLINK);
	assert_true(h->nlmsg_flags & NLM_F_DUMP);
	struct nlattr *mask = nlmsg_find_attr(h, sizeof(struct ifinfomsg), IFLA_EXT_MASK);
	assert_non_null(mask);
	assert_true(nla_get_u32(mask) & RTEXT_FILTER_SKIP_STATS);
}

/* A callback's error ends link_dump with it. */
static void link_dump_stops_on_a_callback_error(void **state)
{
	struct pair *p = *state;
	struct links_seen s = {.n = 4};
	queue_link(p, SEQ0 + 1, 1, 6, 1, true, false);
	queue_done(p, SEQ0 + 1, false);
	assert_int_equal(link_dump(&p->sk, on_dumped, &s, NULL), -E2BIG);
}

static void dump_interrupted_every_time_fails(void **state)
{
	struct pair *p = *state;
	struct count c = {0};
	for (uint32_t i = 1; i <= NL_DUMP_TRIES; i++) {
		queue_addr(p, SEQ0 + i, 1, true);
		queue_done(p, SEQ0 + i, true);
	}
	struct nl_msg *m = addr_dump_request();
	assert_int_equal(nl_request_dump(&p->sk, m, on_msg, &c, on_restart), -EAGAIN);
	nlmsg_free(m);
	assert_int_equal(c.restarts, NL_DUMP_TRIES - 1);
	assert_int_equal(p->sk.seq, SEQ0 + NL_DUMP_TRIES); /* bounded: no more tries */
}

static void stopped_dump_is_not_read_again(void **state)
{
	struct pair *p = *state;
	struct count c = {.stop_at = 1};
	queue_addr(p, SEQ0 + 1, 1, true);
	flush(p);
	struct nl_msg *m = addr_dump_request();
	assert_int_equal(nl_request_dump(&p->sk, m, on_msg, &c, on_restart), 0);
	nlmsg_free(m);
	assert_int_equal(c.restarts, 0);
	assert_int_equal(c.msgs, 1);
}

static void addr_list_keeps_only_the_clean_try(void **state)
{
	struct pair *p = *state;
	struct addr_entry *v = NULL;
	size_t n = 0;
	queue_addr(p, SEQ0 + 1, 1, false);
	queue_addr(p, SEQ0 + 1, 2, true);
	queue_done(p, SEQ0 + 1, true);
	queue_addr(p, SEQ0 + 2, 3, false);
	queue_done(p, SEQ0 + 2, false);
	assert_int_equal(addr_list(&p->sk, 7, AF_INET, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].prefix.addr.bytes[3], 3);
	free(v);
}

static void late_replies_of_an_earlier_request_are_skipped(void **state)
{
	struct pair *p = *state;
	struct count c = {0};
	queue_addr(p, SEQ0, 9, true); /* the rest of an earlier, stopped dump */
	queue_addr(p, SEQ0 + 1, 1, false);
	queue_done(p, SEQ0 + 1, false);
	struct nl_msg *m = addr_dump_request();
	assert_int_equal(nl_request_dump(&p->sk, m, on_msg, &c, on_restart), 0);
	nlmsg_free(m);
	assert_int_equal(c.restarts, 0);
	assert_int_equal(c.msgs, 1);
}

static struct nl_msg *del_request(void)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = 7};
	struct nl_msg *m = nlmsg_alloc_simple(RTM_DELLINK, 0);
	assert_non_null(m);
	assert_int_equal(nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO), 0);
	return m;
}

static void extack_stays_with_its_request(void **state)
{
	struct pair *p = *state;
	struct nl_msg *m = del_request();
	queue_error(p, SEQ0 + 1, -EOPNOTSUPP, "macvlan: the master cannot do that");
	assert_int_equal(nl_request(&p->sk, m, NULL, NULL), -EOPNOTSUPP);
	assert_string_equal(nlsk_message(&p->sk), "macvlan: the master cannot do that");
	/* the next request, a success, clears it */
	queue_error(p, SEQ0 + 2, 0, NULL);
	assert_int_equal(nl_request(&p->sk, m, NULL, NULL), 0);
	assert_string_equal(nlsk_message(&p->sk), "");
	/* a failure without a text leaves none from before */
	queue_error(p, SEQ0 + 3, -EBUSY, "first");
	assert_int_equal(nl_request(&p->sk, m, NULL, NULL), -EBUSY);
	queue_error(p, SEQ0 + 4, -ENODEV, NULL);
	assert_int_equal(nl_request(&p->sk, m, NULL, NULL), -ENODEV);
	assert_string_equal(nlsk_message(&p->sk), "");
	nlmsg_free(m);
}

static void error_details_carry_only_the_given_kernel_text(void **state)
{
	struct pair *p = *state;
	struct nl_msg *m = del_request();
	queue_error(p, SEQ0 + 1, -EOPNOTSUPP, "the kernel's words");
	assert_int_equal(nl_request(&p->sk, m, NULL, NULL), -EOPNOTSUPP);
	nlmsg_free(m);
	/* An error that is not that request's does not get its text. */
	cni_fail(CNI_ERR_IO, -EIO, "writing a state file failed");
	cJSON *j = cni_error_json(NULL);
	assert_string_equal(cJSON_GetObjectItem(j, "details")->valuestring, "Input/output error");
	cJSON_Delete(j);
	cni_error_reset();
	/* The request's own failure does, when its caller attaches it. */
	cni_fail_kernel(CNI_ERR_KERNEL, -EOPNOTSUPP, nlsk_message(&p->sk), "deleting the link failed");
	j = cni_error_json(NULL);
	assert_string_equal(cJSON_GetObjectItem(j, "details")->valuestring,
			    "Operation not supported: the kernel's words");
	cJSON_Delete(j);
	cni_error_reset();
	cni_fail_kernel(CNI_ERR_KERNEL, -ENODEV, "", "x");
	j = cni_error_json(NULL);
	assert_string_equal(cJSON_GetObjectItem(j, "details")->valuestring, "No such device");
	cJSON_Delete(j);
}

/* ---- the reply parser on buffers: no socket ---- */

/* A parser for a request of seq SEQ0 + 1; dump or GET as asked, fn on_msg. */
static struct nl_replies replies(bool dump, bool get, struct count *c, char *msg, size_t msg_size)
{
	struct nl_replies st = {
		.seq = SEQ0 + 1, .dump = dump, .get = get, .fn = on_msg, .arg = c, .msg = msg, .msg_size = msg_size,
	};
	if (msg)
		msg[0] = '\0';
	return st;
}

/* Feeds what is queued in p as one datagram; returns feed's answer. */
static int feed(struct pair *p, struct nl_replies *st, int *ret)
{
	int end = nl_replies_feed(st, p->buf, p->len, ret);
	p->len = 0;
	return end;
}

static void feed_error_with_extack(void **state)
{
	struct pair *p = *state;
	char msg[64];
	struct nl_replies st = replies(false, false, NULL, msg, sizeof(msg));
	int r = 0;
	append_error(p, SEQ0 + 1, -EOPNOTSUPP, "the driver refuses", true);
	assert_int_equal(feed(p, &st, &r), 1);
	assert_int_equal(r, -EOPNOTSUPP);
	assert_string_equal(msg, "the driver refuses");
	/* without NETLINK_CAP_ACK the request comes back before the attributes */
	st = replies(false, false, NULL, msg, sizeof(msg));
	append_error(p, SEQ0 + 1, -EINVAL, "after the echo", false);
	assert_int_equal(feed(p, &st, &r), 1);
	assert_int_equal(r, -EINVAL);
	assert_string_equal(msg, "after the echo");
	/* a text longer than the room for it is cut */
	char small[6];
	st = replies(false, false, NULL, small, sizeof(small));
	append_error(p, SEQ0 + 1, -EBUSY, "much too long", true);
	assert_int_equal(feed(p, &st, &r), 1);
	assert_string_equal(small, "much ");
}

static void feed_error_without_extack(void **state)
{
	struct pair *p = *state;
	char msg[64];
	struct nl_replies st = replies(false, false, NULL, msg, sizeof(msg));
	int r = 0;
	append_error(p, SEQ0 + 1, -ENODEV, NULL, true);
	assert_int_equal(feed(p, &st, &r), 1);
	assert_int_equal(r, -ENODEV);
	assert_string_equal(msg, "");
	append_error(p, SEQ0 + 1, -ENODEV, NULL, false);
	st = replies(false, false, NULL, msg, sizeof(msg));
	assert_int_equal(feed(p, &st, &r), 1);
	assert_int_equal(r, -ENODEV);
	assert_string_equal(msg, "");
	/* no room given for a text: the error all the same */
	st = replies(false, false, NULL, NULL, 0);
	append_error(p, SEQ0 + 1, -EPERM, "ignored", true);
	assert_int_equal(feed(p, &st, &r), 1);
	assert_int_equal(r, -EPERM);
}

static void feed_ack_ends_a_request(void **state)
{
	struct pair *p = *state;
	char msg[64];
	struct nl_replies st = replies(false, false, NULL, msg, sizeof(msg));
	int r = -1;
	/* an ACK's attributes (a warning) are not an error text */
	append_error(p, SEQ0 + 1, 0, "a warning", true);
	assert_int_equal(feed(p, &st, &r), 1);
	assert_int_equal(r, 0);
	assert_string_equal(msg, "");
}

static void feed_skips_other_requests(void **state)
{
	struct pair *p = *state;
	struct count c = {0};
	struct nl_replies st = replies(true, false, &c, NULL, 0);
	int r = -1;
	append_error(p, SEQ0, -EBUSY, "an earlier request's", true);
	queue_addr(p, SEQ0 + 2, 1, false);
	assert_int_equal(feed(p, &st, &r), 0);
	assert_int_equal(c.msgs, 0);
	assert_int_equal(r, -1);
}

static void feed_done_ends_a_dump(void **state)
{
	struct pair *p = *state;
	struct count c = {0};
	struct nl_replies st = replies(true, false, &c, NULL, 0);
	int r = -1;
	/* a dump spread over datagrams: only DONE ends it */
	queue_addr(p, SEQ0 + 1, 1, false);
	queue_addr(p, SEQ0 + 1, 2, false);
	assert_int_equal(feed(p, &st, &r), 0);
	queue_addr(p, SEQ0 + 1, 3, false);
	append_done(p, SEQ0 + 1, false, 0);
	queue_addr(p, SEQ0 + 1, 4, false); /* nothing follows DONE */
	assert_int_equal(feed(p, &st, &r), 1);
	assert_int_equal(r, 0);
	assert_int_equal(c.msgs, 3);
	assert_false(st.intr);
	/* DONE carrying an error: the dump failed */
	st = replies(true, false, &c, NULL, 0);
	append_done(p, SEQ0 + 1, false, -EMSGSIZE);
	assert_int_equal(feed(p, &st, &r), 1);
	assert_int_equal(r, -EMSGSIZE);
	/* DONE without the error field */
	struct nlmsghdr bare = {.nlmsg_len = NLMSG_HDRLEN, .nlmsg_type = NLMSG_DONE, .nlmsg_seq = SEQ0 + 1};
	st = replies(true, false, &c, NULL, 0);
	assert_int_equal(nl_replies_feed(&st, &bare, sizeof(bare), &r), 1);
	assert_int_equal(r, 0);
}

static void feed_marks_an_interrupted_dump(void **state)
{
	struct pair *p = *state;
	struct count c = {0};
	struct nl_replies st = replies(true, false, &c, NULL, 0);
	int r = -1;
	queue_addr(p, SEQ0 + 1, 1, true);
	assert_int_equal(feed(p, &st, &r), 0);
	assert_true(st.intr);
	append_done(p, SEQ0 + 1, false, 0);
	assert_int_equal(feed(p, &st, &r), 1);
	assert_int_equal(r, 0);
	assert_true(st.intr);
	/* only on DONE */
	st = replies(true, false, &c, NULL, 0);
	append_done(p, SEQ0 + 1, true, 0);
	assert_int_equal(feed(p, &st, &r), 1);
	assert_true(st.intr);
	/* a request that is no dump ignores the flag */
	st = replies(false, false, &c, NULL, 0);
	queue_addr(p, SEQ0 + 1, 1, true);
	append_error(p, SEQ0 + 1, 0, NULL, true);
	assert_int_equal(feed(p, &st, &r), 1);
	assert_false(st.intr);
}

static int fail_msg_cb(struct nlmsghdr *h, void *arg)
{
	(void)h;
	return ++((struct count *)arg)->msgs == 1 ? -ENOMEM : 0;
}

static void feed_callback_error_reads_the_dump_to_its_end(void **state)
{
	struct pair *p = *state;
	struct count c = {0};
	struct nl_replies st = replies(true, false, &c, NULL, 0);
	int r = 0;
	st.fn = fail_msg_cb;
	queue_addr(p, SEQ0 + 1, 1, false);
	queue_addr(p, SEQ0 + 1, 2, false);
	assert_int_equal(feed(p, &st, &r), 0);
	append_done(p, SEQ0 + 1, false, 0);
	assert_int_equal(feed(p, &st, &r), 1);
	assert_int_equal(r, -ENOMEM);
	assert_int_equal(c.msgs, 1); /* not called after its error */
	/* NL_STOP ends at once */
	c = (struct count){.stop_at = 2};
	st = replies(true, false, &c, NULL, 0);
	queue_addr(p, SEQ0 + 1, 1, false);
	queue_addr(p, SEQ0 + 1, 2, false);
	queue_addr(p, SEQ0 + 1, 3, false);
	assert_int_equal(feed(p, &st, &r), 1);
	assert_int_equal(r, NL_STOP);
	assert_int_equal(c.msgs, 2);
}

static void feed_get_ends_with_its_one_reply(void **state)
{
	struct pair *p = *state;
	struct count c = {0};
	struct nl_replies st = replies(false, true, &c, NULL, 0);
	int r = -1;
	queue_addr(p, SEQ0 + 1, 1, false);
	queue_addr(p, SEQ0 + 1, 2, false);
	assert_int_equal(feed(p, &st, &r), 1);
	assert_int_equal(r, 0);
	assert_int_equal(c.msgs, 1);
	/* or with its error */
	st = replies(false, true, &c, NULL, 0);
	append_error(p, SEQ0 + 1, -ENODEV, NULL, true);
	assert_int_equal(feed(p, &st, &r), 1);
	assert_int_equal(r, -ENODEV);
	assert_int_equal(c.msgs, 1);
}

static void feed_rejects_truncated_messages(void **state)
{
	struct pair *p = *state;
	struct count c = {0};
	struct nl_replies st;
	int r;
	/* a message longer than the datagram */
	queue_addr(p, SEQ0 + 1, 1, false);
	st = replies(true, false, &c, NULL, 0);
	assert_int_equal(nl_replies_feed(&st, p->buf, p->len - 4, &r), 1);
	assert_int_equal(r, -EBADMSG);
	assert_int_equal(c.msgs, 0);
	/* a whole message, then a piece of a header */
	st = replies(true, false, &c, NULL, 0);
	assert_int_equal(nl_replies_feed(&st, p->buf, p->len + 8, &r), 1);
	assert_int_equal(r, -EBADMSG);
	assert_int_equal(c.msgs, 1);
	p->len = 0;
	/* a length below the header's own */
	struct nlmsghdr h = {.nlmsg_len = 4, .nlmsg_type = RTM_NEWADDR, .nlmsg_seq = SEQ0 + 1};
	st = replies(true, false, &c, NULL, 0);
	assert_int_equal(nl_replies_feed(&st, &h, sizeof(h), &r), 1);
	assert_int_equal(r, -EBADMSG);
	/* an NLMSG_ERROR too short for its error */
	struct {
		struct nlmsghdr h;
		int error;
	} e = {{.nlmsg_len = NLMSG_LENGTH(sizeof(int)), .nlmsg_type = NLMSG_ERROR, .nlmsg_seq = SEQ0 + 1}, -EPERM};
	st = replies(false, false, NULL, NULL, 0);
	assert_int_equal(nl_replies_feed(&st, &e, sizeof(e), &r), 1);
	assert_int_equal(r, -EBADMSG);
	/* an empty datagram ends nothing */
	st = replies(true, false, &c, NULL, 0);
	r = 7;
	assert_int_equal(nl_replies_feed(&st, p->buf, 0, &r), 0);
	assert_int_equal(r, 7);
}

static void a_cut_reply_fails_the_request(void **state)
{
	struct pair *p = *state;
	struct count c = {0};
	queue_addr(p, SEQ0 + 1, 1, false);
	p->len -= 4;
	flush(p);
	struct nl_msg *m = addr_dump_request();
	assert_int_equal(nl_request_dump(&p->sk, m, on_msg, &c, on_restart), -EBADMSG);
	nlmsg_free(m);
	assert_int_equal(c.msgs, 0);
}

static void dump_again_decides(void **state)
{
	(void)state;
	int r = 99;
	/* a clean try ends with its result */
	assert_int_equal(nl_dump_again(0, false, 1, &r), 0);
	assert_int_equal(r, 0);
	assert_int_equal(nl_dump_again(-ENODEV, false, 1, &r), 0);
	assert_int_equal(r, -ENODEV);
	/* an interrupted one is read again, up to NL_DUMP_TRIES in all */
	assert_int_equal(nl_dump_again(0, true, 1, &r), 1);
	assert_int_equal(nl_dump_again(0, true, NL_DUMP_TRIES - 1, &r), 1);
	assert_int_equal(nl_dump_again(0, true, NL_DUMP_TRIES, &r), 0);
	assert_int_equal(r, -EAGAIN);
	/* an error is final, interrupted or not */
	assert_int_equal(nl_dump_again(-EPERM, true, 1, &r), 0);
	assert_int_equal(r, -EPERM);
	/* a dump its reader stopped is a success, never read again */
	assert_int_equal(nl_dump_again(NL_STOP, true, 1, &r), 0);
	assert_int_equal(r, 0);
}

static void errno_policy(void **state)
{
	(void)state;
	assert_int_equal(nl_errno(0), 0);
	assert_int_equal(nl_errno(-NLE_NOMEM), -ENOMEM);
	assert_int_equal(nl_errno(NLE_NOMEM), -ENOMEM); /* either sign */
	assert_int_equal(nl_errno(-NLE_EXIST), -EEXIST);
	assert_int_equal(nl_errno(-NLE_INVAL), -EINVAL);
	assert_int_equal(nl_errno(-NLE_OBJ_NOTFOUND), -ENODEV);
	assert_int_equal(nl_errno(-NLE_NODEV), -ENODEV);
	assert_int_equal(nl_errno(-NLE_PERM), -EPERM);
	assert_int_equal(nl_errno(-NLE_NOACCESS), -EACCES);
	assert_int_equal(nl_errno(-NLE_BUSY), -EBUSY);
	assert_int_equal(nl_errno(-NLE_RANGE), -ERANGE);
	assert_int_equal(nl_errno(-NLE_OPNOTSUPP), -EOPNOTSUPP);
	assert_int_equal(nl_errno(-NLE_AF_NOSUPPORT), -EAFNOSUPPORT);
	assert_int_equal(nl_errno(-NLE_AGAIN), -EAGAIN);
	assert_int_equal(nl_errno(-NLE_DUMP_INTR), -EAGAIN);
	assert_int_equal(nl_errno(-NLE_INTR), -EINTR);
	assert_int_equal(nl_errno(-NLE_MSGSIZE), -EMSGSIZE);
	assert_int_equal(nl_errno(-NLE_MSG_TOOSHORT), -EBADMSG);
	assert_int_equal(nl_errno(-NLE_MSG_TRUNC), -EBADMSG);
	assert_int_equal(nl_errno(-NLE_ATTRSIZE), -EBADMSG);
	/* no errno of its own: an I/O failure */
	assert_int_equal(nl_errno(-NLE_FAILURE), -EIO);
	assert_int_equal(nl_errno(-NLE_BAD_SOCK), -EIO);
	assert_int_equal(nl_errno(-(NLE_MAX + 1)), -EIO);
}

/* ---- notifications (nlsk_recv) ---- */

static int fail_cb(struct nlmsghdr *h, void *arg)
{
	(void)h;
	(void)arg;
	return -EPROTO;
}

static void recv_reads_one_datagram(void **state)
{
	struct pair *p = *state;
	struct count c = {0};
	/* notifications carry no sequence number of ours */
	queue_addr(p, 0, 1, false);
	queue_addr(p, 0, 2, false);
	flush(p);
	queue_addr(p, 0, 3, false);
	flush(p);
	assert_int_equal(nlsk_recv(&p->sk, on_msg, &c), 0);
	assert_int_equal(c.msgs, 2);
	assert_int_equal(nlsk_recv(&p->sk, NULL, NULL), 0); /* dropped */
	assert_int_equal(c.msgs, 2);
	assert_int_equal(nlsk_recv(&p->sk, on_msg, &c), -EAGAIN); /* none at hand: no wait */
	queue_addr(p, 0, 4, false);
	flush(p);
	assert_int_equal(nlsk_recv(&p->sk, fail_cb, NULL), -EPROTO);
	queue_addr(p, 0, 5, false);
	p->len -= 4;
	flush(p);
	assert_int_equal(nlsk_recv(&p->sk, on_msg, &c), -EBADMSG);
	assert_int_equal(c.msgs, 2);
}

/* ---- the VF codec ---- */

static void put_vf(struct nl_msg *m, uint32_t vf, uint16_t vlan, uint16_t proto, uint32_t spoofchk)
{
	struct nlattr *info = nla_nest_start(m, IFLA_VF_INFO);
	struct ifla_vf_mac mac = {.vf = vf, .mac = {2, 0, 0, 0, 0, (unsigned char)vf}};
	struct ifla_vf_vlan v = {.vf = vf, .vlan = vlan, .qos = 3};
	struct ifla_vf_spoofchk sc = {.vf = vf, .setting = spoofchk};
	struct ifla_vf_trust tr = {.vf = vf, .setting = 1};
	struct ifla_vf_link_state ls = {.vf = vf, .link_state = IFLA_VF_LINK_STATE_DISABLE};
	struct ifla_vf_rate rate = {.vf = vf, .min_tx_rate = 10, .max_tx_rate = 100};
	assert_non_null(info);
	assert_int_equal(nla_put(m, IFLA_VF_MAC, sizeof(mac), &mac), 0);
	assert_int_equal(nla_put(m, IFLA_VF_VLAN, sizeof(v), &v), 0);
	if (proto) {
		struct ifla_vf_vlan_info vi;
		struct nlattr *list = nla_nest_start(m, IFLA_VF_VLAN_LIST);
		memset(&vi, 0, sizeof(vi));
		vi.vf = vf;
		vi.vlan = vlan;
		vi.qos = 3;
		vi.vlan_proto = htons(proto);
		assert_int_equal(nla_put(m, IFLA_VF_VLAN_INFO, sizeof(vi), &vi), 0);
		nla_nest_end(m, list);
	}
	assert_int_equal(nla_put(m, IFLA_VF_SPOOFCHK, sizeof(sc), &sc), 0);
	assert_int_equal(nla_put(m, IFLA_VF_TRUST, sizeof(tr), &tr), 0);
	assert_int_equal(nla_put(m, IFLA_VF_LINK_STATE, sizeof(ls), &ls), 0);
	assert_int_equal(nla_put(m, IFLA_VF_RATE, sizeof(rate), &rate), 0);
	nla_nest_end(m, info);
}

/* The PF's RTM_NEWLINK with VF 0 (802.1Q, spoofchk not reported) and VF 1 (802.1ad). */
static void queue_pf(struct pair *p, uint32_t seq)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = 3};
	struct nl_msg *m = nlmsg_alloc_simple(RTM_NEWLINK, 0);
	assert_non_null(m);
	nlmsg_hdr(m)->nlmsg_seq = seq;
	assert_int_equal(nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO), 0);
	assert_int_equal(nla_put_string(m, IFLA_IFNAME, "pf0"), 0);
	struct nlattr *list = nla_nest_start(m, IFLA_VFINFO_LIST);
	put_vf(m, 0, 100, 0, (uint32_t)-1);
	put_vf(m, 1, 200, ETH_P_8021AD, 1);
	nla_nest_end(m, list);
	send_msg(p, m);
	flush(p);
}

static void vf_get_reads_the_pf_link(void **state)
{
	struct pair *p = *state;
	struct vf_info v;
	queue_pf(p, SEQ0 + 1);
	assert_int_equal(vf_get(&p->sk, "pf0", 1, &v), 0);
	assert_int_equal(v.index, 1);
	assert_int_equal(v.mac[0], 2);
	assert_int_equal(v.mac[5], 1);
	assert_int_equal(v.vlan, 200);
	assert_int_equal(v.qos, 3);
	assert_int_equal(v.vlan_proto, ETH_P_8021AD); /* the list wins */
	assert_int_equal(v.spoofchk, 1);
	assert_int_equal(v.trust, 1);
	assert_int_equal(v.link_state, IFLA_VF_LINK_STATE_DISABLE);
	assert_true(v.has_rate);
	assert_int_equal(v.min_tx_rate, 10);
	assert_int_equal(v.max_tx_rate, 100);
	queue_pf(p, SEQ0 + 2);
	assert_int_equal(vf_get(&p->sk, "pf0", 0, &v), 0);
	assert_int_equal(v.vlan_proto, ETH_P_8021Q);
	assert_int_equal(v.spoofchk, -1); /* (u32)-1: the driver does not say */
	/* a VF the PF does not list; a PF that is not there */
	queue_pf(p, SEQ0 + 3);
	assert_int_equal(vf_get(&p->sk, "pf0", 5, &v), -ENOENT);
	queue_error(p, SEQ0 + 4, -ENODEV, NULL);
	assert_int_equal(vf_get(&p->sk, "nope", 0, &v), -ENODEV);
}

/* The request the peer received: its IFLA_VF_INFO nest. */
static struct nlattr *sent_vf_info(struct pair *p, char *buf, size_t size)
{
	struct nlattr *tb[IFLA_MAX + 1], *info;
	ssize_t n = recv(p->peer, buf, size, MSG_DONTWAIT);
	struct nlmsghdr *h = (struct nlmsghdr *)(void *)buf;
	assert_true(n > 0);
	assert_int_equal(h->nlmsg_type, RTM_NEWLINK);
	assert_true(h->nlmsg_flags & NLM_F_ACK);
	assert_int_equal(nlmsg_parse(h, sizeof(struct ifinfomsg), tb, IFLA_MAX, NULL), 0);
	assert_string_equal(nla_get_string(tb[IFLA_IFNAME]), "pf0");
	assert_non_null(tb[IFLA_VFINFO_LIST]);
	info = nla_data(tb[IFLA_VFINFO_LIST]);
	assert_int_equal(nla_type(info), IFLA_VF_INFO);
	return info;
}

static void vf_set_writes_one_attribute(void **state)
{
	struct pair *p = *state;
	char buf[512] __attribute__((aligned(8)));
	struct nlattr *tb[IFLA_VF_MAX + 1];
	struct vf_info v = {.index = 2, .vlan = 300, .qos = 1, .vlan_proto = ETH_P_8021Q, .trust = 1};
	/* 802.1Q as IFLA_VF_VLAN, alone */
	queue_error(p, SEQ0 + 1, 0, NULL);
	assert_int_equal(vf_set(&p->sk, "pf0", IFLA_VF_VLAN, &v), 0);
	assert_int_equal(nla_parse_nested(tb, IFLA_VF_MAX, sent_vf_info(p, buf, sizeof(buf)), NULL), 0);
	assert_non_null(tb[IFLA_VF_VLAN]);
	assert_null(tb[IFLA_VF_VLAN_LIST]);
	assert_null(tb[IFLA_VF_TRUST]);
	const struct ifla_vf_vlan *vl = nla_data(tb[IFLA_VF_VLAN]);
	assert_int_equal(vl->vf, 2);
	assert_int_equal(vl->vlan, 300);
	assert_int_equal(vl->qos, 1);
	/* 802.1ad as IFLA_VF_VLAN_LIST */
	v.vlan_proto = ETH_P_8021AD;
	queue_error(p, SEQ0 + 2, -EPROTONOSUPPORT, "802.1ad not supported");
	assert_int_equal(vf_set(&p->sk, "pf0", IFLA_VF_VLAN, &v), -EPROTONOSUPPORT);
	assert_string_equal(nlsk_message(&p->sk), "802.1ad not supported");
	assert_int_equal(nla_parse_nested(tb, IFLA_VF_MAX, sent_vf_info(p, buf, sizeof(buf)), NULL), 0);
	assert_null(tb[IFLA_VF_VLAN]);
	assert_non_null(tb[IFLA_VF_VLAN_LIST]);
	const struct ifla_vf_vlan_info *vi = nla_data(nla_data(tb[IFLA_VF_VLAN_LIST]));
	assert_int_equal(ntohs(vi->vlan_proto), ETH_P_8021AD);
	assert_int_equal(vi->vlan, 300);
	/* trust */
	queue_error(p, SEQ0 + 3, 0, NULL);
	assert_int_equal(vf_set(&p->sk, "pf0", IFLA_VF_TRUST, &v), 0);
	assert_int_equal(nla_parse_nested(tb, IFLA_VF_MAX, sent_vf_info(p, buf, sizeof(buf)), NULL), 0);
	assert_int_equal(((const struct ifla_vf_trust *)nla_data(tb[IFLA_VF_TRUST]))->setting, 1);
	assert_null(tb[IFLA_VF_VLAN]);
	/* no VF setting, or no VF: nothing is sent */
	assert_int_equal(vf_set(&p->sk, "pf0", IFLA_VF_STATS, &v), -EINVAL);
	v.index = -1;
	assert_int_equal(vf_set(&p->sk, "pf0", IFLA_VF_MAC, &v), -EINVAL);
	assert_int_equal(recv(p->peer, buf, sizeof(buf), MSG_DONTWAIT), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(interrupted_dump_is_read_again, setup, teardown),
		cmocka_unit_test_setup_teardown(interrupted_only_on_done, setup, teardown),
		cmocka_unit_test_setup_teardown(dump_interrupted_every_time_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(link_dump_gives_each_links_facts, setup, teardown),
		cmocka_unit_test_setup_teardown(link_dump_stops_on_a_callback_error, setup, teardown),
		cmocka_unit_test_setup_teardown(stopped_dump_is_not_read_again, setup, teardown),
		cmocka_unit_test_setup_teardown(addr_list_keeps_only_the_clean_try, setup, teardown),
		cmocka_unit_test_setup_teardown(late_replies_of_an_earlier_request_are_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(extack_stays_with_its_request, setup, teardown),
		cmocka_unit_test_setup_teardown(error_details_carry_only_the_given_kernel_text, setup, teardown),
		cmocka_unit_test_setup_teardown(feed_error_with_extack, setup, teardown),
		cmocka_unit_test_setup_teardown(feed_error_without_extack, setup, teardown),
		cmocka_unit_test_setup_teardown(feed_ack_ends_a_request, setup, teardown),
		cmocka_unit_test_setup_teardown(feed_skips_other_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(feed_done_ends_a_dump, setup, teardown),
		cmocka_unit_test_setup_teardown(feed_marks_an_interrupted_dump, setup, teardown),
		cmocka_unit_test_setup_teardown(feed_callback_error_reads_the_dump_to_its_end, setup, teardown),
		cmocka_unit_test_setup_teardown(feed_get_ends_with_its_one_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(feed_rejects_truncated_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(a_cut_reply_fails_the_request, setup, teardown),
		cmocka_unit_test(dump_again_decides),
		cmocka_unit_test(errno_policy),
		cmocka_unit_test_setup_teardown(recv_reads_one_datagram, setup, teardown),
		cmocka_unit_test_setup_teardown(vf_get_reads_the_pf_link, setup, teardown),
		cmocka_unit_test_setup_teardown(vf_set_writes_one_attribute, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
