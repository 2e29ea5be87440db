/* libdevmgr — SR-IOV inventory, pools and the VF allocation store (public API).
 *
 * Conventions (systemd style):
 *  - functions return 0 (or a documented positive value) on success, -errno on failure;
 *  - output parameters are named ret_… and are left untouched when a call fails;
 *  - the library never logs and never exits; error text, where a caller needs more than the
 *    errno (configuration files), goes into a caller-supplied buffer;
 *  - every destructor accepts NULL.
 *
 * Errors shared by all calls:
 *   -EINVAL    malformed argument (PCI address, owner id, interface name, JSON blob)
 *   -ENOENT    no such device, pool, record or file
 *   -ENODEV    the device exists but is not what the call needs (not a VF, not a PF)
 *   -ENOMEM    out of memory
 *   other      the errno of the failed system call
 *
 * Thread safety: objects are not shared between threads without the caller's locking.
 * Processes coordinate through the store's file locks (flock), see dm_store_*.
 */
#ifndef DEVMGR_DEVMGR_H
#define DEVMGR_DEVMGR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DM_PCI_ADDR_MAX   16  /* "dddd:bb:dd.f" plus NUL fits */
#define DM_IFNAME_MAX     16  /* IFNAMSIZ */
#define DM_MAC_MAX        48  /* "aa:bb:…" also for 20-byte IPoIB addresses */
#define DM_DRIVER_MAX     64
#define DM_OWNER_MAX      256

#define DM_DEFAULT_SYSFS_ROOT "/sys"
#define DM_DEFAULT_STATE_DIR  "/run/ucni/devmgr"

/* ------------------------------------------------------------------ devices */

typedef enum dm_role {
	DM_ROLE_NIC,  /* a network PCI function without SR-IOV */
	DM_ROLE_PF,   /* has sriov_totalvfs */
	DM_ROLE_VF,   /* has physfn */
} dm_role;

/* Health bits; 0 means healthy. Unhealthy VFs are never handed out by a pool claim. */
enum {
	DM_UNHEALTHY_NO_DRIVER  = 1 << 0, /* no driver bound */
	DM_UNHEALTHY_PF_NO_LINK = 1 << 1, /* the PF's netdev has no carrier / is down */
	DM_UNHEALTHY_PF_GONE    = 1 << 2, /* physfn points nowhere readable */
};

/* A VF's settings as its PF reports them over rtnetlink (IFLA_VFINFO_LIST). */
typedef struct dm_vf_config {
	bool valid;               /* false: not available (fake tree, no PF netdev, no netlink) */
	char mac[DM_MAC_MAX];     /* administrative MAC, "00:00:00:00:00:00" when unset */
	uint16_t vlan;
	uint8_t qos;
	uint16_t vlan_proto;      /* 0x8100 or 0x88a8 */
	int spoofchk;             /* 0/1, -1 unknown */
	int trust;                /* 0/1, -1 unknown */
	int link_state;           /* 0 auto, 1 enable, 2 disable, -1 unknown */
	uint32_t min_tx_rate;     /* Mbit/s */
	uint32_t max_tx_rate;     /* Mbit/s */
} dm_vf_config;

typedef struct dm_device dm_device;
struct dm_device {
	char pci[DM_PCI_ADDR_MAX];      /* "0000:3b:02.0" */
	dm_role role;
	uint16_t vendor_id, device_id;
	uint32_t class_code;            /* 24 bits: class, subclass, prog-if */
	const char *vendor_name;        /* from pci.ids, NULL unless DM_INVENTORY_NAMES */
	const char *device_name;
	char driver[DM_DRIVER_MAX];     /* "" when no driver is bound */
	bool userspace_driver;          /* vfio-pci, uio_pci_generic, igb_uio */
	char netdev[DM_IFNAME_MAX];     /* "" when the device has no netdev */
	char mac[DM_MAC_MAX];           /* of the netdev, "" when none */
	char operstate[16];             /* of the netdev: "up", "down", … or "" */
	int carrier;                    /* 1/0, -1 unknown */
	char link_type[16];             /* "ether", "infiniband", … or "" */
	int numa_node;                  /* -1 when unknown */
	int iommu_group;                /* -1 when none */
	char vfio_path[32];             /* "/dev/vfio/N" for vfio-pci devices, else "" */
	unsigned health;                /* DM_UNHEALTHY_* bits */

