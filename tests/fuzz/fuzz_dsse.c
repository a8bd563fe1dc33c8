/* libFuzzer target: parses the input as a DSSE envelope and, when that succeeds, its payload as an in-toto
 * Statement; also parses the raw input as a Statement and decodes it as base64. Nothing may crash or leak. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "lib/base64.h"
#include "lib/dsse.h"
#include "lib/intoto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dsse_envelope *env = NULL;
	struct intoto_statement *st = NULL;
	unsigned char *dec = NULL;
	size_t n;
	struct err e;

	if (dsse_parse((const char *)data, size, "fuzz", &env, &e) == 0) {
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
