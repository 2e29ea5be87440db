/* libFuzzer: results of any version; printing is stable across a round trip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ucni/cni.h"
#include "ucni/result.h"

static char *print(const struct cni_result *r, enum cni_version v)
{
	cJSON *o = cni_result_to_json(r, v);
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *j = cJSON_ParseWithLength((const char *)data, size);
	struct cni_result *r = NULL;
	if (j && cni_result_parse(j, "fuzz", &r) == 0) {
		for (int v = 0; v < CNI_V_COUNT; v++) {
			char *a = print(r, v);
			cJSON *j2 = cJSON_Parse(a);
			struct cni_result *r2 = NULL;
			/* what we print, we must parse back, and print the same way */
			if (!j2 || cni_result_parse(j2, "again", &r2) < 0)
				abort();
			char *b = print(r2, v);
			if (strcmp(a, b) != 0)
				abort();
			free(a);
			free(b);
			cJSON_Delete(j2);
			cni_result_free(r2);
		}
		cni_result_free(r);
	}
	cJSON_Delete(j);
	cni_error_reset();
	return 0;
}
