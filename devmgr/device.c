/* One PCI network function read from sysfs: identity, SR-IOV links, netdev, health;
 * the cheap single-device lookup, naming a PF by address or devlink handle, and writing
 * sriov_numvfs. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "ucni/fault.h"
#include "internal.h"

/* The first entry of DIRFD/PATH but "." and "..", with one getdents, into BUF ("" when
 * none fits): a PCI function's net directory holds its one netdev. */
void dir_first_at(int dirfd, const char *path, char *buf, size_t size)
{
	char b[1024];
	buf[0] = 0;
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	long n = syscall(SYS_getdents64, fd, b, sizeof(b));
	for (long off = 0; off < n;) {
		const struct {
			uint64_t d_ino;
			int64_t d_off;
			unsigned short d_reclen;
			unsigned char d_type;
			char d_name[];
		} *de = (const void *)(b + off);
		if (de->d_name[0] != '.' && strlen(de->d_name) < size) {
			str_copy(buf, size, de->d_name);
			return;
		}
		off += de->d_reclen;
	}
}

/* The device's netdev from DIRFD/PATH (its net directory) into d->netdev, left as it is
 * when there is none. */
void read_netdev_name_at(int dirfd, const char *path, dm_device *d)
{
	char name[DM_IFNAME_MAX];
	dir_first_at(dirfd, path, name, sizeof(name));
	if (name[0])
		strcpy(d->netdev, name);
}

/* The netdev's MAC, operstate, carrier and type from DIRFD/<DEV>net/<netdev>/ (DEV: "" or
 * "<pci>/"): each file opened by its path relative to DIRFD, no descriptor of the
 * directories between (an open and a close fewer per device). */
static void read_netdev_details_at(int dirfd, const char *dev, dm_device *d)
{
	char path[DM_PCI_ADDR_MAX + DM_IFNAME_MAX + 32], buf[64];
	int v;
	if (!d->netdev[0])
		return;
	int n = snprintf(path, sizeof(path), "%snet/%s/", dev, d->netdev);
	if (n < 0 || (size_t)n >= sizeof(path) - 16)
		return;
	char *file = path + n;
	strcpy(file, "address");
	if (read_small_at(dirfd, path, buf, sizeof(buf)) > 0)
		str_copy(d->mac, sizeof(d->mac), buf);
	strcpy(file, "operstate");
	if (read_small_at(dirfd, path, buf, sizeof(buf)) > 0)
		str_copy(d->operstate, sizeof(d->operstate), buf);
	strcpy(file, "carrier");
	if (read_int_at(dirfd, path, &v) >= 0)
		d->carrier = v != 0;
	strcpy(file, "type");
	if (read_int_at(dirfd, path, &v) >= 0)
		netdev_type_name(v, d->link_type);
}

void netdev_type_name(int type, char buf[16])
{
	if (type == 1)
		strcpy(buf, "ether");
	else if (type == 32)
		strcpy(buf, "infiniband");
	else
		snprintf(buf, 16, "%d", type);
}

/* uevent has driver, class and ids in one read: DRIVER=, PCI_CLASS=, PCI_ID=vvvv:dddd */
int uevent_parse(char *buf, dm_device *d)
{
	bool have_id = false;
	for (char *line = buf, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		uint32_t x;
		if (!strncmp(line, "DRIVER=", 7))
			str_copy(d->driver, sizeof(d->driver), line + 7);
		else if (!strncmp(line, "PCI_CLASS=", 10) && parse_hex_u32(line + 10, &x) >= 0)
			d->class_code = x & 0xffffff;
		else if (!strncmp(line, "PCI_ID=", 7) && strlen(line) == 16 && line[11] == ':') {
			uint32_t v2, dv;
			line[11] = 0;
			if (parse_hex_u32(line + 7, &v2) >= 0 && parse_hex_u32(line + 12, &dv) >= 0) {
				d->vendor_id = (uint16_t)v2;
				d->device_id = (uint16_t)dv;
				have_id = true;
			}
		}
	}
	return have_id ? 0 : -ENOENT;
}

