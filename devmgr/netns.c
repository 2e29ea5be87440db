/* The namespace cookie of a netns path: what tells a namespace from a later one that
 * got the same nsfs inode number. */
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "internal.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif
/* The namespace's id from its nsfs file, kernels since 6.18 (there the same number as
 * SO_NETNS_COOKIE gives for a network namespace). */
#ifndef NS_GET_ID
#define NS_GET_ID _IOR(0xb7, 0xd, uint64_t)
#endif

/* A socket made in the namespace of NSFD, on the calling thread, which is back in its own
 * namespace on return (the process aborts if it cannot return: going on in the wrong
 * namespace would touch the wrong devices). */
static int socket_in(int nsfd, const struct stat *ns_st)
{
	struct stat self_st;
	_cleanup_close_ int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	if (fstat(self, &self_st) < 0)
		return -errno;
	if (self_st.st_dev == ns_st->st_dev && self_st.st_ino == ns_st->st_ino) {
		int sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		return sock < 0 ? -errno : sock;
	}
	if (setns(nsfd, CLONE_NEWNET) < 0)
		return -errno;
	int sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int e = sock < 0 ? -errno : sock;
	if (setns(self, CLONE_NEWNET) < 0)
		abort();
	return e;
}

/* PATH opened as a network namespace file whose inode is INO (when not 0). */
static int open_netns(const char *path, uint64_t ino, struct stat *st, uint64_t *ret_ino)
{
	/* non-blocking: a FIFO at the path must not hang the caller */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0)
		return -errno;
	if (ret_ino)
		*ret_ino = (uint64_t)st->st_ino;
	if (ino && (uint64_t)st->st_ino != ino)
		return -ESTALE;
	/* only a network namespace file has a cookie */
	if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET)
		return -ENOTTY;
	return TAKE_FD(fd);
}

/* The cookie of the namespace of NSFD, from a socket made there. */
static int cookie_of(int nsfd, const struct stat *st, uint64_t *ret_cookie)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);
	_cleanup_close_ int sock = socket_in(nsfd, st);
	if (sock < 0)
		return sock;
	if (getsockopt(sock, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) < 0) {
		if (errno != ENOPROTOOPT)
			return -errno;
		cookie = 0; /* a kernel before 5.14 */
	}
	*ret_cookie = cookie;
	return 0;
}

int netns_path_cookie(const char *path, uint64_t ino, uint64_t *ret_ino, uint64_t *ret_cookie)
{
	struct stat st;
	_cleanup_close_ int fd = open_netns(path, ino, &st, ret_ino);
	if (fd < 0)
		return fd;
	return cookie_of(fd, &st, ret_cookie);
}

int netns_path_is(const char *path, uint64_t ino, uint64_t cookie)
{
	struct stat st;
	uint64_t id = 0;
	_cleanup_close_ int fd = open_netns(path, ino, &st, NULL);
	if (fd == -ESTALE)
		return 0;
	if (fd < 0)
		return fd;
	/* The namespace's id is cheap to read (no switch) and, where the kernel has it, the
	 * cookie itself; trusted only to say "the same": any other answer (another number, a
	 * kernel without it) is settled by the cookie. */
	if (ioctl(fd, NS_GET_ID, &id) == 0 && id == cookie)
		return 1;
	int e = cookie_of(fd, &st, &id);
	if (e < 0)
		return e;
	if (!id)
		return -ENOPROTOOPT;
	return id == cookie;
}
