/* Tests of hardener/cli: size suffixes and their refusals, the getopt usage messages, and the --policy/--keep
 * policy (a kept name is allowed, a bad file is refused with nothing left to free). */
#include <getopt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hardener/cli.h"

static void test_parse_size(void **state)
{
	uint64_t v = 7;
	struct err e;

	assert_int_equal(cli_parse_size("4096", &v, &e), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(cli_parse_size("512M", &v, &e), 0);
	assert_int_equal(v, 512ull << 20);
	assert_int_equal(cli_parse_size("8g", &v, &e), 0);
	assert_int_equal(v, 8ull << 30);
	assert_int_equal(cli_parse_size("2T", &v, &e), 0);
	assert_int_equal(v, 2ull << 40);
	assert_int_equal(cli_parse_size("", &v, &e), ERR_USAGE);
	assert_int_equal(cli_parse_size("0", &v, &e), ERR_USAGE);
	assert_int_equal(cli_parse_size("G", &v, &e), ERR_USAGE);
	assert_int_equal(cli_parse_size("12X", &v, &e), ERR_USAGE);
	assert_non_null(strstr(e.msg, "\"12X\""));
	assert_int_equal(cli_parse_size("99999999999T", &v, &e), ERR_USAGE);
	assert_int_equal(cli_parse_size("123456789012345678901234567890123", &v, &e), ERR_USAGE);
	assert_int_equal(v, 2ull << 40); /* unchanged by the refusals */
}

static void test_opt_messages(void **state)
{
	char a0[] = "scan", a1[] = "--bogus", *argv[] = { a0, a1, NULL };
	char msg[200];

	optind = 2;
	assert_string_equal(cli_opt_error('?', argv, msg, sizeof(msg)), "unknown option --bogus");
	assert_string_equal(cli_opt_error(':', argv, msg, sizeof(msg)), "option --bogus needs an argument");
	assert_string_equal(cli_opt_refused(argv, msg, sizeof(msg)), "unknown option or missing value: \"--bogus\"");
	optind = 1;
}

static void test_policy_load(void **state)
{
	char k0[] = "curl", *keep[] = { k0 };
	struct hpolicy pol;
	struct err e;

	assert_int_equal(cli_policy_load(&pol, NULL, keep, 1, &e), 0);
	assert_true(strlist_has(&pol.allow, "curl"));
	assert_true(strncmp(pol.digest, "sha256:", 7) == 0);
	hpolicy_cleanup(&pol);
	/* A missing file: refused, and under ASan nothing leaks though the defaults were built first. */
	assert_int_not_equal(cli_policy_load(&pol, "/nonexistent/policy.json", keep, 1, &e), 0);
	assert_non_null(strstr(e.msg, "/nonexistent/policy.json"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_opt_messages),
		cmocka_unit_test(test_policy_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
