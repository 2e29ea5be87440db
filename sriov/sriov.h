/* The sriov plugin's own declarations: its config, an invocation's state, and
 * what each of its files offers the others. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "devmgr/devmgr.h"
#include "ucni/cni.h"
#include "ucni/nl.h"

/* ---- conf.c: the config ---- */

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
	const char *devinfo_file; /* runtimeConfig.CNIDeviceInfoFile, NULL: none */
};

/* One invocation: the config, the VF it works on, and what it has opened. */
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

/* Parse and check the keys into s->c (and s->sysfs, s->statedir). Records the error. */
int sriov_conf_parse(struct sr *s);
/* The node's own pool config (never one a network config names): $DEVMGR_CONFIG, the one
 * `devmgr apply` installed in s->statedir, else /etc/ucni/devmgr.json. Records the error. */
int sriov_node_pool_config(struct sr *s, const char **ret);
/* Does the config set any VF setting (MAC, VLAN, spoofchk, trust, link state, rates)? */
bool sriov_wants_vf(const struct sriov_conf *c);
/* Does the config set VF attribute a? */
bool sriov_configured(const struct sriov_conf *c, dm_vf_attr a);
/* The VF as the config wants it: cur with the configured keys on top. */
void sriov_wanted_vf(const struct sriov_conf *c, const dm_vf_settings *cur, dm_vf_settings *ret);

/* ---- state.c: the VF's saved state ---- */

/* Reset the VF to the baseline, and save what ADD is about to change in its record
 * (s->orig); *host_li: its netdev in the host. Records the error. */
int sriov_state_save(struct sr *s, struct link_info *host_li);
/* A record's saved state; NULL (the baseline) when it has none or it does not parse. */
const dm_vf_state *sriov_record_state(const dm_record *rec, dm_vf_state *buf);

/* ---- vf.c: VF settings and netdev, applied and restored ---- */

/* Is link li (in whatever namespace) the netdev of PCI function pci? */
bool sriov_link_is_vf(const struct link_info *li, const char *pci);
/* Apply the config's VF settings through the PF (host_li: the VF netdev). Records the error. */
int sriov_vf_apply(struct sr *s, const struct link_info *host_li);
/* Put the VF back as saved (o NULL: the baseline), its netdev out of the container
 * (cont NULL: not there). *ret_ifindex (may be NULL): its netdev in the host. Records the error. */
int sriov_vf_restore(struct sr *s, const dm_vf_state *o, const char *pci, struct nlsk *cont, int cont_ifindex,
		     int *ret_ifindex);
/* After a move that failed part-way: the VF netdev's ifindex in the container, 0 if none. */
int sriov_vf_find_moved(struct sr *s, const struct link_info *host_li, const char *ifname);
/* CHECK: the VF's settings are the config's (o: the saved state). Records the error. */
int sriov_vf_check(struct sr *s, const dm_vf_state *o);

/* ---- devinfo.c: the attachment's device-info file (runtimeConfig.CNIDeviceInfoFile) ---- */

/* ADD: write or merge s->c.devinfo_file for the VF s->pci. A file ADD created is recorded
 * in s->orig (and its record), so that DEL removes it; *ret_created says so. Records the error. */
int sriov_devinfo_write(struct sr *s, bool *ret_created);
/* Remove the device-info file at PATH (ADD's, from the saved state) with devinfo_remove();
 * logs what happened as "VERB ID: ...", never fails. */
void sriov_devinfo_remove(const char *verb, const char *path, const char *id);

/* ---- claim.c: claiming and releasing VFs in the allocation store ---- */

/* Open the allocation store of s->statedir. Records the error. */
int sriov_open_store(struct sr *s);
/* The device behind s->pci must be a usable VF (key: the config key naming it, NULL: a pool's). */
int sriov_check_device(struct sr *s, const char *key);
/* Load the pool config s->c.pool_config. Records the error. */
int sriov_pool_config_load(struct sr *s, dm_config **ret);
/* With the node setting "sriovDeviceIDs": "pools", is the VF s->pci (named by deviceID) in
 * one of the node's pools? 0 when allowed; code 7 naming the key when not. */
int sriov_check_device_allowed(struct sr *s);
/* Claim a VF for owner, from s->c.pool or at s->c.pci, into s->pci, and hold its lock.
 * Records the error. */
int sriov_claim_pool(struct sr *s, const dm_owner *owner);
int sriov_claim_device(struct sr *s, const dm_owner *owner);
/* The record of this attachment (*ret NULL: none). -errno, not recorded. */
int sriov_find_record(struct sr *s, dm_record **ret);
/* Does rec belong to container id as ifname? */
bool sriov_owned_by(const dm_record *rec, const char *id, const char *ifname);
/* Restore and release one attachment's VF, under its lock. Records the error. */
int sriov_detach(struct sr *s, const char *pci, const char *id, const char *ifname, const char *netns_hint);
