/* sysfs attributes: small files read (and written) relative to a directory, their numbers,
 * and the last component of a link's target. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ucni/sysfs.h"

ssize_t read_small_at(int dirfd, const char *path, char *buf, size_t size)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, size - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return n;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = 0;
	return n;
}

int write_small_at(int dirfd, const char *path, const char *text)
{
	size_t len = strlen(text);
	int fd = openat(dirfd, path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return -errno;
	errno = 0;
	ssize_t n = write(fd, text, len);
	int r = n >= 0 && (size_t)n == len ? 0 : errno ? -errno : -EIO;
	close(fd);
	return r;
}

int read_int_at(int dirfd, const char *path, int *ret)
{
	char buf[32];
	ssize_t n = read_small_at(dirfd, path, buf, sizeof(buf));
	return n < 0 ? (int)n : parse_int(buf, ret);
}

int read_hex_at(int dirfd, const char *path, uint32_t *ret)
{
	char buf[32];
	ssize_t n = read_small_at(dirfd, path, buf, sizeof(buf));
	return n < 0 ? (int)n : parse_hex_u32(buf, ret);
}

int readlink_base_at(int dirfd, const char *path, char *buf, size_t size)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(dirfd, path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = 0;
	return link_target_base(target, buf, size);
}

int link_target_base(const char *target, char *buf, size_t size)
{
	const char *base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= size)
		return -ENAMETOOLONG;
	strcpy(buf, base);
	return 0;
}

int parse_hex_u32(const char *s, uint32_t *ret)
{
	char *end;
	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	unsigned long v = strtoul(s, &end, 16);
	if (errno || *end || v > UINT32_MAX)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

int parse_int(const char *s, int *ret)
{
	char *end;
	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < INT_MIN || v > INT_MAX)
		return -EINVAL;
	*ret = (int)v;
	return 0;
}
