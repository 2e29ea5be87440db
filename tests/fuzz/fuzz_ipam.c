/* libFuzzer: a network config through the common parser, then the IPAM plugins' own
 * parsers: host-local's (ranges, requested addresses, dataDir, the allocation order) and
 * static's (addresses, routes, dns, CHECK against prevResult). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ucni/cni.h"

int hostlocal_fuzz_parse(struct cni_ctx *ctx);
int static_fuzz_parse(struct cni_ctx *ctx);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cni_ctx ctx = {0};
	char *raw = malloc(size + 1);
	if (!raw)
		return 0;
	memcpy(raw, data, size);
	raw[size] = '\0';
	ctx.env.containerid = "fuzz";
	ctx.env.ifname = "eth0";
	if (cni_conf_parse(&ctx.conf, raw, size) == 0) {
		int (*const parsers[])(struct cni_ctx *) = {hostlocal_fuzz_parse, static_fuzz_parse};
		for (size_t i = 0; i < 2; i++) {
			cni_error_reset();
			int r = parsers[i](&ctx);
			if (r < 0 && r != -ENOMEM && !cni_failed())
				abort(); /* every refusal must say why */
		}
	} else if (!cni_failed()) {
		abort();
	}
	cni_conf_free(&ctx.conf); /* frees raw */
	cni_error_reset();
	return 0;
}
