/* Network namespaces: validated opening, entering and the guaranteed return,
 * and who a namespace is (its cookie). */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <inttypes.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "ucni/netns.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif
/* The namespace's id from its nsfs file, kernels since 6.18 (there the same
 * number as SO_NETNS_COOKIE gives for a network namespace). */
#ifndef NS_GET_ID
#define NS_GET_ID _IOR(0xb7, 0xd, uint64_t)
#endif
#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

/* PATH (relative to DIRFD) opened as a network namespace file, whose inode is
 * INO when INO is not 0 (*ret_ino, when given, receives the file's inode): the
 * fd, -ESTALE for another inode, -ENOTTY for a file that is not a network
 * namespace, -errno of openat(). */
static int open_ns_file(int dirfd, const char *path, uint64_t ino, uint64_t *ret_ino)
{
	struct statfs sfs;
	struct stat st;
	int r;
	/* Non-blocking: a FIFO planted at the path must not hang the caller. */
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || fstatfs(fd, &sfs) < 0) {
		r = -errno;
		goto fail;
	}
	if (ret_ino)
		*ret_ino = (uint64_t)st.st_ino;
	r = -ESTALE;
	if (ino && (uint64_t)st.st_ino != ino)
		goto fail;
	/* Only a namespace file (nsfs, or procfs for /proc/PID/ns/net) of type net. */
	r = -ENOTTY;
	if ((sfs.f_type != NSFS_MAGIC && sfs.f_type != PROC_SUPER_MAGIC) || ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET)
		goto fail;
	return fd;
fail:
	close(fd);
	return r;
}

int netns_openat(int dirfd, const char *path, int *ret_fd)
{
	int fd = open_ns_file(dirfd, path, 0, NULL);
	if (fd < 0)
		return fd == -ENOTTY ? -EINVAL : fd;
	*ret_fd = fd;
	return 0;
}

int netns_open(const char *path, int *ret_fd)
{
	return netns_openat(AT_FDCWD, path, ret_fd);
}

int netns_open_self(int *ret_fd)
{
	int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

int netns_enter(int fd, int *ret_orig)
{
	int orig = -1, r = netns_open_self(&orig);
	if (r < 0)
		return r;
	if (setns(fd, CLONE_NEWNET) < 0) {
		r = -errno;
		close(orig);
		return r;
	}
	*ret_orig = orig;
	return 0;
}

void netns_leave(int *orig)
{
	if (*orig < 0)
		return;
	if (setns(*orig, CLONE_NEWNET) < 0) {
		fprintf(stderr, "ucni: cannot return to the original network namespace\n");
		abort();
	}
	close(*orig);
	*orig = -1;
}

int netns_same(int a, int b)
{
	struct stat sa, sb;
	if (fstat(a, &sa) < 0 || fstat(b, &sb) < 0)
		return -errno;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int netns_id_of_socket(int sock, int nsfd, struct netns_id *ret)
{
	struct stat st;
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);
	if (fstat(nsfd, &st) < 0)
		return -errno;
	/* Only an unknown option means "no cookie here"; any other failure is one. */
	if (getsockopt(sock, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) < 0) {
		if (errno != ENOPROTOOPT)
			return -errno;
		cookie = 0;
	}
	ret->cookie = cookie;
	ret->dev = (uint64_t)st.st_dev;
	ret->ino = (uint64_t)st.st_ino;
	return 0;
}

int netns_id(int nsfd, struct netns_id *ret)
{
	int self = -1, orig = -1, sock, r;
	if ((r = netns_open_self(&self)) < 0)
		return r;
	r = netns_same(nsfd, self);
	close(self);
	if (r < 0)
		return r;
	/* A socket belongs to the namespace it was made in, for its whole life. */
	if (r == 0 && (r = netns_enter(nsfd, &orig)) < 0)
		return r;
	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	r = sock < 0 ? -errno : 0;
	netns_leave(&orig);
	if (r < 0)
		return r;
	r = netns_id_of_socket(sock, nsfd, ret);
	close(sock);
	return r;
}

bool netns_id_equal(const struct netns_id *a, const struct netns_id *b)
{
	if (a->cookie && b->cookie)
		return a->cookie == b->cookie;
	return a->dev == b->dev && a->ino == b->ino;
}

void netns_id_format(const struct netns_id *id, char *buf)
{
	if (id->cookie)
		snprintf(buf, NETNS_ID_LEN, "cookie:%" PRIu64, id->cookie);
	else
		snprintf(buf, NETNS_ID_LEN, "ino:%" PRIu64 ":%" PRIu64, id->dev, id->ino);
}

int netns_id_parse(const char *s, struct netns_id *ret)
{
	struct netns_id id = {0};
	int n = 0;
	if (strncmp(s, "cookie:", 7) == 0) {
		if (sscanf(s + 7, "%" SCNu64 "%n", &id.cookie, &n) != 1 || s[7 + n] || !id.cookie || s[7] == '-')
			return -EINVAL;
	} else if (strncmp(s, "ino:", 4) == 0) {
		if (sscanf(s + 4, "%" SCNu64 ":%" SCNu64 "%n", &id.dev, &id.ino, &n) != 2 || s[4 + n] || s[4] == '-')
			return -EINVAL;
	} else
		return -EINVAL;
	*ret = id;
	return 0;
}

int netns_path_cookie(const char *path, uint64_t ino, uint64_t *ret_ino, uint64_t *ret_cookie)
{
	struct netns_id id;
	int r, fd = open_ns_file(AT_FDCWD, path, ino, ret_ino);
	if (fd < 0)
		return fd;
	r = netns_id(fd, &id);
	close(fd);
	if (r < 0)
		return r;
	*ret_cookie = id.cookie;
	return 0;
}

int netns_path_is(const char *path, uint64_t ino, uint64_t cookie)
{
	struct netns_id id;
	uint64_t nsid = 0;
	int r, fd = open_ns_file(AT_FDCWD, path, ino, NULL);
	if (fd == -ESTALE)
		return 0;
	if (fd < 0)
		return fd;
	/* The namespace's id is cheap to read (no switch) and, where the kernel has it,
	 * the cookie itself; trusted only to say "the same": any other answer (another
	 * number, a kernel without it) is settled by the cookie. */
	if (ioctl(fd, NS_GET_ID, &nsid) == 0 && nsid == cookie) {
		close(fd);
		return 1;
	}
	r = netns_id(fd, &id);
	close(fd);
	if (r < 0)
		return r;
	if (!id.cookie)
		return -ENOPROTOOPT;
	return id.cookie == cookie;
}
