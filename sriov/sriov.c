/* The sriov CNI plugin: take a VF (by PCI address or from a devmgr pool), lock
 * and record it, save its state, configure it through the PF, move its netdev
 * into the container — and put everything back on DEL, GC or a failed ADD. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <linux/if_link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include "devmgr/devmgr.h"
#include "ucni/fault.h"
#include "ucni/ipam.h"
#include "ucni/ipcfg.h"
#include "ucni/jsoncheck.h"
#include "ucni/log.h"
#include "ucni/netns.h"
#include "ucni/node.h"

#define DEFAULT_POOL_CONFIG "/etc/ucni/devmgr.json"

/* ---- configuration ---- */

struct sriov_conf {
	const char *device_id; /* as given; pci is its canonical form */
	const char *device_key;
	char pci[DM_PCI_ADDR_MAX];
	const char *pool;
	const char *pool_config;
	int numa; /* -1: no preference */
	bool has_vlan, has_qos, has_proto;
	int vlan, qos;
	uint16_t proto;
	bool has_mac;
	unsigned char mac[6];
	int spoofchk, trust, link_state; /* -1: not configured */
	bool has_min_tx, has_max_tx;
	uint32_t min_tx, max_tx;
	unsigned int mtu;
};

struct sr {
	struct cni_ctx *ctx;
	struct sriov_conf c;
	const char *sysfs;
	const char *statedir;
	dm_store *store;
	char pci[DM_PCI_ADDR_MAX];
	dm_device dev;
	int nsfd, hostfd;
	struct nlsk host, cont;
	dm_vf_state orig; /* what the VF looked like before ADD changed it: the record's data */
	int reclaimed_ifindex; /* the VF netdev as a reclaim just restored it */
	unsigned char netdev_mac[6]; /* the VF netdev's MAC as ADD moves it */
	char installed_config[4096];
};

static const char *env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);
	return v && *v ? v : dflt;
}

/* Fault points after each ADD step (FAULTS=1 builds only, see ucni/fault.h), so
 * the suites can prove the rollback of every step. */
static bool fault(const char *point)
{
	if (!FAULT(point))
		return false;
	cni_fail(CNI_ERR_INTERNAL, -EIO, "fault injected at %s", point);
	return true;
}

static int on_off(const cJSON *root, const char *key, int *ret)
{
	static const char *const choices[] = {"off", "on", NULL};
	int i = -1, r = conf_enum(root, NULL, key, choices, &i);
	*ret = r > 0 ? i : -1;
	return r;
}

static int parse_conf(struct sr *s)
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

	if ((r = conf_string(root, NULL, "pool", &c->pool)) < 0)
		return r;
	if (c->pool && !*c->pool)
		c->pool = NULL;
	if ((r = conf_string(root, NULL, "poolConfig", &c->pool_config)) < 0)
		return r;
	/* Only a pool needs the pool config: a deviceID ADD does not look for it. */
	if (c->pool && (!c->pool_config || !*c->pool_config)) {
		/* as the devmgr CLI: $DEVMGR_CONFIG, the config `devmgr apply` installed, /etc */
		c->pool_config = getenv("DEVMGR_CONFIG");
		if (!c->pool_config || !*c->pool_config) {
			struct stat st;
			snprintf(s->installed_config, sizeof(s->installed_config), "%s/config.json", s->statedir);
			c->pool_config = DEFAULT_POOL_CONFIG;
			if (lstat(s->installed_config, &st) == 0) {
				/* as the devmgr CLI: never follow a link planted in the state directory */
				if (!S_ISREG(st.st_mode))
					return cni_fail(CNI_ERR_INVALID_CONFIG, -ELOOP,
							"the installed pool config %s is not a regular file",
							s->installed_config);
				c->pool_config = s->installed_config;
			}
		}
	}
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

static bool wants_vf_settings(const struct sriov_conf *c)
{
	return c->has_mac || c->has_vlan || c->has_qos || c->has_proto || c->spoofchk >= 0 || c->trust >= 0 ||
	       c->link_state >= 0 || c->has_min_tx || c->has_max_tx;
}

static void sr_init(struct sr *s, struct cni_ctx *ctx)
{
	memset(s, 0, sizeof(*s));
	s->ctx = ctx;
	s->nsfd = s->hostfd = -1;
	s->host.fd = s->cont.fd = -1;
}

static void sr_free(struct sr *s)
{
	nlsk_close(&s->host);
	nlsk_close(&s->cont);
	if (s->nsfd >= 0)
		close(s->nsfd);
	if (s->hostfd >= 0)
		close(s->hostfd);
	dm_store_free(s->store);
}

static int open_host(struct sr *s)
{
	int r;
	if (s->host.fd >= 0)
		return 0;
	if ((r = nlsk_open(&s->host)) < 0)
		return cni_fail(CNI_ERR_INTERNAL, r, "cannot open the host network namespace");
	return 0;
}

/* The host namespace as a file, for moves back to it: opened when first needed. */
static int host_netns_fd(struct sr *s, int *ret)
{
	int r;
	if (s->hostfd < 0 && (r = netns_open_self(&s->hostfd)) < 0)
		return cni_fail(CNI_ERR_INTERNAL, r, "cannot open the host network namespace");
	*ret = s->hostfd;
	return 0;
}

static int open_store(struct sr *s)
{
	int r = dm_store_open(s->statedir, &s->store);
	if (r < 0)
		return cni_fail(CNI_ERR_IO, r, "cannot open the VF allocation store %s", s->statedir);
	/* every wait for a VF's lock is bounded: $UCNI_VF_LOCK_TIMEOUT_MS, else the library's */
	const char *t = getenv("UCNI_VF_LOCK_TIMEOUT_MS");
	char *end;
	long ms = t && *t ? strtol(t, &end, 10) : 0;
	if (ms > 0 && !*end)
		(void)dm_store_set_lock_timeout(s->store, (int)(ms > 3600000 ? 3600000 : ms));
	return 0;
}

/* Takes the VF's lock (bounded wait): a holder that does not let go within the timeout
 * is reported as "busy, try again" (code 11), naming the VF. */
