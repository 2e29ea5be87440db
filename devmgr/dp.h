/* The kubelet device plugin's model behind `devmgr serve`: every pool of the config is one
 * resource, its devices are the pool's VFs with live health and NUMA node, the preferred
 * allocation policy picks among them, and Allocate is answered from here. No gRPC in this
 * layer: devmgr/rpc/ turns these values into the device plugin API (v1beta1) messages. */
#ifndef DEVMGR_DP_H
#define DEVMGR_DP_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "devmgr/devmgr.h"

/* The Go SR-IOV network device plugin's default, so existing pod specs keep their names. */
#define DP_RESOURCE_PREFIX_DEFAULT "intel.com"
#define DP_RESOURCE_MAX 256 /* "<prefix>/<resourceName>" */

typedef enum dp_policy { DP_POLICY_PACKED = 0, DP_POLICY_SPREAD } dp_policy;

typedef struct dp_device {
	char id[DM_PCI_ADDR_MAX];    /* the VF's PCI address: the kubelet's device ID */
	char pf[DM_PCI_ADDR_MAX];    /* its PF's PCI address */
	int numa;                    /* NUMA node, -1 when the kernel reports none */
	bool healthy;
	const char *why;             /* static text when unhealthy: "PF has no carrier", ... */
	char driver[DM_DRIVER_MAX];  /* "" when unbound */
	int iommu_group;             /* -1 when none (only used for userspace drivers) */
	char rdma[DM_IFNAME_MAX * 4];/* RDMA device name, "" when none */
	/* the facts its health rests on besides its PF's (dp_pf) */
	char netdev[DM_IFNAME_MAX];  /* its netdev in this namespace, "" when none */
	bool userspace;              /* a userspace driver (vfio-pci, ...): no netdev expected */
	bool gone;                   /* it disappeared (dp_set_carry_gone) */
	bool outside;                /* the store holds it for a pool (dp_set_note_attached) */
} dp_device;

/* The link facts of a PF its VFs' health rests on. */
typedef struct dp_pf {
	char pci[DM_PCI_ADDR_MAX];
	char netdev[DM_IFNAME_MAX];  /* "" when it has none in this namespace */
	bool gone;                   /* its PCI function is not there */
	int admin_up;                /* IFF_UP in its flags: 1, 0, -1 unknown */
	int carrier;                 /* 1, 0, -1 unknown (sysfs has none while it is down) */
	char operstate[16];          /* as sysfs names it: "up", "down", "unknown", ... */
} dp_pf;

typedef struct dp_resource {
	char pool[DM_OWNER_MAX];        /* the pool's resourceName */
	char name[DP_RESOURCE_MAX];     /* "<prefix>/<resourceName>", what the kubelet sees */
	char endpoint[DP_RESOURCE_MAX]; /* socket file name inside the kubelet dir */
	dp_policy policy;
	bool exclude_topology;
	dp_device *dev;                 /* sorted by id */
	size_t n;
	unsigned long gen;              /* bumped when dp_set_link_update changes a device's
	                                 * health: the stream is due */
} dp_resource;

typedef struct dp_set {
	dp_resource *res;
	size_t n;
	dp_pf *pfs;                     /* the PFs of the resources' devices */
	size_t n_pfs;
} dp_set;

/* Build the resources of config c from inventory inv (loaded with netdev facts); the resource
 * prefix is the pool's resourcePrefix, else default_prefix, else DP_RESOURCE_PREFIX_DEFAULT. */
int dp_set_build(const dm_config *c, const dm_inventory *inv, const char *sysfs_root,
		 const char *default_prefix, dp_set **ret, char *err, size_t errlen);
void dp_set_free(dp_set *s);
/* By resource name ("<prefix>/<resourceName>") or pool name. */
const dp_resource *dp_set_find(const dp_set *s, const char *name);
const dp_device *dp_resource_device(const dp_resource *r, const char *id);
/* True when a and b would stream the same ListAndWatch answer. */
bool dp_resource_equal(const dp_resource *a, const dp_resource *b);
/* The allocation store under state_dir decides for the VFs it holds: a record made through
 * a pool (its pool field set: `devmgr alloc`, the sriov plugin's "pool" key) is an
 * allocation outside the kubelet, and the VF is unhealthy ("allocated outside the kubelet
 * (devmgr alloc or a pool attachment)") whatever its netdev; a record without a pool is
 * the sriov plugin's deviceID path (the kubelet's own allocation, attached by Multus), so
 * a kernel-driver VF without a netdev in this namespace ("VF has no netdev") is in a pod
 * and healthy. Nothing is created when there is no store. */
