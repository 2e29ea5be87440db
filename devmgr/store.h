/* What the allocation store's files share (store.c, store-lock.c, store-record.c,
 * store-claim.c, store-release.c, store-gc.c). Not installed. */
#ifndef DEVMGR_STORE_H
#define DEVMGR_STORE_H

#include <string.h>

#include "internal.h"

typedef struct held_lock {
	char pci[DM_PCI_ADDR_MAX];
	int fd;
} held_lock;

struct dm_store {
	int dirfd, vfsfd, locksfd, storefd;
	held_lock *held; /* the VF locks this handle holds */
	size_t n_held;
	int lock_timeout_ms; /* 0: DM_LOCK_TIMEOUT_MS_DEFAULT */
};

static inline char *dup_opt(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* store-lock.c */
/* Opens (makes) the lock file NAME in DIRFD; -1 with errno set on failure. */
int store_lock_file_open(int dirfd, const char *name);
/* store.lock, LOCK_SH or LOCK_EX, waiting at most the handle's timeout. */
int store_lock(dm_store *s, int how);
void store_unlock(dm_store *s);
/* The VF PCI's lock, waiting (WAIT) or not (-EWOULDBLOCK): 1 taken here (the caller's to
 * drop), 0 held by this handle already, or -errno. */
int store_vf_lock(dm_store *s, const char *pci, bool wait);
void store_vf_unlock(dm_store *s, const char *pci);
/* One operation on one VF: the store lock shared, the VF's lock taken (waiting) unless
 * this handle holds it already. Returns whether the lock was taken here, or -errno. */
int store_vf_op_begin(dm_store *s, const char *pci);
void store_vf_op_end(dm_store *s, const char *pci, int took);

/* store-record.c */
int store_record_read(dm_store *s, const char *pci, dm_record **ret);
/* The record of R->pci, written atomically; the caller holds the VF's lock and the store
 * lock (shared). */
int store_record_write(dm_store *s, const dm_record *r);
int store_record_delete(dm_store *s, const char *pci);
/* Whether R is stale by its netns path and inode only (COOKIE false), or by its cookie
 * too. *RET_UNSURE (may be NULL) tells that the cookie was left unasked and could decide. */
bool store_record_stale(const dm_record *r, bool cookie, bool *ret_unsure);
/* Calls CB for every record name (pci) in vfs/ until it returns non-zero; temp files go
 * to TMP_CB when given. */
int store_for_each(dm_store *s, int (*cb)(dm_store *, const char *pci, void *), void *arg,
                   void (*tmp_cb)(dm_store *, const char *name));

/* store-gc.c */
/* Removes the leftover temp files in vfs/, at most once per sweep interval. */
void store_sweep_tmp(dm_store *s);

#endif
