/* devlink over generic netlink without a kernel: the replies are queued on the
 * other end of a datagram socket pair, the requests read back from it. A family
 * is resolved from the controller's reply, an eswitch GET names its device and
 * reads the mode (none: not supported), a SET carries the mode and asks for an
 * ACK, the driver's refusal and its extended-ack text reach the caller. */
#include <errno.h>
#include <fcntl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include "unit.h"
#include "ucni/devlink.h"
#include "ucni/nl.h"

#define SEQ0 2000u
#define FAMILY 0x17

struct pair {
	struct devlink dl;
	int peer;
};

static int setup(void **state)
{
	struct pair *p = calloc(1, sizeof(*p));
	int sv[2];
	assert_non_null(p);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	p->dl.sk.fd = sv[0];
	p->dl.sk.seq = SEQ0;
	p->dl.family = FAMILY;
	p->peer = sv[1];
	*state = p;
	return 0;
}

static int teardown(void **state)
{
	struct pair *p = *state;
	close(p->dl.sk.fd);
	close(p->peer);
	free(p);
	return 0;
}

static void queue(struct pair *p, struct nl_msg *m, uint32_t seq)
{
	struct nlmsghdr *h = nlmsg_hdr(m);
	h->nlmsg_seq = seq;
	assert_int_equal(send(p->peer, h, h->nlmsg_len, 0), (ssize_t)h->nlmsg_len);
	nlmsg_free(m);
}

/* NLMSG_ERROR for request seq: error (0: the ACK) and an extended-ack text. */
static void queue_error(struct pair *p, uint32_t seq, int error, const char *text)
{
	struct nlmsgerr e = {.error = error};
	struct nl_msg *m = nlmsg_alloc_simple(NLMSG_ERROR, NLM_F_CAPPED | (text ? NLM_F_ACK_TLVS : 0));
	assert_non_null(m);
	e.msg.nlmsg_len = sizeof(struct nlmsghdr);
	e.msg.nlmsg_seq = seq;
	assert_int_equal(nlmsg_append(m, &e, sizeof(e), NLMSG_ALIGNTO), 0);
	if (text)
		assert_int_equal(nla_put_string(m, NLMSGERR_ATTR_MSG, text), 0);
	queue(p, m, seq);
}

/* The devlink reply to an eswitch GET: the handle, and the mode unless mode < 0. */
static struct nl_msg *eswitch_reply(uint16_t type, int mode)
{
	struct nl_msg *m = genl_msg(type, DEVLINK_CMD_ESWITCH_GET, 0);
	assert_non_null(m);
	assert_int_equal(nla_put_string(m, DEVLINK_ATTR_BUS_NAME, "pci"), 0);
	assert_int_equal(nla_put_string(m, DEVLINK_ATTR_DEV_NAME, "0000:01:00.0"), 0);
	if (mode >= 0)
		assert_int_equal(nla_put_u16(m, DEVLINK_ATTR_ESWITCH_MODE, (uint16_t)mode), 0);
	return m;
}

/* The request the code under test sent: its header, and its attributes in tb. */
static struct nlmsghdr *sent(struct pair *p, void *buf, size_t size, struct nlattr **tb, int max)
{
	ssize_t n = recv(p->peer, buf, size, MSG_DONTWAIT);
	assert_true(n >= (ssize_t)NLMSG_LENGTH(GENL_HDRLEN));
	struct nlmsghdr *h = buf;
	assert_int_equal(h->nlmsg_len, (uint32_t)n);
	assert_int_equal(nlmsg_parse(h, GENL_HDRLEN, tb, max, NULL), 0);
	return h;
}