static int read_uevent(int devfd, dm_device *d)
{
	char buf[1024];
	if (read_small_at(devfd, "uevent", buf, sizeof(buf)) < 0)
		return -ENOENT;
	return uevent_parse(buf, d);
}

int device_read_ident(int devfd, dm_device *d)
{
	char buf[64];
	uint32_t x;
	if (read_uevent(devfd, d) >= 0)
		return 0;
	if (read_small_at(devfd, "vendor", buf, sizeof(buf)) < 0 || parse_hex_u32(buf, &x) < 0)
		return -ENOENT;
	d->vendor_id = (uint16_t)x;
	if (read_small_at(devfd, "device", buf, sizeof(buf)) >= 0 && parse_hex_u32(buf, &x) >= 0)
		d->device_id = (uint16_t)x;
	if (read_small_at(devfd, "class", buf, sizeof(buf)) >= 0 && parse_hex_u32(buf, &x) >= 0)
		d->class_code = x & 0xffffff;
	(void)readlink_base_at(devfd, "driver", d->driver, sizeof(d->driver));
	return 0;
}

void device_init(dm_device *d, const char *pci)
{
	memset(d, 0, sizeof(*d));
	str_copy(d->pci, sizeof(d->pci), pci);
	d->carrier = -1;
	d->numa_node = -1;
	d->iommu_group = -1;
	d->vf_index = -1;
	d->vf_config.spoofchk = d->vf_config.trust = d->vf_config.link_state = -1;
}

int device_read_sysfs(int devfd, const char *pci, unsigned flags, dm_device *d)
{
	char buf[64];
	int v;

	if (flags & READ_IDENT) {
		device_init(d, pci);
		if (device_read_ident(devfd, d) < 0)
			return -ENOENT;
	}
	if (flags & READ_KNOWN_VF)
		d->role = DM_ROLE_VF;
	else if (readlink_base_at(devfd, "physfn", buf, sizeof(buf)) >= 0) {
		d->role = DM_ROLE_VF;
		str_copy(d->pf_pci, sizeof(d->pf_pci), buf);
	} else if (read_int_at(devfd, "sriov_totalvfs", &v) >= 0) {
		d->role = DM_ROLE_PF;
		d->total_vfs = v;
		if (pf_read_num_vfs(devfd, &v) >= 0)
			d->num_vfs = v;
	} else
		d->role = DM_ROLE_NIC;

	bool full = (flags & READ_DETAILS) || d->role != DM_ROLE_VF;
	d->userspace_driver = dm_driver_is_userspace(d->driver);
	if (full && read_int_at(devfd, "numa_node", &v) >= 0)
		d->numa_node = v < 0 ? -1 : v;
	if ((full || d->userspace_driver) && readlink_base_at(devfd, "iommu_group", buf, sizeof(buf)) >= 0 &&
	    parse_int(buf, &v) >= 0)
		d->iommu_group = v;
	if (!strcmp(d->driver, "vfio-pci") && d->iommu_group >= 0)
		snprintf(d->vfio_path, sizeof(d->vfio_path), "/dev/vfio/%d", d->iommu_group);

	if (!(flags & READ_HAVE_NETDEV))
		read_netdev_name_at(devfd, "net", d);
	if (full)
		read_netdev_details_at(devfd, "", d);
	return 0;
}

