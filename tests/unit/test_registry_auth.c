/* Tests of lib/registry_auth: WWW-Authenticate challenges (well-formed, several at once, hostile), auth file lookup
 * (key spellings, namespaces, malformed entries), token replies; plus the auth file search order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <jansson.h>

#include "lib/registry_auth.h"
#include "tests/unit/failalloc.h"

static int chal(const char *h, struct registry_challenge *c, struct err *e)
{
	return registry_challenge_parse(h, strlen(h), c, e);
}

static void test_challenge_ok(void **state)
{
	struct registry_challenge c;
	struct err e;

	(void)state;
	assert_int_equal(chal("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
			      "scope=\"repository:library/busybox:pull\"",
			     &c, &e),
	    0);
	assert_int_equal(c.scheme, REGISTRY_SCHEME_BEARER);
	assert_string_equal(c.realm, "https://auth.docker.io/token");
	assert_string_equal(c.service, "registry.docker.io");
	assert_string_equal(c.scope, "repository:library/busybox:pull");

	/* case-insensitive scheme and names, spaces around '=', token values, escapes, unknown params */
	assert_int_equal(chal("bearer  Realm = \"https://r.example/t\" , SERVICE=svc, foo=\"a\\\"b\", "
			      "error=\"insufficient_scope\"",
			     &c, &e),
	    0);
	assert_string_equal(c.realm, "https://r.example/t");
	assert_string_equal(c.service, "svc");
	assert_string_equal(c.scope, "");
	assert_string_equal(c.error, "insufficient_scope");

	assert_int_equal(chal("Basic realm=\"Registry Realm\"", &c, &e), 0);
	assert_int_equal(c.scheme, REGISTRY_SCHEME_BASIC);
	assert_string_equal(c.realm, "Registry Realm");
	assert_int_equal(chal("Basic", &c, &e), 0);
	assert_int_equal(c.scheme, REGISTRY_SCHEME_BASIC);

	/* several challenges: Bearer wins wherever it is; unknown schemes are skipped */
	assert_int_equal(chal("Basic realm=\"x\", Negotiate abc==, Bearer realm=\"https://t/\",service=\"s\"", &c, &e),
	    0);
	assert_int_equal(c.scheme, REGISTRY_SCHEME_BEARER);
	assert_string_equal(c.realm, "https://t/");
	assert_string_equal(c.service, "s");
	assert_int_equal(chal("Negotiate, Basic realm=\"b\"", &c, &e), 0);
	assert_int_equal(c.scheme, REGISTRY_SCHEME_BASIC);
	assert_string_equal(c.realm, "b");
}

static void test_challenge_hostile(void **state)
{
	static const struct {
		const char *h;
		int code;
		const char *msg;
	} bad[] = {
		{ "", ERR_UNSUPPORTED, "no Basic or Bearer" },
		{ "Negotiate abc", ERR_UNSUPPORTED, "no Basic or Bearer" },
		{ "Bearer service=\"s\"", ERR_PARSE, "without a realm" },
		{ "Bearer realm=\"\"", ERR_PARSE, "without a realm" },
		{ "Bearer realm=\"https://a\",realm=\"https://b\"", ERR_PARSE, "given twice" },
		{ "Bearer REALM=\"https://a\",realm=\"https://b\"", ERR_PARSE, "given twice" },
		{ "Bearer realm=\"https://a", ERR_PARSE, "unterminated" },
		{ "Bearer realm=\"https://a\\", ERR_PARSE, "unterminated" },
		{ "Bearer realm=\"a\r\nInjected: 1\"", ERR_PARSE, "control byte" },
		{ "Bearer realm=\"https://a\" junk", ERR_PARSE, "expected ','" },
		{ "Bearer realm=", ERR_PARSE, "without a realm" },
		{ "Bearer realm=@", ERR_PARSE, "expected a token" },
		{ "=Bearer", ERR_PARSE, "expected an auth scheme" },
		{ "Bearer\x01", ERR_PARSE, "unexpected byte" },
		{ "Bearer realm=\"x\",\"y\"", ERR_PARSE, "unexpected byte" },
	};
	struct registry_challenge c;
	char big[REGISTRY_CHALLENGE_MAX + 10];
	struct err e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		memset(&c, 0x55, sizeof(c));
		if (chal(bad[i].h, &c, &e) != bad[i].code || strstr(e.msg, bad[i].msg) == NULL)
			fail_msg("case %zu \"%s\": got \"%s\"", i, bad[i].h, e.msg);
		assert_int_equal(c.scheme, REGISTRY_SCHEME_NONE); /* cleared on error */
	}
	/* a NUL inside the declared length */
	assert_int_equal(registry_challenge_parse("Bearer realm=\"a\0b\"", 18, &c, &e), ERR_PARSE);
	/* a realm longer than its field */
	memset(big, 'a', sizeof(big));
	memcpy(big, "Bearer realm=\"", 14);
	big[1100] = '"';
	big[1101] = '\0';
	assert_int_equal(chal(big, &c, &e), ERR_TOO_LARGE);
	/* the whole header over the cap */
	memset(big, ' ', sizeof(big));
	memcpy(big, "Basic", 5);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(chal(big, &c, &e), ERR_TOO_LARGE);
	/* many empty list elements and spaces are fine */
	assert_int_equal(chal(" ,, Basic ,, realm=\"r\" ,,", &c, &e), 0);
}

