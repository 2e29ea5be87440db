/* The rtnetlink transport without a kernel: replies are queued on the other
 * end of a datagram socket pair. Dumps the kernel marks interrupted
 * (NLM_F_DUMP_INTR) are read again, and an extended-ack message stays with the
 * request that produced it. */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include "unit.h"
#include "ucni/nl.h"

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

static void queue_done(struct pair *peer, uint32_t seq, bool intr)
{
	int zero = 0;
	struct nl_msg *m = nlmsg_alloc_simple(NLMSG_DONE, NLM_F_MULTI | (intr ? NLM_F_DUMP_INTR : 0));
	assert_non_null(m);
	nlmsg_hdr(m)->nlmsg_seq = seq;
	assert_int_equal(nlmsg_append(m, &zero, sizeof(zero), NLMSG_ALIGNTO), 0);
	send_msg(peer, m);
	flush(peer);
}

/* NLMSG_ERROR for request seq: error (0: an ACK), with an extended-ack text. */
static void queue_error(struct pair *peer, uint32_t seq, int error, const char *text)
{
	struct nlmsgerr e = {.error = error};
	struct nl_msg *m = nlmsg_alloc_simple(NLMSG_ERROR, text ? NLM_F_CAPPED | NLM_F_ACK_TLVS : NLM_F_CAPPED);
	assert_non_null(m);
	nlmsg_hdr(m)->nlmsg_seq = seq;
	e.msg.nlmsg_len = sizeof(struct nlmsghdr);
	e.msg.nlmsg_seq = seq;
	assert_int_equal(nlmsg_append(m, &e, sizeof(e), NLMSG_ALIGNTO), 0);
	if (text)
		assert_int_equal(nla_put_string(m, NLMSGERR_ATTR_MSG, text), 0);
	send_msg(peer, m);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(interrupted_dump_is_read_again, setup, teardown),
		cmocka_unit_test_setup_teardown(interrupted_only_on_done, setup, teardown),
		cmocka_unit_test_setup_teardown(dump_interrupted_every_time_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(stopped_dump_is_not_read_again, setup, teardown),
		cmocka_unit_test_setup_teardown(addr_list_keeps_only_the_clean_try, setup, teardown),
		cmocka_unit_test_setup_teardown(late_replies_of_an_earlier_request_are_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(extack_stays_with_its_request, setup, teardown),
		cmocka_unit_test_setup_teardown(error_details_carry_only_the_given_kernel_text, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
