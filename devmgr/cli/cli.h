/* The devmgr CLI's shared parts: exit codes, the command line, what a command works on,
 * and one entry point per command. */
#ifndef DEVMGR_CLI_CLI_H
#define DEVMGR_CLI_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "../dp.h"
#include "../internal.h"

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
	EXIT_DRIFT = 9,       /* apply --check: the node differs from the configuration */
	EXIT_SERVED = 10,     /* the pool is kubelet-managed (`devmgr serve` hands it out) */
};

#define DEFAULT_CONFIG "/etc/ucni/devmgr.json"

/* main.c: the command line as parsed */
extern struct cli_options {
	const char *sysfs_root, *state_dir, *config;
	bool json, force, check;
	const char *apply;      /* watch --apply CONFIG */
	bool wide, no_headers; /* -o wide, --no-headers: the tables of list and pools */
	const char *pool, *owner, *ifname, *netns, *format;
	int numa, count, timeout;
	const char *kubelet_dir, *devinfo_dir, *resource_prefix; /* serve */
} opt;

/* "devmgr: " and the message on stderr; returns CODE */
int die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The one place errno values become exit codes. */
int exit_code(int e);
/* Prints O (indented) and frees it. */
void print_json(struct cJSON *o);
/* A count: a non-negative decimal integer. -EINVAL otherwise. */
int parse_count(const char *s, int *ret);

/* ctx.c: what a command works on */
const char *state_dir(void);
/* Opens the store; without CREATE only when it exists (*RET then NULL): read-only
 * commands must not create it. 0 or the exit code (after the message). */
int open_store(bool create, dm_store **ret);

/* The allocations: each record, or the error that kept it from being read. */
typedef struct records {
	dm_record **r;
	int *err;
	size_t n;
} records;

typedef struct ctx {
	dm_inventory *inv;
	dm_config *cfg;
	dm_store *store;
	records rs;
} ctx;

enum {
	CTX_CONFIG = 1 << 0,          /* the configuration, when there is one */
	CTX_CONFIG_REQUIRED = 1 << 1, /* ... and fail without one */
	CTX_RECORDS = 1 << 2,         /* the allocations (store opened only if it exists) */
	CTX_STORE = 1 << 3,           /* the store, created if needed */
};

/* Fills the parts of X that WHAT asks for; INV_FLAGS < 0: no inventory. 0 or the exit
 * code (after the message), X then empty. */
int ctx_load(ctx *x, int inv_flags, unsigned what);
/* ... whose inventory has the details of the function PCI only (and of its VFs) */
int ctx_load_of(ctx *x, int inv_flags, const char *pci, unsigned what);
void ctx_done(ctx *x);
/* The record of the VF PCI in RS: NULL when there is none or (*RET_ERR set) it is corrupt. */
const dm_record *record_of(const records *rs, const char *pci, int *ret_err);
/* The pool of D in C (may be NULL), or NULL. */
const char *pool_of(const dm_config *c, const dm_device *d);

/* table.c: the tables a person reads */
#define TABLE_WIDTH 100 /* a row fits this many columns, unless -o wide */
#define TABLE_BOLD "1"
#define TABLE_GREEN "32"
#define TABLE_YELLOW "33"
#define TABLE_RED "31"
/* Colours: stdout is a terminal and NO_COLOR is unset or empty. */
bool table_color(void);
/* S left-aligned in WIDTH columns (right-aligned in -WIDTH) and a space, cut with an ellipsis when longer (not with
 * -o wide), painted COLOR (an SGR code, may be NULL) on a terminal. LAST: the row's last
 * cell, then no padding but the newline (WIDTH 0: never cut). */
void table_cell(const char *s, int width, const char *color, bool last);
/* The header row of N cells (bold), unless --no-headers. */
void table_header(const char *const *names, const int *widths, size_t n);
/* VFs by state, as the summary line counts them. */
typedef struct vf_counts {
	int free, used, stale, unhealthy, corrupt;
} vf_counts;
/* The summary line (unless --no-headers): FMT's text, then ": N free, N used, N unhealthy"
 * and the stale and corrupt ones when there are any. */
void table_summary(const vf_counts *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The colour of a VF state: free, used, or anything else (stale, unhealthy, corrupt). */
const char *state_color(const char *state);

/* One entry point per command: ARGV holds its ARGC operands (main.c checked how many),
 * the options are in opt. Each returns the exit code. */
int cmd_list(int argc, char **argv);    /* inventory.c */
int cmd_show(int argc, char **argv);
int cmd_status(int argc, char **argv);  /* status.c */
int cmd_pools(int argc, char **argv);   /* pools.c */
int cmd_export(int argc, char **argv);
int cmd_alloc(int argc, char **argv);   /* alloc.c */
int cmd_release(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_vfs(int argc, char **argv);     /* provision.c */
int cmd_apply(int argc, char **argv);   /* apply.c */
int cmd_serve(int argc, char **argv);   /* serve.c */
/* apply (or with CHECK, apply --check) of the configuration FILE, its report on OUT
 * (messages on stderr): the exit code. */
int apply_file(const char *file, bool check, FILE *out);

/* provision.c: what vfs and apply share */
/* A PF whose VF count is about to change. */
typedef struct pf_change {
	const char *label;
	char pci[DM_PCI_ADDR_MAX];
	int num;
} pf_change;
/* ARG (PCI address or netdev) into the PF's address; 0 or the exit code (after the message). */
int resolve_pf(const char *arg, char pci[DM_PCI_ADDR_MAX]);
/* Before the VF counts of PFS change: refuses (exit 6, naming every holder) when any of
 * their VFs is allocated or locked, unless --force; otherwise *RET_S (NULL without a
 * store) holds every VF lock of those PFs until the caller frees it. */
int guard_pfs(const char *cmd, const pf_change *pfs, size_t n, dm_store **ret_s);
/* watch.c */
/* APPLY: a configuration re-applied after events (NULL: none) */
int cmd_watch(const char *sysfs_root, int count, int timeout_s, const char *apply);

#endif
