/* libFuzzer target: loads the input as a policy file over the defaults. When it is accepted, the effective policy
 * written back as JSON must load again to the same digest; when refused, the defaults must be intact. Nothing may
 * crash or leak. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "hardener/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hpolicy p, q;
	struct err e;
	json_t *j;
	char *s;

	if (hpolicy_init_defaults(&p, &e) != 0)
		return 0;
	if (hpolicy_load_buf(&p, "fuzz", (const char *)data, size, &e) != 0) {
		if (strcmp(p.user, "appuser") != 0 || p.uid != 1000)
			abort();
		hpolicy_cleanup(&p);
		return 0;
	}
	if (hpolicy_finalize(&p, &e) != 0 || (j = hpolicy_to_json(&p)) == NULL)
		abort();
	if ((s = json_dumps(j, JSON_COMPACT)) == NULL || hpolicy_init_defaults(&q, &e) != 0)
		abort();
	if (hpolicy_load_buf(&q, "fuzz-roundtrip", s, strlen(s), &e) != 0 || hpolicy_finalize(&q, &e) != 0 ||
	    strcmp(p.digest, q.digest) != 0)
		abort();
	free(s);
	json_decref(j);
	hpolicy_cleanup(&q);
	hpolicy_cleanup(&p);
	return 0;
}
