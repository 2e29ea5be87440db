/* Small on-disk state that survives a crash: private directories, flock-based
 * locks with bounded waits, and files replaced atomically. The plugins (lib/,
 * the ipvlan registry) and devmgr's allocation store all go through these. */
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
/*
 * Open the directory `rel` beneath the open directory dirfd, component by component,
 * never through a symbolic link (-ELOOP) or anything but a directory (-ENOTDIR); a
 * missing component is made with `mode` (0: none is made, -ENOENT), whatever the umask.
 * Each component is judged as state_dir_check judges (owned by the effective uid, not
 * writable by group or others, else -EPERM): whoever else could write there could swap a
 * name beneath it. "" or "." is dirfd itself (its own descriptor, judged too).
 */
int state_open_subdir(int dirfd, const char *rel, mode_t mode, int *ret_fd);
/* The walk beneath state_open_subdir, which is state_walk(…, STATE_WALK_JUDGE, …); without
 * that flag no component (dirfd included) is judged, for a directory the node's admin
 * chose (lib/base/node.c): never through a link, made as above, but owned by anyone. */
#define STATE_WALK_JUDGE 1u
int state_walk(int dirfd, const char *rel, mode_t mode, unsigned flags, int *ret_fd);
/* The same judgement, without creating anything: 0, -ENOENT, -ENOTDIR or -EPERM. */
int state_dir_check(const char *path);
/* The state directory `path` opened: made first as state_mkdir makes it when `mode` is
 * not 0, else judged as state_dir_check judges it (-ENOENT when missing); its last
 * component is never followed as a symbolic link (-EPERM). */
int state_open_dir(const char *path, mode_t mode, int *ret_fd);
/* ... of an open directory (opened with O_NOFOLLOW, it is never a symlink). */
int state_dir_check_fd(int fd);
/*
 * The one lock primitive: the flock `how` (LOCK_EX or LOCK_SH; LOCK_UN too) on
 * fd. With LOCK_NB in `how`, one try: -EWOULDBLOCK when another holds it.
 * Without, a wait of at most timeout_ms (0: one try): -ETIMEDOUT when it runs
 * out. Other failures -errno.
 */
int state_flock(int fd, int how, int timeout_ms);
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
/* state_write_at's temp file: "<tmp>.<pid>.<n>", a name of its own, held under an
 * flock from its creation until after the rename, so that a sweeper tells a live
 * writer's file from a dead one's (state_replace's temp area). */
#define STATE_TMP_UNIQUE 1u
/* No fsync of the file or the directory: for state that need not outlive the machine
 * (a process killed at any point still leaves the old or the new file). */
#define STATE_NO_SYNC 2u
/*
 * The one atomic write: `data` goes to a new temp file (O_EXCL: never an existing
 * file) in the directory tfd, gets `mode`, is fsync'ed and renamed over `name` in
 * the directory dirfd (tfd may be dirfd), then dirfd is fsync'ed. Readers and a
 * crash at any point see the old or the new `name`, never a mix; a crash may
 * leave the temp file. Without STATE_TMP_UNIQUE the temp file is `tmp` itself,
 * written under the caller's lock on `name`, so one found there is a crashed
 * writer's: it is replaced. A failure before the rename removes the temp file;
 * one after it (the directory's fsync) comes with the new content in place.
 * FAULTS=1 builds fail or die at write-tmp-created, write-tmp-half,
 * write-tmp-written, write-synced, write-renamed.
 */
int state_write_at(int tfd, const char *tmp, int dirfd, const char *name, const void *data, size_t len, mode_t mode,
		   unsigned flags);
/*
 * Replace `path` with `data` (mode `mode`): readers and a crash at any point see
 * the old or the new content, never a mix. The data goes to a new temporary file
 * in the directory's temp area (<dir>/.tmp, a state directory itself), held under
 * an flock while it lives (state_write_at with STATE_TMP_UNIQUE).
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