static void family_is_resolved_by_name(void **state)
{
	struct pair *p = *state;
	char buf[512] __attribute__((aligned(8)));
	struct nlattr *tb[CTRL_ATTR_MAX + 1];
	uint16_t id = 0;
	struct nl_msg *m = genl_msg(GENL_ID_CTRL, CTRL_CMD_NEWFAMILY, 0);
	assert_non_null(m);
	assert_int_equal(nla_put_string(m, CTRL_ATTR_FAMILY_NAME, "devlink"), 0);
	assert_int_equal(nla_put_u16(m, CTRL_ATTR_FAMILY_ID, 0x21), 0);
	queue(p, m, SEQ0 + 1);
	assert_int_equal(genl_family_id(&p->dl.sk, "devlink", &id), 0);
	assert_int_equal(id, 0x21);
	struct nlmsghdr *h = sent(p, buf, sizeof(buf), tb, CTRL_ATTR_MAX);
	assert_int_equal(h->nlmsg_type, GENL_ID_CTRL);
	assert_int_equal(((struct genlmsghdr *)NLMSG_DATA(h))->cmd, CTRL_CMD_GETFAMILY);
	assert_false(h->nlmsg_flags & NLM_F_ACK); /* a GET: its one reply ends it */
	assert_string_equal(nla_get_string(tb[CTRL_ATTR_FAMILY_NAME]), "devlink");
}

static void family_missing_is_enoent(void **state)
{
	struct pair *p = *state;
	uint16_t id = 7;
	queue_error(p, SEQ0 + 1, -ENOENT, NULL);
	assert_int_equal(genl_family_id(&p->dl.sk, "devlink", &id), -ENOENT);
	assert_int_equal(id, 7); /* untouched */
	/* a reply without the id is malformed */
	struct nl_msg *m = genl_msg(GENL_ID_CTRL, CTRL_CMD_NEWFAMILY, 0);
	assert_non_null(m);
	queue(p, m, SEQ0 + 2);
	assert_int_equal(genl_family_id(&p->dl.sk, "devlink", &id), -EBADMSG);
	assert_int_equal(id, 7);
}

static void eswitch_get_names_the_device(void **state)
{
	struct pair *p = *state;
	char buf[512] __attribute__((aligned(8)));
	struct nlattr *tb[DEVLINK_ATTR_MAX + 1];
	int mode = -1;
	queue(p, eswitch_reply(FAMILY, DEVLINK_ESWITCH_MODE_SWITCHDEV), SEQ0 + 1);
	assert_int_equal(devlink_eswitch_get_on(&p->dl, "pci", "0000:01:00.0", &mode), 0);
	assert_int_equal(mode, DEVLINK_ESWITCH_MODE_SWITCHDEV);
	struct nlmsghdr *h = sent(p, buf, sizeof(buf), tb, DEVLINK_ATTR_MAX);
	assert_int_equal(h->nlmsg_type, FAMILY);
	assert_int_equal(((struct genlmsghdr *)NLMSG_DATA(h))->cmd, DEVLINK_CMD_ESWITCH_GET);
	assert_string_equal(nla_get_string(tb[DEVLINK_ATTR_BUS_NAME]), "pci");
	assert_string_equal(nla_get_string(tb[DEVLINK_ATTR_DEV_NAME]), "0000:01:00.0");
	assert_null(tb[DEVLINK_ATTR_ESWITCH_MODE]);
}

static void eswitch_get_without_mode_is_unsupported(void **state)
{
	struct pair *p = *state;
	int mode = 9;
	queue(p, eswitch_reply(FAMILY, -1), SEQ0 + 1);
	assert_int_equal(devlink_eswitch_get_on(&p->dl, "pci", "0000:01:00.0", &mode), -EOPNOTSUPP);
	assert_int_equal(mode, 9);
	/* no devlink instance: the kernel's -ENODEV as it is, with its text */
	queue_error(p, SEQ0 + 2, -ENODEV, "device not found");
	assert_int_equal(devlink_eswitch_get_on(&p->dl, "pci", "0000:02:00.0", &mode), -ENODEV);
	assert_string_equal(nlsk_message(&p->dl.sk), "device not found");
	assert_int_equal(mode, 9);
}

