/* The VF codec: the settings a PF keeps for its VFs, read from the PF's link
 * (IFLA_VFINFO_LIST) and written one IFLA_VF_* attribute per request, so that
 * a driver's refusal names the setting it refused. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include "ucni/nl.h"

enum vf_attr {
	VF_ATTR_MAC,        /* administrative MAC */
	VF_ATTR_VLAN,       /* vlan, qos and protocol: the kernel takes them as one */
	VF_ATTR_SPOOFCHK,
	VF_ATTR_TRUST,
	VF_ATTR_LINK_STATE,
	VF_ATTR_RATE,       /* min and max tx rate together */
	VF_ATTR_COUNT,
};

/* One VF's settings in the kernel's own units: vlan_proto an ethertype
 * (ETH_P_8021Q, ETH_P_8021AD), link_state IFLA_VF_LINK_STATE_*. */
struct vf_info {
	int index;            /* VF number at its PF */
	unsigned char mac[6]; /* administrative MAC, all-zero when unset */
	uint16_t vlan;
	uint8_t qos;
	uint16_t vlan_proto;
	int spoofchk;         /* 0/1, -1 not reported */
	int trust;            /* 0/1, -1 not reported */
	int link_state;       /* -1 not reported */
	bool has_rate;        /* the driver reports rates */
	uint32_t min_tx_rate; /* Mbit/s */
	uint32_t max_tx_rate;
};

/* Every VF the PF netdev `pf` reports, to cb (one RTM_GETLINK with
 * RTEXT_FILTER_VF). -ENODEV when there is no such link. */
int vf_list(struct nlsk *sk, const char *pf, void (*cb)(const struct vf_info *v, void *arg), void *arg);
/* VF `index` of `pf`: -ENOENT when the PF does not list it. */
int vf_get(struct nlsk *sk, const char *pf, int index, struct vf_info *ret);
/* Attribute a of VF want->index: one RTM_NEWLINK carrying one IFLA_VF_*. An
 * 802.1Q VLAN goes as IFLA_VF_VLAN, any other protocol as IFLA_VF_VLAN_LIST.
 * Returns 0 or the kernel's -errno (the driver's refusal). */
int vf_set(struct nlsk *sk, const char *pf, enum vf_attr a, const struct vf_info *want);
