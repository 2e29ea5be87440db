/* Small helpers: reading sysfs files relative to a directory fd, parsing, validation. */
#include <ctype.h>
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

static int lower_hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Called for every entry of the bus and of the drivers' directories: no locale, no strtoul. */
bool pci_addr_valid(const char *s)
{
	/* dddd:bb:dd.f */
	static const char pat[] = "xxxx:xx:xx.x";
	for (size_t i = 0; pat[i]; i++) {
		if (pat[i] == 'x') {
			if (lower_hex(s[i]) < 0)
				return false;
		} else if (s[i] != pat[i])
			return false;
	}
	if (s[sizeof(pat) - 1])
		return false;
	/* device 0..1f, function 0..7 */
	return lower_hex(s[8]) * 16 + lower_hex(s[9]) <= 0x1f && s[11] <= '7';
}

int dm_pci_addr_normalize(const char *s, char ret_pci[DM_PCI_ADDR_MAX])
{
	char buf[DM_PCI_ADDR_MAX];
	size_t len;

	if (!s)
		return -EINVAL;
	len = strlen(s);
	if (len == 7) { /* bb:dd.f */
		memcpy(buf, "0000:", 5);
		memcpy(buf + 5, s, 8);
	} else if (len == 12)
		memcpy(buf, s, 13);
	else
		return -EINVAL;
	for (char *p = buf; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!pci_addr_valid(buf))
		return -EINVAL;
	memcpy(ret_pci, buf, sizeof(buf));
	return 0;
}

bool dm_owner_id_valid(const char *id)
{
	if (!id || !isalnum((unsigned char)id[0]))
		return false;
	size_t n = 0;
	for (const char *p = id; *p; p++, n++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
			return false;
	return n < DM_OWNER_MAX;
}

bool dm_ifname_valid(const char *name)
{
	if (!name || !*name || strlen(name) >= DM_IFNAME_MAX)
		return false;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p) || iscntrl((unsigned char)*p))
			return false;
	return true;
}

bool dm_driver_is_userspace(const char *name)
{
	static const char *const names[] = { "vfio-pci", "uio_pci_generic", "igb_uio" };
	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		if (name && !strcmp(name, names[i]))
			return true;
	return false;
}
