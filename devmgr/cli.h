/* devmgr CLI internals: exit codes and the watch command. */
#ifndef DEVMGR_CLI_H
#define DEVMGR_CLI_H

enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,        /* system error (I/O, permissions, netlink) */
	EXIT_USAGE = 2,       /* bad command line */
	EXIT_CONFIG = 3,      /* pool configuration missing or invalid */
	EXIT_NOT_FOUND = 4,   /* no such device, pool or allocation */
	EXIT_NO_FREE = 5,     /* no free healthy VF in the pool */
	EXIT_BUSY = 6,        /* VF held by another live owner, or locked */
	EXIT_UNSUPPORTED = 7, /* not an SR-IOV PF, count above sriov_totalvfs */
	EXIT_STATE = 8,       /* state directory or a record is corrupt or foreign */
};

int cmd_watch(const char *sysfs_root, int count, int timeout_s);

#endif