static int lookup(const char *json, const char *reg, const char *repo, struct registry_creds *c, struct err *e)
{
	return registry_auth_lookup(json, strlen(json), "auth.json", reg, repo, c, e);
}

static void test_auth_lookup(void **state)
{
	struct registry_creds c;
	struct err e;
	/* "alice:s3cret" "bob:pa:ss" "carol:x" "dave:y" */
	const char *file = "{\"auths\":{"
			   "\"https://index.docker.io/v1/\":{\"auth\":\"YWxpY2U6czNjcmV0\"},"
			   "\"127.0.0.1:5000\":{\"auth\":\"Ym9iOnBhOnNz\"},"
			   "\"quay.io\":{\"auth\":\"Y2Fyb2w6eA==\"},"
			   "\"quay.io/team\":{\"auth\":\"ZGF2ZTp5\"},"
			   "\"ghcr.io\":{}"
			   "},\"credsStore\":\"desktop\"}";

	(void)state;
	assert_int_equal(lookup(file, "docker.io", "library/busybox", &c, &e), 0);
	assert_string_equal(c.user, "alice");
	assert_string_equal(c.pass, "s3cret");
	assert_int_equal(lookup(file, "127.0.0.1:5000", "shop/web", &c, &e), 0);
	assert_string_equal(c.user, "bob");
	assert_string_equal(c.pass, "pa:ss"); /* split at the first ':' */
	assert_int_equal(lookup(file, "quay.io", "team/app", &c, &e), 0);
	assert_string_equal(c.user, "dave"); /* the longest namespace wins */
	assert_int_equal(lookup(file, "quay.io", "teamx/app", &c, &e), 0);
	assert_string_equal(c.user, "carol"); /* a namespace matches whole components only */
	assert_int_equal(lookup(file, "quay.io", "team", &c, &e), 0);
	assert_string_equal(c.user, "dave");
	assert_int_equal(lookup(file, "ghcr.io", "x/y", &c, &e), ERR_NOT_FOUND); /* credential helper entry */
	assert_int_equal(lookup(file, "127.0.0.1:5001", "x", &c, &e), ERR_NOT_FOUND);
	assert_int_equal(lookup(file, "127.0.0.1", "x", &c, &e), ERR_NOT_FOUND);
	assert_string_equal(c.user, "");
	assert_int_equal(lookup("{\"auths\":{\"http://registry-1.docker.io\":{\"auth\":\"YWxpY2U6czNjcmV0\"}}}",
			     "docker.io", "a/b", &c, &e),
	    0);
	assert_string_equal(c.user, "alice");
	registry_creds_cleanup(&c);
	assert_string_equal(c.user, "");
	assert_int_equal(lookup("{}", "docker.io", "a/b", &c, &e), ERR_NOT_FOUND);
}

