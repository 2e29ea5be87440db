/* The configuration parser's shared context (config.c, config-pf.c): the JSON path of the
 * value at hand and the message buffer. Not installed. */
#ifndef DEVMGR_CONFIG_H
#define DEVMGR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "internal.h"

typedef struct pctx {
	char *err;
	size_t errlen;
	bool quiet; /* DM_CONFIG_QUIET: no value of the text in a message */
	char path[192];
} pctx;

/* S, a value or key from the text, as a message may show it. */
static inline const char *val(const pctx *x, const char *s)
{
	return x->quiet ? "..." : s;
}

#define FAIL(ctx, r, ...) do { errbuf_set((ctx)->err, (ctx)->errlen, __VA_ARGS__); return (r); } while (0)

/* Was V's key seen earlier in its object O? */
bool config_key_repeated(const cJSON *o, const cJSON *v);

/* config-pf.c: one element of "pfs" into PF (zeroed by the caller); on failure PF holds
 * what was parsed, for config_pf_done(). */
int config_parse_pf(pctx *x, const cJSON *o, dm_pf_spec *pf);
void config_pf_done(dm_pf_spec *pf);

#endif