void vf_read_details_at(int dirfd, const char *pci, const netdev_facts *nf, dm_device *d)
{
	char path[DM_PCI_ADDR_MAX + 16], buf[32];
	int v;
	snprintf(path, sizeof(path), "%s/numa_node", pci);
	if (read_int_at(dirfd, path, &v) >= 0)
		d->numa_node = v < 0 ? -1 : v;
	snprintf(path, sizeof(path), "%s/iommu_group", pci);
	if (readlink_base_at(dirfd, path, buf, sizeof(buf)) >= 0 && parse_int(buf, &v) >= 0)
		d->iommu_group = v;
	if (!strcmp(d->driver, "vfio-pci") && d->iommu_group >= 0)
		snprintf(d->vfio_path, sizeof(d->vfio_path), "/dev/vfio/%d", d->iommu_group);
	if (nf && d->netdev[0] && !strcmp(nf->name, d->netdev) && !strcmp(nf->pci, pci)) {
		str_copy(d->mac, sizeof(d->mac), nf->mac);
		str_copy(d->operstate, sizeof(d->operstate), nf->operstate);
		d->carrier = nf->carrier;
		netdev_type_name(nf->type, d->link_type);
		return;
	}
	snprintf(path, sizeof(path), "%s/", pci);
	read_netdev_details_at(dirfd, path, d);
}

int pf_for_each_virtfn(int pffd, int (*cb)(int index, const char *vf_pci, void *arg), void *arg)
{
	_cleanup_closedir_ DIR *dir = opendir_at(pffd, ".");
	if (!dir)
		return -errno;
	struct dirent *de;
	while ((de = readdir(dir))) {
		int idx;
		char vf[DM_PCI_ADDR_MAX + 8];
		if (strncmp(de->d_name, "virtfn", 6) || parse_int(de->d_name + 6, &idx) < 0 || idx < 0)
			continue;
		if (readlink_base_at(pffd, de->d_name, vf, sizeof(vf)) < 0 || !pci_addr_valid(vf))
			continue;
		int r = cb(idx, vf, arg);
		if (r != 0)
			return r;
	}
	return 0;
}

static bool link_is_up(const dm_device *d)
{
	if (d->carrier >= 0)
		return d->carrier == 1 && strcmp(d->operstate, "down") != 0;
	return !strcmp(d->operstate, "up") || !strcmp(d->operstate, "unknown");
}

void device_update_health(dm_device *d, const dm_device *pf)
{
	d->health = 0;
	if (!d->driver[0])
		d->health |= DM_UNHEALTHY_NO_DRIVER;
	if (d->role == DM_ROLE_VF) {
		if (!pf)
			d->health |= DM_UNHEALTHY_PF_GONE;
		else if (pf->netdev[0] && !link_is_up(pf))
			d->health |= DM_UNHEALTHY_PF_NO_LINK;
	}
}

