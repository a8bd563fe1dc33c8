/* Tests of lib/str: number parsing edges, durations, escaping and the capped buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/str.h"

static void test_u64(void **state)
{
	uint64_t v = 7;
	struct err e;

	assert_int_equal(str_to_u64("1000", 0, 65535, &v, "uid", &e), 0);
	assert_int_equal(v, 1000);
	assert_int_equal(str_to_u64("18446744073709551615", 0, UINT64_MAX, &v, "n", &e), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(str_to_u64("18446744073709551616", 0, UINT64_MAX, &v, "n", &e), ERR_INVALID);
	assert_int_equal(str_to_u64("", 0, 10, &v, "n", &e), ERR_PARSE);
	assert_int_equal(str_to_u64("+1", 0, 10, &v, "n", &e), ERR_PARSE);
	assert_int_equal(str_to_u64(" 1", 0, 10, &v, "n", &e), ERR_PARSE);
	assert_int_equal(str_to_u64("1x", 0, 10, &v, "n", &e), ERR_PARSE);
	assert_int_equal(str_to_u64("11", 0, 10, &v, "uid", &e), ERR_INVALID);
	assert_non_null(strstr(e.msg, "uid"));
}

static void test_i64(void **state)
{
	int64_t v;
	struct err e;

	assert_int_equal(str_to_i64("-9223372036854775808", INT64_MIN, INT64_MAX, &v, "n", &e), 0);
	assert_true(v == INT64_MIN);
	assert_int_equal(str_to_i64("9223372036854775808", INT64_MIN, INT64_MAX, &v, "n", &e), ERR_INVALID);
	assert_int_equal(str_to_i64("-", INT64_MIN, INT64_MAX, &v, "n", &e), ERR_PARSE);
	assert_int_equal(str_to_i64("-5", 0, 10, &v, "n", &e), ERR_INVALID);
}

static void test_duration(void **state)
{
	uint64_t ms;
	struct err e;

	assert_int_equal(str_to_duration_ms("720h", &ms, "maxAge", &e), 0);
	assert_true(ms == 720ULL * 3600 * 1000);
	assert_int_equal(str_to_duration_ms("1h30m", &ms, "d", &e), 0);
	assert_true(ms == 90ULL * 60 * 1000);
	assert_int_equal(str_to_duration_ms("250ms", &ms, "d", &e), 0);
	assert_true(ms == 250);
	assert_int_equal(str_to_duration_ms("10", &ms, "d", &e), ERR_PARSE);
	assert_int_equal(str_to_duration_ms("h", &ms, "d", &e), ERR_PARSE);
	assert_int_equal(str_to_duration_ms("5d", &ms, "d", &e), ERR_PARSE);
	assert_int_equal(str_to_duration_ms("99999999999999999999h", &ms, "d", &e), ERR_PARSE);
}

static void test_escape(void **state)
{
	char out[32];

	str_escape(out, sizeof(out), "a\"b\\c\n", 6, 100);
	assert_string_equal(out, "a\\\"b\\\\c\\x0a");
	str_escape(out, sizeof(out), "abcdefghijklmnopqrstuvwxyz0123456789", 36, 100);
	assert_int_equal(strlen(out), sizeof(out) - 1);
	assert_string_equal(out + strlen(out) - 3, "...");
	str_escape(out, sizeof(out), "abcdef", 6, 4);
	assert_string_equal(out, "abcd...");
}

static void test_strbuf_cap(void **state)
{
	struct strbuf sb;
	char *s;
	size_t n;

	sb_init(&sb, 8);
	assert_int_equal(sb_puts(&sb, "12345"), 0);
	assert_int_equal(sb_puts(&sb, "6789"), ERR_TOO_LARGE);
	assert_int_equal(sb.len, 5); /* unchanged on error */
	assert_int_equal(sb_printf(&sb, "%d", 678), 0);
	assert_string_equal(sb.data, "12345678");
	assert_int_equal(sb_printf(&sb, "x"), ERR_TOO_LARGE);
	s = sb_steal(&sb, &n);
	assert_int_equal(n, 8);
	assert_string_equal(s, "12345678");
	free(s);
	s = sb_steal(&sb, &n);
	assert_string_equal(s, "");
	free(s);
	sb_cleanup(&sb);
}

static void test_copy_fmt(void **state)
{
	char b[4];

	assert_int_equal(str_copy(b, sizeof(b), "abc"), 0);
	assert_int_equal(str_copy(b, sizeof(b), "abcd"), ERR_TOO_LARGE);
	assert_string_equal(b, "abc");
	assert_int_equal(str_fmt(b, sizeof(b), "%d", 123), 0);
	assert_int_equal(str_fmt(b, sizeof(b), "%d", 1234), ERR_TOO_LARGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_i64),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_strbuf_cap),
		cmocka_unit_test(test_copy_fmt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
