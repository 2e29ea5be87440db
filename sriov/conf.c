/* The sriov config: its keys parsed and checked, and the VF settings they ask for. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "ucni/node.h"
#include "sriov.h"

#define DEFAULT_POOL_CONFIG "/etc/ucni/devmgr.json"

static const char *env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);
	return v && *v ? v : dflt;
}

static int on_off(const cJSON *root, const char *key, int *ret)
{
	static const char *const choices[] = {"off", "on", NULL};
	int i = -1, r = conf_enum(root, NULL, key, choices, &i);
	*ret = r > 0 ? i : -1;
	return r;
}

int sriov_node_pool_config(struct sr *s, const char **ret)
{
	/* as the devmgr CLI: $DEVMGR_CONFIG, the config `devmgr apply` installed, /etc */
	const char *p = getenv("DEVMGR_CONFIG");
	if (!p || !*p) {
		struct stat st;
		snprintf(s->installed_config, sizeof(s->installed_config), "%s/config.json", s->statedir);
		p = DEFAULT_POOL_CONFIG;
		if (lstat(s->installed_config, &st) == 0) {
			/* as the devmgr CLI: never follow a link planted in the state directory */
			if (!S_ISREG(st.st_mode))
				return cni_fail(CNI_ERR_INVALID_CONFIG, -ELOOP, "the installed pool config %s is not a regular file",
						s->installed_config);
			p = s->installed_config;
		}
	}
	*ret = p;
	return 0;
}

int sriov_conf_parse(struct sr *s)
{
	const struct cni_ctx *ctx = s->ctx;
	const cJSON *root = ctx->conf.root;
	struct sriov_conf *c = &s->c;
	long long v;
	int r;

	memset(c, 0, sizeof(*c));
	s->sysfs = env_or("UCNI_SYSFS_ROOT", DM_DEFAULT_SYSFS_ROOT);
	s->statedir = env_or("UCNI_STATE_DIR", DM_DEFAULT_STATE_DIR);
	c->numa = -1;
	c->spoofchk = c->trust = c->link_state = -1;

	/* deviceID: runtimeConfig (device plugin via the runtime) > deviceID > pciBusID (Multus) */
	if ((r = conf_string(ctx->conf.runtime, "runtimeConfig", "deviceID", &c->device_id)) < 0)
		return r;
	c->device_key = "runtimeConfig.deviceID";
	if (r == 0 || !*c->device_id) {
		c->device_id = NULL;
		c->device_key = "deviceID";
		if ((r = conf_string(root, NULL, "deviceID", &c->device_id)) < 0)
			return r;
	}
	if (!c->device_id || !*c->device_id) {
		c->device_id = NULL;
		c->device_key = "pciBusID";
		if ((r = conf_string(root, NULL, "pciBusID", &c->device_id)) < 0)
			return r;
		if (c->device_id && !*c->device_id)
			c->device_id = NULL;
	}
	if (c->device_id && dm_pci_addr_normalize(c->device_id, c->pci) < 0)
		return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL,
				"invalid config: \"%s\" value \"%s\" is not a PCI address (dddd:bb:dd.f)", c->device_key,
				c->device_id);

	/* the runtime's device-info file: only where the node admin allows (devinfoDirs) */
	if ((r = conf_string(ctx->conf.runtime, "runtimeConfig", "CNIDeviceInfoFile", &c->devinfo_file)) < 0)
		return r;
	if (c->devinfo_file && !*c->devinfo_file)
		c->devinfo_file = NULL;
	const char *why;
	if (c->devinfo_file && node_path_check(NODE_DEVINFO_DIRS, c->devinfo_file, &why) < 0)
		return cni_fail(CNI_ERR_INVALID_CONFIG, -EPERM,
				"invalid config: \"runtimeConfig.CNIDeviceInfoFile\" value \"%s\" %s", c->devinfo_file, why);
	if (c->devinfo_file && strlen(c->devinfo_file) >= sizeof(s->orig.devinfo_file))
		return cni_fail(CNI_ERR_INVALID_CONFIG, -ENAMETOOLONG,
				"invalid config: \"runtimeConfig.CNIDeviceInfoFile\" is longer than %zu bytes",
				sizeof(s->orig.devinfo_file) - 1);

	if ((r = conf_string(root, NULL, "pool", &c->pool)) < 0)
		return r;
	if (c->pool && !*c->pool)
		c->pool = NULL;
	if ((r = conf_string(root, NULL, "poolConfig", &c->pool_config)) < 0)
		return r;
	/* Only a pool needs the pool config: a deviceID ADD does not look for it. */
	if (c->pool && (!c->pool_config || !*c->pool_config) && (r = sriov_node_pool_config(s, &c->pool_config)) < 0)
		return r;
	if ((r = conf_int(root, NULL, "numaNode", -1, 1023, &v)) < 0)
		return r;
	if (r > 0)
		c->numa = (int)v;

	if ((r = conf_int(root, NULL, "vlan", 0, 4094, &v)) < 0)
		return r;
	c->has_vlan = r > 0;
	c->vlan = (int)(r > 0 ? v : 0);
	if ((r = conf_int(root, NULL, "vlanQoS", 0, 7, &v)) < 0)
		return r;
	c->has_qos = r > 0;
	c->qos = (int)(r > 0 ? v : 0);
	const char *proto;
	if ((r = conf_string(root, NULL, "vlanProto", &proto)) < 0)
		return r;
	c->proto = DM_VF_PROTO_8021Q;
	if (r > 0) {
		c->has_proto = true;
		if (strcasecmp(proto, "802.1q") == 0)
			c->proto = DM_VF_PROTO_8021Q;
		else if (strcasecmp(proto, "802.1ad") == 0)
			c->proto = DM_VF_PROTO_8021AD;
		else
			return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL,
					"invalid config: \"vlanProto\" has unknown value \"%s\" (expected 802.1q or 802.1ad)",
					proto);
	}
	if (c->qos && !c->vlan)
		return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL,
				"invalid config: \"vlanQoS\" value %d needs a non-zero \"vlan\"", c->qos);
	if (c->has_proto && c->proto != DM_VF_PROTO_8021Q && !c->vlan)
		return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL,
				"invalid config: \"vlanProto\" value \"%s\" needs a non-zero \"vlan\"", proto);

	if ((r = on_off(root, "spoofchk", &c->spoofchk)) < 0 || (r = on_off(root, "trust", &c->trust)) < 0)
		return r;
	static const char *const states[] = {"auto", "enable", "disable", NULL};
	int ls = -1;
	if ((r = conf_enum(root, NULL, "link_state", states, &ls)) < 0)
		return r;
	c->link_state = r > 0 ? ls : -1;
	if ((r = conf_int(root, NULL, "min_tx_rate", 0, UINT32_MAX, &v)) < 0)
		return r;
	c->has_min_tx = r > 0;
	c->min_tx = (uint32_t)(r > 0 ? v : 0);
	if ((r = conf_int(root, NULL, "max_tx_rate", 0, UINT32_MAX, &v)) < 0)
		return r;
	c->has_max_tx = r > 0;
	c->max_tx = (uint32_t)(r > 0 ? v : 0);
	if (c->has_min_tx && c->has_max_tx && c->max_tx && c->min_tx > c->max_tx)
		return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL,
				"invalid config: \"min_tx_rate\" %u is above \"max_tx_rate\" %u", c->min_tx, c->max_tx);

	if ((r = conf_mtu(root, &c->mtu)) < 0)
		return r;
	if ((r = conf_mac_chosen(ctx, c->mac)) < 0)
		return r;
	c->has_mac = r > 0;

	return 0;
}

