/* The macvlan CNI plugin: the macvlan keys and attributes; the rest is lib/plugin/stacked.c. */
#include <errno.h>
#include <linux/if_link.h>

#include "ucni/stacked.h"

extern const struct link_kind macvlan_kind;

struct macvlan_conf {
	int mode;
	bool has_bcqueuelen;
	uint32_t bcqueuelen;
};

static const char *const modes[] = {"bridge", "private", "vepa", "passthru", NULL};
static const uint32_t mode_values[] = {MACVLAN_MODE_BRIDGE, MACVLAN_MODE_PRIVATE, MACVLAN_MODE_VEPA,
				       MACVLAN_MODE_PASSTHRU};

static int macvlan_parse(const struct cni_ctx *ctx, void *p)
{
	struct macvlan_conf *c = p;
	long long q;
	int r;
	c->mode = 0;
	if ((r = conf_enum(ctx->conf.root, NULL, "mode", modes, &c->mode)) < 0)
		return r;
	if ((r = conf_int(ctx->conf.root, NULL, "bcqueuelen", 0, INT32_MAX, &q)) < 0)
		return r;
	c->has_bcqueuelen = r > 0;
	c->bcqueuelen = (uint32_t)(r > 0 ? q : 0);
	return 0;
}

static int macvlan_fill(const void *p, struct nl_msg *m)
{
	const struct macvlan_conf *c = p;
	if (nla_put_u32(m, IFLA_MACVLAN_MODE, mode_values[c->mode]) < 0)
		return -ENOBUFS;
	if (c->has_bcqueuelen && nla_put_u32(m, IFLA_MACVLAN_BC_QUEUE_LEN, c->bcqueuelen) < 0)
		return -ENOBUFS;
	return 0;
}

static int macvlan_verify(const void *p, const struct link_info *link)
{
	const struct macvlan_conf *c = p;
	uint32_t mode = 0;
	link_info_data_u32(link, IFLA_MACVLAN_MODE, &mode);
	if (mode != mode_values[c->mode])
		return cni_fail(CNI_ERR_DEVICE, -EINVAL, "CHECK: \"%s\" is not in macvlan mode %s", link->name,
				modes[c->mode]);
	return 0;
}

const struct link_kind macvlan_kind = {
	.kind = "macvlan",
	.about = "ucni macvlan CNI plugin",
	.conf_size = sizeof(struct macvlan_conf),
	.supports_mac = true,
	.parse = macvlan_parse,
	.fill_info_data = macvlan_fill,
	.verify = macvlan_verify,
};

#ifndef UCNI_FUZZ
int main(void)
{
	return stacked_main(&macvlan_kind);
}
#endif
