/* The node's SR-IOV state for `devmgr status`: each PF and its VFs from sysfs, the VF
 * VLANs, eswitch mode and representors from the kernel, and its JSON. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ucni/devlink.h"
#include "ucni/vf.h"
#include "internal.h"
#include "nodestate.h"

dm_nodestate *dm_nodestate_free(dm_nodestate *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n; i++)
		free(s->pfs[i].vfs);
	free(s->pfs);
	free(s);
	return NULL;
}

static void vf_init(ns_vf *v, int id)
{
	memset(v, 0, sizeof(*v));
	v->id = id;
	v->vendor = v->device = v->mtu = v->vlan = -1;
}

static void pf_init(ns_pf *p, const char *bus, const char *dev)
{
	memset(p, 0, sizeof(*p));
	str_copy(p->bus, sizeof(p->bus), bus);
	str_copy(p->dev, sizeof(p->dev), dev);
	p->vendor = p->device = p->mtu = p->num_vfs = p->total_vfs = p->speed = p->admin_up = -1;
	p->eswitch = DM_ESWITCH_NONE;
}

/* MTU, speed and IFF_UP of the netdev NAME of the device directory DEVFD. */
static void read_netdev_extra(int devfd, const char *name, int *mtu, int *speed, int *admin_up)
{
	char path[64];
	uint32_t flags;
	int v;
	if (!name[0])
		return;
	snprintf(path, sizeof(path), "net/%s/mtu", name);
	if (read_int_at(devfd, path, &v) >= 0 && v > 0)
		*mtu = v;
	snprintf(path, sizeof(path), "net/%s/speed", name);
	if (speed && read_int_at(devfd, path, &v) >= 0 && v > 0)
		*speed = v; /* -1 (or EINVAL on read) without link */
	snprintf(path, sizeof(path), "net/%s/flags", name);
	if (admin_up && read_hex_at(devfd, path, &flags) >= 0)
		*admin_up = (flags & IFF_UP) != 0;
}

/* The operator's names for the ARPHRD types of a netdev: ETH, IB, else the number. */
static const char *link_type_name(const char *t)
{
	return !strcmp(t, "ether") ? "ETH" : !strcmp(t, "infiniband") ? "IB" : t;
}

static void link_type_of(int type, char *buf, size_t len)
{
	if (type == 1 || type == 32)
		str_copy(buf, len, type == 1 ? "ETH" : "IB");
	else
		snprintf(buf, len, "%d", type);
}

