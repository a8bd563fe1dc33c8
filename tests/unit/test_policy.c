/* Tests of hardener/policy: the defaults, a good file over them, bad files refused with file and line, --keep, and
 * the digest of the effective policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <jansson.h>

#include "hardener/policy.h"
#include "lib/str.h"
#include "tests/unit/failalloc.h"

/* Writes text to a new temporary file; returns its path (static buffer). */
static const char *write_tmp(const char *text)
{
	static char path[64];
	FILE *f;
	int fd;

	str_copy(path, sizeof(path), "/tmp/hl-policy-XXXXXX");
	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_defaults(void **state)
{
	struct hpolicy p;
	struct err e;

	assert_int_equal(hpolicy_init_defaults(&p, &e), 0);
	assert_string_equal(p.user, "appuser");
	assert_int_equal(p.uid, 1000);
	assert_int_equal(p.gid, 1000);
	assert_string_equal(p.home, "/app");
	assert_string_equal(p.shell, "/usr/sbin/nologin");
	assert_int_equal(p.allow.n, 1);
	assert_string_equal(p.allow.v[0], "nologin");
	assert_true(strlist_has(&p.sticky_dirs, "/tmp") && strlist_has(&p.sticky_dirs, "/var/tmp"));
	assert_true(strlist_has(&p.bin_dirs, "/usr/local/sbin"));
	assert_true(strlist_has(&p.system_dirs, "/etc") && strlist_has(&p.system_dirs, "/usr"));
	assert_true(p.users && p.permissions && p.executables && p.package_manager && p.system_cruft && p.upgrade &&
	    p.self_delete && !p.upgrade_required);
	assert_string_equal(p.image_user, "1000:1000");
	assert_int_equal(hpolicy_finalize(&p, &e), 0);
	assert_int_equal(strncmp(p.digest, "sha256:", 7), 0);
	hpolicy_cleanup(&p);
}

static void test_good_file(void **state)
{
	struct hpolicy p;
	struct err e;
	const char *f = write_tmp("{\n"
				  "  \"profile\": \"web\",\n"
				  "  \"steps\": {\n"
				  "    \"upgrade\": {\"enabled\": false},\n"
				  "    \"users\": {\"name\": \"web\", \"uid\": 2000, \"gid\": 3000, \"home\": "
				  "\"/srv//web/\", \"keep\": [\"nobody\"]},\n"
				  "    \"executables\": {\"allow\": [\"nologin\", \"python3\", \"python3\"]},\n"
				  "    \"systemCruft\": {\"deletePaths\": [\"/usr/share/doc\"]},\n"
				  "    \"self\": {\"enabled\": false}\n"
				  "  },\n"
				  "  \"image\": {\"user\": \"2000:3000\"}\n"
				  "}\n");

	assert_int_equal(hpolicy_init_defaults(&p, &e), 0);
	assert_int_equal(hpolicy_load_file(&p, f, &e), 0);
	assert_string_equal(p.profile, "web");
	assert_false(p.upgrade);
	assert_false(p.self_delete);
	assert_true(p.users);
	assert_string_equal(p.user, "web");
	assert_int_equal(p.uid, 2000);
	assert_int_equal(p.gid, 3000);
	assert_string_equal(p.home, "/srv/web");
	assert_true(strlist_has(&p.keep_users, "nobody"));
	assert_int_equal(p.allow.n, 2); /* duplicates dropped */
	assert_true(strlist_has(&p.delete_paths, "/usr/share/doc"));
	assert_true(strlist_has(&p.sticky_dirs, "/tmp")); /* untouched default */
	assert_string_equal(p.image_user, "2000:3000");
	hpolicy_cleanup(&p);
	unlink(f);
}

/* Loads text and expects code with a message containing each of the needles; the policy must stay unchanged. */
static void expect_bad(const char *text, int code, const char *n1, const char *n2)
{
	struct hpolicy p;
	struct err e;
	const char *f = write_tmp(text);

	assert_int_equal(hpolicy_init_defaults(&p, &e), 0);
	err_clear(&e);
	assert_int_equal(hpolicy_load_file(&p, f, &e), code);
	if (strstr(e.msg, f) == NULL || (n1 && strstr(e.msg, n1) == NULL) || (n2 && strstr(e.msg, n2) == NULL))
		fail_msg("message \"%s\" lacks the file or \"%s\" / \"%s\"", e.msg, n1 ? n1 : "", n2 ? n2 : "");
	assert_string_equal(p.user, "appuser");
	assert_int_equal(p.uid, 1000);
	hpolicy_cleanup(&p);
	unlink(f);
}

static void test_bad_files(void **state)
{
	expect_bad("{\n  \"steps\": {\n    \"users\": {\"uid\": 5,}\n  }\n}\n", ERR_PARSE, "line 3", NULL);
	expect_bad("{\n  \"steps\": {\n    \"users\": {\n      \"uid\": 5,\n      \"nmae\": \"x\"\n    }\n  }\n}\n",
	    ERR_INVALID, "line 5", "nmae");
	expect_bad("{\n  \"profile\": \"x\",\n  \"stepz\": {}\n}\n", ERR_INVALID, "line 3", "stepz");
	expect_bad("{\n  \"steps\": {\n    \"users\": {\"enabled\": \"yes\"}\n  }\n}\n", ERR_INVALID, "line 3",
	    "steps.users.enabled must be true or false");
	expect_bad("{\"steps\": {\"users\": {\"uid\": 0}}}", ERR_INVALID, "line 1", "steps.users.uid");
	expect_bad("{\"steps\": {\"users\": {\"uid\": 4294967296}}}", ERR_INVALID, "uid", NULL);
	expect_bad("{\"steps\": {\"users\": {\"gid\": -1}}}", ERR_INVALID, "gid", NULL);
	expect_bad("{\"steps\": {\"users\": {\"name\": \"Root Kit\"}}}", ERR_INVALID, "steps.users.name", NULL);
	expect_bad("{\"steps\": {\"users\": {\"home\": \"app\"}}}", ERR_INVALID, "absolute path", NULL);
	expect_bad("{\"steps\": {\"executables\": {\"allow\": [\"bin/sh\"]}}}", ERR_INVALID, "file name", NULL);
	expect_bad("{\"steps\": {\"executables\": {\"allow\": [1]}}}", ERR_INVALID, "allow[0] must be a string", NULL);
	expect_bad("{\"steps\": {\"permissions\": {\"systemDirs\": \"/usr\"}}}", ERR_INVALID, "must be an array", NULL);
	expect_bad("[]", ERR_INVALID, "object", NULL);
	expect_bad("{\"profile\": \"a\", \"profile\": \"b\"}", ERR_PARSE, "line 1", "duplicate");
	expect_bad("{} trailing", ERR_PARSE, "line 1", NULL);
}

static void test_missing_file(void **state)
{
	struct hpolicy p;
	struct err e;

	assert_int_equal(hpolicy_init_defaults(&p, &e), 0);
	assert_int_equal(hpolicy_load_file(&p, "/nonexistent/policy.json", &e), ERR_NOT_FOUND);
	assert_non_null(strstr(e.msg, "/nonexistent/policy.json"));
	hpolicy_cleanup(&p);
}

static void test_keep_and_digest(void **state)
{
	struct hpolicy p;
	struct err e;
	char d1[DIGEST_STR_LEN + 1];

	assert_int_equal(hpolicy_init_defaults(&p, &e), 0);
	assert_int_equal(hpolicy_finalize(&p, &e), 0);
	memcpy(d1, p.digest, sizeof(d1));
	assert_int_equal(hpolicy_allow(&p, "python3", &e), 0);
	assert_int_equal(hpolicy_allow(&p, "python3", &e), 0);
	assert_int_equal(p.allow.n, 2);
	assert_int_equal(hpolicy_allow(&p, "../sh", &e), ERR_INVALID);
	assert_int_equal(hpolicy_allow(&p, "", &e), ERR_INVALID);
	assert_int_equal(hpolicy_finalize(&p, &e), 0);
	assert_string_not_equal(d1, p.digest); /* the digest covers the allowlist */
	hpolicy_cleanup(&p);
}

static void test_to_json_roundtrip(void **state)
{
	struct hpolicy p, q;
	struct err e;
	json_t *j;
	char *s;
	const char *f;

	assert_int_equal(hpolicy_init_defaults(&p, &e), 0);
	assert_int_equal(hpolicy_allow(&p, "dotnet", &e), 0);
	assert_non_null(j = hpolicy_to_json(&p));
	assert_non_null(s = json_dumps(j, JSON_INDENT(2)));
	f = write_tmp(s);
	assert_int_equal(hpolicy_init_defaults(&q, &e), 0);
	assert_int_equal(hpolicy_load_file(&q, f, &e), 0); /* the effective policy is itself a valid policy file */
	assert_int_equal(hpolicy_finalize(&p, &e), 0);
	assert_int_equal(hpolicy_finalize(&q, &e), 0);
	assert_string_equal(p.digest, q.digest);
	free(s);
	json_decref(j);
	hpolicy_cleanup(&p);
	hpolicy_cleanup(&q);
	unlink(f);
}

/* Fails each jansson allocation of loading a policy over the defaults, finalizing it and dumping it in turn: a failed
 * load leaves the policy as it was (its digest unchanged), a success gives the same digest as without failures, and
 * under ASan nothing leaks on any path. Every string token is shorter than 16 bytes: jansson 2.14 reads past its
 * buffer when growing a longer token fails (akheron/jansson#362, fix proposed in PR #747). */
static void test_allocation_failures(void **state)
{
	static const char text[] =
	    "{\"profile\": \"web\", \"steps\": {\"users\": {\"name\": \"web\", \"uid\": 2000,"
	    " \"keep\": [\"nobody\"]}, \"executables\": {\"allow\": [\"nologin\", \"python3\"]},"
	    " \"systemCruft\": {\"deletePaths\": [\"/usr/games\"]}}, \"image\": {\"user\": \"2000:2000\"}}";
	char want[DIGEST_STR_LEN + 1], before[DIGEST_STR_LEN + 1];
	struct hpolicy p;
	struct err e;
	json_t *j;
	long at;
	int r, done = 0;

	assert_int_equal(hpolicy_init_defaults(&p, &e), 0);
	assert_int_equal(hpolicy_load_buf(&p, "t.json", text, strlen(text), &e), 0);
	assert_int_equal(hpolicy_finalize(&p, &e), 0);
	str_copy(want, sizeof(want), p.digest);
	hpolicy_cleanup(&p);
	for (at = 0; !done && at < 10000; at++) {
		assert_int_equal(hpolicy_init_defaults(&p, &e), 0);
		assert_int_equal(hpolicy_finalize(&p, &e), 0);
		str_copy(before, sizeof(before), p.digest);
		failalloc_arm(at);
		r = hpolicy_load_buf(&p, "t.json", text, strlen(text), &e);
		if (r != 0) {
			failalloc_disarm();
			assert_int_equal(hpolicy_finalize(&p, &e), 0);
			assert_string_equal(p.digest, before); /* unchanged on error */
			hpolicy_cleanup(&p);
			continue;
		}
		if ((r = hpolicy_finalize(&p, &e)) == 0 && (j = hpolicy_to_json(&p)) != NULL) {
			json_decref(j);
			done = failalloc_untouched();
			failalloc_disarm();
			assert_string_equal(p.digest, want);
		}
		failalloc_disarm();
		hpolicy_cleanup(&p);
	}
	assert_true(done);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_keep_and_digest),
		cmocka_unit_test(test_to_json_roundtrip),
		cmocka_unit_test(test_allocation_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