	/* PF only */
	int total_vfs, num_vfs;
	uint16_t vf_device_id;          /* sriov_vf_device: the device id its VFs get, 0 unknown */
	dm_device **vfs;                /* indexed by VF index, n_vfs entries, may hold NULL */
	size_t n_vfs;

	/* VF only */
	int vf_index;                   /* -1 for a PF or NIC */
	char pf_pci[DM_PCI_ADDR_MAX];
	char pf_netdev[DM_IFNAME_MAX];
	dm_device *pf;                  /* in an inventory; NULL from dm_device_lookup() */
	dm_vf_config vf_config;
};

/* Is NAME one of the userspace (non-netdev) PCI drivers? */
bool dm_driver_is_userspace(const char *name);

/* Accepts only the canonical form "dddd:bb:dd.f" (lower or upper hex); a short
 * "bb:dd.f" is completed with domain 0000. Writes the lower-case canonical form. */
int dm_pci_addr_normalize(const char *s, char ret_pci[DM_PCI_ADDR_MAX]);

/* Reads one device from sysfs without scanning the bus (cheap: the CNI plugin's path).
 * PCI is a PCI address. Fills every field that sysfs knows; pf/vfs stay NULL,
 * names stay NULL and vf_config is not queried (see dm_vf_config_query()). */
int dm_device_lookup(const char *sysfs_root, const char *pci, dm_device *ret);
/* What allocating a VF needs of it — its PF, driver, netdev, the PF's netdev and its
 * index at the PF — in about a dozen sysfs reads, where dm_device_lookup() reads four
 * times as much (NUMA, IOMMU group, both netdevs' state, the PF's identity). PCI must
 * be canonical ("dddd:bb:dd.f"). The fields it does not read are unknown (-1, "").
 * -EAGAIN when anything is not as on a healthy VF (missing, not a VF, no driver, not
 * listed by its PF): dm_device_lookup() then tells what; -EINVAL for a bad argument. */
int dm_vf_lookup(const char *sysfs_root, const char *pci, dm_device *ret);

/* The RDMA device of the function PCI (canonical): the first entry of
 * <root>/bus/pci/devices/<pci>/infiniband, into RET of SIZE bytes. 0, -ENOENT when it has
 * none, -ENAMETOOLONG when the name does not fit, -EINVAL for a bad argument. */
int dm_device_rdma(const char *sysfs_root, const char *pci, char *ret, size_t size);

/* Resolves a netdev name to its PCI address through <root>/class/net/<name>/device. */
int dm_netdev_to_pci(const char *sysfs_root, const char *netdev, char ret_pci[DM_PCI_ADDR_MAX]);

/* Asks the kernel (rtnetlink, RTEXT_FILTER_VF) for VF number VF_INDEX of PF_NETDEV. */
int dm_vf_config_query(const char *pf_netdev, int vf_index, dm_vf_config *ret);

/* ------------------------------------------------------ VF settings (codec) */

/* The settings a PF keeps for one of its VFs, as rtnetlink reads and writes them
 * (IFLA_VFINFO_LIST / IFLA_VF_*). Every write carries one attribute, so a driver's
 * refusal names the setting it refused. */
typedef enum dm_vf_attr {
	DM_VF_MAC,        /* administrative MAC */
	DM_VF_VLAN,       /* vlan, qos and protocol: the kernel takes them as one */
	DM_VF_SPOOFCHK,
	DM_VF_TRUST,
	DM_VF_LINK_STATE,
	DM_VF_RATE,       /* min and max tx rate together */
	DM_VF_ATTR_COUNT,
} dm_vf_attr;

#define DM_VF_PROTO_8021Q  0x8100
#define DM_VF_PROTO_8021AD 0x88a8
enum { DM_VF_LINK_AUTO = 0, DM_VF_LINK_ENABLE = 1, DM_VF_LINK_DISABLE = 2 };

