/* The allocation store's locks: store.lock (shared by every operation, exclusive for gc
 * and a config install) and one lock file per VF under locks/, held by the handle. Every
 * wait is bounded (the handle's timeout, DM_LOCK_TIMEOUT_MS_DEFAULT unless set). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>

#include "store.h"
#include "ucni/state.h"

/* A lock file (flock works on any descriptor): on a read-only state directory an existing
 * one still opens, so that reading the store keeps working; every write then fails with
 * EROFS. A symlink is never followed. -1 with errno set on failure. */
int store_lock_file_open(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EROFS) {
		fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT)
			errno = EROFS;
	}
	return fd;
}

static held_lock *find_held(dm_store *s, const char *pci)
{
	for (size_t i = 0; i < s->n_held; i++)
		if (!strcmp(s->held[i].pci, pci))
			return &s->held[i];
	return NULL;
}

static int lock_timeout(const dm_store *s)
{
	return s->lock_timeout_ms > 0 ? s->lock_timeout_ms : DM_LOCK_TIMEOUT_MS_DEFAULT;
}

int dm_store_set_lock_timeout(dm_store *s, int timeout_ms)
{
	if (!s || timeout_ms < 1 || timeout_ms > DM_LOCK_TIMEOUT_MAX_MS)
		return -EINVAL;
	s->lock_timeout_ms = timeout_ms;
	return 0;
}

int store_vf_lock(dm_store *s, const char *pci, bool wait)
{
	char name[DM_PCI_ADDR_MAX + 8];
	if (find_held(s, pci))
		return 0;
	held_lock *h = realloc(s->held, (s->n_held + 1) * sizeof(*h));
	if (!h)
		return -ENOMEM;
	s->held = h;
	snprintf(name, sizeof(name), "%s.lock", pci);
	int fd = store_lock_file_open(s->locksfd, name);
	if (fd < 0)
		return -errno;
	int e = state_flock(fd, wait ? LOCK_EX : LOCK_EX | LOCK_NB, lock_timeout(s));
	if (e < 0) {
		close(fd);
		return e;
	}
	memcpy(s->held[s->n_held].pci, pci, DM_PCI_ADDR_MAX);
	s->held[s->n_held].fd = fd;
	s->n_held++;
	return 1; /* newly taken: the caller's to drop */
}

void store_vf_unlock(dm_store *s, const char *pci)
{
	held_lock *h = find_held(s, pci);
	if (!h)
		return;
	close(h->fd);
	*h = s->held[--s->n_held];
}

int dm_store_lock_vf(dm_store *s, const char *pci, bool wait)
{
	char addr[DM_PCI_ADDR_MAX];
	if (!s || dm_pci_addr_normalize(pci, addr) < 0)
		return -EINVAL;
	int r = store_vf_lock(s, addr, wait);
	return r < 0 ? r : 0;
}

int dm_store_unlock_vf(dm_store *s, const char *pci)
{
	char addr[DM_PCI_ADDR_MAX];
	if (!s || dm_pci_addr_normalize(pci, addr) < 0)
		return -EINVAL;
	if (!find_held(s, addr))
		return -ENOENT;
	store_vf_unlock(s, addr);
	return 0;
}

int store_lock(dm_store *s, int how)
{
	return state_flock(s->storefd, how, lock_timeout(s));
}

void store_unlock(dm_store *s)
{
	(void)state_flock(s->storefd, LOCK_UN, 0);
}

int store_vf_op_begin(dm_store *s, const char *pci)
{
	int e = store_lock(s, LOCK_SH);
	if (e < 0)
		return e;
	int took = store_vf_lock(s, pci, true);
	if (took < 0)
		store_unlock(s);
	return took;
}

void store_vf_op_end(dm_store *s, const char *pci, int took)
{
	if (took)
		store_vf_unlock(s, pci);
	store_unlock(s);
}
