/* Small helpers: reading sysfs files relative to a directory fd, parsing, the name checks of the API. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

ssize_t read_small_at(int dirfd, const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, size - 1);
	if (n < 0)
		return -errno;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = 0;
	return n;
}

int read_int_at(int dirfd, const char *path, int *ret)
{
	char buf[32];
	ssize_t n = read_small_at(dirfd, path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	return parse_int(buf, ret);
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

DIR *opendir_at(int dirfd, const char *path)
{
	int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return d;
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

void errbuf_set(char *errbuf, size_t errlen, const char *fmt, ...)
{
	if (!errbuf || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

int pci_addr_cmp(const char *a, const char *b)
{
	return strcmp(a, b);
}

/* The rules live in lib/base (ucni/valid.h), the same for the plugins. */
_Static_assert(DM_PCI_ADDR_MAX == PCI_ADDR_SIZE, "one PCI address size");
_Static_assert(DM_OWNER_MAX == ID_LEN_MAX + 1, "an owner id is a container id");
_Static_assert(DM_IFNAME_MAX == 16, "IFNAMSIZ");

int dm_pci_addr_normalize(const char *s, char ret_pci[DM_PCI_ADDR_MAX])
{
	return pci_addr_normalize(s, ret_pci);
}

bool dm_owner_id_valid(const char *id)
{
	return id_check(id) == ID_OK;
}

bool dm_ifname_valid(const char *name)
{
	return !ifname_problem(name);
}

bool dm_driver_is_userspace(const char *name)
{
	static const char *const names[] = { "vfio-pci", "uio_pci_generic", "igb_uio" };
	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		if (name && !strcmp(name, names[i]))
			return true;
	return false;
}
