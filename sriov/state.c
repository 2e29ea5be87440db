/* The VF's saved state: what ADD records in the VF's allocation record before it
 * changes anything (libdevmgr's dm_vf_state, its text form), and reading it back. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ucni/log.h"
#include "sriov.h"

/* Read what ADD is about to change, and keep it in the record before any change. The VF
 * is handed out at the baseline (plus the config's keys): whatever VF settings it has here
 * — a former owner's that were never restored, an operator's — are first reset, one
 * attribute per request, and the baseline is what DEL restores. */
int sriov_state_save(struct sr *s, struct link_info *host_li)
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
		if (r < 0 || !sriov_link_is_vf(host_li, s->pci))
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

/* A record's saved state; NULL (the baseline) when it has none or it does not parse. */
const dm_vf_state *sriov_record_state(const dm_record *rec, dm_vf_state *buf)
{
	return rec->data && dm_vf_state_parse(rec->data, buf) == 0 ? buf : NULL;
}
