/* devlink over generic netlink: the eswitch mode of a device named by its
 * devlink handle (bus/dev), read and set on the transport of nl.c. */
#include <errno.h>
#include <linux/genetlink.h>
#include <string.h>

#include "ucni/devlink.h"

struct nl_msg *devlink_msg(uint16_t family, uint8_t cmd, const char *bus, const char *dev)
{
	struct nl_msg *m = genl_msg(family, cmd, 0);
	if (m && (nla_put_string(m, DEVLINK_ATTR_BUS_NAME, bus) < 0 || nla_put_string(m, DEVLINK_ATTR_DEV_NAME, dev) < 0)) {
		nlmsg_free(m);
		return NULL;
	}
	return m;
}

int devlink_eswitch_parse(struct nlmsghdr *h, uint16_t family, int *ret_mode)
{
	struct nlattr *tb[DEVLINK_ATTR_MAX + 1];
	if (h->nlmsg_type != family || nlmsg_parse(h, GENL_HDRLEN, tb, DEVLINK_ATTR_MAX, NULL) < 0)
		return -EBADMSG;
	if (!tb[DEVLINK_ATTR_ESWITCH_MODE])
		return -EOPNOTSUPP; /* the driver has no eswitch_mode_get */
	if (nla_len(tb[DEVLINK_ATTR_ESWITCH_MODE]) < (int)sizeof(uint16_t))
		return -EBADMSG;
	*ret_mode = nla_get_u16(tb[DEVLINK_ATTR_ESWITCH_MODE]);
	return 0;
}

int devlink_open(struct devlink *dl)
{
	int r = nlsk_open_generic(&dl->sk);
	if (r < 0)
		return r;
	r = genl_family_id(&dl->sk, DEVLINK_GENL_NAME, &dl->family);
	if (r < 0) {
		nlsk_close(&dl->sk);
		return r == -ENOENT ? -EOPNOTSUPP : r; /* a kernel without devlink */
	}
	return 0;
}

void devlink_close(struct devlink *dl)
{
	nlsk_close(&dl->sk);
}

struct mode_reply {
	uint16_t family;
	int mode;
	int err;
};

static int on_eswitch(struct nlmsghdr *h, void *arg)
{
	struct mode_reply *m = arg;
	m->err = devlink_eswitch_parse(h, m->family, &m->mode);
	return m->err == -EBADMSG ? m->err : 0;
}

int devlink_eswitch_get_on(struct devlink *dl, const char *bus, const char *dev, int *ret_mode)
{
	struct mode_reply rep = {.family = dl->family, .err = -EBADMSG};
	struct nl_msg *m = devlink_msg(dl->family, DEVLINK_CMD_ESWITCH_GET, bus, dev);
	if (!m)
		return -ENOMEM;
	int r = nl_request(&dl->sk, m, on_eswitch, &rep);
	nlmsg_free(m);
	if (r < 0)
		return r;
	if (rep.err < 0)
		return rep.err;
	*ret_mode = rep.mode;
	return 0;
}

int devlink_eswitch_set_on(struct devlink *dl, const char *bus, const char *dev, int mode)
{
	if (mode != DEVLINK_ESWITCH_MODE_LEGACY && mode != DEVLINK_ESWITCH_MODE_SWITCHDEV)
		return -EINVAL;
	struct nl_msg *m = devlink_msg(dl->family, DEVLINK_CMD_ESWITCH_SET, bus, dev);
	if (!m)
		return -ENOMEM;
	int r = nla_put_u16(m, DEVLINK_ATTR_ESWITCH_MODE, (uint16_t)mode) < 0 ? -ENOBUFS : nl_request(&dl->sk, m, NULL, NULL);
	nlmsg_free(m);
	return r;
}

int devlink_eswitch_get(const char *bus, const char *dev, int *ret_mode)
{
	struct devlink dl = DEVLINK_NULL;
	int r = devlink_open(&dl);
	if (r < 0)
		return r;
	r = devlink_eswitch_get_on(&dl, bus, dev, ret_mode);
	devlink_close(&dl);
	return r;
}

int devlink_eswitch_set(const char *bus, const char *dev, int mode)
{
	struct devlink dl = DEVLINK_NULL;
	int r = devlink_open(&dl);
	if (r < 0)
		return r;
	r = devlink_eswitch_set_on(&dl, bus, dev, mode);
	devlink_close(&dl);
	return r;
}
