/* Crash-safe state files: private directories, the one atomic write, and temp-file sweeping. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ucni/fault.h"
#include "ucni/io.h"
#include "ucni/state.h"

/* The temp area of a state directory: only files being written live there. */
#define TMP_AREA ".tmp"
/* An old-form temp file (<name>.tmp.<pid>) this old is gone even if its pid lives:
 * the pid was reused. A write takes milliseconds. */
#define LEGACY_TMP_MAX_AGE_S 3600

/* A state directory is ours alone: whoever else could write there could plant
 * records or swap a lock file. */
static int judge(const struct stat *st)
{
	if (S_ISLNK(st->st_mode))
		return -EPERM;
	if (!S_ISDIR(st->st_mode))
		return -ENOTDIR;
	if (st->st_uid != geteuid() || (st->st_mode & 022))
		return -EPERM;
	return 0;
}

int state_dir_check(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return -errno;
	return judge(&st);
}

int state_open_dir(const char *path, mode_t mode, int *ret_fd)
{
	int r = mode ? state_mkdir(path, mode) : state_dir_check(path);
	if (r < 0)
		return r;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? -EPERM : -errno;
	*ret_fd = fd;
	return 0;
}

int state_dir_check_fd(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	return judge(&st);
}

/* Give the directory `name` under dirfd (just made by us) exactly `mode`, umask
 * notwithstanding; through an fd, so a swapped name cannot redirect the chmod. */
static int settle_new_dir(int dirfd, const char *name, mode_t mode)
{
	struct stat st;
	int r = 0, fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP || errno == ENOTDIR ? -EPERM : -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (st.st_uid != geteuid())
		r = -EPERM;
	else if ((st.st_mode & 07777) != mode && fchmod(fd, mode) < 0)
		r = -errno;
	close(fd);
	return r;
}

int state_mkdir(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);
	mode &= 0755; /* never group or other writable, no special bits */
	if (n == 0 || n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) == 0)
		return settle_new_dir(AT_FDCWD, buf, mode);
	if (errno != EEXIST)
		return -errno;
	/* There already: judged as it is, and left as it is when refused. */
	return state_dir_check(buf);
}

