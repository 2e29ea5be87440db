/* The ipvlan CNI plugin: the ipvlan keys and attributes, and the guard that
 * keeps one master's mode and flags from changing under running containers;
 * the rest is lib/plugin/stacked.c. */
#include <errno.h>
#include <linux/if_link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ucni/stacked.h"
#include "port.h"

struct ipvlan_conf {
	int mode;  /* index into modes */
	int flags; /* index into flag_names */
	struct port_reg reg;
};

static const char *const modes[] = {"l2", "l3", "l3s", NULL};
static const uint16_t mode_values[] = {IPVLAN_MODE_L2, IPVLAN_MODE_L3, IPVLAN_MODE_L3S};
static const char *const flag_names[] = {"bridge", "private", "vepa", NULL};
static const uint16_t flag_values[] = {0, IPVLAN_F_PRIVATE, IPVLAN_F_VEPA};

static const char *name_of(const char *const *names, const uint16_t *values, uint16_t v, char *buf, size_t len)
{
	for (int i = 0; names[i]; i++)
		if (values[i] == v)
			return names[i];
	snprintf(buf, len, "%u", v);
	return buf;
}

static int ipvlan_parse(const struct cni_ctx *ctx, void *p)
{
	struct ipvlan_conf *c = p;
	int r;
	c->mode = 0;
	c->flags = 0;
	c->reg.lock_fd = -1;
	if ((r = conf_enum(ctx->conf.root, NULL, "mode", modes, &c->mode)) < 0)
		return r;
	if ((r = conf_enum(ctx->conf.root, NULL, "flags", flag_names, &c->flags)) < 0)
		return r;
	/* Every ipvlan shares its master's MAC: ADD cannot honour a requested one
	 * (DEL and CHECK of such a config still clean up and report). */
	const char *mac;
	if (ctx->env.verb != CNI_ADD)
		return 0;
	if ((r = conf_string(ctx->conf.root, NULL, "mac", &mac)) < 0)
		return r;
	if (r > 0)
		return cni_fail(CNI_ERR_UNSUPPORTED_FIELD, -EINVAL,
				"unsupported field \"mac\" (value \"%s\"): an ipvlan always has its master's MAC", mac);
	if ((r = conf_string(ctx->conf.runtime, "runtimeConfig", "mac", &mac)) < 0)
		return r;
	if (r > 0)
		return cni_fail(CNI_ERR_UNSUPPORTED_FIELD, -EINVAL,
				"unsupported field \"runtimeConfig.mac\" (value \"%s\"): an ipvlan always has its master's MAC",
				mac);
	return 0;
}

/* Always both: the kernel applies what is given to the whole port and keeps,
 * or defaults (mode l3), what is not. */
static int ipvlan_fill(const void *p, struct nl_msg *m)
{
	const struct ipvlan_conf *c = p;
	if (nla_put_u16(m, IFLA_IPVLAN_MODE, mode_values[c->mode]) < 0 ||
	    nla_put_u16(m, IFLA_IPVLAN_FLAGS, flag_values[c->flags]) < 0)
		return -ENOBUFS;
	return 0;
}

static int ipvlan_verify(const void *p, const struct link_info *link)
{
	const struct ipvlan_conf *c = p;
	uint16_t mode = 0, flags = 0;
	char b1[8], b2[8];
	link_info_data_u16(link, IFLA_IPVLAN_MODE, &mode);
	link_info_data_u16(link, IFLA_IPVLAN_FLAGS, &flags);
	if (mode != mode_values[c->mode] || flags != flag_values[c->flags])
		return cni_fail(CNI_ERR_DEVICE, -EINVAL,
				"CHECK: \"%s\" is in ipvlan mode %s, flags %s; the config says mode %s, flags %s",
				link->name, name_of(modes, mode_values, mode, b1, sizeof(b1)),
				name_of(flag_names, flag_values, flags, b2, sizeof(b2)), modes[c->mode],
				flag_names[c->flags]);
	return 0;
}

static int ipvlan_check_master(const void *p, struct nlsk *sk, const struct link_info *master)
{
	if (master->flags & IFF_LOOPBACK)
		return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL,
				"invalid config: \"master\" \"%s\" is a loopback device; ipvlan needs an Ethernet device",
				master->name);
	/* The kernel would hang the new link on the master's own lower device, a
	 * sibling rather than a child: CHECK and DEL could no longer tell it apart. */
	if (strcmp(master->kind, "ipvlan") == 0)
		return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL,
				"invalid config: \"master\" \"%s\" is itself an ipvlan; give its lower device as the master",
				master->name);
	return 0;
}

/* Refuse a mode or flags that differ from the port's: creating the link would
 * switch every ipvlan on the master, in every container. The registry stays
 * locked until the link exists, so two ADDs cannot both pass this check. */
static int ipvlan_add_begin(void *p, const struct stacked_add *a)
{
	struct ipvlan_conf *c = p;
	struct port_state st;
	char b1[8], b2[8];
	int r = port_open(a, &c->reg, &st);
	if (r < 0)
		goto fail;
	if (st.found && (st.mode != mode_values[c->mode] || st.flags != flag_values[c->flags])) {
		r = cni_fail(CNI_ERR_INVALID_CONFIG, -EBUSY,
			     "invalid config: master \"%s\" already carries ipvlan links in mode %s, flags %s (\"%s\" in %s); "
			     "this config asks for mode %s, flags %s, and the kernel would switch all of them. "
			     "Use the same mode and flags, or another master",
			     a->master->name, name_of(modes, mode_values, st.mode, b1, sizeof(b1)),
			     name_of(flag_names, flag_values, st.flags, b2, sizeof(b2)), st.who,
			     *st.where ? st.where : "the master's namespace", modes[c->mode], flag_names[c->flags]);
		goto fail;
	}
	if ((r = port_record(&c->reg, a)) < 0)
		goto fail;
	return 0;
fail:
	port_close(&c->reg);
	return r;
}

static void ipvlan_add_end(void *p, const struct stacked_add *a, int r)
{
	struct ipvlan_conf *c = p;
	if (r < 0)
		port_unrecord(&c->reg, a);
	port_close(&c->reg);
}

/* The attachment's link is gone: its registry entry may go. port_forget looks
 * again, under the registry's lock, and keeps an entry whose link is there. */
static void ipvlan_forget(const struct cni_ctx *ctx)
{
	port_forget(ctx->env.containerid, ctx->env.ifname);
}

const struct link_kind ipvlan_kind = {
	.kind = "ipvlan",
	.about = "ucni ipvlan CNI plugin",
	.conf_size = sizeof(struct ipvlan_conf),
	.supports_mac = false, /* every ipvlan shares its master's MAC */
	.master_from_prev_result = true,
	.adopt_prev_ips = true,
	.parse = ipvlan_parse,
	.fill_info_data = ipvlan_fill,
	.check_master = ipvlan_check_master,
	.verify = ipvlan_verify,
	.add_begin = ipvlan_add_begin,
	.add_end = ipvlan_add_end,
	.forget = ipvlan_forget,
};

#ifndef UCNI_FUZZ
int main(void)
{
	int r = stacked_main(&ipvlan_kind);
	/* After a GC that succeeded (config valid, IPAM's GC done; nothing printed):
	 * the registries lose the entries of links that are gone, and the files
	 * killed writers left go. Best effort: GC has answered already. */
	const char *cmd = getenv("CNI_COMMAND");
	if (r == 0 && cmd && strcmp(cmd, "GC") == 0)
		port_gc();
	return r;
}
#endif
