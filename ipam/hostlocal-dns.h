/* host-local's resolvConf: a resolv.conf file named by the config, read as the reference
 * plugin reads it, into a result's dns. */
#pragma once

#include <cjson/cJSON.h>

#include "ucni/result.h"

/* At most this much of the file is read. */
#define HL_RESOLV_CONF_MAX (1 << 20)

/* The dns of a resolv.conf text, as the reference reads it: nameserver (the first word of
 * each line), domain (the last one), search and options (every word); comments (# ;) and
 * lines of one word skipped. Added to the object dns. 0 or -ENOMEM. */
int hl_resolv_parse(const char *text, cJSON *dns);
/* Read PATH, a file the config names (ipam.resolvConf): only below a configDirs directory
 * of the node settings, by node_open()'s rules (code 7 naming the key otherwise; 5 when
 * it cannot be read), and set res->dns from it. 0 or the cni_fail() value. */
int hl_resolv_load(const char *path, struct cni_result *res);