typedef struct dm_vf_settings {
	int index;                /* VF number at its PF */
	unsigned char mac[6];     /* administrative MAC, all-zero when unset */
	uint16_t vlan;            /* 0-4094 */
	uint8_t qos;              /* 0-7 */
	uint16_t vlan_proto;      /* DM_VF_PROTO_* */
	int spoofchk;             /* 0/1, -1 not reported */
	int trust;                /* 0/1, -1 not reported */
	int link_state;           /* DM_VF_LINK_*, -1 not reported */
	bool has_rate;            /* the driver reports rates */
	uint32_t min_tx_rate;     /* Mbit/s */
	uint32_t max_tx_rate;
} dm_vf_settings;

/* VF VF_INDEX of the PF netdev PF_NETDEV (in the caller's network namespace).
 * -ENOENT: the PF does not list that VF; -ENODEV: no such netdev. */
int dm_vf_get(const char *pf_netdev, int vf_index, dm_vf_settings *ret);
/* Writes attribute ATTR of VF WANT->index from WANT: one RTM_NEWLINK, one IFLA_VF_*.
 * Returns 0 or the kernel's -errno (the driver's refusal: -EOPNOTSUPP, -EINVAL,
 * -EPROTONOSUPPORT ...). An 802.1Q VLAN goes as IFLA_VF_VLAN, 802.1ad as IFLA_VF_VLAN_LIST. */
int dm_vf_set(const char *pf_netdev, dm_vf_attr attr, const dm_vf_settings *want);
bool dm_vf_attr_differs(dm_vf_attr attr, const dm_vf_settings *a, const dm_vf_settings *b);
/* "mac", "vlan", "spoofchk", "trust", "link_state", "tx_rate" */
const char *dm_vf_attr_name(dm_vf_attr attr);
/* The attribute's value in words ("vlan 100 qos 3 proto 802.1Q", "trust off" ...). */
const char *dm_vf_attr_describe(dm_vf_attr attr, const dm_vf_settings *v, char *buf, size_t len);

/* The baseline a VF returns to when nothing better is known: VLAN 0, QoS 0, 802.1Q,
 * spoofchk on, trust off, rates 0, link state auto, administrative MAC cleared. */
void dm_vf_baseline(int vf_index, dm_vf_settings *ret);

/* ------------------------------------------------- a VF's saved state, restore */

/* What the VF looked like before a CNI ADD changed it; the allocation record's data
 * (dm_vf_state_format()). The one saved-state format: the sriov plugin writes it, and
 * the plugin, `devmgr gc` and `devmgr release` restore from it. */
typedef struct dm_vf_state {
	char network[256];             /* the CNI network name */
	char netdev[DM_IFNAME_MAX];    /* host name of the VF netdev, "" for a userspace driver */
	int ifindex;                   /* ... and its ifindex then */
	unsigned char mac[6];          /* ... its MAC, MTU and whether it was up */
	unsigned int mtu;
	bool up;
	char pf[DM_IFNAME_MAX];        /* the PF netdev, "" when the PF did not report the VF */
	dm_vf_settings vf;             /* valid when pf[0] */
	/* Added with soname libdevmgr.so.1 (the struct grew): the device-info file ADD
	 * created for the attachment (runtimeConfig.CNIDeviceInfoFile), an absolute path,
	 * "" when none; DEL removes it. Key "deviceInfoFile". */
	char devinfo_file[512];
} dm_vf_state;

/* Parses a record's data as a saved state. Every field is checked: format 1, names that are
 * interface names, ifindex 1..INT_MAX, MACs "xx:xx:xx:xx:xx:xx", MTU 0 or 68..65535, VF
 * index 0..4095, vlan 0..4094, qos 0..7 (non-zero only with a vlan), vlanProto 33024
 * (802.1Q) or 34984 (802.1ad), spoofchk/trust -1..1, linkState -1..2, rates 0..2^32-1 and
 * whole numbers only, deviceInfoFile an absolute path shorter than 512 bytes. Anything else: -EBADMSG, and *RET is untouched. */
int dm_vf_state_parse(const char *json, dm_vf_state *ret);
/* The compact JSON text of ST (the caller frees it); NULL when out of memory or when
 * ST would not parse back (a value out of range): -errno in errno. */
char *dm_vf_state_format(const dm_vf_state *st);
/* Is DATA (a record's data) meant as a saved state, well-formed or not? A JSON object with
 * a "format" member is; anything else is the caller's own blob. */
