/* Small helpers: directory streams, error text, PCI addresses, validation. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

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
