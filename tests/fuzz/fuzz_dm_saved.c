/* libFuzzer: a VF's saved state (the allocation record's data, dm_vf_state_parse()), as
 * read back after a crash, a disk error or a hand edit: what it accepts is in range, and
 * survives being written and read again unchanged. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../devmgr/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dm_vf_state st, again;
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	memset(&st, 0x5a, sizeof(st));
	if (dm_vf_state_parse(s, &st) == 0) {
		const dm_vf_settings *v = &st.vf;
		if (strnlen(st.network, sizeof(st.network)) == sizeof(st.network))
			abort();
		if (st.netdev[0] && (!dm_ifname_valid(st.netdev) || st.ifindex < 1 || st.mtu > 65535 ||
		                     (st.mtu && st.mtu < 68)))
			abort();
		if (st.pf[0] && (!dm_ifname_valid(st.pf) || v->index < 0 || v->index >= DM_VF_INDEX_MAX || v->vlan > 4094 ||
		                 v->qos > 7 || (v->qos && !v->vlan) ||
		                 (v->vlan_proto != DM_VF_PROTO_8021Q && v->vlan_proto != DM_VF_PROTO_8021AD) ||
		                 v->spoofchk < -1 || v->spoofchk > 1 || v->trust < -1 || v->trust > 1 ||
		                 v->link_state < -1 || v->link_state > DM_VF_LINK_DISABLE))
			abort();
		char *text = dm_vf_state_format(&st);
		if (!text || dm_vf_state_parse(text, &again) != 0)
			abort();
		if (strcmp(st.network, again.network) || strcmp(st.netdev, again.netdev) || strcmp(st.pf, again.pf) ||
		    (st.netdev[0] && (st.ifindex != again.ifindex || memcmp(st.mac, again.mac, 6) || st.mtu != again.mtu ||
		                      st.up != again.up)) ||
		    (st.pf[0] && memcmp(&st.vf, &again.vf, sizeof(st.vf))))
			abort();
		free(text);
	}
	free(s);
	return 0;
}