bool dm_data_is_vf_state(const char *data);

enum {
	/* wait (bounded, 10 s) for a kernel-driver VF's netdev that is not in the caller's
	 * namespace: a netns being deleted returns it from a kernel work queue */
	DM_RESTORE_WAIT_NETDEV = 1 << 0,
};

/* What dm_vf_restore() did, attribute by attribute. */
typedef struct dm_restore_report {
	unsigned written;                 /* bits (1 << DM_VF_*) written */
	unsigned refused;                 /* ... the driver refused */
	unsigned tolerated;               /* ... of those, refusals that do not fail the restore:
	                                   * clearing an administrative MAC the driver keeps */
	int errors[DM_VF_ATTR_COUNT];     /* -errno of each refusal */
	int ifindex;                      /* the VF netdev in the host afterwards, 0 when none */
	bool netdev_restored;             /* its saved name, MAC, MTU and state put back */
	bool reset;                       /* a function-level reset was done */
	char what[160];                   /* the first failure in words, "" when none */
	/* dm_store_restore_release(): the device-info file the record's saved state named
	 * (dm_vf_state.devinfo_file, one its ADD created), removed as the record goes: its
	 * path ("" when none); devinfo 1 removed, 0 already gone, -errno left in place, with
	 * devinfo_why in words (its directory no longer beneath the node's devinfoDirs, a
	 * symbolic link, ...). dm_vf_restore() leaves these empty. */
	char devinfo_file[512];
	int devinfo;
	char devinfo_why[480];
} dm_restore_report;

/* Puts the VF at PCI back as SAVED says, or to the baseline when SAVED is NULL:
 * a userspace-driver VF (vfio-pci …) first gets a function-level reset through
 * <SYSFS_ROOT>/bus/pci/devices/<PCI>/reset where the device has one; then every VF setting
 * through the PF that differs, one attribute per request (a setting the PF did not report
 * is left alone); then the VF netdev in the caller's namespace gets its saved name, MTU,
 * MAC and up/down state. IFINDEX > 0 names that netdev (the caller found it); else it is
 * found through sysfs and the saved ifindex. Does not move a netdev out of another
 * namespace: that is the caller's (the CNI plugin's) job.
 * Returns 0 when the VF is clean; -EAGAIN when a kernel-driver VF's netdev is not in the
 * namespace (a netns teardown still running: retry); the first refusal's -errno when the
 * driver refused a setting that matters (RET->what names it); -ENODEV when the PF or the
 * VF is gone (nothing left to restore: treat as clean); other -errno. RET may be NULL. */
int dm_vf_restore(const char *sysfs_root, const char *pci, const dm_vf_state *saved, int ifindex,
                  unsigned flags, dm_restore_report *ret);

/* Writes sriov_numvfs of the PF at PCI (or devlink handle "netdevsim/netdevsimN", whose
 * kernel checks the bound itself); a change between two non-zero counts goes
 * through 0 as the kernel demands. Returns 0 when nothing had to change, 1 when it
 * changed. -ENODEV not a PF, -ERANGE NUM > sriov_totalvfs. When the write of NUM fails
 * after the write of 0, the old count is written back and the first error returned:
 * read sriov_numvfs to learn whether that worked. It does not look at allocations:
 * callers check the store first (devmgr vfs/apply do). */
int dm_pf_set_num_vfs(const char *sysfs_root, const char *pci, int num);

/* ---------------------------------------------------------------- inventory */

typedef struct dm_inventory dm_inventory;

enum {
	DM_INVENTORY_NAMES   = 1 << 0, /* resolve vendor/device names from pci.ids */
	DM_INVENTORY_NETLINK = 1 << 1, /* query VF settings through each PF's netdev */
	DM_INVENTORY_DETAILS = 1 << 2, /* VFs' netdev MAC/operstate/carrier/link type and IOMMU
	                                * group; without it a VF has its PF's NUMA node and only
	                                * userspace-driver VFs get their IOMMU group (the cheap
	                                * view that pools and allocation need) */
};