bool sriov_wants_vf(const struct sriov_conf *c)
{
	return c->has_mac || c->has_vlan || c->has_qos || c->has_proto || c->spoofchk >= 0 || c->trust >= 0 ||
	       c->link_state >= 0 || c->has_min_tx || c->has_max_tx;
}

bool sriov_configured(const struct sriov_conf *c, dm_vf_attr a)
{
	switch (a) {
	case DM_VF_MAC:
		return c->has_mac;
	case DM_VF_VLAN:
		return c->has_vlan || c->has_qos || c->has_proto;
	case DM_VF_SPOOFCHK:
		return c->spoofchk >= 0;
	case DM_VF_TRUST:
		return c->trust >= 0;
	case DM_VF_LINK_STATE:
		return c->link_state >= 0;
	case DM_VF_RATE:
		return c->has_min_tx || c->has_max_tx;
	default:
		return false;
	}
}

/* The VF as the config wants it: the saved state with the configured keys on top. */
void sriov_wanted_vf(const struct sriov_conf *c, const dm_vf_settings *cur, dm_vf_settings *w)
{
	*w = *cur;
	if (c->has_mac)
		memcpy(w->mac, c->mac, 6);
	if (sriov_configured(c, DM_VF_VLAN)) {
		w->vlan = (uint16_t)c->vlan;
		w->qos = (uint8_t)c->qos;
		w->vlan_proto = c->proto;
	}
	if (c->spoofchk >= 0)
		w->spoofchk = c->spoofchk;
	if (c->trust >= 0)
		w->trust = c->trust;
	if (c->link_state >= 0)
		w->link_state = c->link_state;
	if (c->has_min_tx)
		w->min_tx_rate = c->min_tx;
	if (c->has_max_tx)
		w->max_tx_rate = c->max_tx;
}
