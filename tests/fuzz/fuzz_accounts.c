/* libFuzzer target: parses the input as each kind of colon file and, when that succeeds, formats it back, which must
 * give the input byte for byte; edits it (delete, set, append) and formats again. Also classifies the input as a
 * multi-call binary. Nothing may crash or leak. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hardener/accounts.h"
#include "hardener/multicall.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum acct_kind kinds[] = { ACCT_PASSWD, ACCT_GROUP, ACCT_SHADOW, ACCT_GSHADOW };
	static const char *const fields[] = { "appuser", "!", "1000", "1000", "", "/app", "/sbin/nologin", "", "" };
	struct multicall *m = NULL;
	struct err e;
	size_t k, i;

	for (k = 0; k < 4; k++) {
		struct acct_file *f = NULL;
		struct strbuf sb;

		if (accounts_parse(kinds[k], "fuzz", (const char *)data, size, &f, &e) != 0)
			continue;
		sb_init(&sb, ACCT_MAX_FILE + 1);
		if (accounts_fmt(f, &sb, &e) != 0 || sb.len != size || (size > 0 && memcmp(sb.data, data, size) != 0))
			abort();
		sb_cleanup(&sb);
		for (i = 0; i < f->n; i++) {
			if (!accounts_is_entry(f, i))
				continue;
			if (i % 2 == 0)
				accounts_delete(f, i);
			else if (accounts_set(f, i, 1, "!", &e) < 0)
				abort();
		}
		if (accounts_append(f, fields, &e) != 0 || accounts_find(f, "appuser") < 0)
			abort();
		sb_init(&sb, ACCT_MAX_FILE + 1024);
		if (accounts_fmt(f, &sb, &e) != 0)
			abort();
		sb_cleanup(&sb);
		accounts_free(f);
	}
	if (multicall_classify((const char *)data, size, &m, &e) == 0 && m != NULL && m->applets_known)
		for (i = 1; i < m->napplets; i++)
			if (strcmp(m->applets[i - 1], m->applets[i]) >= 0 || !multicall_has_applet(m, m->applets[i]))
				abort();
	multicall_free(m);
	return 0;
}
