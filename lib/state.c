/* Crash-safe state files: private directories, flock-based locks, atomic replace. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ucni/cni.h"
#include "ucni/state.h"

int state_mkdir(const char *path, mode_t mode)
{
	char buf[4096];
	struct stat st;
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	if (lstat(buf, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	/* Whoever else could write here could plant records or swap the lock file. */
	if (st.st_uid != geteuid() || (st.st_mode & 022))
		return -EPERM;
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int state_lock(const char *path, int timeout_ms, int *ret_fd)
{
	long long deadline = now_ms() + timeout_ms;
	for (;;) {
		struct stat a, b;
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			return -errno;
		while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			if ((errno != EWOULDBLOCK && errno != EINTR) || now_ms() >= deadline) {
				int r = errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
				close(fd);
				return r;
			}
			struct timespec ts = {0, 5 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
		/* The holder before us may have removed the file (state_unlock_remove):
		 * then our lock is on an orphan, and the path needs a new one. */
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
			*ret_fd = fd;
			return 0;
		}
		close(fd);
	}
}

void state_unlock(int *fd)
{
	if (*fd >= 0)
		close(*fd); /* closing the last descriptor releases the flock */
	*fd = -1;
}

void state_unlock_remove(const char *path, int *fd)
{
	if (*fd >= 0)
		unlink(path); /* still locked: whoever waits sees the new inode and retries */
	state_unlock(fd);
}

int state_read(const char *path, size_t max, char **ret, size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	int r = read_all(fd, max, ret, ret_len);
	close(fd);
	return r;
}

int state_replace(const char *path, const char *data, size_t len, mode_t mode)
{
	char tmp[4096];
	int r = 0;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			r = -errno;
			break;
		}
		off += (size_t)w;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}