int state_walk(int dirfd, const char *rel, mode_t mode, unsigned flags, int *ret_fd)
{
	char part[NAME_MAX + 1];
	int r, fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (const char *p = rel;;) {
		while (*p == '/')
			p++;
		size_t len = strcspn(p, "/");
		if ((flags & STATE_WALK_JUDGE) && (r = state_dir_check_fd(fd)) < 0)
			break;
		if (len == 0) {
			*ret_fd = fd;
			return 0;
		}
		if (len > NAME_MAX) {
			r = -ENAMETOOLONG;
			break;
		}
		memcpy(part, p, len);
		part[len] = 0;
		p += len;
		if (!strcmp(part, "."))
			continue;
		if (mode && mkdirat(fd, part, mode & 0755) == 0) {
			if ((r = settle_new_dir(fd, part, mode & 0755)) < 0)
				break;
		} else if (mode && errno != EEXIST) {
			r = -errno;
			break;
		}
		int n = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (n < 0) {
			struct stat st;
			r = -errno;
			if (r == -ENOTDIR && fstatat(fd, part, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
				r = -ELOOP;
			break;
		}
		close(fd);
		fd = n;
	}
	close(fd);
	return r;
}

int state_open_subdir(int dirfd, const char *rel, mode_t mode, int *ret_fd)
{
	return state_walk(dirfd, rel, mode, STATE_WALK_JUDGE, ret_fd);
}

int state_read(const char *path, size_t max, char **ret, size_t *ret_len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	int r = fstat(fd, &st) < 0 ? -errno : !S_ISREG(st.st_mode) ? -EINVAL : read_all(fd, max, ret, ret_len);
	close(fd);
	return r;
}

/* ---- the temp area ---- */

/* Open (making it when missing) the temp area of the directory dirfd. */
static int tmp_area_open(int dirfd, int *ret_fd)
{
	int fd, r;
	if (mkdirat(dirfd, TMP_AREA, 0700) == 0) {
		if ((r = settle_new_dir(dirfd, TMP_AREA, 0700)) < 0)
			return r;
	} else if (errno != EEXIST)
		return -errno;
	fd = openat(dirfd, TMP_AREA, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP || errno == ENOTDIR ? -EPERM : -errno;
	if ((r = state_dir_check_fd(fd)) < 0) {
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

/*
 * Remove the temp files in the area `tfd` that no writer holds. A writer holds
 * its file's flock from its creation to its rename, so a file whose lock can be
 * taken belongs to a writer that is gone (or to one that has not locked it yet:
 * that one notices the name is no longer its file and starts over). The area
 * holds only files being written, so this costs what the writers in flight cost,
 * however many files the directory itself holds.
 */
static int sweep_area(int tfd)
{
	int n = 0, dfd = dup(tfd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *de;
	if (!d) {
		int r = -errno;
		if (dfd >= 0)
			close(dfd);
		return r;
	}
	while ((de = readdir(d))) {
		struct stat a, b;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		int fd = openat(tfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			/* Not a file a writer made (a symlink, say): nothing of ours. */
			if (errno == ELOOP && unlinkat(tfd, de->d_name, 0) == 0)
				n++;
			continue;
		}
		if (state_flock(fd, LOCK_EX | LOCK_NB, 0) == 0 && fstat(fd, &a) == 0 &&
		    fstatat(tfd, de->d_name, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino && unlinkat(tfd, de->d_name, S_ISDIR(a.st_mode) ? AT_REMOVEDIR : 0) == 0)
			n++;
		close(fd);
	}
	closedir(d);
	return n;
}

/* A new temp file for state_write_at: `tmp` itself, an existing one being a dead
 * writer's (STATE_TMP_UNIQUE not set), or "<tmp>.<pid>.<n>" held under an flock. */
static int tmp_create(int tfd, const char *tmp, unsigned flags, char *name, size_t len, int *ret_fd)
{
	static unsigned seq; /* taken atomically: threads of one process share the pid */
	const int oflags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW;
	int fd;

	if (!(flags & STATE_TMP_UNIQUE)) {
		if (snprintf(name, len, "%s", tmp) >= (int)len)
			return -ENAMETOOLONG;
		/* Never an existing file: it might be a hard link to a file elsewhere (the
		 * rename would adopt it), and one of that name is a crashed writer's. */
		fd = openat(tfd, name, oflags, 0600);
		if (fd < 0 && errno == EEXIST && unlinkat(tfd, name, 0) == 0)
			fd = openat(tfd, name, oflags, 0600);
		if (fd < 0)
			return -errno;
		*ret_fd = fd;
		return 0;
	}
	for (int attempt = 0; attempt < 16; attempt++) {
		struct stat a, b;
		if (snprintf(name, len, "%s.%d.%u", tmp, (int)getpid(), __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED)) >=
		    (int)len)
			return -ENAMETOOLONG;
		fd = openat(tfd, name, oflags, 0600);
		if (fd < 0 && errno == EEXIST)
			continue;
		if (fd < 0)
			return -errno;
		/* A sweeper may have taken it between the create and the lock. */
		if (state_flock(fd, LOCK_EX | LOCK_NB, 0) == 0 && fstat(fd, &a) == 0 &&
		    fstatat(tfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
			*ret_fd = fd;
			return 0;
		}
		close(fd);
	}
	return -EAGAIN;
}

int state_write_at(int tfd, const char *tmp, int dirfd, const char *name, const void *data, size_t len, mode_t mode,
		   unsigned flags)
{
	char t[NAME_MAX + 1];
#ifdef UCNI_FAULTS
	size_t half = len / 2; /* a kill between the halves leaves a half-written temp file */
#else
	size_t half = 0;
#endif
	int fd = -1;
	int r = tmp_create(tfd, tmp, flags, t, sizeof(t), &fd);
	if (r < 0)
		return r;
	/* FAULTS=1 builds: the tests fail or kill a writer at each step. */
	/* Made 0600: the mode asked for, exactly, umask notwithstanding. A change of mode is
	 * a journalled inode update of its own on ext4: only when the mode differs. */
	struct stat st;
	if ((r = FAULT_EVERY("write-tmp-created")) == 0 &&
	    (fstat(fd, &st) < 0 || (st.st_mode & 07777) != (mode & 07777)) && fchmod(fd, mode) < 0)
		r = -errno;
	if (r == 0 && (!half || (r = write_all(fd, data, half)) == 0) && (r = FAULT_EVERY("write-tmp-half")) == 0 &&
	    (r = write_all(fd, (const char *)data + half, len - half)) == 0 && (r = FAULT_EVERY("write-tmp-written")) == 0 &&
	    !(flags & STATE_NO_SYNC) && fsync(fd) < 0)
		r = -errno;
	if (r == 0)
		r = FAULT_EVERY("write-synced");
	if (r == 0 && renameat(tfd, t, dirfd, name) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(tfd, t, 0);
		close(fd);
		return r;
	}
	close(fd); /* releases a STATE_TMP_UNIQUE file's lock, after the rename */
	/* The new file is in place; a failure from here on is reported all the same. */
	if ((r = FAULT_EVERY("write-renamed")) < 0)
		return r;
	/* The rename itself lasts only once the directory is on disk. */
	return !(flags & STATE_NO_SYNC) && fsync(dirfd) < 0 ? -errno : 0;
}

/*
 * A named temp file rather than O_TMPFILE + linkat: O_TMPFILE is not offered by
 * every filesystem a state directory may sit on (9p, older NFS), and linkat
 * cannot replace an existing name, so that way too needs a named file before
 * the rename. A named file, locked while it is written, tells a sweeper on any
 * filesystem whether its writer is still there.
 */
int state_replace(const char *path, const char *data, size_t len, mode_t mode)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	int dfd = -1, tfd = -1, r;

	if (!*base)
		return -EISDIR;
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) >= sizeof(dir))
		return -ENAMETOOLONG;
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno;
	for (int attempt = 0;; attempt++) {
		if ((r = tmp_area_open(dfd, &tfd)) == 0) {
			sweep_area(tfd); /* best effort: a failure here does not stop this write */
			r = state_write_at(tfd, base, dfd, base, data, len, mode, STATE_TMP_UNIQUE);
		}
		if (r != -ENOENT || attempt == 1000)
			break;
		/* state_tidy removed the (empty) area under us: make it anew. */
		if (tfd >= 0)
			close(tfd);
		tfd = -1;
	}
	if (tfd >= 0)
		close(tfd);
	close(dfd);
	return r;
}

/* "<name>.tmp.<pid>": the pid, or 0 when the name is not of that form. */
static long legacy_tmp_pid(const char *name)
{
	const char *p = strstr(name, ".tmp.");
	char *end;
	if (!p || p == name)
		return 0;
	while (strstr(p + 1, ".tmp."))
		p = strstr(p + 1, ".tmp.");
	errno = 0;
	long pid = strtol(p + 5, &end, 10);
	return errno || *end || end == p + 5 || pid <= 0 ? 0 : pid;
}

int state_sweep(const char *dir)
{
	struct stat st;
	struct dirent *de;
	int n = 0, r = 0, tfd = -1;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return errno == ELOOP ? -EPERM : -errno;
	if ((r = state_dir_check_fd(dfd)) < 0) {
		close(dfd);
		return r;
	}
	tfd = openat(dfd, TMP_AREA, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (tfd >= 0) {
		if (state_dir_check_fd(tfd) == 0 && (r = sweep_area(tfd)) > 0)
			n += r;
		close(tfd);
	}
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return n;
	}
	time_t now = time(NULL);
	while ((de = readdir(d))) {
		long pid = legacy_tmp_pid(de->d_name);
		if (pid <= 0 || fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		bool gone = pid > INT_MAX || (kill((pid_t)pid, 0) < 0 && errno == ESRCH);
		if ((gone || now - st.st_mtime > LEGACY_TMP_MAX_AGE_S) && unlinkat(dfd, de->d_name, 0) == 0)
			n++;
	}
	closedir(d); /* closes dfd */
	return n;
}

int state_tidy(const char *dir)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof(p), "%s/" TMP_AREA, dir) >= (int)sizeof(p))
		return -ENAMETOOLONG;
	/* Only an empty directory goes: a writer's file in it keeps it. */
	if (rmdir(p) < 0 && errno != ENOENT && errno != ENOTEMPTY && errno != EEXIST)
		return -errno;
	return 0;
}