static int lock_vf(struct sr *s, const char *pci)
{
	int r = dm_store_lock_vf(s->store, pci, true);
	if (r == -ETIMEDOUT)
		return cni_fail(CNI_ERR_TRY_AGAIN, r,
				"VF %s is busy: another ADD, DEL or devmgr command holds its lock; try again", pci);
	if (r < 0)
		return cni_fail(CNI_ERR_IO, r, "locking VF %s failed", pci);
	return 0;
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- finding the VF's netdev ---- */

/* Is link (in whatever namespace) the netdev of PCI function pci? A kernel that
 * reports the parent device must name pci; one that does not (older kernels, the
 * test suites' veths) is taken at its word. */
static bool link_is_vf(const struct link_info *li, const char *pci)
{
	return !li->parent_dev[0] || strcmp(li->parent_dev, pci) == 0;
}

/* The VF's netdev in the host namespace: by the name sysfs shows (sysfs was
 * mounted by the host namespace), then by the ifindex it had before ADD. */
static int find_host_netdev(struct sr *s, const char *pci, int saved_ifindex, struct link_info *ret)
{
	dm_device d;
	if (dm_device_lookup(s->sysfs, pci, &d) == 0 && d.netdev[0] &&
	    link_get_by_name(&s->host, d.netdev, ret) == 0 && link_is_vf(ret, pci))
		return 0;
	if (saved_ifindex > 0 && link_get_by_index(&s->host, saved_ifindex, ret) == 0 && ret->parent_dev[0] &&
	    strcmp(ret->parent_dev, pci) == 0)
		return 0;
	return -ENODEV;
}

/* ---- applying and restoring VF settings ---- */

static bool configured(const struct sriov_conf *c, dm_vf_attr a)
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
static void wanted_vf(const struct sriov_conf *c, const dm_vf_settings *cur, dm_vf_settings *w)
{
	*w = *cur;
	if (c->has_mac)
		memcpy(w->mac, c->mac, 6);
	if (configured(c, DM_VF_VLAN)) {
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

static int apply_vf_settings(struct sr *s, const struct link_info *host_li)
{
	dm_vf_settings want;
	char what[96];
	int r;
	if (!wants_vf_settings(&s->c))
		return 0;
	if (!s->orig.pf[0])
		return cni_fail(CNI_ERR_DEVICE, -ENODEV,
				"VF %s: its PF \"%s\" does not report VF %d over netlink, so VF settings (%s) cannot be applied",
				s->pci, s->dev.pf_netdev[0] ? s->dev.pf_netdev : s->dev.pf_pci, s->dev.vf_index,
				s->c.has_mac ? "mac" : configured(&s->c, DM_VF_VLAN) ? "vlan" : "spoofchk/trust/link_state/rates");
	/* A MAC set through the PF can lock the VF's own MAC (igb): set the netdev's first. */
	if (s->c.has_mac && s->orig.netdev[0] && memcmp(host_li->mac, s->c.mac, 6) != 0) {
		struct link_change ch = LINK_CHANGE_INIT;
		ch.mac = s->c.mac;
		if ((r = link_change(&s->host, host_li->ifindex, &ch)) < 0) {
			format_mac(s->c.mac, what);
			return cni_fail_kernel(CNI_ERR_KERNEL, r, nlsk_message(&s->host),
					       "VF %s: setting MAC %s on its netdev %s failed", s->pci, what, host_li->name);
		}
		memcpy(s->netdev_mac, s->c.mac, 6);
	}
	wanted_vf(&s->c, &s->orig.vf, &want);
	/* one attribute per request: a refusal names the setting refused */
	for (int a = 0; a < DM_VF_ATTR_COUNT; a++) {
		if (!configured(&s->c, a) || !dm_vf_attr_differs(a, &want, &s->orig.vf))
			continue;
		r = dm_vf_set(s->orig.pf, a, &want);
		if (r == -ENODEV)
			return cni_fail(CNI_ERR_DEVICE, r, "VF %s: PF \"%s\" is gone", s->pci, s->orig.pf);
		if (r < 0)
			return cni_fail(CNI_ERR_KERNEL, r, "VF %d of PF %s (%s): the driver refused %s",
					want.index, s->orig.pf, s->pci, dm_vf_attr_describe(a, &want, what, sizeof(what)));
		log_debug("VF %s: %s", s->pci, what);
	}
	return 0;
}

/* Move the VF netdev from the container (cont_ifindex in cont) back to the host,
 * renamed to its saved name. *ret: the netdev in the host. */
static int move_to_host(struct sr *s, struct nlsk *cont, int cont_ifindex, const dm_vf_state *o, const char *pci,
			struct link_info *ret)
{
	struct link_change ch = LINK_CHANGE_INIT;
	struct link_info li;
	int r;
	if ((r = host_netns_fd(s, &ch.netns_fd)) < 0)
		return r;
	ch.up = 0;
	/* Its own name may be taken in the host: the saved name then serves as the pattern.
	 * The saved MTU goes along (the kernel ignores an unchanged one). */
	ch.name = o->netdev;
	ch.mtu = o->mtu;
	char kmsg[256];
	r = link_change(cont, cont_ifindex, &ch);
	snprintf(kmsg, sizeof(kmsg), "%s", nlsk_message(cont)); /* the lookups below clear it */
	/* Moved and renamed: the saved name in the host is this netdev. */
	if (r == 0 && link_get_by_name(&s->host, o->netdev, ret) == 0 && link_is_vf(ret, pci))
		return 0;
	if (r < 0 && link_get_by_index(cont, cont_ifindex, &li) == 0)
		return cni_fail_kernel(CNI_ERR_KERNEL, r, kmsg, "VF %s: moving %s back to the host failed", pci, li.name);
	if ((r = find_host_netdev(s, pci, o->ifindex, ret)) < 0 &&
	    (r = link_get_by_index(&s->host, cont_ifindex, ret)) < 0)
		return cni_fail(CNI_ERR_KERNEL, r, "VF %s: its netdev is neither in the container nor in the host", pci);
	return 0;
}

/*
 * Everything back as saved (O NULL: to the baseline): the netdev out of the container
 * (cont may be NULL when the namespace is gone; the library then looks for it in the
 * host, waiting a little for a netns teardown), then the library's restore: a userspace
 * driver's function-level reset, the VF settings through the PF (one attribute per
 * request), name, MAC, MTU and state of the netdev in the host.
 */
static int restore_all(struct sr *s, const dm_vf_state *o, const char *pci, struct nlsk *cont, int cont_ifindex,
		       int *ret_ifindex)
{
	dm_restore_report rep;
	struct link_info li;
	int ifindex = 0, r;
	if (o && o->netdev[0] && cont && cont_ifindex > 0) {
		if ((r = move_to_host(s, cont, cont_ifindex, o, pci, &li)) < 0)
			return r;
		ifindex = li.ifindex;
	}
	r = dm_vf_restore(s->sysfs, pci, o, ifindex, DM_RESTORE_WAIT_NETDEV, &rep);
	if (r == -ENODEV)
		r = 0; /* the VF or its PF is gone: nothing left to restore */
	if (rep.tolerated)
		log_warn("VF %s: the driver keeps its administrative MAC (clearing it was refused)", pci);
	if (rep.reset)
		log_info("VF %s: function-level reset (userspace driver)", pci);
	if (r == -EAGAIN)
		return cni_fail(CNI_ERR_TRY_AGAIN, r,
				"VF %s: its netdev has not come back to the host yet (netns teardown in progress?); retry", pci);
	if (r < 0)
		return cni_fail(CNI_ERR_KERNEL, r, "%s", rep.what[0] ? rep.what : "restoring the VF failed");
	if (ret_ifindex)
		*ret_ifindex = rep.ifindex;
	return 0;
}

/* A record's saved state; NULL (the baseline) when it has none or it does not parse. */
static const dm_vf_state *record_state(const dm_record *rec, dm_vf_state *buf)
{
	return rec->data && dm_vf_state_parse(rec->data, buf) == 0 ? buf : NULL;
}

/* ---- allocation ---- */

/* A record whose container is gone: restore the VF from its data, then release.
 * Called with the VF lock held. */
static int reclaim(struct sr *s, const dm_record *rec)
{
	dm_vf_state buf;
	const dm_vf_state *o = record_state(rec, &buf);
	log_info("VF %s: container %s is gone, restoring the VF%s before reuse", rec->pci, rec->owner,
		 o ? "" : " to the baseline");
	int r = restore_all(s, o, rec->pci, NULL, 0, &s->reclaimed_ifindex);
	if (r < 0)
		return r; /* the record stays: the next DEL, GC or ADD tries again */
	r = dm_store_drop(s->store, rec->pci, rec->owner, NULL, DM_DROP_RESTORED);
	if (r < 0 && r != -ENOENT)
		return cni_fail(CNI_ERR_IO, r, "releasing the stale record of VF %s failed", rec->pci);
	return 0;
}

/* Restore and release the pool's stale records, so that a claim only ever gets
 * a VF in its original state. */
static void sweep_stale(struct sr *s)
{
	dm_record **list = NULL;
	size_t n = 0;
	if (dm_store_list(s->store, &list, NULL, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		dm_record *r = list[i], *again = NULL;
		if (!r->owner || !dm_record_is_stale(r) || dm_store_lock_vf(s->store, r->pci, false) < 0)
			continue;
		if (dm_store_get(s->store, r->pci, &again) == 0 && dm_record_is_stale(again)) {
			if (reclaim(s, again) < 0)
				cni_error_reset(); /* not this invocation's error */
		}
		dm_record_free(again);
		dm_store_unlock_vf(s->store, r->pci);
	}
	dm_record_list_free(list, n);
}

/* The pool config. A "poolConfig" of the network config is read only from a config
 * directory the node allows (ucni/node.h); the node's own choice ($DEVMGR_CONFIG, the
 * installed config, /etc) as it is. Both open non-blocking, regular files only, and no
 * message quotes the file: the kubelet shows CNI errors in pod events. */
static int pool_config_load(struct sr *s, dm_config **ret)
{
	const char *path = s->c.pool_config, *given = NULL, *why = NULL;
	char err[256] = "", *text = NULL;
	size_t len = 0;
	int fd = -1, r;
	if (conf_string(s->ctx->conf.root, NULL, "poolConfig", &given) > 0 && *given)
		r = node_open(NODE_CONFIG_DIRS, path, O_RDONLY, 0, &fd, &why);
	else
		r = node_open_regular(path, &fd, &why);
	if (r == -EPERM)
		return cni_fail(CNI_ERR_INVALID_CONFIG, r, "invalid config: \"poolConfig\" value \"%s\" %s", path, why);
	if (r < 0)
		return cni_fail(r == -ENOENT ? CNI_ERR_INVALID_CONFIG : CNI_ERR_IO, r,
				"invalid config: \"poolConfig\" %s cannot be opened: %s", path, strerror(-r));
	r = read_all(fd, 1 << 20, &text, &len);
	close(fd);
	if (r < 0)
		return cni_fail(CNI_ERR_IO, r, "invalid config: \"poolConfig\" %s cannot be read: %s", path,
				r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
	r = dm_config_parse_text(text, len, DM_CONFIG_QUIET, ret, err, sizeof(err));
	free(text);
	if (r < 0)
		return cni_fail(r == -EBADMSG ? CNI_ERR_DECODE : CNI_ERR_INVALID_CONFIG, r,
				"invalid config: \"poolConfig\" %s cannot be used: %s", path, err);
	return 0;
}

static int claim_from_pool(struct sr *s, const dm_owner *owner)
{
	dm_config *cfg = NULL;
	dm_inventory *inv = NULL;
	dm_record *rec = NULL;
	int r = pool_config_load(s, &cfg);
	if (r < 0)
		goto out;
	if (dm_config_pool_index(cfg, s->c.pool) < 0) {
		r = cni_fail(CNI_ERR_INVALID_CONFIG, -ENOENT, "invalid config: \"pool\" value \"%s\" is not defined in %s",
			     s->c.pool, s->c.pool_config);
		goto out;
	}
	if ((r = dm_inventory_load(s->sysfs, 0, &inv)) < 0) {
		r = cni_fail(CNI_ERR_IO, r, "reading the PCI devices under %s failed", s->sysfs);
		goto out;
	}
	sweep_stale(s);
	r = dm_store_claim_from_pool(s->store, cfg, inv, s->c.pool, owner, s->c.numa, &rec);
	if (r == -ENOSPC) {
		r = cni_fail(CNI_ERR_DEVICE, r, "pool \"%s\" has no free healthy VF", s->c.pool);
		goto out;
	}
	if (r == -ETIMEDOUT) {
		r = cni_fail(CNI_ERR_TRY_AGAIN, r, "pool \"%s\": the allocation store is busy (locked past the bound); try again",
			     s->c.pool);
		goto out;
	}
	if (r < 0) {
		r = cni_fail(CNI_ERR_IO, r, "claiming a VF from pool \"%s\" failed", s->c.pool);
		goto out;
	}
	if (r == DM_CLAIM_EXISTING) {
		r = cni_fail(CNI_ERR_DEVICE, -EEXIST, "VF %s of pool \"%s\" is already attached to %s as %s (DEL it first)",
			     rec->pci, s->c.pool, owner->id, owner->ifname);
		goto out;
	}
	memcpy(s->pci, rec->pci, sizeof(s->pci));
	r = lock_vf(s, s->pci);
	if (r < 0)
		dm_store_release(s->store, s->pci, owner->id, owner->ifname);
out:
	dm_record_free(rec);
	dm_inventory_free(inv);
	dm_config_free(cfg);
	return r < 0 ? r : 0;
}

static int claim_device(struct sr *s, const dm_owner *owner)
{
	dm_record *rec = NULL;
	int r;
	memcpy(s->pci, s->c.pci, sizeof(s->pci));
	if ((r = lock_vf(s, s->pci)) < 0)
		return r;
	r = dm_store_get(s->store, s->pci, &rec);
	if (r == 0) {
		bool same = rec->owner && strcmp(rec->owner, owner->id) == 0 && rec->ifname &&
			    strcmp(rec->ifname, owner->ifname) == 0;
		if (same)
			r = cni_fail(CNI_ERR_DEVICE, -EEXIST, "VF %s is already attached to %s as %s (DEL it first)",
				     s->pci, owner->id, owner->ifname);
		else if (!dm_record_is_stale(rec))
			r = cni_fail(CNI_ERR_DEVICE, -EBUSY, "VF %s is in use by container %s (%s in %s)", s->pci,
				     rec->owner, rec->ifname ? rec->ifname : "-", rec->netns ? rec->netns : "-");
		else
			r = reclaim(s, rec);
		dm_record_free(rec);
		rec = NULL;
		if (r < 0)
			goto fail;
	} else if (r != -ENOENT) {
		r = cni_fail(CNI_ERR_IO, r, "the allocation record of VF %s cannot be read", s->pci);
		goto fail;
	}
	r = dm_store_claim(s->store, s->pci, NULL, owner, &rec);
	dm_record_free(rec);
	if (r == -EBUSY || r == -ENOTEMPTY) {
		r = cni_fail(CNI_ERR_DEVICE, r, "VF %s is in use by another container", s->pci);
		goto fail;
	}
	if (r == -ETIMEDOUT) {
		r = cni_fail(CNI_ERR_TRY_AGAIN, r, "VF %s is busy: the allocation store is locked past the bound; try again",
			     s->pci);
		goto fail;
	}
	if (r < 0) {
		r = cni_fail(CNI_ERR_IO, r, "recording the allocation of VF %s failed", s->pci);
		goto fail;
	}
	return 0;
fail:
	dm_store_unlock_vf(s->store, s->pci);
	return r;
}

/* ---- the VF in sysfs ---- */

/* The device behind s->pci must be a usable VF. */
static int check_device(struct sr *s, const char *key)
{
	if (dm_vf_lookup(s->sysfs, s->pci, &s->dev) == 0)
		return 0;
	int r = dm_device_lookup(s->sysfs, s->pci, &s->dev);
	const char *k = key ? key : "pool";
	if (r == -ENOENT)
		return cni_fail(CNI_ERR_DEVICE, r, "%s: PCI device %s does not exist", k, s->pci);
	if (r < 0)
		return cni_fail(CNI_ERR_IO, r, "%s: reading PCI device %s failed", k, s->pci);
	if (s->dev.role != DM_ROLE_VF)
		return cni_fail(CNI_ERR_INVALID_CONFIG, -ENODEV,
				"invalid config: \"%s\" value \"%s\" is %s, not an SR-IOV VF", k, s->pci,
				s->dev.role == DM_ROLE_PF ? "a PF" : "a PCI function without SR-IOV");
	if (s->dev.health & DM_UNHEALTHY_PF_GONE)
		return cni_fail(CNI_ERR_DEVICE, -ENODEV, "VF %s: its PF %s is gone", s->pci, s->dev.pf_pci);
	if (!s->dev.driver[0])
		return cni_fail(CNI_ERR_DEVICE, -ENODEV, "VF %s has no driver bound", s->pci);
	if (s->dev.vf_index < 0)
		return cni_fail(CNI_ERR_DEVICE, -ENODEV, "VF %s is not listed by its PF %s", s->pci, s->dev.pf_pci);
	return 0;
}

/* ---- ADD ---- */

/* Is li (in the container) the VF netdev that was host_li before the move? By the
 * PCI address where the kernel reports it, else by the MAC it had when it moved. */
static bool is_moved_vf(const struct sr *s, const struct link_info *li)
{
	if (li->parent_dev[0])
		return strcmp(li->parent_dev, s->pci) == 0;
	return li->maclen == 6 && memcmp(li->mac, s->netdev_mac, 6) == 0;
}

/* After a move request that failed part-way (or a fault after it): the VF netdev's
 * ifindex in the container, 0 when it never left the host. A move keeps the ifindex
 * unless it is taken in the container, and the host name unless that is taken, when
 * it takes CNI_IFNAME; the rename to CNI_IFNAME comes last. */
static int find_moved(struct sr *s, const struct link_info *host_li, const char *ifname)
{
	struct link_info li;
	if (link_get_by_index(&s->cont, host_li->ifindex, &li) == 0 && is_moved_vf(s, &li))
		return li.ifindex;
	if (link_get_by_name(&s->cont, host_li->name, &li) == 0 && is_moved_vf(s, &li))
		return li.ifindex;
	if (link_get_by_name(&s->cont, ifname, &li) == 0 && is_moved_vf(s, &li))
		return li.ifindex;
	return 0;
}

static int open_netns(struct sr *s)
{
	int r = cni_netns_open(&s->ctx->env, &s->nsfd);
	if (r < 0)
		return r;
	if ((r = nlsk_open_in(&s->cont, s->nsfd)) < 0)
		return cni_fail(CNI_ERR_INTERNAL, r, "cannot open a netlink socket in %s", s->ctx->env.netns);
	return 0;
}

/* Read what ADD is about to change, and keep it in the record before any change. The VF
 * is handed out at the baseline (plus the config's keys): whatever VF settings it has here
 * — a former owner's that were never restored, an operator's — are first reset, one
 * attribute per request, and the baseline is what DEL restores. */
static int save_state(struct sr *s, struct link_info *host_li)
{
	dm_vf_state *o = &s->orig;
	dm_restore_report rep;
	int r;
	memset(o, 0, sizeof(*o));
	snprintf(o->network, sizeof(o->network), "%s", s->ctx->conf.name ? s->ctx->conf.name : "");
	if (!s->dev.userspace_driver) {
		if (!s->dev.netdev[0] && s->reclaimed_ifindex <= 0)
			return cni_fail(CNI_ERR_DEVICE, -ENODEV,
					"VF %s (driver %s) has no netdev in the host namespace (in use elsewhere?)", s->pci,
					s->dev.driver);
		/* A reclaim just renamed it: sysfs read before that may show the old name. */
		r = s->reclaimed_ifindex > 0 ? link_get_by_index(&s->host, s->reclaimed_ifindex, host_li)
					     : link_get_by_name(&s->host, s->dev.netdev, host_li);
		if (r < 0 || !link_is_vf(host_li, s->pci))
			return cni_fail(CNI_ERR_DEVICE, r < 0 ? r : -ENODEV,
					"VF %s: its netdev %s is not in the host namespace", s->pci, s->dev.netdev);
	}
	r = dm_vf_restore(s->sysfs, s->pci, NULL, s->dev.userspace_driver ? 0 : host_li->ifindex, 0, &rep);
	if (r < 0 && r != -ENODEV)
		return cni_fail(CNI_ERR_DEVICE, r, "VF %s is not clean and cannot be reset: %s", s->pci,
				rep.what[0] ? rep.what : strerror(-r));
	if (rep.written)
		log_info("VF %s: reset to the baseline before use (it had settings of its own)", s->pci);
	if (rep.reset)
		log_info("VF %s: function-level reset (userspace driver %s)", s->pci, s->dev.driver);
	if (!s->dev.userspace_driver) {
		if (rep.written && (r = link_get_by_index(&s->host, host_li->ifindex, host_li)) < 0)
			return cni_fail(CNI_ERR_DEVICE, r, "VF %s: its netdev vanished", s->pci);
		snprintf(o->netdev, sizeof(o->netdev), "%s", host_li->name);
		o->ifindex = host_li->ifindex;
		memcpy(o->mac, host_li->mac, 6);
		memcpy(s->netdev_mac, host_li->mac, 6);
		o->mtu = host_li->mtu;
		o->up = (host_li->flags & IFF_UP) != 0;
	}
	if (s->dev.pf_netdev[0] && dm_vf_get(s->dev.pf_netdev, s->dev.vf_index, &o->vf) == 0)
		snprintf(o->pf, sizeof(o->pf), "%s", s->dev.pf_netdev);
	char *txt = dm_vf_state_format(o);
	if (!txt)
		return cni_fail(CNI_ERR_INTERNAL, -errno, "VF %s: its state cannot be saved", s->pci);
	r = dm_store_set_data(s->store, s->pci, s->ctx->env.containerid, txt);
	free(txt);
	if (r < 0)
		return cni_fail(CNI_ERR_IO, r, "saving the state of VF %s failed", s->pci);
	return 0;
}

static int sriov_add(struct cni_ctx *ctx, cJSON **ret)
{
	struct sr s;
	struct cni_result *ipam = NULL, *res = NULL;
	struct link_info host_li, li;
	char mac[18];
	const char *ifname = ctx->env.ifname;
	int cont_ifindex = 0, r;
	bool claimed = false, saved = false, ipam_done = false;
	dm_owner owner = {.id = ctx->env.containerid, .ifname = ifname, .netns = ctx->env.netns};

	sr_init(&s, ctx);
	memset(&host_li, 0, sizeof(host_li));
	if ((r = parse_conf(&s)) < 0)
		goto out;
	if (!s.c.device_id && !s.c.pool) {
		r = cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL,
			     "invalid config: no VF given: set \"deviceID\" (or runtimeConfig.deviceID, pciBusID) or \"pool\"");
		goto out;
	}
	if ((r = open_netns(&s)) < 0 || (r = open_host(&s)) < 0)
		goto out;
	if (link_get_by_name(&s.cont, ifname, &li) == 0) {
		r = cni_fail(CNI_ERR_INVALID_ENV, -EEXIST, "CNI_IFNAME \"%s\" already exists in the container", ifname);
		goto out;
	}
	if (s.c.device_id) {
		memcpy(s.pci, s.c.pci, sizeof(s.pci));
		if ((r = check_device(&s, s.c.device_key)) < 0)
			goto out;
	}
	if ((r = open_store(&s)) < 0)
		goto out;
	r = s.c.device_id ? claim_device(&s, &owner) : claim_from_pool(&s, &owner);
	if (r < 0)
		goto out;
	claimed = true;
	if (!s.c.device_id && (r = check_device(&s, NULL)) < 0)
		goto out;
	if (fault("sriov.claim")) {
		r = -EIO;
		goto out;
	}

	if ((r = save_state(&s, &host_li)) < 0)
		goto out;
	saved = true;
	if (fault("sriov.save")) {
		r = -EIO;
		goto out;
	}
	if ((r = apply_vf_settings(&s, &host_li)) < 0)
		goto out;
	if (fault("sriov.vf")) {
		r = -EIO;
		goto out;
	}

	if (!s.dev.userspace_driver) {
		/* One request, as the kernel floor makes it: the kernel moves the netdev (under
		 * its host name, or CNI_IFNAME if that is taken there), sets the MTU, renames it
		 * to CNI_IFNAME inside the container and brings it up. */
		struct link_change ch = LINK_CHANGE_INIT;
		ch.netns_fd = s.nsfd;
		ch.name = ifname;
		ch.mtu = s.c.mtu;
		ch.up = 1;
		if ((r = link_change(&s.host, host_li.ifindex, &ch)) < 0) {
			if (r == -EEXIST)
				cni_fail(CNI_ERR_INVALID_ENV, r, "CNI_IFNAME \"%s\" already exists in the container", ifname);
			else if (s.c.mtu)
				cni_fail_kernel(CNI_ERR_KERNEL, r, nlsk_message(&s.host),
						"VF %s: moving %s into the container as \"%s\" with mtu %u failed", s.pci,
						host_li.name, ifname, s.c.mtu);
			else
				cni_fail_kernel(CNI_ERR_KERNEL, r, nlsk_message(&s.host),
						"VF %s: moving %s into the container as \"%s\" failed", s.pci, host_li.name,
						ifname);
			/* It may have moved before the rest failed: the rollback brings it back. */
			cont_ifindex = find_moved(&s, &host_li, ifname);
			goto out;
		}
		if (fault("sriov.move")) {
			cont_ifindex = find_moved(&s, &host_li, ifname);
			r = -EIO;
			goto out;
		}
		if ((r = link_get_by_name(&s.cont, ifname, &li)) < 0) {
			cni_fail_kernel(CNI_ERR_KERNEL, r, nlsk_message(&s.cont), "VF %s: \"%s\" cannot be found in the container",
					s.pci, ifname);
			cont_ifindex = find_moved(&s, &host_li, ifname);
			goto out;
		}
		cont_ifindex = li.ifindex;
		if (fault("sriov.rename")) {
			r = -EIO;
			goto out;
		}
	}

	if (ctx->conf.ipam_type) {
		if ((r = ipam_add(ctx, &ipam)) < 0)
			goto out;
		ipam_done = true;
		for (size_t i = 0; i < ipam->n_ips; i++)
			ipam->ips[i].iface = 0;
		if (fault("sriov.ipam")) {
			r = -EIO;
			goto out;
		}
		/* A userspace driver's addresses are the application's to configure. */
		if (cont_ifindex && (r = ipcfg_apply(&s.cont, s.nsfd, cont_ifindex, ifname, li.maclen == 6 ? li.mac : NULL, ipam, 0)) < 0)
			goto out;
		if (fault("sriov.addresses")) {
			r = -EIO;
			goto out;
		}
	}

	res = ctx->conf.prev ? cni_result_dup(ctx->conf.prev) : cni_result_new();
	if (!res) {
		r = cni_fail(CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
		goto out;
	}
	const unsigned char *m = cont_ifindex ? li.mac : s.c.has_mac ? s.c.mac : s.orig.pf[0] ? s.orig.vf.mac : NULL;
	if (m)
		format_mac(m, mac);
	int idx = cni_result_add_iface(res, ifname, m && (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) ? mac : NULL,
				       ctx->env.netns, cont_ifindex ? (int)li.mtu : 0);
	if (idx < 0 || !(res->ifaces[idx].pci_id = strdup(s.pci)) || (ipam && cni_result_merge(res, ipam, idx) < 0)) {
		r = cni_fail(CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
		goto out;
	}
	if (ctx->conf.dns && cJSON_GetArraySize(ctx->conf.dns) > 0) {
		cJSON_Delete(res->dns);
		res->dns = cJSON_Duplicate(ctx->conf.dns, true);
	}
	*ret = cni_result_to_json(res, ctx->conf.version);
	log_info("ADD %s: VF %s (%s) as %s in %s", ctx->env.containerid, s.pci, s.dev.driver, ifname, ctx->env.netns);
	r = 0;
out:
	if (r < 0) {
		/* Undo in reverse; the first error stays the one reported. A kill here
		 * (FAULTS=1 builds) leaves what DEL must undo from the record. */
		(void)FAULT("sriov.rollback");
		if (ipam_done)
			ipam_forward(ctx, CNI_DEL);
		if (saved) {
			int rr = restore_all(&s, &s.orig, s.pci, cont_ifindex ? &s.cont : NULL, cont_ifindex, NULL);
			if (rr < 0)
				log_error("ADD %s: rollback of VF %s incomplete; the record keeps its saved state",
					  ctx->env.containerid, s.pci);
			else
				saved = false;
		}
		/* A VF that could not be put back keeps its record: DEL or GC retries. */
		if (claimed && !saved)
			dm_store_drop(s.store, s.pci, ctx->env.containerid, ifname, DM_DROP_RESTORED);
	}
	cni_result_free(ipam);
	cni_result_free(res);
	sr_free(&s);
	return r;
}

/* ---- DEL ---- */

/* The record of this attachment: at the configured PCI address, else any VF
 * that (CNI_CONTAINERID, CNI_IFNAME) holds. *ret NULL when there is none. */
static int find_record(struct sr *s, dm_record **ret)
{
	dm_record **list = NULL;
	size_t n = 0;
	int r;
	*ret = NULL;
	if (s->c.device_id) {
		r = dm_store_get(s->store, s->c.pci, ret);
		return r == -ENOENT ? 0 : r;
	}
	if ((r = dm_store_list(s->store, &list, NULL, &n)) < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (list[i]->owner && strcmp(list[i]->owner, s->ctx->env.containerid) == 0 && list[i]->ifname &&
		    strcmp(list[i]->ifname, s->ctx->env.ifname) == 0) {
			*ret = list[i];
			list[i] = NULL;
			break;
		}
	dm_record_list_free(list, n);
	return 0;
}

static bool owned_by(const dm_record *rec, const char *id, const char *ifname)
{
	return rec && rec->owner && strcmp(rec->owner, id) == 0 && (!rec->ifname || strcmp(rec->ifname, ifname) == 0);
}

/* Restore and release one attachment's VF; the VF lock is taken here. */
static int detach(struct sr *s, const char *pci, const char *id, const char *ifname, const char *netns_hint)
{
	dm_record *rec = NULL;
	dm_vf_state buf;
	const dm_vf_state *o;
	struct nlsk cont = NLSK_NULL;
	int nsfd = -1, cont_ifindex = 0, r;

	if ((r = lock_vf(s, pci)) < 0)
		return r;
	r = dm_store_get(s->store, pci, &rec);
	if (r == -ENOENT || (r == 0 && !owned_by(rec, id, ifname))) {
		/* Released meanwhile, or already given to another container: not ours to touch. */
		if (r == 0)
			log_warn("DEL %s: VF %s now belongs to %s; left alone", id, pci, rec->owner);
		else
			log_info("DEL %s: VF %s is not allocated", id, pci);
		r = 0;
		goto out;
	}
	if (r < 0) {
		r = cni_fail(CNI_ERR_IO, r, "the allocation record of VF %s cannot be read", pci);
		goto out;
	}
	if (!(o = record_state(rec, &buf)))
		log_warn("DEL %s: VF %s has no saved state; it goes back to the baseline", id, pci);
	const char *netns = netns_hint && *netns_hint ? netns_hint : rec->netns;
	if (o && o->netdev[0] && netns && !dm_record_is_stale(rec) && netns_open(netns, &nsfd) == 0 &&
	    nlsk_open_in(&cont, nsfd) == 0) {
		struct link_info li;
		if (link_get_by_name(&cont, ifname, &li) == 0 && link_is_vf(&li, pci))
			cont_ifindex = li.ifindex;
		/* An ADD killed while it rolled back a move that failed part-way left it under
		 * its host name (ucni 0.1: between move and rename, under a temporary
		 * "ucni…" name); a move keeps the ifindex when it is free in the target namespace. */
		else if (o->ifindex > 0 && link_get_by_index(&cont, o->ifindex, &li) == 0 &&
			 (strncmp(li.name, "ucni", 4) == 0 || strcmp(li.name, o->netdev) == 0) && link_is_vf(&li, pci))
			cont_ifindex = li.ifindex;
		else if (link_get_by_name(&cont, o->netdev, &li) == 0 && li.parent_dev[0] && strcmp(li.parent_dev, pci) == 0)
			cont_ifindex = li.ifindex;
	}
	/* Namespace gone (or the netdev not in it): the kernel moved it back to the host. */
	if ((r = restore_all(s, o, pci, cont_ifindex ? &cont : NULL, cont_ifindex, NULL)) < 0) {
		log_error("DEL %s: VF %s could not be restored; its record is kept for a retry", id, pci);
		goto out;
	}
	r = dm_store_drop(s->store, pci, id, NULL, DM_DROP_RESTORED);
	if (r == -ENOENT || r == -EBUSY)
		r = 0;
	if (r < 0)
		cni_fail(CNI_ERR_IO, r, "releasing VF %s failed", pci);
	else
		log_info("DEL %s: VF %s restored and released", id, pci);
out:
	nlsk_close(&cont);
	if (nsfd >= 0)
		close(nsfd);
	dm_record_free(rec);
	dm_store_unlock_vf(s->store, pci);
	return r;
}

static int sriov_del(struct cni_ctx *ctx)
{
	struct sr s;
	dm_record *rec = NULL;
	int r;

	sr_init(&s, ctx);
	if ((r = parse_conf(&s)) < 0)
		goto out;
	/* IPAM first: if it fails the runtime retries DEL and finds the VF still attached. */
	if (ctx->conf.ipam_type && (r = ipam_forward(ctx, CNI_DEL)) < 0)
		goto out;
	if ((r = open_host(&s)) < 0 || (r = open_store(&s)) < 0)
		goto out;
	/* By address: the record is read once, under the VF's lock. */
	if (s.c.device_id) {
		r = detach(&s, s.c.pci, ctx->env.containerid, ctx->env.ifname, ctx->env.netns);
		goto out;
	}
	if ((r = find_record(&s, &rec)) < 0) {
		cni_fail(CNI_ERR_IO, r, "reading the VF allocation store failed");
		goto out;
	}
	if (!rec) {
		log_info("DEL %s: no VF attached as %s", ctx->env.containerid, ctx->env.ifname);
		goto out;
	}
	r = detach(&s, rec->pci, ctx->env.containerid, ctx->env.ifname, ctx->env.netns);
out:
	dm_record_free(rec);
	sr_free(&s);
	return r;
}

/* ---- CHECK ---- */

static int check_vf_settings(struct sr *s, const dm_vf_state *o)
{
	dm_vf_settings cur, want;
	char a[96], b[96];
	if (!wants_vf_settings(&s->c))
		return 0;
	if (!o->pf[0] || dm_vf_get(o->pf, o->vf.index, &cur) < 0)
		return cni_fail(CNI_ERR_DEVICE, -ENODEV, "CHECK: the PF of VF %s does not report it", s->pci);
	wanted_vf(&s->c, &cur, &want);
	for (int i = 0; i < DM_VF_ATTR_COUNT; i++)
		if (configured(&s->c, i) && dm_vf_attr_differs(i, &cur, &want))
			return cni_fail(CNI_ERR_DEVICE, -EINVAL, "CHECK: VF %s has %s, the config says %s", s->pci,
					dm_vf_attr_describe(i, &cur, a, sizeof(a)), dm_vf_attr_describe(i, &want, b, sizeof(b)));
	return 0;
}

static int sriov_check(struct cni_ctx *ctx)
{
	struct sr s;
	dm_record *rec = NULL;
	dm_vf_state o;
	struct link_info li;
	const struct cni_result *prev = ctx->conf.prev;
	const char *ifname = ctx->env.ifname;
	int r, idx = -1;

	sr_init(&s, ctx);
	if ((r = parse_conf(&s)) < 0)
		goto out;
	/* a userspace-driver VF's interface has no sandbox in the result */
	if ((r = cni_prev_iface(ctx, false, &idx)) < 0)
		goto out;
	if ((r = open_netns(&s)) < 0 || (r = open_host(&s)) < 0 || (r = open_store(&s)) < 0)
		goto out;
	if (ctx->conf.ipam_type && (r = ipam_forward(ctx, CNI_CHECK)) < 0)
		goto out;
	if ((r = find_record(&s, &rec)) < 0) {
		cni_fail(CNI_ERR_IO, r, "reading the VF allocation store failed");
		goto out;
	}
	r = -EINVAL;
	if (!owned_by(rec, ctx->env.containerid, ifname)) {
		cni_fail(CNI_ERR_DEVICE, -ENOENT, "CHECK: no VF is allocated to %s as %s", ctx->env.containerid, ifname);
		goto out;
	}
	memcpy(s.pci, rec->pci, sizeof(s.pci));
	if (prev->ifaces[idx].pci_id && strcmp(prev->ifaces[idx].pci_id, s.pci) != 0) {
		cni_fail(CNI_ERR_DEVICE, r, "CHECK: prevResult names VF %s, the allocation is %s", prev->ifaces[idx].pci_id,
			 s.pci);
		goto out;
	}
	if (!rec->data || dm_vf_state_parse(rec->data, &o) < 0) {
		cni_fail(CNI_ERR_DEVICE, r, "CHECK: VF %s has no saved state", s.pci);
		goto out;
	}
	if ((r = check_vf_settings(&s, &o)) < 0)
		goto out;
	if (!o.netdev[0]) { /* userspace driver: nothing in the sandbox to look at */
		r = 0;
		goto out;
	}
	r = link_get_by_name(&s.cont, ifname, &li);
	if (r < 0) {
		cni_fail(r == -ENODEV ? CNI_ERR_DEVICE : CNI_ERR_KERNEL, r, "CHECK: interface \"%s\" is not in the container",
			 ifname);
		goto out;
	}
	r = -EINVAL;
	if (!link_is_vf(&li, s.pci)) {
		cni_fail(CNI_ERR_DEVICE, r, "CHECK: \"%s\" is %s, not VF %s", ifname, li.parent_dev, s.pci);
		goto out;
	}
	if ((r = ipcfg_verify_link(&li, ifname, prev->ifaces[idx].mac, s.c.mtu)) < 0)
		goto out;
	if (s.c.has_mac && memcmp(li.mac, s.c.mac, 6) != 0) {
		char mac[18];
		format_mac(li.mac, mac);
		r = cni_fail(CNI_ERR_DEVICE, -EINVAL, "CHECK: \"%s\" has MAC %s, the config asks for another", ifname,
			     mac);
		goto out;
	}
	r = ipcfg_verify(&s.cont, li.ifindex, ifname, prev, idx);
out:
	dm_record_free(rec);
	sr_free(&s);
	return r;
}

/* ---- STATUS and GC ---- */

static int sriov_status(struct cni_ctx *ctx)
{
	struct sr s;
	int r;
	sr_init(&s, ctx);
	if ((r = parse_conf(&s)) < 0)
		goto out;
	if (s.c.device_id) {
		dm_device d;
		r = dm_device_lookup(s.sysfs, s.c.pci, &d);
		if (r < 0 || d.role != DM_ROLE_VF || (d.health & DM_UNHEALTHY_PF_GONE)) {
			r = cni_fail(CNI_ERR_NOT_AVAILABLE, r < 0 ? r : -ENODEV, "VF %s or its PF is not present", s.c.pci);
			goto out;
		}
	} else if (s.c.pool) {
		dm_config *cfg = NULL;
		dm_inventory *inv = NULL;
		size_t n = 0;
		if ((r = pool_config_load(&s, &cfg)) < 0)
			goto out;
		if ((r = dm_inventory_load(s.sysfs, 0, &inv)) >= 0) {
			int pidx = dm_config_pool_index(cfg, s.c.pool);
			for (size_t i = 0; pidx >= 0 && i < dm_inventory_count(inv); i++) {
				const dm_device *d = dm_inventory_get(inv, i);
				n += d->role == DM_ROLE_VF && !(d->health & DM_UNHEALTHY_PF_GONE) &&
				     dm_config_match(cfg, d) == pidx;
			}
		}
		dm_inventory_free(inv);
		dm_config_free(cfg);
		if (n == 0) {
			r = cni_fail(CNI_ERR_NOT_AVAILABLE, r < 0 ? r : -ENODEV, "pool \"%s\" has no VF with a present PF",
				     s.c.pool);
			goto out;
		}
	}
	r = ctx->conf.ipam_type ? ipam_forward(ctx, CNI_STATUS) : 0;
out:
	sr_free(&s);
	return r;
}

static bool attachment_valid(const cJSON *valid, const char *id, const char *ifname)
{
	const cJSON *a;
	cJSON_ArrayForEach(a, valid)
	{
		const char *c = str(a, "containerID"), *i = str(a, "ifname");
		if (c && strcmp(c, id) == 0 && (!ifname || !i || strcmp(i, ifname) == 0))
			return true;
	}
	return false;
}

static int sriov_gc(struct cni_ctx *ctx)
{
	struct sr s;
	dm_record **list = NULL;
	size_t n = 0;
	int r, first = 0;
	const cJSON *valid = cJSON_GetObjectItemCaseSensitive(ctx->conf.root, "cni.dev/valid-attachments");

	sr_init(&s, ctx);
	if ((r = parse_conf(&s)) < 0)
		goto out;
	if (!valid) {
		/* Without the list every attachment would look invalid: collect nothing. */
		log_warn("GC without \"cni.dev/valid-attachments\": no VF released");
		r = ctx->conf.ipam_type ? ipam_forward(ctx, CNI_GC) : 0;
		goto out;
	}
	if (!cJSON_IsArray(valid)) {
		r = cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid config: \"cni.dev/valid-attachments\" must be a list");
		goto out;
	}
	if ((r = open_host(&s)) < 0 || (r = open_store(&s)) < 0)
		goto out;
	if ((r = dm_store_list(s.store, &list, NULL, &n)) < 0) {
		cni_fail(CNI_ERR_IO, r, "reading the VF allocation store failed");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		dm_vf_state o;
		dm_record *rec = list[i];
		/* Only this network's attachments: the valid list names no others. */
		if (!rec->owner || !rec->data || dm_vf_state_parse(rec->data, &o) < 0 || !ctx->conf.name ||
		    strcmp(o.network, ctx->conf.name) != 0 || attachment_valid(valid, rec->owner, rec->ifname))
			continue;
		log_info("GC: VF %s of %s/%s is not a valid attachment", rec->pci, rec->owner, rec->ifname ? rec->ifname : "-");
		r = detach(&s, rec->pci, rec->owner, rec->ifname ? rec->ifname : "", NULL);
		if (r < 0 && !first)
			first = r;
	}
	r = first;
	if (r == 0 && ctx->conf.ipam_type)
		r = ipam_forward(ctx, CNI_GC);
out:
	dm_record_list_free(list, n);
	sr_free(&s);
	return r;
}

#ifdef UCNI_FUZZ
/* The config parser alone, for tests/fuzz/fuzz_conf.c. */
int sriov_fuzz_parse(struct cni_ctx *ctx);
int sriov_fuzz_parse(struct cni_ctx *ctx)
{
	struct sr s;
	sr_init(&s, ctx);
	int r = parse_conf(&s);
	sr_free(&s);
	return r;
}
#else
int main(void)
{
	static const struct cni_plugin p = {
		.name = "sriov",
		.about = "ucni sriov CNI plugin",
		.known_args = cni_common_args,
		.add = sriov_add,
		.del = sriov_del,
		.check = sriov_check,
		.status = sriov_status,
		.gc = sriov_gc,
	};
	return cni_main(&p);
}
#endif
