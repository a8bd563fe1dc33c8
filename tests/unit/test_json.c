/* Tests of lib/json: strict parsing (duplicates, NUL, trailing data, caps) and typed getters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/json.h"
#include "tests/unit/failalloc.h"

static void test_strict(void **state)
{
	json_t *v = NULL;
	struct err e;

	assert_int_equal(json_parse_buf("{\"a\":1,\"a\":2}", 13, 100, "t", &v, &e), ERR_PARSE);
	assert_null(v);
	assert_non_null(strstr(e.msg, "t: line 1"));
	assert_int_equal(json_parse_buf("{} x", 4, 100, "t", &v, &e), ERR_PARSE);
	assert_int_equal(json_parse_buf("\"a\\u0000b\"", 10, 100, "t", &v, &e), ERR_PARSE);
	assert_int_equal(json_parse_buf("{\"a\":1}", 7, 3, "t", &v, &e), ERR_TOO_LARGE);
	assert_int_equal(json_parse_buf("{\"a\":1}", 7, 100, "t", &v, &e), 0);
	json_decref(v);
}

static void test_getters(void **state)
{
	json_t *v = NULL, *o;
	const char *s = "default";
	int64_t i = 0;
	bool b = false;
	struct err e;
	static const char *const allowed[] = { "s", "i", "b", "o", NULL };
	const char *doc = "{\"s\":\"x\",\"i\":5,\"b\":true,\"o\":{}}";

	assert_int_equal(json_parse_buf(doc, strlen(doc), 1000, "t", &v, &e), 0);
	assert_int_equal(json_get_str(v, "s", &s, "policy", &e), 0);
	assert_string_equal(s, "x");
	assert_int_equal(json_get_str(v, "missing", &s, "policy", &e), ERR_NOT_FOUND);
	assert_string_equal(s, "x");
	assert_int_equal(json_get_str(v, "i", &s, "policy", &e), ERR_INVALID);
	assert_string_equal(e.msg, "policy.i must be a string");
	assert_int_equal(json_get_int(v, "i", 0, 4, &i, "policy", &e), ERR_INVALID);
	assert_int_equal(json_get_int(v, "i", 0, 5, &i, "policy", &e), 0);
	assert_int_equal(i, 5);
	assert_int_equal(json_get_bool(v, "b", &b, "policy", &e), 0);
	assert_true(b);
	assert_int_equal(json_get_obj(v, "o", &o, "policy", &e), 0);
	assert_int_equal(json_check_keys(v, allowed, "policy", &e), 0);
	assert_int_equal(json_check_keys(v, allowed + 1, "policy", &e), ERR_INVALID);
	assert_non_null(strstr(e.msg, "unknown key \"s\""));
	json_decref(v);
}

static void test_unknown_key(void **state)
{
	static const char *const allowed[] = { "a", "b", NULL };
	json_t *ok = json_pack("{s:i, s:i}", "a", 1, "b", 2), *bad = json_pack("{s:i, s:i}", "a", 1, "nmae", 2);
	struct err e;

	assert_null(json_unknown_key(ok, allowed));
	assert_string_equal(json_unknown_key(bad, allowed), "nmae");
	assert_int_equal(json_check_keys(ok, allowed, "t", &e), 0);
	assert_int_equal(json_check_keys(bad, allowed, "t", &e), ERR_INVALID);
	assert_string_equal(e.msg, "t: unknown key \"nmae\" (check its spelling)");
	json_decref(ok);
	json_decref(bad);
}

static void test_canonical(void **state)
{
	json_t *v = json_pack("{s:i,s:s}", "b", 1, "a", "x");
	char *s = json_dump_canonical(v, NULL);

	assert_string_equal(s, "{\"a\":\"x\",\"b\":1}");
	free(s);
	json_decref(v);
}

/* Fails each jansson allocation of a strict parse, the typed getters and the canonical dump in turn: every run is an
 * error (ERR_NOMEM, or ERR_PARSE when jansson reports the failure as a syntax error) with nothing returned, or the
 * same canonical text as without failures; under ASan the loop also proves that no error path leaks. Tokens stay
 * under 16 bytes: jansson 2.14 reads past its buffer when growing a longer token fails (akheron/jansson#362). */
static void test_allocation_failures(void **state)
{
	static const char doc[] = "{\"name\": \"app\", \"n\": 3, \"on\": true, \"list\": [1, \"two\", {\"x\": null}],"
				  " \"obj\": {\"k\": \"v\", \"z\": [[], {}]}}";
	const char *want = "{\"list\":[1,\"two\",{\"x\":null}],\"n\":3,\"name\":\"app\",\"obj\":{\"k\":\"v\","
			   "\"z\":[[],{}]},\"on\":true}";
	const char *name;
	json_t *v, *o;
	char *s;
	struct err e;
	long at;
	int r, done = 0;

	for (at = 0; !done && at < 10000; at++) {
		failalloc_arm(at);
		v = (json_t *)1;
		r = json_parse_buf(doc, strlen(doc), 4096, "doc", &v, &e);
		if (r != 0) {
			assert_true(r == ERR_NOMEM || r == ERR_PARSE);
			assert_null(v);
			continue;
		}
		assert_int_equal(json_get_str(v, "name", &name, "doc", &e), 0);
		assert_string_equal(name, "app");
		assert_int_equal(json_get_obj(v, "obj", &o, "doc", &e), 0);
		s = json_dump_canonical(v, NULL);
		json_decref(v);
		if (s == NULL)
			continue;
		assert_string_equal(s, want);
		free(s);
		done = failalloc_untouched();
	}
	failalloc_disarm();
	assert_true(done);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_getters),
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_allocation_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