static void test_auth_hostile(void **state)
{
	static const struct {
		const char *json;
		int code;
		const char *msg;
	} bad[] = {
		{ "[]", ERR_INVALID, "must be a JSON object" }, { "{\"auths\":[]}", ERR_INVALID, "auths" },
		{ "{\"auths\":{}} trailing", ERR_PARSE, "auth.json" },
		{ "{\"auths\":{},\"auths\":{}}", ERR_PARSE, "duplicate" },
		{ "{\"auths\":{\"r.io\":{\"auth\":\"not base64!\"}}}", ERR_PARSE,
		    "auths \"r.io\": auth: invalid base64" },
		{ "{\"auths\":{\"r.io\":{\"auth\":7}}}", ERR_INVALID, "must be a string" },
		{ "{\"auths\":{\"r.io\":{\"auth\":\"bm9jb2xvbg==\"}}}", ERR_INVALID, "user:password" }, /* "nocolon" */
		{ "{\"auths\":{\"r.io\":{\"auth\":\"OnB3\"}}}", ERR_INVALID, "user:password" },		/* ":pw" */
		{ "{\"auths\":{\"r.io\":{\"auth\":\"YQBiOmM=\"}}}", ERR_INVALID, "user:password" },	/* "a\0b:c" */
	};
	struct registry_creds c;
	char *huge;
	struct err e;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		if (lookup(bad[i].json, "r.io", "x", &c, &e) != bad[i].code || strstr(e.msg, bad[i].msg) == NULL)
			fail_msg("case %zu %s: got %d \"%s\"", i, bad[i].json, lookup(bad[i].json, "r.io", "x", &c, &e),
			    e.msg);
		assert_string_equal(c.user, "");
	}
	/* a password longer than its field: refused, not truncated */
	n = 3000;
	huge = malloc(n + 100);
	assert_non_null(huge);
	memset(huge, 'A', n + 100);
	memcpy(huge, "{\"auths\":{\"r.io\":{\"auth\":\"YTp", 28); /* base64 of "a:" then many 'A' */
	memcpy(huge + n, "\"}}}", 5);
	assert_int_equal(lookup(huge, "r.io", "x", &c, &e), ERR_TOO_LARGE);
	free(huge);
	/* over the file cap */
	n = REGISTRY_AUTH_FILE_MAX + 10;
	huge = malloc(n + 1);
	assert_non_null(huge);
	memset(huge, ' ', n);
	huge[0] = '{';
	huge[n - 1] = '}';
	huge[n] = '\0';
	assert_int_equal(lookup(huge, "r.io", "x", &c, &e), ERR_TOO_LARGE);
	free(huge);
}

static void test_auth_find_order(void **state)
{
	char dir[] = "/tmp/hardline-authXXXXXX", p1[256], p2[256], p3[256];
	struct registry_creds c;
	struct err e;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(p1, sizeof(p1), "%s/env.json", dir);
	snprintf(p2, sizeof(p2), "%s/containers", dir);
	assert_int_equal(mkdir(p2, 0700), 0);
	snprintf(p2, sizeof(p2), "%s/containers/auth.json", dir);
	snprintf(p3, sizeof(p3), "%s/explicit.json", dir);
	f = fopen(p1, "w");
	fputs("{\"auths\":{\"a.io\":{\"auth\":\"ZW52OngK\"}}}", f); /* "env:x\n" */
	fclose(f);
	f = fopen(p2, "w");
	fputs("{\"auths\":{\"a.io\":{\"auth\":\"eGRnOng=\"},\"b.io\":{\"auth\":\"eGRnOng=\"}}}", f); /* "xdg:x" */
	fclose(f);
	f = fopen(p3, "w");
	fputs("{\"auths\":{}}", f);
	fclose(f);
	setenv("REGISTRY_AUTH_FILE", p1, 1);
	setenv("XDG_RUNTIME_DIR", dir, 1);
	setenv("HOME", dir, 1);
	assert_int_equal(registry_auth_find(NULL, "a.io", "x", &c, &e), 0);
	assert_string_equal(c.user, "env");
	assert_string_equal(c.pass, "x\n");
	assert_int_equal(registry_auth_find(NULL, "b.io", "x", &c, &e), 0); /* not in the first file: the next one */
	assert_string_equal(c.user, "xdg");
	assert_int_equal(registry_auth_find(NULL, "c.io", "x", &c, &e), ERR_NOT_FOUND);
	/* an explicit file is the only one read */
	assert_int_equal(registry_auth_find(p3, "a.io", "x", &c, &e), ERR_NOT_FOUND);
	/* a missing REGISTRY_AUTH_FILE is skipped */
	setenv("REGISTRY_AUTH_FILE", "/nonexistent/auth.json", 1);
	assert_int_equal(registry_auth_find(NULL, "a.io", "x", &c, &e), 0);
	assert_string_equal(c.user, "xdg");
	/* a broken file is an error, not silently skipped */
	f = fopen(p1, "w");
	fputs("{\"auths\":", f);
	fclose(f);
	setenv("REGISTRY_AUTH_FILE", p1, 1);
	assert_int_equal(registry_auth_find(NULL, "a.io", "x", &c, &e), ERR_PARSE);
	assert_non_null(strstr(e.msg, p1));
	unsetenv("REGISTRY_AUTH_FILE");
	unlink(p1);
	unlink(p2);
	unlink(p3);
	snprintf(p2, sizeof(p2), "%s/containers", dir);
	rmdir(p2);
	rmdir(dir);
	registry_creds_cleanup(&c);
}

