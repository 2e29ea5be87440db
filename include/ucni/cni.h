/* ucni CNI core: protocol (environment, verbs, versions), errors and the plugin skeleton. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "ucni/io.h"

/* Error codes from the CNI spec; 100+ are ucni's own (see README, Error codes). */
enum cni_code {
	CNI_ERR_INCOMPATIBLE_VERSION = 1,
	CNI_ERR_UNSUPPORTED_FIELD = 2,
	CNI_ERR_UNKNOWN_CONTAINER = 3,
	CNI_ERR_INVALID_ENV = 4,
	CNI_ERR_IO = 5,
	CNI_ERR_DECODE = 6,
	CNI_ERR_INVALID_CONFIG = 7,
	CNI_ERR_TRY_AGAIN = 11,
	CNI_ERR_NOT_AVAILABLE = 50,
	CNI_ERR_NOT_AVAILABLE_EXISTING = 51,
	CNI_ERR_KERNEL = 100, /* the kernel refused a network operation */
	CNI_ERR_IPAM = 101,   /* the IPAM plugin failed without a CNI error of its own */
	CNI_ERR_DEVICE = 102, /* a device is missing, busy or in a state we cannot use */
	CNI_ERR_INTERNAL = 999,
};

/*
 * The error of this invocation. The first cni_fail() wins: the place that knows
 * the context names the field or object, lower layers only add details.
 * Returns r when it is a negative errno, else -EINVAL, so callers can write
 * `return cni_fail(...)`.
 */
