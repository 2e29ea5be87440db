/* libFuzzer: CNI_ARGS and the names that come from the environment. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ucni/cni.h"

static const char *const known[] = {"MAC", "K8S_POD_NAME", NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cni_env env = {0};
	char *s = malloc(size + 1);
	unsigned char mac[6];
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (cni_args_parse(&env, s, known) == 0) {
		for (size_t i = 0; i < env.n_args; i++)
			if (strchr(env.args[i].key, ';') || strchr(env.args[i].key, '='))
				abort();
		const char *m = cni_env_arg(&env, "MAC");
		if (m)
			parse_mac(m, mac);
	}
	cni_env_free(&env);
	cni_error_reset();
	/* a name that passes must be safe as a path component */
	if (cni_validate_ifname(s, "ifname") == 0 && (strchr(s, '/') || strlen(s) > 15 || !strcmp(s, "..")))
		abort();
	if (cni_validate_containerid(s) == 0 && (strchr(s, '/') || s[0] == '.'))
		abort();
	cni_error_reset();
	free(s);
	return 0;
}