static int open_bus_device(const char *sysfs_root, const char *pci)
{
	char path[PATH_MAX];
	if ((size_t)snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", sysfs_root, pci) >= sizeof(path))
		return -ENAMETOOLONG;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

struct find_index {
	const char *pci;
	int index;
};

static int find_index_cb(int index, const char *vf_pci, void *arg)
{
	struct find_index *f = arg;
	if (strcmp(vf_pci, f->pci))
		return 0;
	f->index = index;
	return 1;
}

int dm_device_lookup(const char *sysfs_root, const char *pci, dm_device *ret)
{
	char addr[DM_PCI_ADDR_MAX];
	dm_device d, pf;
	int r;

	if (!ret)
		return -EINVAL;
	r = dm_pci_addr_normalize(pci, addr);
	if (r < 0)
		return r;
	_cleanup_close_ int fd = open_bus_device(sysfs_root ? sysfs_root : DM_DEFAULT_SYSFS_ROOT, addr);
	if (fd < 0)
		return fd == -ENOTDIR ? -ENOENT : fd;
	r = device_read_sysfs(fd, addr, READ_IDENT | READ_DETAILS, &d);
	if (r < 0)
		return r;
	if (d.role == DM_ROLE_VF) {
		_cleanup_close_ int pffd = openat(fd, "physfn", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pffd >= 0 && device_read_sysfs(pffd, d.pf_pci, READ_IDENT | READ_DETAILS, &pf) >= 0) {
			struct find_index f = { addr, -1 };
			(void)pf_for_each_virtfn(pffd, find_index_cb, &f);
			d.vf_index = f.index;
			str_copy(d.pf_netdev, sizeof(d.pf_netdev), pf.netdev);
			device_update_health(&d, &pf);
		} else
			device_update_health(&d, NULL);
	} else
		device_update_health(&d, NULL);
	*ret = d;
	return 0;
}

/* Domain, bus, device and function of a canonical PCI address ("dddd:bb:dd.f") as one
 * number; -1 if malformed. */
static long routing_id(const char *pci)
{
	static const char sep[4] = { ':', ':', '.', '\0' };
	static const int end_at[4] = { 4, 7, 10, 12 };
	unsigned long part[4];
	const char *p = pci;
	for (int i = 0; i < 4; i++) {
		char *end;
		part[i] = strtoul(p, &end, 16);
		if (end != pci + end_at[i] || *end != sep[i])
			return -1;
		p = end + 1;
	}
	if (part[2] > 31 || part[3] > 7)
		return -1;
	return (long)(part[0] << 16 | part[1] << 8 | part[2] << 3 | part[3]);
}

/* The VF's index at its PF (PFFD): VFs sit at routing ids first + index × stride, so
 * virtfn0 and virtfn1 give it and virtfnN confirms it; -1 when that does not hold. */
static int virtfn_index(int pffd, const char *pci)
{
	char v0[DM_PCI_ADDR_MAX], v1[DM_PCI_ADDR_MAX], vn[DM_PCI_ADDR_MAX], name[24];
	long rid = routing_id(pci), rid0, stride;
	if (rid < 0 || readlink_base_at(pffd, "virtfn0", v0, sizeof(v0)) < 0 || (rid0 = routing_id(v0)) < 0)
		return -1;
	if (rid == rid0)
		return strcmp(v0, pci) == 0 ? 0 : -1;
	if (readlink_base_at(pffd, "virtfn1", v1, sizeof(v1)) < 0 || (stride = routing_id(v1) - rid0) <= 0 ||
	    rid < rid0 || (rid - rid0) % stride != 0 || (rid - rid0) / stride > 65535)
		return -1;
	int index = (int)((rid - rid0) / stride);
	if (index == 1)
		return strcmp(v1, pci) == 0 ? 1 : -1;
	snprintf(name, sizeof(name), "virtfn%d", index);
	return readlink_base_at(pffd, name, vn, sizeof(vn)) >= 0 && strcmp(vn, pci) == 0 ? index : -1;
}

int dm_vf_lookup(const char *sysfs_root, const char *pci, dm_device *ret)
{
	dm_device d, pf;
	if (!ret || !pci || !pci_addr_valid(pci))
		return -EINVAL;
	_cleanup_close_ int fd = open_bus_device(sysfs_root ? sysfs_root : DM_DEFAULT_SYSFS_ROOT, pci);
	if (fd < 0)
		return -EAGAIN;
	memset(&d, 0, sizeof(d));
	str_copy(d.pci, sizeof(d.pci), pci);
	d.role = DM_ROLE_VF;
	d.carrier = -1;
	d.numa_node = d.iommu_group = -1;
	if (readlink_base_at(fd, "physfn", d.pf_pci, sizeof(d.pf_pci)) < 0 ||
	    readlink_base_at(fd, "driver", d.driver, sizeof(d.driver)) < 0)
		return -EAGAIN;
	_cleanup_close_ int pffd = openat(fd, "physfn", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pffd < 0 || (d.vf_index = virtfn_index(pffd, pci)) < 0)
		return -EAGAIN;
	d.userspace_driver = dm_driver_is_userspace(d.driver);
	if (!d.userspace_driver)
		read_netdev_name_at(fd, "net", &d);
	memset(&pf, 0, sizeof(pf));
	read_netdev_name_at(pffd, "net", &pf);
	str_copy(d.pf_netdev, sizeof(d.pf_netdev), pf.netdev);
	*ret = d;
	return 0;
}

int dm_netdev_to_pci(const char *sysfs_root, const char *netdev, char ret_pci[DM_PCI_ADDR_MAX])
{
	char path[PATH_MAX], base[64];
	if (!dm_ifname_valid(netdev))
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/class/net/%s/device", sysfs_root ? sysfs_root : DM_DEFAULT_SYSFS_ROOT, netdev);
	int r = readlink_base_at(AT_FDCWD, path, base, sizeof(base));
	if (r < 0)
		return r == -EINVAL ? -ENODEV : r;
	if (!pci_addr_valid(base))
		return -ENODEV; /* not a PCI device (virtual, or a netdevsim VF) */
	memcpy(ret_pci, base, DM_PCI_ADDR_MAX);
	return 0;
}

static int write_int_at(int dirfd, const char *path, int v)
{
	char buf[16];
	snprintf(buf, sizeof(buf), "%d\n", v);
	return write_small_at(dirfd, path, buf);
}

int pf_handle_parse(const char *s, pf_handle *ret)
{
	pf_handle h = { "pci", "" };
	const char *slash = s ? strchr(s, '/') : NULL;
	if (!s)
		return -EINVAL;
	if (slash && !strncmp(s, "netdevsim/", 10)) {
		const char *n = slash + 1;
		size_t digits = strncmp(n, "netdevsim", 9) ? 0 : strspn(n + 9, "0123456789");
		if (!digits || n[9 + digits] || digits > 9)
			return -EINVAL;
		strcpy(h.bus, "netdevsim");
		str_copy(h.dev, sizeof(h.dev), n);
	} else {
		if (slash && strncmp(s, "pci/", 4))
			return -EINVAL;
		int r = dm_pci_addr_normalize(slash ? slash + 1 : s, h.dev);
		if (r < 0)
			return r;
	}
	*ret = h;
	return 0;
}

int pf_handle_open(const char *sysfs_root, const pf_handle *h)
{
	char path[PATH_MAX];
	if ((size_t)snprintf(path, sizeof(path), "%s/bus/%s/devices/%s", sysfs_root ? sysfs_root : DM_DEFAULT_SYSFS_ROOT,
	                     h->bus, h->dev) >= sizeof(path))
		return -ENAMETOOLONG;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd >= 0 ? fd : errno == ENOTDIR ? -ENOENT : -errno;
}

int dm_pf_set_num_vfs(const char *sysfs_root, const char *pci, int num)
{
	pf_handle h;
	int total, cur, r;

	r = pf_handle_parse(pci, &h);
	if (r < 0)
		return r;
	if (num < 0)
		return -EINVAL;
	_cleanup_close_ int fd = pf_handle_open(sysfs_root, &h);
	if (fd < 0)
		return fd;
	/* netdevsim has no sriov_totalvfs: its kernel checks the bound */
	if (read_int_at(fd, "sriov_totalvfs", &total) < 0) {
		if (strcmp(h.bus, "netdevsim"))
			return -ENODEV;
		total = INT_MAX;
	}
	if (num > total)
		return -ERANGE;
	r = pf_read_num_vfs(fd, &cur);
	if (r < 0)
		return r == -ENOENT ? -ENODEV : r;
	if (cur == num)
		return 0;
	bool through_zero = cur != 0 && num != 0;
	if (through_zero) {
		r = write_int_at(fd, "sriov_numvfs", 0);
		if (r < 0)
			return r;
	}
	/* fault points: numvfs-set fails this write with -EIO, numvfs-set-restore also the
	 * write back */
	r = FAULT_EVERY("numvfs-set") || FAULT_EVERY("numvfs-set-restore") ? -EIO : write_int_at(fd, "sriov_numvfs", num);
	if (r < 0 && through_zero) {
		/* not left at 0: the old count back (the caller reads where it stands) */
		if (!FAULT_EVERY("numvfs-set-restore"))
			(void)write_int_at(fd, "sriov_numvfs", cur);
	}
	return r < 0 ? r : 1;
}
