/* libFuzzer target: the first byte picks a parser, the rest is its input. Image references that parse must format
 * to a canonical form that parses to itself; challenges, auth files and token replies must never crash, leak or
 * leave a half-filled result on error. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/imageref.h"
#include "lib/registry_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* imageref: parse, format, parse again, same canonical form. */
static void one_ref(const char *s)
{
	struct imageref r, r2;
	char a[1024], b[1024];
	struct err e;

	if (imageref_parse(s, &r, &e) != 0) {
		if (r.registry[0] != '\0' || r.repository[0] != '\0')
			abort();
		return;
	}
	if (imageref_fmt(&r, a, sizeof(a)) != 0 || imageref_parse(a, &r2, &e) != 0 ||
	    imageref_fmt(&r2, b, sizeof(b)) != 0 || strcmp(a, b) != 0)
		abort();
	(void)imageref_host_is_loopback(r.registry);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct registry_challenge ch;
	struct registry_creds cr;
	struct err e;
	int64_t exp;
	char *s, *tok = NULL;

	if (size < 1 || size > 1 << 20)
		return 0;
	if ((s = malloc(size)) == NULL)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 4) {
	case 0:
		one_ref(s);
		break;
	case 1:
		if (registry_challenge_parse(s, size - 1, &ch, &e) != 0 && ch.scheme != REGISTRY_SCHEME_NONE)
			abort();
		break;
	case 2:
		if (registry_auth_lookup(s, size - 1, "fuzz", "r.io", "a/b", &cr, &e) != 0 && cr.user[0] != '\0')
			abort();
		registry_creds_cleanup(&cr);
		break;
	default:
		if (registry_token_parse(s, size - 1, &tok, &exp, &e) == 0) {
			if (tok == NULL || exp < 60)
				abort();
		} else if (tok != NULL) {
			abort();
		}
		free(tok);
		break;
	}
	free(s);
	return 0;
}
