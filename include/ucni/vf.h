/* SR-IOV VF settings through the PF's netdev over rtnetlink: read one VF's
 * state (RTEXT_FILTER_VF) and change one setting per request, so a driver's
 * refusal names the setting that it refused. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include "ucni/nl.h"

#define VF_PROTO_8021Q 0x8100
#define VF_PROTO_8021AD 0x88a8

enum vf_link_state { VF_LINK_AUTO = 0, VF_LINK_ENABLE = 1, VF_LINK_DISABLE = 2 };

/* One VF as its PF reports it. A field the driver does not report is -1
 * (spoofchk, trust, link_state) or has_* false. */
struct vf_info {
	int index;
	unsigned char mac[6]; /* administrative MAC; all-zero when unset */
	uint16_t vlan;
	uint8_t qos;
	uint16_t vlan_proto; /* VF_PROTO_*, 0x8100 unless the driver says otherwise */
	int spoofchk;
	int trust;
	int link_state;
	bool has_rate;
	uint32_t min_tx_rate; /* Mbit/s */
	uint32_t max_tx_rate;
};

/* The settings one can write; also the names used in messages. */
enum vf_setting {
	VF_SET_MAC,
	VF_SET_VLAN, /* vlan, qos and proto together: the kernel takes them as one */
	VF_SET_SPOOFCHK,
	VF_SET_TRUST,
	VF_SET_LINK_STATE,
	VF_SET_RATE, /* min and max together */
	VF_SET_COUNT,
};
/* "mac", "vlan", "spoofchk", "trust", "link_state", "tx_rate". */
const char *vf_setting_str(enum vf_setting s);
/* "802.1Q", "802.1ad", or "0x...." in buf (8 bytes). */
const char *vf_proto_str(uint16_t proto, char buf[8]);
/* "auto", "enable", "disable" or "unknown". */
const char *vf_link_state_str(int state);

/* VF number vf of the PF at pf_ifindex. -ENOENT when the PF does not list
 * that VF (a netdev without SR-IOV, or a VF index beyond its count). */
int vf_get(struct nlsk *sk, int pf_ifindex, int vf, struct vf_info *ret);

/* Write setting s of VF want->index from *want: one RTM_NEWLINK carrying one
 * IFLA_VF_* attribute. Returns the kernel's -errno (its extended-ack text is
 * nlsk_message(sk)). A VLAN with 802.1Q goes as IFLA_VF_VLAN, which every
 * driver knows; another protocol as IFLA_VF_VLAN_LIST. */
int vf_set(struct nlsk *sk, int pf_ifindex, enum vf_setting s, const struct vf_info *want);

/* Does setting s differ between a and b? */
bool vf_setting_differs(enum vf_setting s, const struct vf_info *a, const struct vf_info *b);
