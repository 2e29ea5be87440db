/* libFuzzer: devmgr's pool configuration (resourceList selectors, pfNames/rootDevices VF
 * ranges, pfs with their provisioning keys and vfGroups) and the pool assignment it drives. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../devmgr/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A few VFs of different shapes to run every parsed selector against. */
static void make_vfs(dm_device pf[2], dm_device vf[6])
{
	static const char *const pfs[] = { "0000:3b:00.0", "0000:af:00.0" };
	static const char *const pf_names[] = { "ens1f0", "ens2f0" };
	for (int i = 0; i < 2; i++) {
		device_init(&pf[i], pfs[i]);
		pf[i].role = DM_ROLE_PF;
		strcpy(pf[i].netdev, pf_names[i]);
		strcpy(pf[i].link_type, i ? "infiniband" : "ether");
	}
	for (int i = 0; i < 6; i++) {
		dm_device *d = &vf[i], *p = &pf[i % 2];
		char pci[DM_PCI_ADDR_MAX];
		snprintf(pci, sizeof(pci), "%.8s01.%d", p->pci, i);
		device_init(d, pci);
		d->role = DM_ROLE_VF;
		d->vendor_id = i % 2 ? 0x15b3 : 0x8086;
		d->device_id = i % 2 ? 0x101e : 0x1889;
		strcpy(d->driver, i == 4 ? "vfio-pci" : i % 2 ? "mlx5_core" : "iavf");
		d->vf_index = i == 5 ? 4095 : i;
		memcpy(d->pf_pci, p->pci, DM_PCI_ADDR_MAX);
		strcpy(d->pf_netdev, p->netdev);
		if (i != 4)
			strcpy(d->link_type, p->link_type);
		d->pf = p;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	dm_config *c = NULL;
	dm_device pf[2], vf[6];
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;

	err[0] = 0;
	int r = dm_config_parse(s, &c, err, sizeof(err));
	if (r < 0) {
		if (c || (r != -ENOMEM && !err[0]))
			abort(); /* a refusal leaves nothing behind and says why */
	} else {
		make_vfs(pf, vf);
		size_t n = dm_config_pool_count(c);
		for (size_t i = 0; i < n; i++) {
			const char *name = dm_config_pool_name(c, i);
			/* a pool name ends up in records and device-plugin resource names */
			if (!name || !*name || strchr(name, '/') || !strcmp(name, "..") ||
			    dm_config_pool_index(c, name) != (int)i)
				abort();
			(void)dm_config_pool_prefix(c, i);
		}
		for (size_t i = 0; i < dm_config_pf_count(c); i++) {
			const dm_pf_spec *p = dm_config_pf(c, i);
			char pci[DM_PCI_ADDR_MAX];
			if (!p->name == !p->pci || p->num_vfs < 0 || p->num_vfs > 4096)
				abort();
			if (p->name && !dm_ifname_valid(p->name))
				abort();
			if (p->pci && (dm_pci_addr_normalize(p->pci, pci) < 0 || strcmp(pci, p->pci)))
				abort();
			/* the provisioning keys: in range, groups within numVfs and disjoint */
			if ((p->mtu && (p->mtu < 68 || p->mtu > 65535)) || p->link_up < 0 || p->link_up > 1 ||
			    p->eswitch_mode < -1 || p->eswitch_mode > 1 ||
			    (p->externally_managed && p->n_vf_groups) || (!p->vf_groups && p->n_vf_groups))
				abort();
			for (size_t j = 0; j < p->n_vf_groups; j++) {
				const dm_vf_group *g = &p->vf_groups[j];
				if (g->first < 0 || g->first > g->last || g->last >= p->num_vfs ||
				    g->driver < DM_VF_DRIVER_ANY || g->driver > DM_VF_DRIVER_VFIO ||
				    (g->mtu && (g->mtu < 68 || g->mtu > 65535 || (p->mtu && g->mtu > p->mtu))) ||
				    g->trust < -1 || g->trust > 1 || g->spoofchk < -1 || g->spoofchk > 1 ||
				    (g->has_mac && (g->first != g->last || (g->mac[0] & 1))))
					abort();
				for (size_t k = 0; k < j; k++)
					if (g->first <= p->vf_groups[k].last && p->vf_groups[k].first <= g->last)
						abort();
			}
		}
		for (int i = 0; i < 6; i++) {
			int m = dm_config_match(c, &vf[i]);
			if (m != -ENOENT && (m < 0 || (size_t)m >= n))
				abort();
		}
		if (dm_config_match(c, &pf[0]) != -ENODEV)
			abort();
		dm_config_free(c);
	}

	/* the VF range syntax on its own ("0,2-7") */
	vf_range vr;
	if (vf_range_parse(s, &vr) == 0) {
		int any = 0;
		for (int i = 0; i < DM_VF_INDEX_MAX; i++)
			any |= vf_range_has(&vr, i);
		if (!any || vf_range_has(&vr, -1) || vf_range_has(&vr, DM_VF_INDEX_MAX))
			abort();
	}
	free(s);
	return 0;
}
