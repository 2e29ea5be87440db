/* The apply engine's sysfs side: a device's netdev MTU and flags, its driver binding
 * (driver_override, unbind, bind or probe), read and written under a sysfs root
 * (the operations it shares with the eswitch steps are in sysfsops.c). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "apply.h"

int ap_netdev(int devfd, char ret[DM_IFNAME_MAX])
{
	_cleanup_closedir_ DIR *d = opendir_at(devfd, "net");
	struct dirent *de;
	if (!d)
		return errno == ENOTDIR ? -ENOENT : -errno;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && dm_ifname_valid(de->d_name)) {
			str_copy(ret, DM_IFNAME_MAX, de->d_name);
			return 0;
		}
	return -ENOENT;
}

int ap_netdev_read(int devfd, const char *name, unsigned *ret_mtu, unsigned *ret_flags)
{
	char path[64 + DM_IFNAME_MAX];
	int mtu;
	uint32_t flags;
	snprintf(path, sizeof(path), "net/%s/mtu", name);
	int r = read_int_at(devfd, path, &mtu);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "net/%s/flags", name);
	if ((r = read_hex_at(devfd, path, &flags)) < 0)
		return r == -EINVAL ? -EBADMSG : r;
	if (mtu < 0)
		return -EBADMSG;
	*ret_mtu = (unsigned)mtu;
	*ret_flags = flags;
	return 0;
}

int ap_netdev_set_mtu(int devfd, const char *name, unsigned mtu)
{
	char path[64 + DM_IFNAME_MAX], buf[16];
	snprintf(path, sizeof(path), "net/%s/mtu", name);
	snprintf(buf, sizeof(buf), "%u\n", mtu);
	return write_small_at(devfd, path, buf);
}

int ap_netdev_set_flags(int devfd, const char *name, unsigned flags)
{
	char path[64 + DM_IFNAME_MAX], buf[16];
	snprintf(path, sizeof(path), "net/%s/flags", name);
	snprintf(buf, sizeof(buf), "0x%x\n", flags);
	return write_small_at(devfd, path, buf);
}

int ap_driver_read(int devfd, char drv[64], char override[64])
{
	char o[64];
	int r = readlink_base_at(devfd, "driver", drv, 64);
	if (r == -ENOENT)
		drv[0] = 0;
	else if (r < 0)
		return r;
	ssize_t n = read_small_at(devfd, "driver_override", o, sizeof(o));
	if (n == -ENOENT)
		o[0] = 0;
	else if (n < 0)
		return (int)n;
	/* the kernel shows an unset override as "(null)" */
	str_copy(override, 64, strcmp(o, "(null)") ? o : "");
	return 0;
}

int ap_driver_bind(const char *root, int devfd, const char *pci, const char *override, const char *driver)
{
	char cur[64], ov[64], text[80];
	int r;
	snprintf(text, sizeof(text), "%s\n", override);
	if ((r = write_small_at(devfd, "driver_override", text)) < 0)
		return r;
	if ((r = ap_driver_read(devfd, cur, ov)) < 0)
		return r;
	if (cur[0] && (r = pci_driver_unbind(devfd, pci)) < 0)
		return r;
	if (driver && !*driver)
		return 0;
	return pci_driver_bind(root, pci, driver);
}