static int add_pf(dm_nodestate *s, ns_pf **ret)
{
	ns_pf *n = realloc(s->pfs, (s->n + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	s->pfs = n;
	*ret = &s->pfs[s->n++];
	return 0;
}

static int read_pci_vfs(int pffd, ns_pf *p)
{
	vf_link *links = NULL;
	size_t n = 0;
	int r = pf_list_virtfns(pffd, &links, &n);
	if (r < 0)
		return r == -ENOMEM ? r : 0;
	p->vfs = calloc(n ? n : 1, sizeof(*p->vfs));
	if (!p->vfs) {
		free(links);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		ns_vf *v = &p->vfs[p->n_vfs++];
		char sub[24];
		dm_device d;
		vf_init(v, links[i].index);
		str_copy(v->pci, sizeof(v->pci), links[i].vf);
		snprintf(sub, sizeof(sub), "virtfn%d", links[i].index);
		_cleanup_close_ int fd = openat(pffd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || device_read_sysfs(fd, links[i].vf, READ_IDENT | READ_DETAILS | READ_KNOWN_VF, &d) < 0)
			continue;
		v->vendor = d.vendor_id;
		v->device = d.device_id;
		str_copy(v->name, sizeof(v->name), d.netdev);
		str_copy(v->mac, sizeof(v->mac), d.mac);
		str_copy(v->driver, sizeof(v->driver), d.driver);
		read_netdev_extra(fd, d.netdev, &v->mtu, NULL, NULL);
	}
	free(links);
	return 0;
}

/* Sorted VFs: virtfn links are listed in directory order. */
static int cmp_vf(const void *a, const void *b)
{
	return ((const ns_vf *)a)->id - ((const ns_vf *)b)->id;
}

static int load_pci(const char *root, dm_nodestate *s)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/bus/pci/devices", root);
	_cleanup_closedir_ DIR *dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	struct dirent *de;
	while ((de = readdir(dir))) {
		dm_device d;
		ns_pf *p;
		int r;
		if (!pci_addr_valid(de->d_name))
			continue;
		_cleanup_close_ int fd = openat(dirfd(dir), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || device_read_sysfs(fd, de->d_name, READ_IDENT | READ_DETAILS, &d) < 0 ||
		    d.role != DM_ROLE_PF || d.class_code >> 16 != 0x02)
			continue;
		if ((r = add_pf(s, &p)) < 0)
			return r;
		pf_init(p, "pci", d.pci);
		str_copy(p->name, sizeof(p->name), d.netdev);
		str_copy(p->mac, sizeof(p->mac), d.mac);
		str_copy(p->driver, sizeof(p->driver), d.driver);
		str_copy(p->link_type, sizeof(p->link_type), link_type_name(d.link_type));
		p->vendor = d.vendor_id;
		p->device = d.device_id;
		p->num_vfs = d.num_vfs;
		p->total_vfs = d.total_vfs;
		read_netdev_extra(fd, d.netdev, &p->mtu, &p->speed, &p->admin_up);
		if ((r = read_pci_vfs(fd, p)) < 0)
			return r;
		if (p->n_vfs)
			qsort(p->vfs, p->n_vfs, sizeof(*p->vfs), cmp_vf);
	}
	return 0;
}

/* netdevsim devices: the emulated PF of the tests (no PCI function, VFs without netdevs). */
static int load_netdevsim(const char *root, dm_nodestate *s)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/bus/netdevsim/devices", root);
	_cleanup_closedir_ DIR *dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	struct dirent *de;
	while ((de = readdir(dir))) {
		char handle[sizeof(de->d_name) + 16], buf[64];
		pf_handle h;
		dm_device d;
		ns_pf *p;
		int n, r;
		snprintf(handle, sizeof(handle), "netdevsim/%s", de->d_name);
		if (pf_handle_parse(handle, &h) < 0)
			continue;
		_cleanup_close_ int fd = openat(dirfd(dir), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || pf_read_num_vfs(fd, &n) < 0 || n < 0)
			continue;
		if ((r = add_pf(s, &p)) < 0)
			return r;
		pf_init(p, h.bus, h.dev);
		memset(&d, 0, sizeof(d));
		read_netdev_name_at(fd, "net", &d);
		str_copy(p->name, sizeof(p->name), d.netdev);
		if (readlink_base_at(fd, "driver", buf, sizeof(buf)) >= 0)
			str_copy(p->driver, sizeof(p->driver), buf);
		if (d.netdev[0]) {
			int type;
			snprintf(buf, sizeof(buf), "net/%s/address", d.netdev);
			(void)read_small_at(fd, buf, p->mac, sizeof(p->mac));
			snprintf(buf, sizeof(buf), "net/%s/type", d.netdev);
			if (read_int_at(fd, buf, &type) >= 0)
				link_type_of(type, p->link_type, sizeof(p->link_type));
		}
		p->num_vfs = n;
		read_netdev_extra(fd, d.netdev, &p->mtu, &p->speed, &p->admin_up);
		p->vfs = calloc(n ? (size_t)n : 1, sizeof(*p->vfs));
		if (!p->vfs)
			return -ENOMEM;
		for (int i = 0; i < n; i++)
			vf_init(&p->vfs[p->n_vfs++], i);
	}
	return 0;
}