/* Enumerates the PCI bus with libpci (sysfs.path = <root>/bus/pci) and keeps the
 * network functions: NICs, PFs and VFs, sorted by PCI address, VFs linked to PFs.
 * libpci.so.3 is opened on the first call (a program that takes no inventory never
 * loads it): -ELIBACC when it cannot be opened, -ELIBBAD when it lacks a function. */
int dm_inventory_load(const char *sysfs_root, unsigned flags, dm_inventory **ret);
dm_inventory *dm_inventory_free(dm_inventory *inv);
size_t dm_inventory_count(const dm_inventory *inv);
const dm_device *dm_inventory_get(const dm_inventory *inv, size_t i);
/* By PCI address (any accepted form) or netdev name; NULL when absent. */
const dm_device *dm_inventory_find(const dm_inventory *inv, const char *pci_or_netdev);

/* ------------------------------------------------------------ configuration */

/* The pool configuration: the SR-IOV network device plugin's resourceList as is, plus
 * ucni's "pfs" provisioning list. Any unknown key, bad value or bad range is refused;
 * ERRBUF (may be NULL) then names it. */
typedef struct dm_config dm_config;

/* A VF group of a PF's vfGroups: VFs FIRST..LAST and what they are to look like. */
enum { DM_VF_DRIVER_ANY = 0, DM_VF_DRIVER_DEFAULT, DM_VF_DRIVER_VFIO };
typedef struct dm_vf_group {
	int first, last;          /* "vfRange": "first-last" or "first" */
	int driver;               /* DM_VF_DRIVER_*: ANY leaves the driver as it is */
	unsigned mtu;             /* the VF netdev's MTU, 0 leaves it */
	int trust, spoofchk;      /* 0/1 through the PF, -1 leaves it */
	bool has_mac;             /* an administrative MAC (a group of one VF only) */
	unsigned char mac[6];
} dm_vf_group;

typedef struct dm_pf_spec {
	const char *name;         /* netdev name, or NULL */
	const char *pci;          /* PCI address, or NULL */
	int num_vfs;
	unsigned mtu;             /* raised to, never lowered; 0 leaves it */
	int link_up;              /* 1 bring the PF up, 0 leave it (default: 1 when num_vfs > 0) */
	int eswitch_mode;         /* -1 leave it, 0 legacy, 1 switchdev (devlink's values) */
	bool externally_managed;  /* change nothing; verify num_vfs, mtu, eswitch_mode */
	dm_vf_group *vf_groups;
	size_t n_vf_groups;
} dm_pf_spec;

/* Flags of dm_config_parse_text(). */
enum {
	/* Messages name the key path and the byte offset only, never a value or key of the
	 * text: for a file read on behalf of someone who may not read it. */
	DM_CONFIG_QUIET = 1 << 0,
};

/* -EINVAL for text that is not a valid configuration, -EBADMSG for a string or key that
 * holds the escape \u0000 (which would cut it). dm_config_load() opens PATH non-blocking
 * and reads only a regular file of at most 1 MiB. */
int dm_config_parse(const char *json, dm_config **ret, char *errbuf, size_t errlen);
int dm_config_parse_text(const char *json, size_t len, unsigned flags, dm_config **ret, char *errbuf,
                         size_t errlen);
int dm_config_load(const char *path, dm_config **ret, char *errbuf, size_t errlen);
dm_config *dm_config_free(dm_config *c);
size_t dm_config_pool_count(const dm_config *c);
const char *dm_config_pool_name(const dm_config *c, size_t i);
const char *dm_config_pool_prefix(const dm_config *c, size_t i); /* resourcePrefix or NULL */
/* Index of the pool named NAME, -ENOENT if none. */
int dm_config_pool_index(const dm_config *c, const char *name);
size_t dm_config_pf_count(const dm_config *c);
const dm_pf_spec *dm_config_pf(const dm_config *c, size_t i);
/* The pool a VF belongs to: the first resource any of whose selector objects matches
 * (resources in file order). Returns the pool index, -ENOENT when none matches,
 * -ENODEV when DEV is not a VF. */
int dm_config_match(const dm_config *c, const dm_device *dev);

/* --------------------------------------------------------------- the store */

