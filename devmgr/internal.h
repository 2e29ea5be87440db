/* libdevmgr internals shared by its source files and its unit tests (not installed). */
#ifndef DEVMGR_INTERNAL_H
#define DEVMGR_INTERNAL_H

#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "devmgr/devmgr.h"
#include "eswitch.h"
#include "ucni/netns.h"
#include "ucni/sysfs.h"
#include "ucni/valid.h" /* pci_addr_valid(): the exact canonical lower-case form */

#define _cleanup_(f) __attribute__((cleanup(f)))
#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd) { if (*fd >= 0) close(*fd); }
static inline void closedirp(DIR **d) { if (*d) closedir(*d); }
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_closedir_ _cleanup_(closedirp)

static inline void *take_ptr_(void **p) { void *v = *p; *p = NULL; return v; }
#define TAKE_PTR(p) take_ptr_((void **)&(p))
static inline int take_fd_(int *fd) { int v = *fd; *fd = -1; return v; }
#define TAKE_FD(fd) take_fd_(&(fd))

/* Copies SRC into DST of SIZE bytes, truncating, always NUL-terminated. */
static inline void str_copy(char *dst, size_t size, const char *src)
{
	size_t n = 0;
	while (src[n] && n + 1 < size)
		n++;
	for (size_t i = 0; i < n; i++)
		dst[i] = src[i];
	dst[n] = 0;
}

/* util.c */
/* A directory stream on DIRFD/PATH (".": DIRFD itself), with its own descriptor:
 * the caller's DIRFD stays usable. NULL with errno set on failure. */
