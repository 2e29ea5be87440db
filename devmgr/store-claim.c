/* Claiming a VF in the allocation store: a given VF (dm_store_claim) or a free one of a
 * pool (dm_store_claim_from_pool, ..._sysfs), reclaiming a stale holder's. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "store.h"
#include "ucni/fault.h"

static int owner_validate(const dm_owner *o)
{
	if (!o || !dm_owner_id_valid(o->id))
		return -EINVAL;
	if (o->ifname && !dm_ifname_valid(o->ifname))
		return -EINVAL;
	if (o->netns) {
		if (o->netns[0] != '/' || strlen(o->netns) >= PATH_MAX)
			return -EINVAL;
		for (const char *p = o->netns; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				return -EINVAL;
	}
	return 0;
}

static bool same_attachment(const dm_record *r, const dm_owner *o)
{
	if (!r->owner || strcmp(r->owner, o->id))
		return false;
	if (!r->ifname != !o->ifname)
		return false;
	return !o->ifname || !strcmp(r->ifname, o->ifname);
}

static int record_new(const char *pci, const char *pool, const dm_owner *o, dm_record **ret)
{
	struct stat st;
	dm_record *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	str_copy(r->pci, sizeof(r->pci), pci);
	r->pool = dup_opt(pool);
	r->owner = strdup(o->id);
	r->ifname = dup_opt(o->ifname);
	r->netns = dup_opt(o->netns);
	r->time = (int64_t)time(NULL);
	r->pid = getpid();
	if (!r->owner || (pool && !r->pool) || (o->ifname && !r->ifname) || (o->netns && !r->netns)) {
		dm_record_free(r);
		return -ENOMEM;
	}
	if (o->netns) {
		if (stat(o->netns, &st) < 0) {
			int e = errno;
			dm_record_free(r);
			return -e;
		}
		r->netns_ino = (uint64_t)st.st_ino;
		/* the cookie when the kernel and our rights give one, of the namespace whose
		 * inode is recorded (none if the path changed in between: the inode decides) */
		uint64_t cookie = 0;
		if (S_ISREG(st.st_mode) && netns_path_cookie(o->netns, r->netns_ino, NULL, &cookie) == 0)
			r->netns_cookie = cookie;
	}
	*ret = r;
	return 0;
}

/* Claim PCI with its VF lock held and the store lock shared. */
static int claim_locked(dm_store *s, const char *pci, const char *pool, const dm_owner *o, dm_record **ret)
{
	dm_record *old = NULL, *r = NULL;
	int kind = DM_CLAIM_NEW;
	int e = store_record_read(s, pci, &old);
	if (e >= 0) {
		if (same_attachment(old, o)) {
			*ret = old;
			return DM_CLAIM_EXISTING;
		}
		bool stale = dm_record_is_stale(old), saved = dm_data_is_vf_state(old->data);
		dm_record_free(old);
		if (!stale)
			return -EBUSY;
		if (saved)
			return -ENOTEMPTY; /* its VF must be restored first (dm_store_restore_release) */
		kind = DM_CLAIM_RECLAIMED;
	} else if (e != -ENOENT)
		return e;
	e = record_new(pci, pool, o, &r);
	if (e < 0)
		return e;
	e = FAULT_EVERY("claim-before-write");
	if (e >= 0)
		e = store_record_write(s, r);
	if (e < 0) {
		dm_record_free(r);
		return e;
	}
	*ret = r;
	return kind;
}

/* A claim's outcome for its caller: *RET gets the record when asked for, else it is freed. */
static int claim_result(int e, dm_record *r, dm_record **ret)
{
	if (e < 0)
		return e;
	if (ret)
		*ret = r;
	else
		dm_record_free(r);
	return e;
}

int dm_store_claim(dm_store *s, const char *pci, const char *pool, const dm_owner *owner, dm_record **ret)
{
	char addr[DM_PCI_ADDR_MAX];
	dm_record *r = NULL;
	int e;

	if (!s || dm_pci_addr_normalize(pci, addr) < 0 || owner_validate(owner) < 0)
		return -EINVAL;
	int took = store_vf_op_begin(s, addr);
	if (took < 0)
		return took;
	e = FAULT_EVERY("claim-locked");
	if (e >= 0)
		e = claim_locked(s, addr, pool, owner, &r);
	store_vf_op_end(s, addr, took);
	return claim_result(e, r, ret);
}

struct find_owner {
	const dm_owner *o;
	const char *pool;
	dm_record *found;
};

static int find_owner_cb(dm_store *s, const char *pci, void *arg)
{
	struct find_owner *f = arg;
	dm_record *r = NULL;
	if (store_record_read(s, pci, &r) < 0)
		return 0;
	if (same_attachment(r, f->o) && r->pool && !strcmp(r->pool, f->pool)) {
		f->found = r;
		return 1;
	}
	dm_record_free(r);
	return 0;
}

/* Try one candidate without waiting for anybody: NEW/RECLAIMED, or <0 to move on. A VF
 * whose holder's netns still has the record's path and inode is passed over without
 * asking the namespace's cookie unless COOKIE: *RET_UNSURE then tells that it could be a
 * later namespace with the same inode number. */
