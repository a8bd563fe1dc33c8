/* Tests of lib/imageref: a data-driven loop over tests/fixtures/imageref/cases.txt (run from the repository root,
 * as tests/run.sh does; HL_IMAGEREF_CASES overrides the path), plus the host facts the registry client relies on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/imageref.h"

/* Runs one case: expect is the canonical form or "error: <substring>". Returns 0 when it held, printing why not. */
static int run_case(int lineno, const char *in, const char *expect)
{
	struct imageref r;
	struct err e;
	char out[1024];
	int rc;

	err_clear(&e);
	rc = imageref_parse(in, &r, &e);
	if (strncmp(expect, "error: ", 7) == 0) {
		if (rc == 0) {
			print_error("line %d: \"%s\" parsed, expected %s\n", lineno, in, expect);
			return -1;
		}
		if (strstr(e.msg, expect + 7) == NULL) {
			print_error("line %d: \"%s\": message \"%s\" lacks \"%s\"\n", lineno, in, e.msg, expect + 7);
			return -1;
		}
		if (r.registry[0] != '\0' || r.repository[0] != '\0') {
			print_error("line %d: output not cleared on error\n", lineno);
			return -1;
		}
		return 0;
	}
	if (rc != 0) {
		print_error("line %d: \"%s\": %s\n", lineno, in, e.msg);
		return -1;
	}
	if (imageref_fmt(&r, out, sizeof(out)) != 0 || strcmp(out, expect) != 0) {
		print_error("line %d: \"%s\" -> \"%s\", expected \"%s\"\n", lineno, in, out, expect);
		return -1;
	}
	/* the canonical form parses to itself */
	if (imageref_parse(out, &r, &e) != 0 || imageref_fmt(&r, out, sizeof(out)) != 0 || strcmp(out, expect) != 0) {
		print_error("line %d: canonical form \"%s\" does not round-trip\n", lineno, expect);
		return -1;
	}
	return 0;
}

static void test_cases(void **state)
{
	const char *path = getenv("HL_IMAGEREF_CASES");
	char line[4096], *in, *expect, *p;
	int lineno = 0, failed = 0, ran = 0;
	FILE *f;

	(void)state;
	f = fopen(path != NULL ? path : "tests/fixtures/imageref/cases.txt", "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		in = line;
		p = line + strcspn(line, " \t");
		assert_true(*p != '\0');
		*p++ = '\0';
		expect = p + strspn(p, " \t");
		if (run_case(lineno, in, expect) != 0)
			failed++;
		ran++;
	}
	fclose(f);
	assert_true(ran > 60);
	assert_int_equal(failed, 0);
}

static void test_fields(void **state)
{
	struct imageref r;
	struct err e;

	(void)state;
	assert_int_equal(imageref_parse("busybox", &r, &e), 0);
	assert_string_equal(r.registry, "docker.io");
	assert_string_equal(r.repository, "library/busybox");
	assert_string_equal(r.tag, "");
	assert_string_equal(imageref_reference(&r), "latest");
	assert_string_equal(imageref_api_host(&r), "registry-1.docker.io");

	assert_int_equal(imageref_parse("127.0.0.1:5000/shop/web:v1@sha256:"
					"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			     &r, &e),
	    0);
	assert_string_equal(r.registry, "127.0.0.1:5000");
	assert_string_equal(r.repository, "shop/web");
	assert_string_equal(r.tag, "v1");
	assert_string_equal(imageref_reference(&r), r.digest);
	assert_string_equal(imageref_api_host(&r), "127.0.0.1:5000");

	assert_int_equal(imageref_parse("foo@sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			     &r, &e),
	    ERR_UNSUPPORTED);
	assert_int_equal(imageref_parse(NULL, &r, &e), ERR_PARSE);
	assert_int_equal(imageref_parse("", &r, &e), ERR_PARSE);
	assert_non_null(strstr(e.msg, "empty"));
}

static void test_fmt_small_buffer(void **state)
{
	struct imageref r;
	struct err e;
	char out[10];

	(void)state;
	assert_int_equal(imageref_parse("quay.io/a/b:c", &r, &e), 0);
	assert_int_equal(imageref_fmt(&r, out, sizeof(out)), ERR_TOO_LARGE);
}

static void test_loopback(void **state)
{
	(void)state;
	assert_true(imageref_host_is_loopback("localhost"));
	assert_true(imageref_host_is_loopback("localhost:5000"));
	assert_true(imageref_host_is_loopback("127.0.0.1"));
	assert_true(imageref_host_is_loopback("127.0.0.1:5000"));
	assert_true(imageref_host_is_loopback("127.255.3.4:1"));
	assert_true(imageref_host_is_loopback("[::1]:5000"));
	assert_true(imageref_host_is_loopback("[::1]"));
	assert_false(imageref_host_is_loopback("[::2]:5000"));
	assert_false(imageref_host_is_loopback("[::1]x"));
	assert_false(imageref_host_is_loopback("127.0.0.1.example.com"));
	assert_false(imageref_host_is_loopback("127.0.0.1000"));
	assert_false(imageref_host_is_loopback("127.0.0"));
	assert_false(imageref_host_is_loopback("127.0.0.256"));
	assert_false(imageref_host_is_loopback("localhost.example.com"));
	assert_false(imageref_host_is_loopback("128.0.0.1"));
	assert_false(imageref_host_is_loopback("10.0.0.1:5000"));
	assert_false(imageref_host_is_loopback("example.com"));
	assert_false(imageref_host_is_loopback(""));
	assert_false(imageref_host_is_loopback(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_fmt_small_buffer),
		cmocka_unit_test(test_loopback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