/* One record per allocated VF in <state_dir>/vfs/<pci>.json, written atomically
 * (temporary file, fsync, rename, fsync of the directory; the temporary file is named
 * after its record and written under the VF's lock, so the next write of that record
 * replaces a killed writer's leftover, and a writer sweeps vfs/ for leftovers whose VF
 * lock is free at most once a minute); a lock file per VF in
 * <state_dir>/locks/ and <state_dir>/store.lock for maintenance. Directories are 0700,
 * files 0600, everything is opened with O_NOFOLLOW relative to the state directory. */
typedef struct dm_store dm_store;

typedef struct dm_owner {
	const char *id;        /* container id: [A-Za-z0-9][A-Za-z0-9_.-]*, < 256 chars */
	const char *ifname;    /* interface name in the container, or NULL */
	const char *netns;     /* absolute netns path, or NULL: then the record never goes stale;
	                        * the claim records its inode and its namespace's cookie */
} dm_owner;

typedef struct dm_record {
	char pci[DM_PCI_ADDR_MAX];
	char *pool;            /* NULL when claimed by address */
	char *owner;
	char *ifname;          /* NULL when none */
	char *netns;           /* NULL when none */
	uint64_t netns_ino;    /* inode of the netns at claim time, 0 unknown */
	int64_t time;          /* claim time, seconds since the epoch */
	pid_t pid;             /* claiming process */
	char *data;            /* caller's JSON text (compact), NULL when none */
	/* Added after the fields above (the struct is only ever allocated by the library):
	 * the kernel's cookie of the netns at claim time (SO_NETNS_COOKIE, Linux 5.14+; the
	 * record key "netnsCookie"), 0 unknown: never given to another namespace while the
	 * system runs, where an nsfs inode number is. */
	uint64_t netns_cookie;
} dm_record;

/* Claim results (non-negative returns of dm_store_claim*). */
enum {
	DM_CLAIM_NEW       = 0,  /* the VF was free */
	DM_CLAIM_EXISTING  = 1,  /* the same owner (id + ifname) already held it */
	DM_CLAIM_RECLAIMED = 2,  /* it was held by an owner whose netns is gone */
};

/* Opens the store, creating the directory (and missing parents) 0700 if needed. Before
 * anything in it changes, an existing directory must be a real directory (not a symlink:
 * -ENOTDIR), owned by the effective uid and not writable by group or others (-EPERM), and
 * hold the store's format marker or nothing but what a store holds (-EPROTO: foreign
 * content or another format). A refused directory is left exactly as it was (no chmod).
 * The subdirectories vfs/ and locks/ follow the same rule. A store on a read-only file
 * system opens for reading; every change then fails with -EROFS. */
int dm_store_open(const char *state_dir, dm_store **ret);
/* Drops every VF lock still held through this handle. */
dm_store *dm_store_free(dm_store *s);

/* Takes the VF's exclusive lock for as long as the caller needs (a CNI ADD or DEL).
 * Claims, updates and releases made through the same handle while it is held do not
 * lock again. WAIT false: -EWOULDBLOCK when another process holds it. WAIT true: waits
 * at most the handle's lock timeout, then -ETIMEDOUT. Every lock wait of the store (a
 * VF's, the store's own) is bounded by that timeout. */
int dm_store_lock_vf(dm_store *s, const char *pci, bool wait);
#define DM_LOCK_TIMEOUT_MS_DEFAULT 30000
#define DM_LOCK_TIMEOUT_MAX_MS 3600000
/* Sets the handle's lock timeout (milliseconds, 1..DM_LOCK_TIMEOUT_MAX_MS; default
 * DM_LOCK_TIMEOUT_MS_DEFAULT: above the longest a restore holds a VF's lock). */
int dm_store_set_lock_timeout(dm_store *s, int timeout_ms);
int dm_store_unlock_vf(dm_store *s, const char *pci);

/* Claims the VF at PCI for OWNER. POOL (may be NULL) is recorded. Waits for the VF's lock
 * when another process holds it. -EBUSY: held by another owner whose netns still exists;
 * -ENOENT: OWNER's netns does not exist; -EBADMSG/-EPROTO: its record is corrupt or
 * foreign and is left alone; -ENOTEMPTY: its owner's netns is gone but the record holds
 * saved state (dm_data_is_vf_state()): restore first (dm_store_restore_release()).
 * Another owner's data blob never passes to the new owner. */