static int try_candidate(dm_store *s, const char *pci, const char *pool, const dm_owner *o, bool cookie,
                         bool *ret_unsure, dm_record **ret)
{
	char name[DM_PCI_ADDR_MAX + 8];
	snprintf(name, sizeof(name), "%s.json", pci);
	if (faccessat(s->vfsfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		/* taken; only worth the lock when the holder's netns is gone (and a saved state
		 * must be restored first: not even asked) */
		dm_record *r = NULL;
		if (store_record_read(s, pci, &r) < 0)
			return -EBUSY;
		bool stale = !dm_data_is_vf_state(r->data) && store_record_stale(r, cookie, ret_unsure);
		dm_record_free(r);
		if (!stale)
			return -EBUSY;
	}
	int took = store_vf_lock(s, pci, false);
	if (took < 0)
		return took;
	int e = FAULT_EVERY("claim-locked");
	if (e >= 0)
		e = claim_locked(s, pci, pool, o, ret);
	if (took)
		store_vf_unlock(s, pci);
	if (e == DM_CLAIM_EXISTING) { /* cannot happen: same_attachment was checked above */
		dm_record_free(*ret);
		return -EBUSY;
	}
	return e;
}

/* What a pool claim looks for: a VF of pool IDX; with NUMA >= 0, on that node in pass
 * 0 and elsewhere in pass 1. */
typedef struct claim_filter {
	const dm_config *c;
	int idx, numa, pass;
} claim_filter;

static bool claim_wants(const dm_device *d, void *arg)
{
	const claim_filter *f = arg;
	if (f->numa >= 0 && (f->pass == 0) != (d->numa_node == f->numa))
		return false;
	return dm_config_match(f->c, d) == f->idx;
}

/* Where a pool claim takes its candidates from: an inventory in memory, or sysfs read VF
 * by VF through a cursor. Both give the healthy VFs in address order. */
typedef struct candidates {
	const dm_inventory *inv;
	size_t i;
	vf_cursor *cursor;
} candidates;

static int candidates_next(candidates *cs, claim_filter *f, const dm_device **ret)
{
	if (cs->cursor)
		return vf_cursor_next(cs->cursor, claim_wants, f, ret);
	while (cs->i < dm_inventory_count(cs->inv)) {
		const dm_device *d = dm_inventory_get(cs->inv, cs->i++);
		if (d->role == DM_ROLE_VF && !d->health && claim_wants(d, f)) {
			*ret = d;
			return 1;
		}
	}
	return 0;
}

static void candidates_rewind(candidates *cs)
{
	if (cs->cursor)
		vf_cursor_rewind(cs->cursor);
	cs->i = 0;
}

static int claim_from_candidates(dm_store *s, const dm_config *c, int idx, const char *pool, const dm_owner *owner,
                                 int numa, candidates *cs, dm_record **ret)
{
	int e;
	dm_record *r = NULL;

	e = store_lock(s, LOCK_SH);
	if (e < 0)
		return e;

	struct find_owner f = { owner, pool, NULL };
	e = store_for_each(s, find_owner_cb, &f, NULL);
	if (f.found) {
		store_unlock(s);
		*ret = f.found;
		return DM_CLAIM_EXISTING;
	}

	/* Busy VFs are passed over on their netns path and inode alone; their cookies (a
	 * namespace switch each on kernels before 6.18) are asked only when that finds no VF
	 * and some holder could be a later namespace with its old inode number: then in a
	 * second round. A claim over a busy pool costs what it did without cookies. */
	e = -ENOSPC;
	bool unsure = false;
	claim_filter want = { c, idx, numa, 0 };
	for (int round = 0; round < 2 && e == -ENOSPC && (round == 0 || unsure); round++)
		for (want.pass = 0; want.pass < 2 && e < 0; want.pass++) {
			if (want.pass == 1 && numa < 0)
				break;
			candidates_rewind(cs);
			const dm_device *d;
			int n;
			while ((n = candidates_next(cs, &want, &d)) > 0) {
				int k = try_candidate(s, d->pci, pool, owner, round == 1, &unsure, &r);
				if (k >= 0) {
					e = k;
					break;
				}
				if (k == -ENOMEM || k == -EIO || k == -ENOSPC || k == -EROFS) {
					e = k == -ENOSPC ? -EIO : k; /* a full disk is not "no free VF" */
					break;
				}
				if (k == -ENOENT && owner->netns) {
					e = k; /* the owner's netns does not exist */
					break;
				}
			}
			if (n < 0)
				e = n;
			if (e != -ENOSPC)
				break;
		}
	store_unlock(s);
	if (e < 0)
		return e;
	*ret = r;
	return e;
}

int dm_store_claim_from_pool(dm_store *s, const dm_config *c, const dm_inventory *inv, const char *pool,
                             const dm_owner *owner, int numa, dm_record **ret)
{
	dm_record *r = NULL;
	if (!s || !c || !inv || !pool || owner_validate(owner) < 0)
		return -EINVAL;
	int idx = dm_config_pool_index(c, pool);
	if (idx < 0)
		return idx;
	candidates cs = { .inv = inv };
	int e = claim_from_candidates(s, c, idx, pool, owner, numa, &cs, &r);
	return claim_result(e, r, ret);
}

int dm_store_claim_from_pool_sysfs(dm_store *s, const dm_config *c, const char *sysfs_root, const char *pool,
                                   const dm_owner *owner, int numa, dm_record **ret, dm_device *ret_dev)
{
	dm_record *r = NULL;
	vf_cursor *cur = NULL;
	if (!s || !c || !pool || owner_validate(owner) < 0)
		return -EINVAL;
	int idx = dm_config_pool_index(c, pool);
	if (idx < 0)
		return idx;
	int e = vf_cursor_open(sysfs_root, &cur);
	if (e < 0)
		return e;
	candidates cs = { .cursor = cur };
	e = claim_from_candidates(s, c, idx, pool, owner, numa, &cs, &r);
	if (e >= 0 && ret_dev) {
		dm_device d;
		/* the claim stands even when its VF cannot be described (gone since) */
		if (vf_cursor_lookup(cur, r->pci, &d) < 0)
			device_init(&d, "");
		*ret_dev = d;
	}
	vf_cursor_free(cur);
	return claim_result(e, r, ret);
}
