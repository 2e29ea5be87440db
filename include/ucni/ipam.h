/* IPAM delegation: run the plugin named by ipam.type from CNI_PATH. */
#pragma once

#include "ucni/cni.h"
#include "ucni/result.h"

/*
 * An IPAM plugin this binary can run in-process (see lib/cni/ipam-inproc.c): a plugin
 * that links ipam/inproc.c has ucni_ipam_builtins (static, host-local), ended by an
 * entry without kind; other programs do not (the symbol is weak: NULL), and always
 * exec. run() does what the IPAM program does for `verb` with `config` on stdin and
 * this process's environment (CNI_COMMAND aside): its ADD result or VERSION answer in
 * *ret_out, its error recorded (cni_fail); waits end by deadline_ms (monotonic ms).
 */
struct ipam_builtin {
	const char *kind; /* the kind in the IPAM binary's note */
	int (*run)(const void *data, enum cni_verb verb, const char *config, size_t len, long long deadline_ms,
		   cJSON **ret_out);
	const void *data;
};
extern const struct ipam_builtin ucni_ipam_builtins[] __attribute__((weak));

/* Find `type` (a plain name) in the ':'-separated `path`; *ret is malloc'd. */
int ipam_find(const char *path, const char *type, char **ret);
/*
 * Run the IPAM plugin for `verb` with the invocation's environment
 * (CNI_COMMAND replaced) and `stdin_data` on stdin. For ADD the parsed result
 * is stored in *ret_result (may be NULL for other verbs). A CNI error printed
 * by the plugin is taken over as this invocation's error.
 *
 * The plugin runs in its own process group and is killed (SIGKILL) when the
 * calling thread dies; the caller must be single-threaded. Each run is bounded
 * by UCNI_IPAM_TIMEOUT_MS (default 60000 ms) from start to exit; past it, on
 * more than 1 MiB of output or when the output cannot be read, the group is
 * killed and the call fails with CNI_ERR_IPAM. The group, including what the
 * plugin forked, is reaped before the call returns (the process becomes a
 * child subreaper on the first call). An ADD that fails in any way after the
 * plugin started is followed by an IPAM DEL (timeout: 10 s)
 * whose outcome does not change the error reported.
 * When the file found is ucni's own IPAM of this build (ipam_inproc_match) and the
 * config's "ipamInProcess" is not false, its code runs in this process instead, with the
 * same input, answer and error; a run that ends past the timeout fails as one killed.
 */
int ipam_exec(const struct cni_ctx *ctx, enum cni_verb verb, const char *stdin_data,
	      size_t stdin_len, struct cni_result **ret_result);
/* Convenience: run with the config as received. */
int ipam_add(const struct cni_ctx *ctx, struct cni_result **ret);

/*
 * May the IPAM binary at `path` be run in-process, as ucni's own IPAM of this build?
 * It must be a regular file owned by root or by us, not writable by group or others,
 * neither setuid nor setgid, without file capabilities, on a filesystem that allows
 * exec, and carry the note of an IPAM this binary has built in with this build's id.
 * 1 with *ret the builtin, 0 with *ret_why the reason when not (a static string).
 */
int ipam_inproc_match(const char *path, const struct ipam_builtin **ret, const char **ret_why);
int ipam_forward(const struct cni_ctx *ctx, enum cni_verb verb);
