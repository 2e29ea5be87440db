/* The VF codec: the settings a PF keeps for its VFs, read from the PF's link
 * (IFLA_VFINFO_LIST) and written one IFLA_VF_* attribute per request, so that
 * a driver's refusal names the setting it refused. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include "ucni/nl.h"

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
/* One setting of VF want->index, named by its attribute: IFLA_VF_MAC,
 * IFLA_VF_VLAN (vlan, qos and protocol: an 802.1Q VLAN goes as IFLA_VF_VLAN,
 * any other protocol as IFLA_VF_VLAN_LIST), IFLA_VF_SPOOFCHK, IFLA_VF_TRUST,
 * IFLA_VF_LINK_STATE or IFLA_VF_RATE (min and max together); -EINVAL for any
 * other. One RTM_NEWLINK carrying that one attribute: 0 or the kernel's -errno
 * (the driver's refusal). */
int vf_set(struct nlsk *sk, const char *pf, int attr, const struct vf_info *want);
