/* Claiming and releasing VFs in libdevmgr's allocation store: by PCI address or
 * from a pool, each VF under its own lock, stale records reclaimed first. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ucni/clock.h"
#include "ucni/log.h"
#include "ucni/netns.h"
#include "ucni/node.h"
#include "sriov.h"

int sriov_open_store(struct sr *s)
{
	int r = dm_store_open(s->statedir, &s->store);
	if (r < 0)
		return cni_fail(CNI_ERR_IO, r, "cannot open the VF allocation store %s", s->statedir);
	/* every wait for a VF's lock is bounded: $UCNI_VF_LOCK_TIMEOUT_MS, else the library's */
	int ms = env_ms("UCNI_VF_LOCK_TIMEOUT_MS", 0, 1, DM_LOCK_TIMEOUT_MAX_MS);
	if (ms > 0)
		(void)dm_store_set_lock_timeout(s->store, ms);
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

/* The device behind s->pci must be a usable VF. */
int sriov_check_device(struct sr *s, const char *key)
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

/* A record whose container is gone: restore the VF from its data, then release.
 * Called with the VF lock held. */
static int reclaim(struct sr *s, const dm_record *rec)
{
	dm_vf_state buf;
	const dm_vf_state *o = sriov_record_state(rec, &buf);
	log_info("VF %s: container %s is gone, restoring the VF%s before reuse", rec->pci, rec->owner,
		 o ? "" : " to the baseline");
	int r = sriov_vf_restore(s, o, rec->pci, NULL, 0, &s->reclaimed_ifindex);
	if (r < 0)
		return r; /* the record stays: the next DEL, GC or ADD tries again */
	/* the device-info file the gone container's ADD created: nobody else knows of it */
	if (o && o->devinfo_file[0])
		sriov_devinfo_remove("VF", o->devinfo_file, rec->pci);
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

/* The pool config at PATH: one the network config names (TENANT) is read only from a config
 * directory the node allows (ucni/node.h); the node's own choice as it is. Both open
 * non-blocking, regular files only, and no message quotes the file: the kubelet shows CNI
 * errors in pod events. WHAT begins each message. */
static int pool_config_read(const char *path, bool tenant, const char *what, dm_config **ret)
{
	const char *why = NULL;
	char err[256] = "", *text = NULL;
	size_t len = 0;
	int fd = -1, r;
	r = tenant ? node_open(NODE_CONFIG_DIRS, path, O_RDONLY, 0, &fd, &why) : node_open_regular(path, &fd, &why);
	if (r == -EPERM)
		return cni_fail(CNI_ERR_INVALID_CONFIG, r, "%s value \"%s\" %s", what, path, why);
	if (r < 0)
		return cni_fail(r == -ENOENT ? CNI_ERR_INVALID_CONFIG : CNI_ERR_IO, r, "%s %s cannot be opened: %s", what,
				path, strerror(-r));
	r = read_all(fd, 1 << 20, &text, &len);
	close(fd);
	if (r < 0)
		return cni_fail(CNI_ERR_IO, r, "%s %s cannot be read: %s", what, path,
				r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
	r = dm_config_parse_text(text, len, DM_CONFIG_QUIET, ret, err, sizeof(err));
	free(text);
	if (r < 0)
		return cni_fail(r == -EBADMSG ? CNI_ERR_DECODE : CNI_ERR_INVALID_CONFIG, r, "%s %s cannot be used: %s", what,
				path, err);
	return 0;
}

int sriov_pool_config_load(struct sr *s, dm_config **ret)
{
	const char *given = NULL;
	bool tenant = conf_string(s->ctx->conf.root, NULL, "poolConfig", &given) > 0 && *given;
	return pool_config_read(s->c.pool_config, tenant, "invalid config: \"poolConfig\"", ret);
}

int sriov_check_device_allowed(struct sr *s)
{
	enum node_device_ids ids;
	const char *why = NULL, *path = NULL;
	dm_config *cfg = NULL;
	dm_inventory *inv = NULL;
	int r = node_device_ids(&ids, &why);
	if (r < 0) /* no policy known: the admin may have asked for "pools" */
		return cni_fail(CNI_ERR_INVALID_CONFIG, r, "invalid config: \"%s\" value \"%s\" %s", s->c.device_key,
				s->pci, why);
	if (ids == NODE_DEVICE_IDS_ANY)
		return 0;
	/* the node's pools only: a poolConfig of the network config would let it pick its own */
	if ((r = sriov_node_pool_config(s, &path)) < 0 ||
	    (r = pool_config_read(path, false, "node setting \"" NODE_DEVICE_IDS_KEY "\" is \"pools\": the pool config",
				  &cfg)) < 0)
		return r;
	if ((r = dm_inventory_load(s->sysfs, 0, &inv)) < 0)
		r = cni_fail(CNI_ERR_IO, r, "reading the PCI devices under %s failed", s->sysfs);
	else {
		const dm_device *d = dm_inventory_find(inv, s->pci);
		if (!d || dm_config_match(cfg, d) < 0)
			r = cni_fail(CNI_ERR_INVALID_CONFIG, -EPERM,
				     "invalid config: \"%s\" value \"%s\" is in none of the node's pools (node setting \""
				     NODE_DEVICE_IDS_KEY "\" is \"pools\")", s->c.device_key, s->pci);
	}
	dm_inventory_free(inv);
	dm_config_free(cfg);
	return r;
}

int sriov_claim_pool(struct sr *s, const dm_owner *owner)
{
	dm_config *cfg = NULL;
	dm_inventory *inv = NULL;
	dm_record *rec = NULL;
	int r = sriov_pool_config_load(s, &cfg);
	if (r < 0)
		goto out;
	if (dm_config_pool_index(cfg, s->c.pool) < 0) {
		r = cni_fail(CNI_ERR_INVALID_CONFIG, -ENOENT, "invalid config: \"pool\" value \"%s\" is not defined in %s",
			     s->c.pool, s->c.pool_config);
		goto out;
	}
	/* A pool `devmgr serve` hands to the kubelet is the kubelet's: a VF taken here could go
	 * to a second pod through the device plugin. */
	char res[256];
	r = dm_pool_served(s->statedir, s->c.pool, res, sizeof(res));
	if (r > 0) {
		r = cni_fail(CNI_ERR_INVALID_CONFIG, -EBUSY,
			     "invalid config: \"pool\" value \"%s\" is served to the kubelet as %s by devmgr serve: "
			     "request that resource in the pod and let Multus pass its deviceID",
			     s->c.pool, res);
		goto out;
	}
	if (r < 0) {
		r = cni_fail(CNI_ERR_IO, r, "pool \"%s\": the served marker in %s cannot be read: %s", s->c.pool,
			     s->statedir, r == -EBADMSG ? "corrupt" : strerror(-r));
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

int sriov_claim_device(struct sr *s, const dm_owner *owner)
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

/* The record of this attachment: at the configured PCI address, else any VF
 * that (CNI_CONTAINERID, CNI_IFNAME) holds. *ret NULL when there is none. */
int sriov_find_record(struct sr *s, dm_record **ret)
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

bool sriov_owned_by(const dm_record *rec, const char *id, const char *ifname)
{
	return rec && rec->owner && strcmp(rec->owner, id) == 0 && (!rec->ifname || strcmp(rec->ifname, ifname) == 0);
}

/* Restore and release one attachment's VF; the VF lock is taken here. */
int sriov_detach(struct sr *s, const char *pci, const char *id, const char *ifname, const char *netns_hint)
{
	dm_record *rec = NULL;
	dm_vf_state buf;
	const dm_vf_state *o;
	struct nlsk cont = NLSK_NULL;
	int nsfd = -1, cont_ifindex = 0, r;

	if ((r = lock_vf(s, pci)) < 0)
		return r;
	r = dm_store_get(s->store, pci, &rec);
	if (r == -ENOENT || (r == 0 && !sriov_owned_by(rec, id, ifname))) {
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
	if (!(o = sriov_record_state(rec, &buf)))
		log_warn("DEL %s: VF %s has no saved state; it goes back to the baseline", id, pci);
	const char *netns = netns_hint && *netns_hint ? netns_hint : rec->netns;
	if (o && o->netdev[0] && netns && !dm_record_is_stale(rec) && netns_open(netns, &nsfd) == 0 &&
	    nlsk_open_in(&cont, nsfd) == 0) {
		struct link_info li;
		if (link_get_by_name(&cont, ifname, &li) == 0 && sriov_link_is_vf(&li, pci))
			cont_ifindex = li.ifindex;
		/* An ADD killed while it rolled back a move that failed part-way left it under
		 * its host name (ucni 0.1: between move and rename, under a temporary
		 * "ucni…" name); a move keeps the ifindex when it is free in the target namespace. */
		else if (o->ifindex > 0 && link_get_by_index(&cont, o->ifindex, &li) == 0 &&
			 (strncmp(li.name, "ucni", 4) == 0 || strcmp(li.name, o->netdev) == 0) && sriov_link_is_vf(&li, pci))
			cont_ifindex = li.ifindex;
		else if (link_get_by_name(&cont, o->netdev, &li) == 0 && li.parent_dev[0] && strcmp(li.parent_dev, pci) == 0)
			cont_ifindex = li.ifindex;
	}
	/* Namespace gone (or the netdev not in it): the kernel moved it back to the host. */
	if ((r = sriov_vf_restore(s, o, pci, cont_ifindex ? &cont : NULL, cont_ifindex, NULL)) < 0) {
		log_error("DEL %s: VF %s could not be restored; its record is kept for a retry", id, pci);
		goto out;
	}
	/* the device-info file this attachment's ADD created (never one it merged into) */
	if (o && o->devinfo_file[0])
		sriov_devinfo_remove("DEL", o->devinfo_file, id);
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