int dp_set_note_attached(dp_set *s, const char *state_dir);
/* The devices of before that now lacks (a VF that disappeared) are added to now's
 * resource of the same name as unhealthy ("VF is gone"), so the kubelet sees them go
 * Unhealthy rather than vanish. */
int dp_set_carry_gone(dp_set *now, const dp_set *before);

/* A link notification (RTM_NEWLINK, RTM_DELLINK) as rtnetlink delivers it. */
typedef struct dp_link {
	const char *name;   /* IFLA_IFNAME */
	bool gone;          /* RTM_DELLINK: the netdev left this namespace */
	/* have_state: flags, carrier and operstate are the kernel's view of the same devices
	 * sysfs_root shows (the real /sys of serve's namespace), so they replace reading them */
	bool have_state;
	unsigned flags;     /* ifi_flags */
	int carrier;        /* IFLA_CARRIER, -1 when absent */
	int operstate;      /* IFLA_OPERSTATE (IF_OPER_*), -1 when absent */
} dp_link;

/* Health from a link notification, without a rescan: when l names a PF's netdev (known, or
 * its <sysfs_root>/class/net/<name>/device is the PF), the PF's link facts are taken anew
 * (from l with have_state, else from sysfs) and all its VFs' health is evaluated again;
 * when it names a VF's netdev (appeared, renamed, gone), that VF's. A VF without a netdev
 * is held by the allocation store under state_dir as in dp_set_note_attached. Other links
 * change nothing. Returns 1 when a device's health changed (its resource's gen is bumped),
 * 0 when nothing did, -errno on error (the set is then as consistent as before: rescan). */
int dp_set_link_update(dp_set *s, const dp_link *l, const char *sysfs_root, const char *state_dir);

/* GetPreferredAllocation: size IDs out of available, every must_include first; the rest by
 * the resource's policy. ret receives pointers into available/must (size entries). */
int dp_preferred(const dp_resource *r, const char *const *available, size_t n_available,
		 const char *const *must, size_t n_must, size_t size, const char **ret,
		 size_t *ret_n, char *err, size_t errlen);

/* Allocate, for one container request. */
typedef struct dp_env {
	char *key;
	char *value;
} dp_env;
typedef struct dp_devspec {
	char host[PATH_MAX];
	char container[PATH_MAX];
	char perms[4];
} dp_devspec;
typedef struct dp_alloc {
	dp_env *env;
	size_t n_env;
	dp_devspec *spec;
	size_t n_spec;
} dp_alloc;

/* Unknown or unhealthy IDs: -ENOENT / -EBUSY with err naming the ID; nothing written then.
 * Writes each VF's device-info file under devinfo_dir/dp/ (0444, atomically). */
int dp_allocate(const dp_resource *r, const char *const *ids, size_t n, const char *devinfo_dir,
		dp_alloc *ret, char *err, size_t errlen);
void dp_alloc_free(dp_alloc *a);
/* dp_allocate's checks alone (IDs known, healthy, not twice; names that fit), writing
 * nothing: a request of several containers is checked whole before any is allocated. */
int dp_allocate_check(const dp_resource *r, const char *const *ids, size_t n, char *err, size_t errlen);

/* "PCIDEVICE_<resource upper-cased, '.', '/', '-' as '_'>" into buf; -ENAMETOOLONG. */
int dp_env_name(const char *resource, char *buf, size_t size);
/* "<resource with '/' as '-'>-<id>-device.json": a device's file under <devinfo_dir>/dp/. */
int dp_devinfo_name(const dp_resource *r, const char *id, char *buf, size_t size);

/* Remove the device-info files serve wrote for the resources of s (SIGTERM cleanup). */
int dp_devinfo_remove(const dp_set *s, const char *devinfo_dir);
/* On a rebuild: remove the files of before's devices that now no longer has under the same
 * resource (a pool removed, a VF dropped from a pool); now's stay. */
int dp_devinfo_remove_dropped(const dp_set *before, const dp_set *now, const char *devinfo_dir);

/* The served marker in the state dir: which pools the kubelet hands out, so `devmgr alloc`
 * refuses them and `devmgr pools` shows them as kubelet-managed. */
/* <state_dir>/serve.json (0600, atomically): pid, its start time (/proc/<pid>/stat field
 * 22; -ESRCH when pid is gone) and each resource's pool and name. */
int dp_served_mark(const char *state_dir, const dp_set *s, pid_t pid);
int dp_served_clear(const char *state_dir);
/* Whether a pool is served: dm_pool_served() in devmgr.h (the sriov plugin asks it too). */

#endif