int cni_fail(int code, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* cni_fail gives a failed operation (codes 5, 11, 100, 101, 999) the errno's
 * text as details. The error printer knows nothing of the kernel: for a
 * request the kernel refused, cni_fail_kernel adds kmsg, its extended-ack text
 * for that very request (nlsk_message() of the socket it went through; NULL or
 * "" for none), after the errno's text. */
int cni_fail_kernel(int code, int r, const char *kmsg, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Like cni_fail, with explicit details (NULL: derived from r). */
int cni_fail_details(int code, int r, const char *details, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Take over an error another CNI plugin printed (IPAM): code, msg, details. */
int cni_fail_from_json(const cJSON *err, const char *who);
bool cni_failed(void);
int cni_error_code(void);
const char *cni_error_msg(void);
/* The error JSON {cniVersion, code, msg, details} in `version` (NULL: newest). */
cJSON *cni_error_json(const char *version);
/* Print it on stdout. */
void cni_error_print(const char *version);
void cni_error_reset(void);
/* The recorded error, moved out (none is left recorded) and put back: what an IPAM run
 * in-process records is taken over like an exec'd one's (see lib/cni/ipam-inproc.c). */
struct cni_error_saved {
	int code;
	char *msg;
	char *details;
};
void cni_error_stash(struct cni_error_saved *ret);
void cni_error_unstash(struct cni_error_saved *saved);
void cni_error_saved_free(struct cni_error_saved *saved);

/* ---- versions ---- */
enum cni_version {
	CNI_V030,
	CNI_V031,
	CNI_V040,
	CNI_V100,
	CNI_V110,
	CNI_V_COUNT,
};
#define CNI_V_NEWEST CNI_V110
const char *cni_version_str(enum cni_version v);
/* -1 when unsupported */
int cni_version_parse(const char *s);
/* {"cniVersion": newest, "supportedVersions": [...]} */
cJSON *cni_version_info(void);

/* ---- verbs and environment ---- */
enum cni_verb {
	CNI_ADD,
	CNI_DEL,
	CNI_CHECK,
	CNI_VERSION,
	CNI_STATUS,
	CNI_GC,
	CNI_VERB_COUNT,
};
const char *cni_verb_str(enum cni_verb v);
int cni_verb_parse(const char *s);

struct cni_arg {
	char *key;
	char *value;
};

struct cni_env {
	enum cni_verb verb;
	const char *command;
	const char *containerid;
	const char *netns; /* NULL or "" when absent */
	const char *ifname;
	const char *path;
	const char *args_raw;
	struct cni_arg *args;
	size_t n_args;
	bool ignore_unknown;
};

/*
 * Read and validate the CNI_* variables for the verb they name. `known_args`
 * (NULL-terminated) lists the CNI_ARGS keys the plugin understands; others are
 * refused unless IgnoreUnknown is set. Errors are recorded with cni_fail().
 */
int cni_env_load(struct cni_env *ret, const char *const *known_args);
/* The same with `command` in place of CNI_COMMAND's value. */
int cni_env_load_verb(struct cni_env *ret, const char *command, const char *const *known_args);
void cni_env_free(struct cni_env *env);
const char *cni_env_arg(const struct cni_env *env, const char *key);
/* Exposed for the unit tests: parse "K=V;K=V" into env->args. */
int cni_args_parse(struct cni_env *env, const char *raw, const char *const *known_args);
int cni_validate_ifname(const char *name, const char *what);
/* Why `name` cannot be an interface name, or NULL when it can. */
const char *cni_ifname_problem(const char *name);
int cni_validate_containerid(const char *id);

/* ---- network configuration ---- */
struct cni_result;

struct cni_conf {
	cJSON *root;         /* the whole config as received (owned) */
	char *raw;           /* stdin bytes, passed on to IPAM unchanged */
	size_t raw_len;
	enum cni_version version;
	const char *version_str;
	const char *name;
	const char *type;
	const cJSON *ipam;       /* NULL when absent or empty: L2 only */
	const char *ipam_type;
	bool ipam_in_process;    /* "ipamInProcess" (default true): see lib/cni/ipam-inproc.c */
	const cJSON *dns;
	const cJSON *runtime;    /* runtimeConfig */
	const cJSON *prev_json;  /* prevResult */
	struct cni_result *prev; /* parsed prevResult */
};

/* Parse the common keys (cniVersion, name, type, ipam, dns, prevResult, runtimeConfig, logLevel, logFile). */
int cni_conf_parse(struct cni_conf *ret, char *raw, size_t len);
void cni_conf_free(struct cni_conf *c);

/* Typed access to config keys. Each returns 1 when the key is present and
 * valid, 0 when absent (or null), and records a code-7 error naming the key
 * and the value when it has the wrong type or range. `where` prefixes the key
 * in messages ("ipam", "runtimeConfig"), NULL for the top level. */
int conf_string(const cJSON *obj, const char *where, const char *key, const char **ret);
int conf_int(const cJSON *obj, const char *where, const char *key, long long min, long long max,
	     long long *ret);
int conf_bool(const cJSON *obj, const char *where, const char *key, bool *ret);
/* One of `choices` (NULL-terminated); *ret is its index. */
int conf_enum(const cJSON *obj, const char *where, const char *key, const char *const *choices,
	      int *ret);
/* A MAC address "aa:bb:cc:dd:ee:ff": unicast, not all-zero. */
int conf_mac(const cJSON *obj, const char *where, const char *key, unsigned char ret[6]);
int parse_mac(const char *s, unsigned char ret[6]);
/* "mtu": 0 (keep) or 68..65535. */
int conf_mtu(const cJSON *obj, unsigned int *ret);

struct cni_ctx;
/* The MAC the runtime and user asked for: runtimeConfig.mac > CNI_ARGS MAC >
 * the config's "mac". 1 when one was given, 0 when none. */
int conf_mac_chosen(const struct cni_ctx *ctx, unsigned char ret[6]);
void format_mac(const unsigned char mac[6], char buf[18]);

/* ---- the plugin skeleton ---- */
struct cni_plugin;
struct cni_ctx {
	struct cni_env env;
	struct cni_conf conf;
	const struct cni_plugin *plugin; /* the plugin cni_main runs */
	bool attach_locked; /* ADD, CHECK, DEL: cni_main holds the attachment's lock */
	int attach_fd;      /* ... its lock file, valid when attach_locked */
};

/*
 * A note the attachment's lock file keeps from one call to the next: ADD notes
 * "creating" right before it creates a link and clears it once the link carries
 * its ownership mark (or is gone again), so a DEL after an ADD killed between
 * the two knows the unmarked link is this attachment's. NULL or "" clears it.
 * No-ops without the lock. Best effort: 0 or -errno.
 */
int cni_attach_note(const struct cni_ctx *ctx, const char *note);
/* Does the attachment's lock file hold `note`? */
bool cni_attach_noted(const struct cni_ctx *ctx, const char *note);

struct cni_plugin {
	const char *name;
	const char *about;
	const char *const *known_args; /* CNI_ARGS keys besides IgnoreUnknown */
	int (*add)(struct cni_ctx *ctx, cJSON **ret_result);
	int (*del)(struct cni_ctx *ctx);
	int (*check)(struct cni_ctx *ctx);
	int (*status)(struct cni_ctx *ctx);
	int (*gc)(struct cni_ctx *ctx);
	const void *data; /* the plugin's own, for its verbs: ctx->plugin->data */
	/* An IPAM plugin: it runs inside the ADD, CHECK or DEL of the plugin that executes
	 * it, which holds the attachment's lock, so it takes none (and GC sweeps none). */
	bool ipam;
};

/* CNI_ARGS keys the plugins understand: MAC and the ones kubelet sends. */
extern const char *const cni_common_args[];

/* The temporary interface name of this attachment ("ucni" + hash of container
 * id and ifname): derived, not random, so a DEL (or the next ADD) after a crash
 * between move and rename finds the interface. */
void cni_tmpname(const struct cni_env *env, char buf[16]);

/* Open CNI_NETNS: a missing namespace is an unknown container (3), anything
 * that is not a network namespace a bad variable (4). */
int cni_netns_open(const struct cni_env *env, int *ret_fd);

/* CHECK: the index of CNI_IFNAME in prevResult's interfaces (and, with
 * in_sandbox, with CNI_NETNS as its sandbox). Errors (code 7) when prevResult
 * is missing or lacks it. The last match wins, as a chain appends. */
int cni_prev_iface(const struct cni_ctx *ctx, bool in_sandbox, int *ret);

/*
 * Runs one CNI invocation and returns the process exit status. ADD, CHECK and
 * DEL run under the lock of their attachment (CNI_CONTAINERID, CNI_IFNAME),
 * waited for at most $UCNI_LOCK_TIMEOUT_MS (default 10000) before failing with
 * code 11; the lock files live in $UCNI_LOCK_DIR (default /run/ucni/attach).
 * VERSION, STATUS and GC take no lock; GC removes the lock files nobody holds.
 * An IPAM plugin (plugin->ipam) takes no lock and removes none.
 */
int cni_main(const struct cni_plugin *plugin);
/*
 * One invocation of an IPAM plugin (plugin->ipam) inside this process: what cni_main
 * does with `command` as CNI_COMMAND and `data` as stdin, without printing. The ADD
 * result (or the VERSION answer) goes to *ret_out, an error is recorded (cni_fail).
 * The log stays the caller's (the config's logLevel/logFile are checked, not opened).
 * 0 or -errno; -EINVAL for a plugin that is not an IPAM plugin.
 */
int cni_invoke(const struct cni_plugin *plugin, enum cni_verb verb, const char *data, size_t len,
	       cJSON **ret_out);
/* The lock file of the attachment in env (for tests and tools). */
int cni_attach_lock_path(const struct cni_env *env, char *buf, size_t size);

/* Print JSON on stdout, indented like the reference plugins' output. */
void cni_print_json(const cJSON *o);

