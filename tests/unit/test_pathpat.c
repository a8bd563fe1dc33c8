/* Tests of hardener/pathpat: a pattern matching the path, a directory above what a pattern could match, and a
 * directory whose whole subtree can be skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hardener/pathpat.h"

static const char *const pats[] = { "/etc/cron.*", "/root/*", "/var/cache/apt" };
#define NPATS (sizeof(pats) / sizeof(pats[0]))

static void test_match(void **state)
{
	(void)state;
	assert_int_equal(pathpat_scan(pats, NPATS, "/etc/cron.daily"), PATHPAT_MATCH);
	assert_int_equal(pathpat_scan(pats, NPATS, "/root/.profile"), PATHPAT_MATCH);
	assert_int_equal(pathpat_scan(pats, NPATS, "/var/cache/apt"), PATHPAT_MATCH);
}

static void test_beneath(void **state)
{
	(void)state;
	/* directories on the way to a match must be walked into */
	assert_int_equal(pathpat_scan(pats, NPATS, "/etc"), PATHPAT_BENEATH);
	assert_int_equal(pathpat_scan(pats, NPATS, "/root"), PATHPAT_BENEATH);
	assert_int_equal(pathpat_scan(pats, NPATS, "/var/cache"), PATHPAT_BENEATH);
	/* the literal part agrees up to the wildcard of the /root pattern: something beneath could match */
	assert_int_equal(pathpat_scan(pats, NPATS, "/root/a/b"), PATHPAT_BENEATH);
}

static void test_none(void **state)
{
	(void)state;
	assert_int_equal(pathpat_scan(pats, NPATS, "/usr"), PATHPAT_NONE);
	assert_int_equal(pathpat_scan(pats, NPATS, "/etc/ssl"), PATHPAT_NONE);
	/* differs from "/etc/cron.*" before its wildcard */
	assert_int_equal(pathpat_scan(pats, NPATS, "/etc/cronx"), PATHPAT_NONE);
	assert_int_equal(pathpat_scan(pats, NPATS, "/var/cache/debconf"), PATHPAT_NONE);
	assert_int_equal(pathpat_scan(pats, 0, "/etc/cron.daily"), PATHPAT_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_beneath),
		cmocka_unit_test(test_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
