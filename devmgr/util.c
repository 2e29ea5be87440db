/* Small helpers: directory streams, error text, PCI addresses, the name checks of the API. */
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
