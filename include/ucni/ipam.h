/* IPAM delegation: run the plugin named by ipam.type from CNI_PATH. */
#pragma once

#include "ucni/cni.h"
#include "ucni/result.h"

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
 */
int ipam_exec(const struct cni_ctx *ctx, enum cni_verb verb, const char *stdin_data,
	      size_t stdin_len, struct cni_result **ret_result);
/* Convenience: run with the config as received. */
int ipam_add(const struct cni_ctx *ctx, struct cni_result **ret);
int ipam_forward(const struct cni_ctx *ctx, enum cni_verb verb);