static void eswitch_parse_rejects_malformed(void **state)
{
	(void)state;
	int mode = 5;
	struct nl_msg *m = eswitch_reply(FAMILY + 1, 1); /* another family's message */
	assert_int_equal(devlink_eswitch_parse(nlmsg_hdr(m), FAMILY, &mode), -EBADMSG);
	nlmsg_free(m);
	m = genl_msg(FAMILY, DEVLINK_CMD_ESWITCH_GET, 0);
	assert_non_null(m);
	assert_int_equal(nla_put_u8(m, DEVLINK_ATTR_ESWITCH_MODE, 1), 0); /* cut short: a u8 */
	assert_int_equal(devlink_eswitch_parse(nlmsg_hdr(m), FAMILY, &mode), -EBADMSG);
	nlmsg_free(m);
	assert_int_equal(mode, 5);
	m = eswitch_reply(FAMILY, DEVLINK_ESWITCH_MODE_LEGACY);
	assert_int_equal(devlink_eswitch_parse(nlmsg_hdr(m), FAMILY, &mode), 0);
	assert_int_equal(mode, DEVLINK_ESWITCH_MODE_LEGACY);
	nlmsg_free(m);
}

static void eswitch_reply_through_the_feed(void **state)
{
	(void)state;
	int mode = -1;
	struct nl_msg *m = eswitch_reply(FAMILY, DEVLINK_ESWITCH_MODE_SWITCHDEV);
	nlmsg_hdr(m)->nlmsg_seq = 42;
	struct nl_replies st = {.seq = 42, .get = true};
	int ret = 1;
	assert_int_equal(nl_replies_feed(&st, nlmsg_hdr(m), nlmsg_hdr(m)->nlmsg_len, &ret), 1);
	assert_int_equal(ret, 0);
	assert_int_equal(devlink_eswitch_parse(nlmsg_hdr(m), FAMILY, &mode), 0);
	assert_int_equal(mode, DEVLINK_ESWITCH_MODE_SWITCHDEV);
	nlmsg_free(m);
}

static void eswitch_set_carries_the_mode(void **state)
{
	struct pair *p = *state;
	char buf[512] __attribute__((aligned(8)));
	struct nlattr *tb[DEVLINK_ATTR_MAX + 1];
	queue_error(p, SEQ0 + 1, 0, NULL);
	assert_int_equal(devlink_eswitch_set_on(&p->dl, "netdevsim", "netdevsim10", DEVLINK_ESWITCH_MODE_SWITCHDEV), 0);
	struct nlmsghdr *h = sent(p, buf, sizeof(buf), tb, DEVLINK_ATTR_MAX);
	assert_int_equal(((struct genlmsghdr *)NLMSG_DATA(h))->cmd, DEVLINK_CMD_ESWITCH_SET);
	assert_true(h->nlmsg_flags & NLM_F_ACK);
	assert_string_equal(nla_get_string(tb[DEVLINK_ATTR_BUS_NAME]), "netdevsim");
	assert_string_equal(nla_get_string(tb[DEVLINK_ATTR_DEV_NAME]), "netdevsim10");
	assert_int_equal(nla_get_u16(tb[DEVLINK_ATTR_ESWITCH_MODE]), DEVLINK_ESWITCH_MODE_SWITCHDEV);
	/* the driver's refusal and its text */
	queue_error(p, SEQ0 + 2, -EOPNOTSUPP, "Not supported while VFs are bound");
	assert_int_equal(devlink_eswitch_set_on(&p->dl, "pci", "0000:01:00.0", DEVLINK_ESWITCH_MODE_LEGACY), -EOPNOTSUPP);
	assert_string_equal(nlsk_message(&p->dl.sk), "Not supported while VFs are bound");
	(void)sent(p, buf, sizeof(buf), tb, DEVLINK_ATTR_MAX);
	/* a mode that is neither: nothing sent */
	assert_int_equal(devlink_eswitch_set_on(&p->dl, "pci", "0000:01:00.0", 7), -EINVAL);
	assert_int_equal(recv(p->peer, buf, sizeof(buf), MSG_DONTWAIT), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(family_is_resolved_by_name, setup, teardown),
		cmocka_unit_test_setup_teardown(family_missing_is_enoent, setup, teardown),
		cmocka_unit_test_setup_teardown(eswitch_get_names_the_device, setup, teardown),
		cmocka_unit_test_setup_teardown(eswitch_get_without_mode_is_unsupported, setup, teardown),
		cmocka_unit_test(eswitch_parse_rejects_malformed),
		cmocka_unit_test(eswitch_reply_through_the_feed),
		cmocka_unit_test_setup_teardown(eswitch_set_carries_the_mode, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