int dm_store_claim(dm_store *s, const char *pci, const char *pool, const dm_owner *owner,
                   dm_record **ret);

/* Claims a free healthy VF of pool POOL (as dm_config_match() assigns VFs); VFs on NUMA
 * node NUMA first (NUMA < 0: no preference), in inventory order; a VF whose lock another
 * process holds is skipped, not waited for, and so is a stale record holding saved state. The same owner (id and ifname) asking again
 * gets its VF again (DM_CLAIM_EXISTING). A VF whose holder's netns path keeps its recorded
 * inode is passed over without asking the namespace's cookie; the cookies decide (a later
 * namespace with the old inode number is reclaimed) only when no VF is found without them.
 * -ENOENT unknown pool or OWNER's netns missing,
 * -ENOSPC none free, -EIO the record could not be written (a full file system included),
 * -EROFS the store is read-only. */
int dm_store_claim_from_pool(dm_store *s, const dm_config *c, const dm_inventory *inv,
                             const char *pool, const dm_owner *owner, int numa,
                             dm_record **ret);

/* Claims exactly as dm_store_claim_from_pool() with the cheap inventory of SYSFS_ROOT
 * (dm_inventory_load(SYSFS_ROOT, 0, …)) would, the same VF included, but reads sysfs only
 * as far as the claim goes: the bus listing, then VF after VF in address order until one
 * is claimed (a VF passed over costs a readlink or two, not a full read). RET_DEV (may be NULL) receives the VF as that inventory describes it, pf and
 * vfs NULL; its pci is "" when that inventory holds no such VF (an existing claim of a VF
 * gone since). Errors as dm_store_claim_from_pool(), and those of reading
 * <SYSFS_ROOT>/bus/pci/devices (-ENOENT when it is missing). */
int dm_store_claim_from_pool_sysfs(dm_store *s, const dm_config *c, const char *sysfs_root, const char *pool,
                                   const dm_owner *owner, int numa, dm_record **ret, dm_device *ret_dev);

/* The record of the VF at PCI. -ENOENT: not allocated. -EBADMSG corrupt, -EPROTO foreign. */
int dm_store_get(dm_store *s, const char *pci, dm_record **ret);

/* Replaces the record's data blob with JSON (a JSON value as text; NULL removes it).
 * -EBUSY when OWNER_ID does not hold the VF, -ENOENT when nobody does. */
int dm_store_set_data(dm_store *s, const char *pci, const char *owner_id, const char *json);

/* Saved state and drops. A record whose data is a saved state (dm_data_is_vf_state())
 * holds the only copy of what the VF looked like before its owner changed it: dropping
 * it without a restore would hand the VF on with that owner's settings. So: */
enum {
	DM_DROP_RESTORED = 1 << 0, /* the caller restored the VF from the record's data (or to
	                            * the baseline) under the VF's lock: the saved state may go */
	DM_DROP_FORCE    = 1 << 1, /* drop whatever the record holds and whoever holds it
	                            * (operator override: the VF keeps what it has) */
};

/* Drops the record of the VF at PCI. OWNER_ID NULL: whoever holds it (operator action);
 * otherwise only if OWNER_ID (and IFNAME, when not NULL) hold it: -EBUSY if another does,
 * unless DM_DROP_FORCE. A record holding saved state is dropped only with
 * DM_DROP_RESTORED or DM_DROP_FORCE: else -ENOTEMPTY. -ENOENT when it is not allocated.
 * A corrupt record is removed only with OWNER_ID NULL. */
int dm_store_drop(dm_store *s, const char *pci, const char *owner_id, const char *ifname, unsigned flags);
/* dm_store_drop() with FLAGS 0. */
int dm_store_release(dm_store *s, const char *pci, const char *owner_id, const char *ifname);

/* Releases every VF held by OWNER_ID (and IFNAME when not NULL); the count in *ret_n.
 * Records holding saved state are left (-ENOTEMPTY after the others went). */
int dm_store_release_owner(dm_store *s, const char *owner_id, const char *ifname, size_t *ret_n);

