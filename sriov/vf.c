/* A VF's settings and netdev: applied through the PF for ADD, checked for CHECK,
 * and put back as saved for DEL, GC, reclaims and a failed ADD (libdevmgr's VF API). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ucni/log.h"
#include "ucni/netns.h"
#include "sriov.h"

/* Is link (in whatever namespace) the netdev of PCI function pci? A kernel that
 * reports the parent device must name pci; one that does not (older kernels, the
 * test suites' veths) is taken at its word. */
bool sriov_link_is_vf(const struct link_info *li, const char *pci)
{
	return !li->parent_dev[0] || strcmp(li->parent_dev, pci) == 0;
}

/* The VF's netdev in the host namespace: by the name sysfs shows (sysfs was
 * mounted by the host namespace), then by the ifindex it had before ADD. */
static int find_host_netdev(struct sr *s, const char *pci, int saved_ifindex, struct link_info *ret)
{
	dm_device d;
	if (dm_device_lookup(s->sysfs, pci, &d) == 0 && d.netdev[0] &&
	    link_get_by_name(&s->host, d.netdev, ret) == 0 && sriov_link_is_vf(ret, pci))
		return 0;
	if (saved_ifindex > 0 && link_get_by_index(&s->host, saved_ifindex, ret) == 0 && ret->parent_dev[0] &&
	    strcmp(ret->parent_dev, pci) == 0)
		return 0;
	return -ENODEV;
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

int sriov_vf_apply(struct sr *s, const struct link_info *host_li)
{
	dm_vf_settings want;
	char what[96];
	int r;
	if (!sriov_wants_vf(&s->c))
		return 0;
	if (!s->orig.pf[0])
		return cni_fail(CNI_ERR_DEVICE, -ENODEV,
				"VF %s: its PF \"%s\" does not report VF %d over netlink, so VF settings (%s) cannot be applied",
				s->pci, s->dev.pf_netdev[0] ? s->dev.pf_netdev : s->dev.pf_pci, s->dev.vf_index,
				s->c.has_mac ? "mac" : sriov_configured(&s->c, DM_VF_VLAN) ? "vlan" : "spoofchk/trust/link_state/rates");
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
	sriov_wanted_vf(&s->c, &s->orig.vf, &want);
	/* one attribute per request: a refusal names the setting refused */
	for (int a = 0; a < DM_VF_ATTR_COUNT; a++) {
		if (!sriov_configured(&s->c, a) || !dm_vf_attr_differs(a, &want, &s->orig.vf))
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
	if (r == 0 && link_get_by_name(&s->host, o->netdev, ret) == 0 && sriov_link_is_vf(ret, pci))
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
int sriov_vf_restore(struct sr *s, const dm_vf_state *o, const char *pci, struct nlsk *cont, int cont_ifindex,
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
int sriov_vf_find_moved(struct sr *s, const struct link_info *host_li, const char *ifname)
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

int sriov_vf_check(struct sr *s, const dm_vf_state *o)
{
	dm_vf_settings cur, want;
	char a[96], b[96];
	if (!sriov_wants_vf(&s->c))
		return 0;
	if (!o->pf[0] || dm_vf_get(o->pf, o->vf.index, &cur) < 0)
		return cni_fail(CNI_ERR_DEVICE, -ENODEV, "CHECK: the PF of VF %s does not report it", s->pci);
	sriov_wanted_vf(&s->c, &cur, &want);
	for (int i = 0; i < DM_VF_ATTR_COUNT; i++)
		if (sriov_configured(&s->c, i) && dm_vf_attr_differs(i, &cur, &want))
			return cni_fail(CNI_ERR_DEVICE, -EINVAL, "CHECK: VF %s has %s, the config says %s", s->pci,
					dm_vf_attr_describe(i, &cur, a, sizeof(a)), dm_vf_attr_describe(i, &want, b, sizeof(b)));
	return 0;
}
