/* Network namespaces: validated opening, entering and the guaranteed return. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "ucni/netns.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

int netns_open(const char *path, int *ret_fd)
{
	struct statfs sfs;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Only a namespace file (nsfs, or procfs for /proc/PID/ns/net) of type net. */
	if (fstatfs(fd, &sfs) < 0 || (sfs.f_type != NSFS_MAGIC && sfs.f_type != PROC_SUPER_MAGIC) ||
	    ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
		close(fd);
		return -EINVAL;
	}
	*ret_fd = fd;
	return 0;
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
