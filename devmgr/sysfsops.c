/* The sysfs operations the apply engine, the eswitch steps and the device plugin share: a
 * device's directory, a PF's VF count, driver binding, a function's RDMA device. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

int pci_dev_open(const char *root, const char *pci)
{
	char path[PATH_MAX];
	if ((size_t)snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", root, pci) >= sizeof(path))
		return -ENAMETOOLONG;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int pf_read_num_vfs(int pffd, int *ret)
{
	return read_int_at(pffd, "sriov_numvfs", ret);
}

int pci_driver_unbind(int devfd, const char *pci)
{
	return write_small_at(devfd, "driver/unbind", pci);
}

int pci_driver_bind(const char *root, const char *pci, const char *driver)
{
	char path[PATH_MAX];
	int n = driver ? snprintf(path, sizeof(path), "%s/bus/pci/drivers/%s/bind", root, driver)
	               : snprintf(path, sizeof(path), "%s/bus/pci/drivers_probe", root);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	return write_small_at(AT_FDCWD, path, pci);
}

int rdma_dev_at(int busfd, const char *pci, char *ret, size_t size)
{
	char path[DM_PCI_ADDR_MAX + 16];
	if ((size_t)snprintf(path, sizeof(path), "%s/infiniband", pci) >= sizeof(path))
		return -ENAMETOOLONG;
	_cleanup_closedir_ DIR *d = opendir_at(busfd, path);
	if (!d)
		return errno == ENOTDIR ? -ENOENT : -errno;
	struct dirent *de;
	while ((errno = 0, de = readdir(d)))
		if (de->d_name[0] != '.') {
			if (strlen(de->d_name) >= size)
				return -ENAMETOOLONG;
			str_copy(ret, size, de->d_name);
			return 0;
		}
	return errno ? -errno : -ENOENT;
}

int dm_device_rdma(const char *sysfs_root, const char *pci, char *ret, size_t size)
{
	char path[PATH_MAX];
	if (!pci || !pci_addr_valid(pci) || !ret || !size)
		return -EINVAL;
	if ((size_t)snprintf(path, sizeof(path), "%s/bus/pci/devices", sysfs_root ? sysfs_root : DM_DEFAULT_SYSFS_ROOT) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	_cleanup_close_ int busfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (busfd < 0)
		return -errno;
	return rdma_dev_at(busfd, pci, ret, size);
}