static void on_vf(const struct vf_info *v, void *arg)
{
	ns_pf *p = arg;
	for (size_t i = 0; i < p->n_vfs; i++)
		if (p->vfs[i].id == v->index)
			p->vfs[i].vlan = v->vlan;
}

/* The representor of each VF of P: the netdev on P's switch (phys_switch_id) whose
 * phys_port_name is "pf<N>vf<index>". */
static void find_representors(const char *root, ns_pf *p)
{
	char path[PATH_MAX], sw[64], osw[64], port[32];
	snprintf(path, sizeof(path), "%s/class/net", root);
	_cleanup_close_ int netfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (netfd < 0 || !p->name[0])
		return;
	snprintf(path, sizeof(path), "%s/phys_switch_id", p->name);
	if (read_small_at(netfd, path, sw, sizeof(sw)) <= 0)
		return;
	_cleanup_closedir_ DIR *dir = opendir_at(netfd, ".");
	struct dirent *de;
	while (dir && (de = readdir(dir))) {
		int pfn, vfn, used;
		if (de->d_name[0] == '.' || strlen(de->d_name) >= DM_IFNAME_MAX)
			continue;
		snprintf(path, sizeof(path), "%s/phys_switch_id", de->d_name);
		if (read_small_at(netfd, path, osw, sizeof(osw)) <= 0 || strcmp(sw, osw))
			continue;
		snprintf(path, sizeof(path), "%s/phys_port_name", de->d_name);
		if (read_small_at(netfd, path, port, sizeof(port)) <= 0 ||
		    sscanf(port, "pf%dvf%d%n", &pfn, &vfn, &used) != 2 || port[used])
			continue;
		for (size_t i = 0; i < p->n_vfs; i++)
			if (p->vfs[i].id == vfn)
				str_copy(p->vfs[i].representor, sizeof(p->vfs[i].representor), de->d_name);
	}
}

static void load_kernel_facts(const char *root, dm_nodestate *s)
{
	struct nlsk sk = NLSK_NULL;
	struct devlink dl = DEVLINK_NULL;
	bool have_sk = nlsk_open(&sk) >= 0;
	int dl_r = devlink_open(&dl);
	for (size_t i = 0; i < s->n; i++) {
		ns_pf *p = &s->pfs[i];
		int mode;
		if (have_sk && p->name[0] && p->n_vfs)
			(void)vf_list(&sk, p->name, on_vf, p);
		int r = dl_r < 0 ? dl_r : devlink_eswitch_get_on(&dl, p->bus, p->dev, &mode);
		if (r >= 0 && (mode == DM_ESWITCH_LEGACY || mode == DM_ESWITCH_SWITCHDEV)) {
			p->eswitch_known = true;
			p->eswitch = (dm_eswitch_mode)mode;
		} else if (r == -ENODEV || r == -EOPNOTSUPP)
			p->eswitch_known = true; /* DM_ESWITCH_NONE */
		if (p->eswitch_known && p->eswitch == DM_ESWITCH_SWITCHDEV)
			find_representors(root, p);
	}
	if (dl_r >= 0)
		devlink_close(&dl);
	nlsk_close(&sk);
}

static int cmp_pf(const void *a, const void *b)
{
	const ns_pf *x = a, *y = b;
	int c = strcmp(x->bus, y->bus);
	if (c)
		return -c; /* "pci" before "netdevsim" */
	size_t lx = strlen(x->dev), ly = strlen(y->dev);
	return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x->dev, y->dev);
}

static bool pf_is(const ns_pf *p, const char *only)
{
	pf_handle h;
	if (pf_handle_parse(only, &h) >= 0)
		return !strcmp(h.bus, p->bus) && !strcmp(h.dev, p->dev);
	return p->name[0] && !strcmp(p->name, only);
}

