/* devmgr serve: the device plugin's event loop — one socket per resource in the kubelet's
 * directory, registration with the kubelet, ListAndWatch updates from kernel events, and
 * the lifecycle (SIGHUP reload, kubelet restarts, SIGTERM cleanup). Single-threaded. */
#ifndef DEVMGR_SERVE_H
#define DEVMGR_SERVE_H

#include <stddef.h>

#include "devmgr/devmgr.h"

#define SERVE_KUBELET_DIR "/var/lib/kubelet/device-plugins"
#define SERVE_DEVINFO_DIR "/var/run/k8s.cni.cncf.io/devinfo"
#define SERVE_KUBELET_SOCK "kubelet.sock"
/* What a ListAndWatch stream may have waiting for a peer that does not read. */
#define SERVE_MAX_QUEUED (1u << 20)

typedef struct serve_opts {
	const char *sysfs_root, *state_dir, *kubelet_dir, *devinfo_dir, *prefix;
	/* Loads the pool configuration (at start and on SIGHUP): 0, or nonzero after it said
	 * why on stderr. */
	int (*load_config)(void *arg, dm_config **ret);
	void *arg;
} serve_opts;

/* Runs until SIGTERM or SIGINT: 0 then, after removing its sockets, device-info files and
 * served marker. -EBUSY when another serve holds the state dir; -errno when it cannot start
 * (after saying why on stderr). */
int serve_run(const serve_opts *o);

#endif
