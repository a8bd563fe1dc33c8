/* libFuzzer target: parses the input as a DSSE envelope and, when that succeeds, its payload as an in-toto
 * Statement; also parses the raw input as a Statement and decodes it as base64. Nothing may crash or leak, and the
 * envelope parser's direct scan must agree with the jansson path on every input (abort() otherwise). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"
#include "lib/dsse.h"
#include "lib/intoto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* abort()s unless the two parses of one input agree. */
static void check_same(int r, const struct dsse_envelope *a, int r2, const struct dsse_envelope *b)
{
	size_t i;

	if (r != r2)
		abort();
	if (r != 0)
		return;
	if (strcmp(a->payload_type, b->payload_type) != 0 || a->payload_len != b->payload_len ||
	    memcmp(a->payload, b->payload, a->payload_len) != 0 || a->nsigs != b->nsigs)
		abort();
	for (i = 0; i < a->nsigs; i++)
		if (strcmp(a->sigs[i].keyid, b->sigs[i].keyid) != 0 || a->sigs[i].sig_len != b->sigs[i].sig_len ||
		    memcmp(a->sigs[i].sig, b->sigs[i].sig, a->sigs[i].sig_len) != 0)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dsse_envelope *env = NULL, *ref = NULL;
	struct intoto_statement *st = NULL;
	unsigned char *dec = NULL;
	size_t n;
	struct err e;
	int r, r2;

	r = dsse_parse((const char *)data, size, "fuzz", &env, &e);
	r2 = dsse_parse_json((const char *)data, size, "fuzz", &ref, &e);
	check_same(r, env, r2, ref);
	dsse_envelope_free(ref);
	if (r == 0) {
		if (intoto_parse(env->payload, env->payload_len, &st, &e) == 0)
			intoto_statement_free(st);
		dsse_envelope_free(env);
	}
	st = NULL;
	if (intoto_parse(data, size, &st, &e) == 0)
		intoto_statement_free(st);
	if (base64_decode((const char *)data, size, 1 << 20, &dec, &n, "fuzz", &e) == 0)
		free(dec);
	return 0;
}
