/* The allocation store: opening a state directory as one, its format marker, and the
 * configuration `devmgr apply` installs there. One JSON record per allocated VF, written
 * atomically, a flock per VF and one for the store. Layout under the state directory
 * (0700, files 0600):
 *   format              "ucni-devmgr-store 1"
 *   store.lock          shared by every operation, exclusive for gc
 *   locks/<pci>.lock    the VF's lock (never removed: an unlinked lock file would let two
 *                       processes hold "the" lock at once)
 *   vfs/<pci>.json      the record; vfs/.tmp.<pci> while one is being written (under the
 *                       VF's lock, so a temp file whose VF lock is free is a leftover)
 *   config.json         the configuration `devmgr apply` installed (.config.json.tmp while
 *                       written, under store.lock held exclusively, as .format.tmp)
 * store.lock's modification time is when the last sweep of leftover temp files ran.
 * The locks are in store-lock.c, the records in store-record.c, claiming and releasing in
 * store-claim.c and store-release.c, the garbage in store-gc.c; every file is written by
 * lib/base's state_write_at(). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "store.h"
#include "ucni/state.h"

#define STORE_FORMAT "ucni-devmgr-store 1\n"

static int mkdir_parents(const char *path)
{
	char buf[PATH_MAX];
	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

/* The rule for a directory of the store is lib/base's for every state directory: a real
 * directory (opened with O_NOFOLLOW, so never a symlink), owned by the effective uid, not
 * writable by group or others. One that fails is refused as it is: -ENOTDIR, or -EPERM. A
 * directory this process has just made (CREATED) is set to 0700 whatever the umask. */
static int dir_trusted(int fd, bool created)
{
	int r = state_dir_check_fd(fd);
	if (r == 0 && created && fchmod(fd, 0700) < 0)
		r = -errno;
	return r;
}

static int open_subdir(int dirfd, const char *name)
{
	bool created = mkdirat(dirfd, name, 0700) == 0;
	if (!created && errno != EEXIST)
		return -errno;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? -ENOTDIR : -errno;
	int r = dir_trusted(fd, created);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

static bool known_entry(const char *n)
{
	return !strcmp(n, ".") || !strcmp(n, "..") || !strcmp(n, "format") || !strcmp(n, "store.lock") ||
	       !strcmp(n, "locks") || !strcmp(n, "vfs") || !strncmp(n, ".format.", 8) ||
	       /* the served marker of `devmgr serve` (dp-served.c) */
	       !strcmp(n, "serve.json") || !strcmp(n, ".serve.json.tmp");
}

/* 0 when DIRFD has our format marker, -ENOENT when it has none, -EPROTO when it has
 * another (or a link there). */
static int read_format(int dirfd)
{
	char buf[64];
	_cleanup_close_ int fd = openat(dirfd, "format", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? -EPROTO : -errno;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EPROTO;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return strcmp(buf, STORE_FORMAT) ? -EPROTO : 0;
}

/* Decides whether the directory is a store before anything in it changes: with our
 * format marker it is; without one it becomes one only when it holds nothing but what a
 * store holds (empty, or a store whose first open was interrupted), and only then are
 * store.lock and the marker made. Anything else: -EPROTO, the directory untouched. */
static int check_format(dm_store *s)
{
	int r = read_format(s->dirfd);
	if (r != -ENOENT)
		return r;
	{
		_cleanup_closedir_ DIR *d = opendir_at(s->dirfd, ".");
		if (!d)
			return -errno;
		struct dirent *de;
		while ((de = readdir(d)))
			if (!known_entry(de->d_name))
				return -EPROTO;
	}
	s->storefd = store_lock_file_open(s->dirfd, "store.lock");
	if (s->storefd < 0)
		return -errno;
	/* exclusive: two first opens write the marker one after the other */
	if ((r = store_lock(s, LOCK_EX)) < 0)
		return r;
	r = read_format(s->dirfd);
	if (r == -ENOENT)
		r = state_write_at(s->dirfd, ".format.tmp", s->dirfd, "format", STORE_FORMAT, strlen(STORE_FORMAT), 0600, 0);
	store_unlock(s);
	return r;
}

dm_store *dm_store_free(dm_store *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n_held; i++)
		close(s->held[i].fd);
	free(s->held);
	if (s->dirfd >= 0)
		close(s->dirfd);
	if (s->vfsfd >= 0)
		close(s->vfsfd);
	if (s->locksfd >= 0)
		close(s->locksfd);
	if (s->storefd >= 0)
		close(s->storefd);
	free(s);
	return NULL;
}

int dm_store_open(const char *state_dir, dm_store **ret)
{
	int r;

	if (!ret)
		return -EINVAL;
	const char *dir = state_dir ? state_dir : DM_DEFAULT_STATE_DIR;
	if (!*dir)
		return -EINVAL;
	r = mkdir_parents(dir);
	if (r < 0)
		return r;
	bool created = mkdir(dir, 0700) == 0;
	if (!created && errno != EEXIST)
		return -errno;

	dm_store *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->vfsfd = s->locksfd = s->storefd = -1;
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s->dirfd < 0) {
		r = -errno;
		goto fail;
	}
	/* nothing is changed before the directory passed the rule and check_format() */
	if ((r = dir_trusted(s->dirfd, created)) < 0)
		goto fail;
	r = check_format(s);
	if (r < 0)
		goto fail;
	if (s->storefd < 0)
		s->storefd = store_lock_file_open(s->dirfd, "store.lock");
	if (s->storefd < 0) {
		r = -errno;
		goto fail;
	}
	if ((r = open_subdir(s->dirfd, "locks")) < 0)
		goto fail;
	s->locksfd = r;
	if ((r = open_subdir(s->dirfd, "vfs")) < 0)
		goto fail;
	s->vfsfd = r;
	*ret = s;
	return 0;
fail:
	dm_store_free(s);
	return r == -ELOOP || r == -ENOTDIR ? -ENOTDIR : r;
}

int dm_store_install_config(dm_store *s, const char *text)
{
	if (!s || !text)
		return -EINVAL;
	int e = store_lock(s, LOCK_EX);
	if (e < 0)
		return e;
	e = state_write_at(s->dirfd, ".config.json.tmp", s->dirfd, "config.json", text, strlen(text), 0600, 0);
	store_unlock(s);
	return e;
}
