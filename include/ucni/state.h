/* Small on-disk state that survives a crash: private directories, exclusive
 * lock files, and files replaced atomically. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/*
 * Make `path` (and its missing parents) a usable state directory. What is there
 * already is judged before anything about it changes: the last component must be
 * a real directory (not a symlink, -EPERM; not another file, -ENOTDIR), owned by
 * the effective uid and not writable by group or others (-EPERM); a refused one
 * is left exactly as it was. A directory made here gets `mode` (never group or
 * other writable).
 */
int state_mkdir(const char *path, mode_t mode);
/* The same judgement, without creating anything: 0, -ENOENT, -ENOTDIR or -EPERM. */
int state_dir_check(const char *path);
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
/*
 * Replace `path` with `data` (mode `mode`): readers and a crash at any point see
 * the old or the new content, never a mix. The data goes to a new temporary file
 * in the directory's temp area (<dir>/.tmp, a state directory itself), held under
 * an flock while it lives, then fsync, rename over `path`, fsync of the directory.
 * Every write first removes the temp files of writers that are gone, so a killed
 * writer's file lasts until the next write in that directory.
 */
int state_replace(const char *path, const char *data, size_t len, mode_t mode);
/*
 * Remove what writers that are gone left in `dir`: temp files in <dir>/.tmp that
 * no process holds, and temp files of the older `<name>.tmp.<pid>` form whose pid
 * is dead. Returns how many were removed, or -errno. For a plugin's GC.
 */
int state_sweep(const char *dir);
/* Remove the temp area of `dir` when it is empty (no write in progress): for
 * the last writer of a directory that is to be left empty. A write that meets
 * the area gone makes it anew. */
int state_tidy(const char *dir);
