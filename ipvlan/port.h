/* The ipvlan port of a master: which mode and flags its ipvlans run in, learnt
 * from the kernel through the links visible next to the master and the links
 * ucni created elsewhere (a registry under /run/ucni/ipvlan). */
#pragma once

#include <limits.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "ucni/stacked.h"

/* The registry directory: $UCNI_IPVLAN_DIR or /run/ucni/ipvlan. */
const char *port_dir(void);

/* One master's registry file, locked while open. */
struct port_reg {
	int lock_fd;     /* -1 when closed */
	char path[PATH_MAX]; /* the registry file */
	char lock[PATH_MAX]; /* its lock file */
	/* {"master": name, "entries": [{containerID, ifname, netns, netnsID}]} */
	cJSON *root;
	const cJSON *bad; /* the entry that could not be inspected */
	bool added;      /* port_record added this invocation's entry */
	bool dirty;      /* root differs from the file */
	bool drop;       /* no entry is left: port_close removes the lock file too */
};
#define PORT_REG_INIT { .lock_fd = -1 }

/* The port's mode and flags, as one of its live links reports them. */
struct port_state {
	bool found;
	uint16_t mode, flags;
	char who[IFNAMSIZ];
	char where[PATH_MAX]; /* a netns path, or "" for the master's own namespace */
};

/*
 * Lock the master's registry, drop every entry whose link is gone, and read the
 * port's mode and flags from a live link: an ipvlan next to the master, or a
 * registered link in another namespace.
 * Records the CNI error.
 */
int port_open(const struct stacked_add *a, struct port_reg *reg, struct port_state *ret);
/* Record this invocation's (containerID, ifname, netns) and write the registry,
 * before the link exists: a crash afterwards still leaves a trace. An entry that
 * is there already (a live link of an earlier ADD) is left as it is. */
int port_record(struct port_reg *reg, const struct stacked_add *a);
/* Take back the entry port_record added (an ADD that failed before its link
 * existed); an earlier ADD's entry stays. */
void port_unrecord(struct port_reg *reg, const struct stacked_add *a);
/* Write what pruning changed, unlock and free. */
void port_close(struct port_reg *reg);
/* Remove the entries of (containerID, ifname) from every registry file, those
 * whose link is gone only: a link still there keeps holding the port's mode.
 * Best effort. */
void port_forget(const char *containerid, const char *ifname);
/* GC: drop every entry whose link is gone from every registry file, remove the
 * files left empty, lock files without a registry, and the temp files of
 * writers that are gone. Returns how many entries and files went, or -errno. */
int port_gc(void);