/* Restores the VF at PCI from its record's saved state (the baseline when the data is a
 * saved state that does not parse, or when the record has no saved state) and then drops
 * the record, all under the VF's lock (bounded wait: -ETIMEDOUT). Just before the record
 * goes, the device-info file its saved state names is removed, under the node's
 * devinfoDirs as they are now (REPORT->devinfo; a file left does not fail the call). OWNER_ID as for
 * dm_store_drop(). A failed restore keeps the record and returns its error (REPORT tells
 * what: -EAGAIN when the VF's netdev is not in the caller's namespace); DM_DROP_FORCE then
 * still drops it. A record whose owner's netns still exists is a live attachment: -EAGAIN
 * and nothing is touched, unless DM_DROP_FORCE (which then drops it without a restore). FLAGS: DM_DROP_FORCE and
 * DM_RESTORE_WAIT_NETDEV (implied for a stale record). REPORT may be NULL. */
int dm_store_restore_release(dm_store *s, const char *sysfs_root, const char *pci, const char *owner_id,
                             unsigned flags, dm_restore_report *report);

/* All records, sorted by PCI address. Corrupt or foreign ones are returned with
 * owner NULL and their error in *ret_errors[i] (0 for a good record) when ret_errors is
 * given. Leftover temporary files are not records. */
int dm_store_list(dm_store *s, dm_record ***ret, int **ret_errors, size_t *ret_n);
void dm_record_list_free(dm_record **list, size_t n);

/* Installs TEXT as <state_dir>/config.json, atomically, under the store lock held
 * exclusively (the configuration `devmgr apply` installs). */
int dm_store_install_config(dm_store *s, const char *text);

/* Releases every record whose netns is gone, removes temporary files left by crashed
 * writers (also those of the state directory itself). Counts into *ret_released; *ret_corrupt (may be NULL) counts records that
 * could not be read and were left in place. A stale record holding saved state is left
 * too (this call cannot restore: see dm_store_gc_restore()). */
int dm_store_gc(dm_store *s, size_t *ret_released, size_t *ret_corrupt);

typedef struct dm_gc_report {
	size_t released;   /* stale records dropped (after their VF was restored) */
	size_t corrupt;    /* records that could not be read, left in place */
	size_t kept;       /* stale records whose restore failed, left in place */
	size_t busy;       /* stale records whose VF lock another process held, left */
	/* the device-info files the released records' saved states named (see
	 * dm_restore_report): removed, and left in place (devinfo_what: the first one left,
	 * its path and why) */
	size_t devinfo_removed;
	size_t devinfo_left;
	char devinfo_what[1024];
} dm_gc_report;
/* dm_store_gc() that restores: each stale record's VF is restored (dm_vf_restore() with
 * DM_RESTORE_WAIT_NETDEV) from its saved state, or to the baseline when it has none, and
 * only then dropped, with the device-info file its saved state names (as
 * dm_store_restore_release()); a failed restore keeps the record and the file. -errno only for the store itself;
 * the counts tell the rest. */
int dm_store_gc_restore(dm_store *s, const char *sysfs_root, dm_gc_report *ret);

/* A record is stale when its netns path no longer exists or now names another netns:
 * another inode than the record's netnsInode, or, when the record holds a netnsCookie,
 * a namespace with another cookie (an inode number the kernel gave again to a later
 * namespace). To learn that cookie the calling thread enters the namespace for as long
 * as it takes to open a socket there, and is back in its own on return; when it cannot
 * (no CAP_SYS_ADMIN, a kernel without cookies) the inode decides. */
bool dm_record_is_stale(const dm_record *r);
dm_record *dm_record_free(dm_record *r);

/* Is POOL served to the kubelet by a running `devmgr serve` on STATE_DIR (its marker
 * serve.json names the pool, and the recorded pid runs with the recorded start time)?
 * 1, with the resource name ("<prefix>/<resourceName>") into RET_RESOURCE (SIZE bytes)
 * when not NULL; 0 when not (no marker, or its process is gone); -errno on error
 * (-EBADMSG: a corrupt marker). Such a pool's VFs are the kubelet's to hand out. */
int dm_pool_served(const char *state_dir, const char *pool, char *ret_resource, size_t size);

/* Validation of anything that becomes part of a path or a record. */
bool dm_owner_id_valid(const char *id);
bool dm_ifname_valid(const char *name);

#ifdef __cplusplus
}
#endif
#endif
