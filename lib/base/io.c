/* Whole reads and writes on a file descriptor. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "ucni/io.h"

int read_all(int fd, size_t max, char **ret, size_t *ret_len)
{
	size_t cap = max < 4096 ? max : 4096, len = 0;
	char *buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len == cap && cap >= max) {
			/* exactly MAX bytes so far: fine when the file ends here */
			char c;
			ssize_t k = read(fd, &c, 1);
			if (k < 0 && errno == EINTR)
				continue;
			if (k == 0)
				break;
			int e = k < 0 ? -errno : -EFBIG;
			free(buf);
			return e;
		}
		if (len == cap) {
			cap = cap * 2 > max ? max : cap * 2;
			char *n = realloc(buf, cap + 1);
			if (!n) {
				free(buf);
				return -ENOMEM;
			}
			buf = n;
		}
		ssize_t k = read(fd, buf + len, cap - len);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			int e = -errno;
			free(buf);
			return e;
		}
		if (k == 0)
			break;
		len += (size_t)k;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}
