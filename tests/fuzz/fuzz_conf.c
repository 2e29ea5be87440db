/* libFuzzer: a network config through the common parser and the keys of every
 * plugin: macvlan, ipvlan (stacked kinds) and sriov. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ucni/cni.h"
#include "ucni/result.h"
#include "ucni/stacked.h"

extern const struct link_kind macvlan_kind, ipvlan_kind;
int sriov_fuzz_parse(struct cni_ctx *ctx);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cni_ctx ctx = {0};
	struct stacked_conf sc = {0};
	char *raw = malloc(size + 1);
	if (!raw)
		return 0;
	memcpy(raw, data, size);
	raw[size] = '\0';
	if (cni_conf_parse(&ctx.conf, raw, size) == 0) {
		const struct link_kind *kinds[] = {&macvlan_kind, &ipvlan_kind};
		for (size_t i = 0; i < 2; i++) {
			memset(&sc, 0, sizeof(sc));
			cni_error_reset();
			if (stacked_conf_parse(kinds[i], &ctx, &sc) < 0 && !cni_failed())
				abort(); /* every refusal must say why */
			free(sc.kind);
		}
		cni_error_reset();
		if (sriov_fuzz_parse(&ctx) < 0 && !cni_failed())
			abort();
		if (ctx.conf.prev) {
			cJSON *o = cni_result_to_json(ctx.conf.prev, ctx.conf.version);
			cJSON_Delete(o);
		}
	} else if (!cni_failed()) {
		abort();
	}
	cni_conf_free(&ctx.conf); /* frees raw */
	cni_error_reset();
	return 0;
}