static void test_token(void **state)
{
	char *tok;
	int64_t exp;
	struct err e;
	char big[REGISTRY_TOKEN_MAX + 64];

	(void)state;
	assert_int_equal(registry_token_parse("{\"token\":\"abc.def\",\"expires_in\":300}", 36, &tok, &exp, &e), 0);
	assert_string_equal(tok, "abc.def");
	assert_int_equal(exp, 300);
	free(tok);
	assert_int_equal(registry_token_parse("{\"access_token\":\"x\",\"expires_in\":5}", 35, &tok, &exp, &e), 0);
	assert_string_equal(tok, "x");
	assert_int_equal(exp, 60); /* the spec's minimum */
	free(tok);
	assert_int_equal(registry_token_parse("{\"token\":\"a b\"}", 15, &tok, &exp, &e), ERR_INVALID);
	assert_null(tok);
	assert_int_equal(registry_token_parse("{\"token\":\"a\\r\\nX: y\"}", 21, &tok, &exp, &e), ERR_INVALID);
	assert_int_equal(registry_token_parse("{\"token\":\"\"}", 12, &tok, &exp, &e), ERR_INVALID);
	assert_int_equal(registry_token_parse("{\"token\":1}", 11, &tok, &exp, &e), ERR_INVALID);
	assert_int_equal(registry_token_parse("{\"token\":\"a\",\"expires_in\":-1}", 29, &tok, &exp, &e), ERR_INVALID);
	assert_int_equal(registry_token_parse("{}", 2, &tok, &exp, &e), ERR_INVALID);
	assert_int_equal(registry_token_parse("<html>", 6, &tok, &exp, &e), ERR_PARSE);
	assert_int_equal(registry_token_parse("[]", 2, &tok, &exp, &e), ERR_INVALID);
	memset(big, 'a', sizeof(big));
	memcpy(big, "{\"token\":\"", 10);
	memcpy(big + sizeof(big) - 3, "\"}", 3);
	assert_int_equal(registry_token_parse(big, strlen(big), &tok, &exp, &e), ERR_TOO_LARGE);
	assert_null(tok);
}

/* Fails each jansson allocation in turn while looking up credentials and parsing a token reply: every failure must
 * be an error with nothing half-filled (LeakSanitizer checks that nothing leaks), and a success the real thing. */
static void test_allocation_failures(void **state)
{
	static const char file[] =
	    "{\"auths\":{\"a.io\":{\"auth\":\"eDp5\"},\"r.io/ns\":{\"auth\":\"YWxpY2U6czNjcmV0\"},"
	    "\"r.io\":{\"auth\":\"eDp5\"}},\"credsStore\":\"x\"}";
	static const char reply[] =
	    "{\"token\":\"abc\",\"access_token\":\"abc\",\"expires_in\":300,\"issued_at\":\"x\"}";
	struct registry_creds c;
	struct err e;
	int64_t exp;
	char *tok;
	long at;
	int done_lookup = 0, done_token = 0;

	(void)state;
	for (at = 0; at < 1000 && !(done_lookup && done_token); at++) {
		failalloc_arm(at);
		/* jansson 2.14 may drop a byte of a string when its buffer cannot grow: a success with a failure injected
		 * may carry such a string, a success without one must be exact */
		if (registry_auth_lookup(file, strlen(file), "f", "r.io", "ns/app", &c, &e) == 0) {
			if (failalloc_untouched()) {
				assert_string_equal(c.user, "alice");
				assert_string_equal(c.pass, "s3cret");
				done_lookup = 1;
			}
			registry_creds_cleanup(&c);
		} else {
			assert_string_equal(c.user, "");
		}
		failalloc_arm(at);
		tok = NULL;
		if (registry_token_parse(reply, strlen(reply), &tok, &exp, &e) == 0) {
			if (failalloc_untouched()) {
				assert_string_equal(tok, "abc");
				assert_int_equal(exp, 300);
				done_token = 1;
			}
			free(tok);
		} else {
			assert_null(tok);
		}
	}
	failalloc_disarm();
	assert_true(done_lookup && done_token);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_challenge_ok),
		cmocka_unit_test(test_challenge_hostile),
		cmocka_unit_test(test_auth_lookup),
		cmocka_unit_test(test_auth_hostile),
		cmocka_unit_test(test_auth_find_order),
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_allocation_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
