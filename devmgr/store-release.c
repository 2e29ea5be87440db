/* Ending an allocation: dropping a VF's record (dm_store_drop, dm_store_release), with
 * the VF restored from it first and its device-info file removed (dm_store_restore_release),
 * or all of an owner's. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>

#include "store.h"
#include "ucni/fault.h"

static bool same_owner(const dm_record *r, const char *id, const char *ifname)
{
	if (!r->owner || strcmp(r->owner, id))
		return false;
	if (!ifname)
		return true;
	return r->ifname && !strcmp(r->ifname, ifname);
}

static int release_locked(dm_store *s, const char *pci, const char *owner_id, const char *ifname, unsigned flags)
{
	dm_record *r = NULL;
	int e = store_record_read(s, pci, &r);
	if (e < 0) {
		if (e == -ENOENT || (owner_id && !(flags & DM_DROP_FORCE)))
			return e;
		/* an operator releasing a corrupt record by address */
	} else {
		bool mine = !owner_id || same_owner(r, owner_id, ifname) || (flags & DM_DROP_FORCE);
		bool saved = dm_data_is_vf_state(r->data);
		dm_record_free(r);
		if (!mine)
			return -EBUSY;
		/* the only copy of the VF's state before its owner changed it */
		if (saved && !(flags & (DM_DROP_RESTORED | DM_DROP_FORCE)))
			return -ENOTEMPTY;
	}
	e = FAULT_EVERY("release-locked");
	return e < 0 ? e : store_record_delete(s, pci);
}

int dm_store_drop(dm_store *s, const char *pci, const char *owner_id, const char *ifname, unsigned flags)
{
	char addr[DM_PCI_ADDR_MAX];
	int e;
	if (!s || dm_pci_addr_normalize(pci, addr) < 0 || (owner_id && !dm_owner_id_valid(owner_id)) ||
	    (ifname && !dm_ifname_valid(ifname)) || (flags & ~(unsigned)(DM_DROP_RESTORED | DM_DROP_FORCE)))
		return -EINVAL;
	int took = store_vf_op_begin(s, addr);
	if (took < 0)
		return took;
	e = release_locked(s, addr, owner_id, ifname, flags);
	store_vf_op_end(s, addr, took);
	return e;
}

int dm_store_release(dm_store *s, const char *pci, const char *owner_id, const char *ifname)
{
	return dm_store_drop(s, pci, owner_id, ifname, 0);
}

int dm_store_restore_release(dm_store *s, const char *sysfs_root, const char *pci, const char *owner_id,
                             unsigned flags, dm_restore_report *report)
{
	char addr[DM_PCI_ADDR_MAX];
	dm_record *r = NULL;
	dm_restore_report rep;
	memset(&rep, 0, sizeof(rep));
	if (report)
		*report = rep; /* also on the early returns */
	if (!s || !sysfs_root || dm_pci_addr_normalize(pci, addr) < 0 || (owner_id && !dm_owner_id_valid(owner_id)) ||
	    (flags & ~(unsigned)(DM_DROP_FORCE | DM_RESTORE_WAIT_NETDEV)))
		return -EINVAL;
	int took = store_vf_op_begin(s, addr);
	if (took < 0)
		return took;
	int e = store_record_read(s, addr, &r);
	if (e >= 0 && owner_id && !same_owner(r, owner_id, NULL) && !(flags & DM_DROP_FORCE))
		e = -EBUSY;
	else if (e >= 0 && r->netns && !dm_record_is_stale(r)) {
		/* a live attachment: its VF is in use (a netdev in the pod, or an application
		 * on a userspace driver); only its own DEL, or a forced drop, ends it */
		snprintf(rep.what, sizeof(rep.what), "VF %s: its owner's netns %s still exists (a live attachment)", addr,
		         r->netns);
		if (flags & DM_DROP_FORCE) {
			/* the record goes: nothing would know of its device-info file after it */
			(void)vf_record_devinfo_remove(r, &rep);
			e = release_locked(s, addr, owner_id, NULL, DM_DROP_FORCE);
		} else
			e = -EAGAIN;
	} else if (e >= 0 || (e != -ENOENT && !owner_id)) {
		/* a corrupt record: nothing saved can be read, the VF goes to the baseline */
		dm_record base = { 0 };
		str_copy(base.pci, sizeof(base.pci), addr);
		/* a stale record's netdev may still be on its way back from the dying netns */
		unsigned rf = r && dm_record_is_stale(r) ? flags | DM_RESTORE_WAIT_NETDEV : flags;
		e = vf_restore_record(sysfs_root, r ? r : &base, rf, &rep);
		if (e >= 0 || (flags & DM_DROP_FORCE)) {
			/* the file before the record: a failure between them leaves a record naming a
			 * file already gone, never a file no record names */
			if (r)
				(void)vf_record_devinfo_remove(r, &rep);
			e = release_locked(s, addr, owner_id, NULL, DM_DROP_RESTORED | (flags & DM_DROP_FORCE));
		}
	}
	dm_record_free(r);
	store_vf_op_end(s, addr, took);
	if (report)
		*report = rep;
	return e;
}

struct release_owner {
	const char *id, *ifname;
	size_t n;
	int err;
};

static int release_owner_cb(dm_store *s, const char *pci, void *arg)
{
	struct release_owner *ro = arg;
	dm_record *r = NULL;
	if (store_record_read(s, pci, &r) < 0)
		return 0;
	bool mine = same_owner(r, ro->id, ro->ifname);
	dm_record_free(r);
	if (!mine)
		return 0;
	int took = store_vf_lock(s, pci, true);
	if (took < 0) {
		ro->err = took;
		return 0;
	}
	int e = release_locked(s, pci, ro->id, ro->ifname, 0);
	if (took)
		store_vf_unlock(s, pci);
	if (e >= 0)
		ro->n++;
	else if (e != -ENOENT && e != -EBUSY) /* raced with another release or a reclaim */
		ro->err = e;
	return 0;
}

int dm_store_release_owner(dm_store *s, const char *owner_id, const char *ifname, size_t *ret_n)
{
	if (!s || !dm_owner_id_valid(owner_id) || (ifname && !dm_ifname_valid(ifname)))
		return -EINVAL;
	int e = store_lock(s, LOCK_SH);
	if (e < 0)
		return e;
	struct release_owner ro = { owner_id, ifname, 0, 0 };
	e = store_for_each(s, release_owner_cb, &ro, NULL);
	store_unlock(s);
	if (e < 0)
		return e;
	if (ro.err < 0)
		return ro.err;
	if (ret_n)
		*ret_n = ro.n;
	return 0;
}
