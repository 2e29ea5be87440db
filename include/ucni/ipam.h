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
 */
int ipam_exec(const struct cni_ctx *ctx, enum cni_verb verb, const char *stdin_data,
	      size_t stdin_len, struct cni_result **ret_result);
/* Convenience: run with the config as received. */
int ipam_add(const struct cni_ctx *ctx, struct cni_result **ret);
int ipam_forward(const struct cni_ctx *ctx, enum cni_verb verb);
