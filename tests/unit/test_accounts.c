/* Tests of hardener/accounts: exact-name matching, malformed lines named by line number, edits that keep every
 * other field and line, and byte-exact round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hardener/accounts.h"

static struct acct_file *parse_ok(enum acct_kind kind, const char *text)
{
	struct acct_file *f = NULL;
	struct err e;

	err_clear(&e);
	assert_int_equal(accounts_parse(kind, "/etc/x", text, strlen(text), &f, &e), 0);
	assert_non_null(f);
	return f;
}

static char *fmt(const struct acct_file *f)
{
	struct strbuf sb;
	struct err e;

	sb_init(&sb, ACCT_MAX_FILE);
	assert_int_equal(accounts_fmt(f, &sb, &e), 0);
	return sb_steal(&sb, NULL);
}

static void test_round_trip(void **state)
{
	static const char *const inputs[] = {
		"root:x:0:0:root:/root:/bin/bash\n# comment: with colons\n\nbin:x:2:2:bin:/bin:/usr/sbin/nologin\n",
		"root:x:0:0::/root:/bin/sh", /* no final newline */
		"",
		"\n\n",
	};
	size_t i;

	for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		struct acct_file *f = parse_ok(ACCT_PASSWD, inputs[i]);
		char *out = fmt(f);

		assert_string_equal(out, inputs[i]);
		free(out);
		accounts_free(f);
	}
}

static void test_exact_names(void **state)
{
	struct acct_file *f = parse_ok(ACCT_PASSWD,
	    "rootfoo:x:0:0::/:/bin/sh\nroot:x:0:0::/root:/bin/sh\nappuser2:x:1001:1001::/:/bin/sh\n");

	assert_int_equal(accounts_find(f, "root"), 1);
	assert_int_equal(accounts_find(f, "appuser"), -1);
	assert_int_equal(accounts_find(f, "roo"), -1);
	assert_int_equal(accounts_find(f, ""), -1);
	accounts_delete(f, 1);
	assert_int_equal(accounts_find(f, "root"), -1);
	assert_int_equal(accounts_find(f, "rootfoo"), 0);
	assert_true(accounts_list_has("a,root,b", "root"));
	assert_false(accounts_list_has("a,rootfoo,b", "root"));
	assert_false(accounts_list_has("", "root"));
	assert_true(accounts_list_has("root", "root"));
	accounts_free(f);
}

static void test_malformed(void **state)
{
	static const struct {
		enum acct_kind kind;
		const char *text;
		int code;
		const char *needle;
	} cases[] = {
		{ ACCT_PASSWD, "root:x:0:0::/root:/bin/sh\n\nbad:x:1:1\n", ERR_PARSE, "/etc/x line 3" },
		{ ACCT_PASSWD, "a:x:0:0::/:/bin/sh:extra\n", ERR_PARSE, "line 1" },
		{ ACCT_PASSWD, "a:x:-1:0::/:/bin/sh\n", ERR_PARSE, "line 1" },
		{ ACCT_PASSWD, "a:x:0:4294967296::/:/bin/sh\n", ERR_PARSE, "line 1" },
		{ ACCT_PASSWD, ":x:0:0::/:/bin/sh\n", ERR_PARSE, "empty account name" },
		{ ACCT_GROUP, "root:x:0:\nwheel:x:abc:\n", ERR_PARSE, "line 2" },
		{ ACCT_SHADOW, "root:*:1:0:99999:7::\n", ERR_PARSE, "9 colon-separated" },
		{ ACCT_GSHADOW, "root:::\nx::\n", ERR_PARSE, "line 2" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct acct_file *f = (struct acct_file *)1;
		struct err e;

		err_clear(&e);
		assert_int_equal(accounts_parse(cases[i].kind, "/etc/x", cases[i].text, strlen(cases[i].text), &f, &e),
		    cases[i].code);
		assert_null(f);
		assert_non_null(strstr(e.msg, cases[i].needle));
	}
}

static void test_caps(void **state)
{
	size_t n = ACCT_MAX_LINE + 10;
	char *big = malloc(n);
	struct acct_file *f = NULL;
	struct err e;

	memset(big, 'a', n);
	assert_int_equal(accounts_parse(ACCT_PASSWD, "/etc/passwd", big, n, &f, &e), ERR_TOO_LARGE);
	assert_non_null(strstr(e.msg, "line 1"));
	assert_int_equal(accounts_parse(ACCT_PASSWD, "/etc/passwd", big, (size_t)ACCT_MAX_FILE + 1, &f, &e),
	    ERR_TOO_LARGE);
	big[3] = '\0';
	assert_int_equal(accounts_parse(ACCT_PASSWD, "/etc/passwd", big, 10, &f, &e), ERR_PARSE);
	assert_null(f);
	free(big);
}

static void test_edit_keeps_other_fields(void **state)
{
	struct acct_file *f = parse_ok(ACCT_SHADOW,
	    "root::19000:0:99999:7:::\n# keep me\ndaemon:*:19000:0:99999:7:::\nbin:$6$salt$hash:19000:0:99999:7:::");
	const char *const add[] = { "appuser", "!", "", "", "", "", "", "", "" };
	struct err e;
	char *out;
	uint32_t id;

	assert_int_equal(accounts_set(f, 0, SP_PWD, "!", &e), 1);
	assert_int_equal(accounts_set(f, 0, SP_PWD, "!", &e), 0);
	assert_int_equal(accounts_set(f, 0, SP_PWD, "a:b", &e), ERR_INVALID);
	assert_int_equal(accounts_set(f, 1, SP_PWD, "!", &e), ERR_INVALID); /* a comment */
	accounts_delete(f, 3);
	assert_int_equal(accounts_append(f, add, &e), 0);
	out = fmt(f);
	assert_string_equal(out,
	    "root:!:19000:0:99999:7:::\n# keep me\ndaemon:*:19000:0:99999:7:::\nappuser:!:::::::\n");
	free(out);
	assert_string_equal(accounts_get(f, 2, SP_MAX), "99999");
	accounts_free(f);

	f = parse_ok(ACCT_GROUP, "root:x:0:root,rootfoo\n");
	assert_int_equal(accounts_id(f, 0, GR_GID, &id, &e), 0);
	assert_int_equal(id, 0);
	assert_int_equal(accounts_set(f, 0, GR_MEM, "root", &e), 1);
	out = fmt(f);
	assert_string_equal(out, "root:x:0:root\n");
	free(out);
	accounts_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_exact_names),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_edit_keeps_other_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
