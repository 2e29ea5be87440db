/* The IPAM plugins as the plugins that link this file run them in-process (ucni/ipam.h). */
#include "ucni/ipam.h"
#include "common.h"

static int run(const void *data, enum cni_verb verb, const char *config, size_t len, long long deadline_ms,
	       cJSON **ret_out)
{
	struct cni_plugin cp;
	int r;
	ipam_cni_plugin(data, &cp);
	ipam_deadline_set(deadline_ms);
	r = cni_invoke(&cp, verb, config, len, ret_out);
	ipam_deadline_set(0);
	return r;
}

const struct ipam_builtin ucni_ipam_builtins[] = {
	{.kind = "static", .run = run, .data = &ipam_static},
	{.kind = "host-local", .run = run, .data = &ipam_hostlocal},
	{0},
};