int dm_nodestate_load(const char *sysfs_root, unsigned flags, const char *only, dm_nodestate **ret)
{
	const char *root = sysfs_root ? sysfs_root : DM_DEFAULT_SYSFS_ROOT;
	dm_nodestate *s = calloc(1, sizeof(*s));
	int r;
	if (!s)
		return -ENOMEM;
	if ((r = load_pci(root, s)) < 0 || (r = load_netdevsim(root, s)) < 0) {
		dm_nodestate_free(s);
		return r;
	}
	if (only) {
		size_t k = 0;
		for (size_t i = 0; i < s->n; i++) {
			if (pf_is(&s->pfs[i], only))
				s->pfs[k++] = s->pfs[i];
			else
				free(s->pfs[i].vfs);
		}
		s->n = k;
		if (!k) {
			dm_nodestate_free(s);
			return -ENOENT;
		}
	}
	if (s->n)
		qsort(s->pfs, s->n, sizeof(*s->pfs), cmp_pf);
	if (flags & NODESTATE_KERNEL)
		load_kernel_facts(root, s);
	*ret = s;
	return 0;
}

/* ------------------------------------------------------------------- JSON */

static void add_str(cJSON *o, const char *k, const char *v)
{
	if (v && *v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

static void add_int(cJSON *o, const char *k, int v)
{
	if (v >= 0)
		cJSON_AddNumberToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

static void add_id(cJSON *o, const char *k, int v)
{
	char buf[8];
	snprintf(buf, sizeof(buf), "%04x", v & 0xffff);
	add_str(o, k, v >= 0 ? buf : NULL);
}

static cJSON *vf_json(const ns_vf *v)
{
	cJSON *o = cJSON_CreateObject();
	add_str(o, "name", v->name);
	add_str(o, "mac", v->mac);
	add_str(o, "driver", v->driver);
	add_str(o, "pciAddress", v->pci);
	add_id(o, "vendor", v->vendor);
	add_id(o, "deviceID", v->device);
	add_int(o, "Vlan", v->vlan);
	add_int(o, "mtu", v->mtu);
	cJSON_AddNumberToObject(o, "vfID", v->id);
	add_str(o, "representorName", v->representor);
	return o;
}

static cJSON *pf_json(const ns_pf *p)
{
	char buf[48];
	cJSON *o = cJSON_CreateObject();
	add_str(o, "name", p->name);
	add_str(o, "mac", p->mac);
	add_str(o, "driver", p->driver);
	add_str(o, "pciAddress", !strcmp(p->bus, "pci") ? p->dev : NULL);
	snprintf(buf, sizeof(buf), "%s/%s", p->bus, p->dev);
	cJSON_AddStringToObject(o, "devlinkHandle", buf);
	add_id(o, "vendor", p->vendor);
	add_id(o, "deviceID", p->device);
	add_int(o, "mtu", p->mtu);
	add_int(o, "numVfs", p->num_vfs);
	add_int(o, "totalvfs", p->total_vfs);
	snprintf(buf, sizeof(buf), "%d Mb/s", p->speed);
	add_str(o, "linkSpeed", p->speed > 0 ? buf : NULL);
	add_str(o, "linkType", p->link_type);
	add_str(o, "linkAdminState", p->admin_up < 0 ? NULL : p->admin_up ? "up" : "down");
	add_str(o, "eSwitchMode", p->eswitch_known ? dm_eswitch_mode_name(p->eswitch) : NULL);
	cJSON *vfs = cJSON_AddArrayToObject(o, "Vfs");
	for (size_t i = 0; i < p->n_vfs; i++)
		cJSON_AddItemToArray(vfs, vf_json(&p->vfs[i]));
	return o;
}

cJSON *dm_nodestate_json(const dm_nodestate *s)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "schemaVersion", 1);
	cJSON *a = cJSON_AddArrayToObject(o, "interfaces");
	for (size_t i = 0; i < s->n; i++)
		cJSON_AddItemToArray(a, pf_json(&s->pfs[i]));
	return o;
}