DIR *opendir_at(int dirfd, const char *path);
void errbuf_set(char *errbuf, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int pci_addr_cmp(const char *a, const char *b);

/* sysfsops.c: sysfs operations shared by apply, the eswitch steps and the device plugin.
 * A netdev's IFF_* flags: read_hex_at(dirfd, "<netdev dir>/flags", &flags) (ucni/sysfs.h). */
/* The device directory <root>/bus/pci/devices/PCI: a descriptor, or -errno. */
int pci_dev_open(const char *root, const char *pci);
/* The PF's sriov_numvfs (PFFD: its device directory). */
int pf_read_num_vfs(int pffd, int *ret);
/* The device PCI (DEVFD: its directory) unbound from its driver. */
int pci_driver_unbind(int devfd, const char *pci);
/* The device PCI bound to DRIVER, or probed when DRIVER is NULL (the kernel picks,
 * honouring driver_override). */
int pci_driver_bind(const char *root, const char *pci, const char *driver);
/* dm_device_rdma() on BUSFD, the directory <root>/bus/pci/devices. */
int rdma_dev_at(int busfd, const char *pci, char *ret, size_t size);

/* device.c */
enum {
	READ_IDENT = 1,
	READ_DETAILS = 2,
	READ_HAVE_NETDEV = 4, /* d->netdev already known */
	READ_KNOWN_VF = 8,    /* d->pf_pci already known from the PF's virtfn link: no physfn read */
};
void device_init(dm_device *d, const char *pci);
/* vendor, device, class and driver: from uevent, else from the single files */
int device_read_ident(int devfd, dm_device *d);
/* The lines DRIVER=, PCI_CLASS=, PCI_ID= of a uevent file's text BUF (modified in place);
 * -ENOENT without a valid PCI_ID. */
int uevent_parse(char *buf, dm_device *d);
/* Fills D from the sysfs directory DEVFD of device PCI: the role and SR-IOV facts, the
 * netdev name; READ_IDENT first resets D and reads the identity, READ_DETAILS also reads
 * what a VF shares with its PF or rarely needs (numa_node, iommu_group, netdev state). */
int device_read_sysfs(int devfd, const char *pci, unsigned flags, dm_device *d);
/* What READ_DETAILS adds to a VF read by vf_read_from_pf() (its netdev name already set),
 * read relative to DIRFD, the directory holding the VF's directory PCI: no descriptor of
 * the VF's own directory, no uevent. NF (may be NULL): its netdev's facts from a dump,
 * used instead of the netdev's files when they are of this netdev on this function. */
struct netdev_facts;
void vf_read_details_at(int dirfd, const char *pci, const struct netdev_facts *nf, dm_device *d);
/* "ether", "infiniband" or the number of the ARPHRD_* TYPE, into BUF of 16 */
void netdev_type_name(int type, char buf[16]);
/* Reads the PF's virtfn<N> links: calls CB for each (index, VF address). */
int pf_for_each_virtfn(int pffd, int (*cb)(int index, const char *vf_pci, void *arg), void *arg);
void device_update_health(dm_device *d, const dm_device *pf);
/* The netdev name: the first entry of DIRFD/PATH (a device's net directory). */
void dir_first_at(int dirfd, const char *path, char *buf, size_t size);
void read_netdev_name_at(int dirfd, const char *path, dm_device *d);
/* A PF as devlink names it: bus "pci" and a canonical PCI address, or bus "netdevsim"
 * and "netdevsimN" (the emulated PF of the tests, which is no PCI device). */
typedef struct pf_handle {
	char bus[16];
	char dev[24];
} pf_handle;
/* "dddd:bb:dd.f" (or the short form), "pci/<address>", "netdevsim/netdevsimN"; -EINVAL
 * otherwise. */
int pf_handle_parse(const char *s, pf_handle *ret);
/* The directory <root>/bus/<bus>/devices/<dev>: a descriptor, -ENOENT, or -errno. */
int pf_handle_open(const char *sysfs_root, const pf_handle *h);

/* inventory.c */
/* With the cheap view: the details of a VF that no PF's virtfn link names (a PF that is
 * not a network PF: the VF is shown as a row of its own, as a NIC is). */
#define INVENTORY_DETAILS_UNLINKED (1u << 8)
/* dm_inventory_load() whose DM_INVENTORY_DETAILS (and DM_INVENTORY_NETLINK) cover only the
 * function PCI (canonical; NULL: all) and, when it is a PF, its VFs: what `show` prints
 * of a big tree. */
int inventory_load_of(const char *sysfs_root, unsigned flags, const char *pci, dm_inventory **ret);

/* libpci.c: libpci opened on first use (not linked), its errors caught */
struct pci_access;
/* libpci on the tree <ROOT>/bus/pci: 0, -ELIBACC (libpci cannot be opened), -ELIBBAD (it
 * lacks a function), -ENOMEM, or -EIO when libpci gives up. */
int libpci_open(const char *root, struct pci_access **ret);
void libpci_close(struct pci_access *pacc);
/* The functions libpci finds on the bus: *RET holds the *RET_N that have a canonical
 * address, in libpci's order (the caller frees it). -EIO when libpci gives up. */
int libpci_scan(struct pci_access *pacc, char (**ret)[DM_PCI_ADDR_MAX], size_t *ret_n);
/* The pci.ids names of VENDOR and of its DEVICE into VNAME and DNAME: which were found
 * (LIBPCI_HAVE_*), or -EIO. IDS (zeroed first, libpci_ids_free() after) holds pci.ids as
 * read for the first of a series of look-ups. */
#define LIBPCI_NAME_MAX 256
enum { LIBPCI_HAVE_VENDOR = 1, LIBPCI_HAVE_DEVICE = 2 };
typedef struct libpci_ids {
	char *text;
	size_t len;
	bool tried;
} libpci_ids;
int libpci_names(struct pci_access *pacc, libpci_ids *ids, uint16_t vendor, uint16_t device,
                 char vname[LIBPCI_NAME_MAX], char dname[LIBPCI_NAME_MAX]);
void libpci_ids_free(libpci_ids *ids);

/* virtfn.c: a PF's VFs as sysfs shows them */
/* A PF's virtfn<index> link to VF. */
typedef struct vf_link {
	char pf[DM_PCI_ADDR_MAX];
	char vf[DM_PCI_ADDR_MAX];
	int index;
} vf_link;
/* The address of VF N of the PF at PF_PCI where the kernel puts it: routing id
 * PF + offset + N * stride, in the PF's domain. false when that leaves the domain. */
bool vf_addr(const char *pf_pci, int offset, int stride, int n, char ret[DM_PCI_ADDR_MAX]);
/* The kernel makes all NUM VFs of a PF at once, VF N at PF + sriov_offset + N *
 * sriov_stride: do the first and the last virtfn link of the PF (PFFD, PF_PCI) say so?
 * Then *RET_OFFSET, *RET_STRIDE and *RET_SIBLINGS (both links "../<VF>": 1, neither: 0,
 * one of them: -1) place every VF without reading its link. */
bool pf_vfs_placed(int pffd, const char *pf_pci, int num, int *ret_offset, int *ret_stride, int *ret_siblings);
/* The PF's sriov_vf_device into D->vf_device_id, when it has one. */
void pf_read_vf_device(int pffd, dm_device *d);
/* Every virtfn<N> link of the PF (PFFD) naming a valid address, in listing order: *RET
 * (index and vf; pf left empty; the caller frees it), or -errno. */
int pf_list_virtfns(int pffd, vf_link **ret, size_t *ret_n);
/* The VF at DIRFD/PCI as its PF describes it (the cheap view): vendor, the PF's
 * sriov_vf_device, class and address from PF; DRIVER (NULL: its driver link); on a
 * userspace driver its IOMMU group and /dev/vfio node. */
void vf_read_from_pf(int dirfd, const char *pci, const dm_device *pf, const char *driver, dm_device *d);

/* vfcursor.c: the healthy VFs one at a time, in the cheap inventory's order and as it
 * describes them, reading sysfs only as far as the caller goes (the allocation path). */
typedef struct vf_cursor vf_cursor;
/* Lists <root>/bus/pci/devices; -errno when that fails (as dm_inventory_load()). */
int vf_cursor_open(const char *sysfs_root, vf_cursor **ret);
vf_cursor *vf_cursor_free(vf_cursor *c);
/* The next healthy VF in address order that WANT (may be NULL) accepts: 1 and *RET
 * (valid until the next call; its pf points to the cursor's copy of the PF, vfs is NULL),
 * 0 at the end, -errno. WANT sees each VF complete but for its netdev name (no selector
 * reads it), which is read only for a VF it accepts. */
int vf_cursor_next(vf_cursor *c, bool (*want)(const dm_device *d, void *arg), void *arg, const dm_device **ret);
void vf_cursor_rewind(vf_cursor *c);
/* The VF at PCI, healthy or not, as the cheap inventory describes it: 0, or -ENOENT when
 * that inventory has no VF there. *RET's pf is NULL. */
int vf_cursor_lookup(vf_cursor *c, const char *pci, dm_device *ret);

/* vfinfo.c: fills the vf_config of each VF of PF with one RTM_GETLINK */
int vf_config_query_all(dm_device *pf);
/* ... and one netdev of the caller's namespace, as a restore needs it */
typedef struct nl_link_info {
	int ifindex;
	char name[DM_IFNAME_MAX];
	unsigned flags, mtu;
	unsigned char mac[6];
	bool has_mac;
	char parent_dev[64]; /* IFLA_PARENT_DEV_NAME: the PCI address of a PCI netdev, "" unknown */
} nl_link_info;
/* By IFINDEX (> 0) or NAME. -ENODEV when there is none. */
int vf_link_get(int ifindex, const char *name, nl_link_info *ret);
/* One RTM_NEWLINK: NAME/MTU/MAC when given (NULL, 0, NULL leave them), UP 1/0 (-1 leaves it). */
int vf_link_change(int ifindex, const char *name, unsigned mtu, const unsigned char *mac, int up);

/* The MAC, operstate, carrier and type of every netdev of the caller's namespace that sits
 * on a PCI function (IFLA_PARENT_DEV_NAME) and has a 6-byte address, from one RTM_GETLINK
 * dump: what <sysfs>/class/net/<name>/{address,operstate,carrier,type} show of it, for
 * thousands of VFs in the time of a few dozen file reads. Sorted by name. */
typedef struct netdev_facts {
	char name[DM_IFNAME_MAX];
	char pci[DM_PCI_ADDR_MAX]; /* the function it sits on */
	char mac[18];
	char operstate[16];
	int carrier; /* -1 when the link is not up (sysfs has none then) */
	int type;    /* ARPHRD_* */
} netdev_facts;
int netdev_facts_dump(netdev_facts **ret, size_t *ret_n);
const netdev_facts *netdev_facts_find(const netdev_facts *v, size_t n, const char *name);

/* vfstate.c: MACs as "xx:xx:xx:xx:xx:xx" (exactly, either case when parsed) */
void mac_format(const unsigned char *m, char buf[18]);
bool mac_parse(const char *s, unsigned char ret[6]);
/* vfstate.c: the store's restore of one record (store-release.c and store-gc.c call it under the VF's lock) */
int vf_restore_record(const char *sysfs_root, const dm_record *rec, unsigned flags, dm_restore_report *ret);
/* As REC goes after its VF was restored: removes the device-info file its saved state names
 * (devinfo_remove(), the node's devinfoDirs as they are now) and says so in REP's devinfo
 * fields. Returns devinfo_remove()'s result; 0 when the record names none. */
int vf_record_devinfo_remove(const dm_record *rec, dm_restore_report *rep);

/* config.c: a configuration file's text (the pools and PFs file, the installed copy): a
 * regular file (-EINVAL another kind) of at most CONFIG_FILE_MAX bytes (-EFBIG larger),
 * NUL-terminated. */
#define CONFIG_FILE_MAX (1 << 20)
int config_read_text(const char *path, char **ret, size_t *ret_len);

/* config.c — exposed for the unit tests */
/* A VF index set parsed from "0,2-7" (at most DM_VF_RANGE_MAX indexes). */
#define DM_VF_INDEX_MAX 4096
typedef struct vf_range {
	unsigned char bits[DM_VF_INDEX_MAX / 8];
} vf_range;
int vf_range_parse(const char *s, vf_range *ret);
static inline bool vf_range_has(const vf_range *r, int i) {
	return i >= 0 && i < DM_VF_INDEX_MAX && (r->bits[i / 8] >> (i % 8)) & 1;
}

/* The device plugin's keys of pool I: "policy" (a dp_policy, devmgr/dp.h) and
 * "excludeTopology". */
int config_pool_policy(const dm_config *c, size_t i);
bool config_pool_exclude_topology(const dm_config *c, size_t i);

/* store-record.c — one record's text, exposed for the unit tests and the fuzz target */
/* Parses the record of the VF PCI: -EBADMSG malformed, -EPROTO another format. */
int record_from_json(const char *pci, const char *text, dm_record **ret);
char *record_to_json(const dm_record *r);

/* json.c — the documented JSON shapes, shared by the CLI and the tests */
struct cJSON;
struct cJSON *json_device(const dm_device *d, const char *pool, const dm_record *rec, int rec_err);
struct cJSON *json_record(const dm_record *r, const dm_device *d);
/* A member of a pool as `devmgr pools` shows it: the VF D, its STATE ("free", "used", …)
 * and its record REC (may be NULL). */
struct cJSON *json_pool_member(const dm_device *d, const char *state, const dm_record *rec);

#endif
