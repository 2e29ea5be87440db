/* libFuzzer: what devmgr parses out of sysfs (uevent, hex ids, numa_node, link targets)
 * and the names it turns into paths (PCI addresses, netdev names, owner ids). The
 * parsing functions only: the file system is not touched. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../devmgr/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_device(const dm_device *d)
{
	if (strnlen(d->driver, sizeof(d->driver)) >= sizeof(d->driver) || d->class_code > 0xffffff)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), pci[DM_PCI_ADDR_MAX], base[DM_PCI_ADDR_MAX + 8];
	dm_device d;
	uint32_t x;
	int v;
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;

	/* uevent (sysfs gives at most 1023 bytes: read_small_at's buffer) */
	if (size < 1024) {
		char *copy = strdup(s);
		device_init(&d, "0000:3b:01.0");
		if (copy) {
			(void)uevent_parse(copy, &d);
			check_device(&d);
		}
		free(copy);
	}
	(void)parse_hex_u32(s, &x);
	(void)parse_int(s, &v);

	/* a PCI address: normalizing gives the canonical form, which is a plain file name */
	if (dm_pci_addr_normalize(s, pci) == 0) {
		if (!pci_addr_valid(pci) || strlen(pci) != 12 || strchr(pci, '/'))
			abort();
	}
	if (pci_addr_valid(s) && (dm_pci_addr_normalize(s, pci) < 0 || strcmp(pci, s)))
		abort();

	/* the last component of a link target (physfn, virtfnN, driver, iommu_group) */
	if (link_target_base(s, base, sizeof(base)) == 0 && (strchr(base, '/') || strlen(base) >= sizeof(base)))
		abort();

	/* names that become path components or record fields */
	if (dm_ifname_valid(s)) {
		if (strlen(s) >= DM_IFNAME_MAX || strchr(s, '/') || !strcmp(s, ".") || !strcmp(s, ".."))
			abort();
		for (const char *p = s; *p; p++)
			if (iscntrl((unsigned char)*p))
				abort();
	}
	if (dm_owner_id_valid(s)) {
		if (strlen(s) >= DM_OWNER_MAX || strchr(s, '/') || s[0] == '.' || s[0] == '-')
			abort();
		for (const char *p = s; *p; p++)
			if (iscntrl((unsigned char)*p) || isspace((unsigned char)*p))
				abort();
	}
	(void)dm_driver_is_userspace(s);
	free(s);
	return 0;
}
