/* Small on-disk state that survives a crash: private directories, exclusive
 * lock files, and files replaced atomically. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Create `path` and its missing parents with `mode`; the last one must end up
 * a directory owned by us and not writable by others (-EPERM otherwise). */
int state_mkdir(const char *path, mode_t mode);
/*
 * Open `path` (created 0600) and take an exclusive flock on it, waiting at most
 * timeout_ms (-ETIMEDOUT). The lock lives as long as *ret_fd, so a crashed
 * holder releases it. Two opens in one process do not share a lock.
 */
int state_lock(const char *path, int timeout_ms, int *ret_fd);
void state_unlock(int *fd);
/* Remove the lock file `path` while still holding it, then unlock: a waiter
 * notices and locks a fresh file, so lock files need not pile up. */
void state_unlock_remove(const char *path, int *fd);
/* Read a whole file (NUL-terminated, at most max bytes); -ENOENT when absent. */
int state_read(const char *path, size_t max, char **ret, size_t *ret_len);
/* Replace `path` with `data`: write a temporary file next to it, fsync, rename
 * over it. Readers see the old or the new content, never a mix. */
int state_replace(const char *path, const char *data, size_t len, mode_t mode);
