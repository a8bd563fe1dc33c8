/* Tests of lib/dsse: PAE against the spec's test vector, the spec's own signed envelope (raw r||s ECDSA), sign and
 * verify round trips for both algorithms, keyid hints that miss, tampering, and hostile envelopes from
 * tests/fixtures/dsse/<case>/{envelope.json,expected} (run from the repository root, as tests/run.sh does). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <pthread.h>

#include <cmocka.h>

#include "tests/unit/failalloc.h"

#include <jansson.h>

#include "lib/dsse.h"
#include "lib/str.h"

#define FIXTURES "tests/fixtures/dsse"

/* The DSSE spec's test key (protocol.md, "Test Vectors"): P-256, X and Y given in decimal there. */
static const char spec_pub[] = "-----BEGIN PUBLIC KEY-----\n"
			       "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEZ805D3eqNZywjCI19lInBJOp7YMr\n"
			       "CrzAH3CVTAOQ0jgMeCvVTiaRJaRPRDOv8UMs6U4SvKc6pnrIDOoSYI3fdA==\n"
			       "-----END PUBLIC KEY-----\n";
static const char spec_env[] =
    "{\"payload\": \"aGVsbG8gd29ybGQ=\",\n \"payloadType\": \"http://example.com/HelloWorld\",\n"
    " \"signatures\": [{\"sig\": "
    "\"A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA==\"}]}";

/* Parses buf both ways (dsse_parse: the direct scan when it applies; dsse_parse_json: jansson) and checks that
 * they agree on the result, the message and every decoded field. Returns dsse_parse's code and envelope. */
static int parse_both(const char *buf, size_t len, const char *label, struct dsse_envelope **out, struct err *e)
{
	struct dsse_envelope *ref = NULL;
	struct err e2;
	int r, r2;
	size_t i;

	err_clear(e);
	err_clear(&e2);
	r = dsse_parse(buf, len, label, out, e);
	r2 = dsse_parse_json(buf, len, label, &ref, &e2);
	assert_int_equal(r, r2);
	assert_string_equal(e->msg, e2.msg);
	if (r == 0) {
		assert_string_equal((*out)->payload_type, ref->payload_type);
		assert_int_equal((*out)->payload_len, ref->payload_len);
		assert_memory_equal((*out)->payload, ref->payload, ref->payload_len);
		assert_int_equal((*out)->nsigs, ref->nsigs);
		for (i = 0; i < ref->nsigs; i++) {
			assert_string_equal((*out)->sigs[i].keyid, ref->sigs[i].keyid);
			assert_int_equal((*out)->sigs[i].sig_len, ref->sigs[i].sig_len);
			assert_memory_equal((*out)->sigs[i].sig, ref->sigs[i].sig, ref->sigs[i].sig_len);
		}
	}
	dsse_envelope_free(ref);
	return r;
}

static struct keyring *ring_of(struct key *k1, struct key *k2)
{
	struct keyring *kr = NULL;
	struct key *pub;
	char *pem;
	struct err e;
	struct key *ks[2] = { k1, k2 };
	int i;

	assert_int_equal(keyring_new(&kr, &e), 0);
	for (i = 0; i < 2; i++) {
		if (ks[i] == NULL)
			continue;
		assert_int_equal(key_public_pem(ks[i], &pem, &e), 0);
		assert_int_equal(key_parse_public_pem(pem, strlen(pem), "test", &pub, &e), 0);
		assert_int_equal(keyring_add(kr, pub, &e), 0);
		free(pem);
	}
	return kr;
}

static void test_pae_vector(void **state)
{
	static const char want[] = "DSSEv1 29 http://example.com/HelloWorld 11 hello world";
	unsigned char *p = NULL;
	size_t n = 0;
	struct err e;

	assert_int_equal(dsse_pae("http://example.com/HelloWorld", "hello world", 11, &p, &n, &e), 0);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(p, want, n);
	free(p);
	assert_int_equal(dsse_pae("", "", 0, &p, &n, &e), 0);
	assert_int_equal(n, 12);
	assert_memory_equal(p, "DSSEv1 0  0 ", 12);
	free(p);
	/* bytes are bytes: a NUL in the body is counted and kept */
	assert_int_equal(dsse_pae("t", "a\0b", 3, &p, &n, &e), 0);
	assert_memory_equal(p, "DSSEv1 1 t 3 a\0b", n);
	free(p);
}

static void test_spec_envelope(void **state)
{
	struct dsse_envelope *env = NULL;
	struct keyring *kr = NULL;
	const struct key *signer = NULL;
	struct key *pub = NULL;
	struct err e;

	assert_int_equal(key_parse_public_pem(spec_pub, strlen(spec_pub), "spec key", &pub, &e), 0);
	assert_int_equal(keyring_new(&kr, &e), 0);
	assert_int_equal(keyring_add(kr, pub, &e), 0);
	assert_int_equal(parse_both(spec_env, strlen(spec_env), "spec", &env, &e), 0);
	assert_string_equal(env->payload_type, "http://example.com/HelloWorld");
	assert_int_equal(env->payload_len, 11);
	assert_string_equal((char *)env->payload, "hello world");
	assert_string_equal(env->sigs[0].keyid, "");
	assert_int_equal(env->sigs[0].sig_len, 64);
	assert_int_equal(dsse_verify(env, kr, NULL, &signer, &e), 0);
	assert_ptr_equal(signer, keyring_get(kr, 0));
	assert_int_equal(dsse_verify(env, kr, "application/vnd.in-toto+json", &signer, &e), ERR_INVALID);
	assert_null(signer);
	assert_non_null(strstr(e.msg,
	    "payloadType is \"http://example.com/HelloWorld\", expected "
	    "\"application/vnd.in-toto+json\""));
	env->payload[0] = 'H';
	assert_int_equal(dsse_verify(env, kr, NULL, &signer, &e), ERR_VERIFY);
	dsse_envelope_free(env);
	keyring_unref(kr);
}

/* Rewrites the base64 string values after each occurrence of key in json to the URL-safe alphabet. */
static void urlsafe_values(char *json, const char *key)
{
	char *p;

	for (p = strstr(json, key); p != NULL; p = strstr(p, key))
		for (p += strlen(key); *p != '"'; p++)
			*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
}

static void roundtrip(enum key_alg alg)
{
	static const char payload[] = "{\"_type\":\"https://in-toto.io/Statement/v1\"}";
	struct key *k = NULL, *other = NULL;
	struct dsse_envelope *env = NULL, *back = NULL;
	struct keyring *kr = NULL, *wrong = NULL;
	const struct key *signer = NULL;
	char *json = NULL;
	size_t len, i;
	struct err e;

	assert_int_equal(key_generate(alg, &k, &e), 0);
	assert_int_equal(key_generate(alg, &other, &e), 0);
	kr = ring_of(other, k);
	wrong = ring_of(other, NULL);
	assert_int_equal(dsse_sign("application/vnd.in-toto+json", payload, strlen(payload), k, &env, &e), 0);
	assert_string_equal(env->sigs[0].keyid, key_id(k));
	assert_int_equal(dsse_fmt(env, &json, &len, &e), 0);
	assert_int_equal(len, strlen(json));
	assert_int_equal(parse_both(json, len, "rt", &back, &e), 0);
	assert_int_equal(dsse_verify(back, kr, "application/vnd.in-toto+json", &signer, &e), 0);
	assert_string_equal(key_id(signer), key_id(k));
	assert_memory_equal(back->payload, payload, back->payload_len);

	/* the keyid is only a hint: a wrong or missing one still verifies */
	free(back->sigs[0].keyid);
	back->sigs[0].keyid = strdup("not-a-trusted-keyid");
	assert_int_equal(dsse_verify(back, kr, NULL, &signer, &e), 0);
	assert_string_equal(key_id(signer), key_id(k));
	back->sigs[0].keyid[0] = '\0';
	assert_int_equal(dsse_verify(back, kr, NULL, &signer, &e), 0);

	/* wrong key */
	assert_int_equal(dsse_verify(env, wrong, NULL, &signer, &e), ERR_VERIFY);
	assert_null(signer);
	assert_non_null(strstr(e.msg, "no signature verifies with the 1 trusted key"));

	/* tampered payload and tampered signature, with the hint naming a trusted key */
	env->payload[3] ^= 1;
	assert_int_equal(dsse_verify(env, kr, NULL, &signer, &e), ERR_VERIFY);
	assert_non_null(strstr(e.msg, "does not verify: the payload or the signature was modified after signing"));
	env->payload[3] ^= 1;
	env->sigs[0].sig[env->sigs[0].sig_len / 2] ^= 4;
	assert_int_equal(dsse_verify(env, kr, NULL, &signer, &e), ERR_VERIFY);
	assert_non_null(strstr(e.msg, "does not verify"));
	env->sigs[0].sig[env->sigs[0].sig_len / 2] ^= 4;
	assert_int_equal(dsse_verify(env, kr, NULL, &signer, &e), 0);

	/* the payload type is signed too */
	free(env->payload_type);
	env->payload_type = strdup("application/vnd.in-toto.other+json");
	assert_int_equal(dsse_verify(env, kr, NULL, &signer, &e), ERR_VERIFY);

	/* URL-safe unpadded spelling of the same envelope verifies */
	urlsafe_values(json, "\"payload\":\"");
	urlsafe_values(json, "\"sig\":\"");
	dsse_envelope_free(back);
	back = NULL;
	{
		struct strbuf sb;

		sb_init(&sb, 1 << 20);
		for (i = 0; i < len; i++)
			if (json[i] != '=')
				assert_int_equal(sb_append(&sb, &json[i], 1), 0);
		assert_int_equal(parse_both(sb.data, sb.len, "urlsafe", &back, &e), 0);
		sb_cleanup(&sb);
	}
	assert_int_equal(dsse_verify(back, kr, "application/vnd.in-toto+json", &signer, &e), 0);

	dsse_envelope_free(back);
	dsse_envelope_free(env);
	free(json);
	keyring_unref(kr);
	keyring_unref(wrong);
	key_free(k);
	key_free(other);
}

static void test_roundtrip_ecdsa(void **state)
{
	roundtrip(KEY_ALG_ECDSA_P256);
}

static void test_roundtrip_ed25519(void **state)
{
	roundtrip(KEY_ALG_ED25519);
}

static void test_second_signature_trusted(void **state)
{
	struct key *a = NULL, *b = NULL;
	struct dsse_envelope *ea = NULL, *eb = NULL;
	struct keyring *kr;
	const struct key *signer;
	struct err e;

	assert_int_equal(key_generate(KEY_ALG_ED25519, &a, &e), 0);
	assert_int_equal(key_generate(KEY_ALG_ECDSA_P256, &b, &e), 0);
	assert_int_equal(dsse_sign("t", "x", 1, a, &ea, &e), 0);
	assert_int_equal(dsse_sign("t", "x", 1, b, &eb, &e), 0);
	/* ea gets b's signature as its second one; only b is trusted */
	ea->sigs[1] = eb->sigs[0];
	ea->nsigs = 2;
	eb->nsigs = 0;
	kr = ring_of(b, NULL);
	assert_int_equal(dsse_verify(ea, kr, "t", &signer, &e), 0);
	assert_string_equal(key_id(signer), key_id(b));
	dsse_envelope_free(ea);
	dsse_envelope_free(eb);
	keyring_unref(kr);
	key_free(a);
	key_free(b);
}

static void test_attempt_cap(void **state)
{
	struct key *signer_key = NULL, *k;
	struct dsse_envelope *env = NULL, *env2 = NULL;
	struct keyring *kr = NULL;
	const struct key *signer;
	struct err e;
	int i;

	assert_int_equal(key_generate(KEY_ALG_ED25519, &signer_key, &e), 0);
	assert_int_equal(dsse_sign("t", "x", 1, signer_key, &env, &e), 0);
	assert_int_equal(dsse_sign("t", "x", 1, signer_key, &env2, &e), 0);
	env->sigs[1] = env2->sigs[0];
	env->nsigs = 2;
	env2->nsigs = 0;
	env->sigs[0].keyid[0] = '\0';
	assert_int_equal(keyring_new(&kr, &e), 0);
	for (i = 0; i < KEYRING_MAX_KEYS - 1; i++) {
		assert_int_equal(key_generate(KEY_ALG_ED25519, &k, &e), 0);
		assert_int_equal(keyring_add(kr, k, &e), 0);
	}
	/* 2 unhinted signatures x 63 untrusted keys = 126 checks: refused after 64 */
	assert_int_equal(dsse_verify(env, kr, NULL, &signer, &e), ERR_VERIFY);
	assert_non_null(strstr(e.msg, "within the limit of 64 signature checks (2 signatures x 63 trusted keys)"));
	dsse_envelope_free(env);
	dsse_envelope_free(env2);
	keyring_unref(kr);
	key_free(signer_key);
}

struct shared {
	struct keyring *kr;
	struct dsse_envelope *env[2];
	int failures;
};

static void *verify_many(void *arg)
{
	struct shared *sh = arg;
	struct keyring *kr = sh->kr; /* a reference taken for this thread by its creator */
	const struct key *signer;
	struct err e;
	int i;

	for (i = 0; i < 100; i++)
		if (dsse_verify(sh->env[i % 2], kr, "t", &signer, &e) != 0)
			__atomic_add_fetch(&sh->failures, 1, __ATOMIC_RELAXED);
	keyring_unref(kr);
	return NULL;
}

/* The webhook verifies from many threads with one keyring: the keys (EVP_PKEY) are shared read-only. */
static void test_threads_share_keyring(void **state)
{
	struct key *a = NULL, *b = NULL;
	struct shared sh = { 0 };
	pthread_t t[4];
	struct err e;
	int i;

	assert_int_equal(key_generate(KEY_ALG_ECDSA_P256, &a, &e), 0);
	assert_int_equal(key_generate(KEY_ALG_ED25519, &b, &e), 0);
	assert_int_equal(dsse_sign("t", "payload", 7, a, &sh.env[0], &e), 0);
	assert_int_equal(dsse_sign("t", "payload", 7, b, &sh.env[1], &e), 0);
	sh.kr = ring_of(a, b);
	for (i = 0; i < 4; i++) {
		keyring_ref(sh.kr); /* dropped by the thread */
		assert_int_equal(pthread_create(&t[i], NULL, verify_many, &sh), 0);
	}
	keyring_unref(sh.kr); /* the threads hold their own references */
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_int_equal(sh.failures, 0);
	dsse_envelope_free(sh.env[0]);
	dsse_envelope_free(sh.env[1]);
	key_free(a);
	key_free(b);
}

/* Fails each jansson allocation of the JSON path in turn: an error or the intact envelope, never a leak. */
static void test_allocation_failures(void **state)
{
	struct dsse_envelope *env;
	struct err e;
	long at;
	int r, done = 0;

	for (at = 0; !done && at < 10000; at++) {
		failalloc_arm(at);
		env = NULL;
		r = dsse_parse_json(spec_env, strlen(spec_env), "spec", &env, &e);
		if (r != 0) {
			assert_null(env);
			continue;
		}
		assert_string_equal((char *)env->payload, "hello world");
		assert_string_equal(env->payload_type, "http://example.com/HelloWorld");
		assert_int_equal(env->sigs[0].sig_len, 64);
		dsse_envelope_free(env);
		done = failalloc_untouched();
	}
	failalloc_disarm();
	assert_true(done);
}

static char *slurp(const char *path, size_t *len)
{
	struct strbuf sb;
	char buf[4096];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL)
		return NULL;
	sb_init(&sb, 1 << 20);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		assert_int_equal(sb_append(&sb, buf, n), 0);
	fclose(f);
	return sb_steal(&sb, len);
}

static void test_hostile_fixtures(void **state)
{
	DIR *d = opendir(FIXTURES);
	struct dirent *de;
	int cases = 0;

	if (d == NULL)
		fail_msg("%s not found: run the test from the repository root", FIXTURES);
	while ((de = readdir(d)) != NULL) {
		char p[512], *env_json, *expected, *nl, *msg;
		struct dsse_envelope *env = (struct dsse_envelope *)1;
		size_t len, elen;
		struct err e;
		int r;

		if (de->d_name[0] == '.' || strchr(de->d_name, '.') != NULL)
			continue;
		snprintf(p, sizeof(p), "%s/%s/envelope.json", FIXTURES, de->d_name);
		assert_non_null(env_json = slurp(p, &len));
		snprintf(p, sizeof(p), "%s/%s/expected", FIXTURES, de->d_name);
		assert_non_null(expected = slurp(p, &elen));
		assert_non_null(nl = strchr(expected, '\n'));
		*nl = '\0';
		msg = nl + 1;
		if ((nl = strchr(msg, '\n')) != NULL)
			*nl = '\0';
		err_clear(&e);
		r = parse_both(env_json, len, de->d_name, &env, &e);
		if (strcmp(expected, "ok") == 0) {
			if (r != 0)
				fail_msg("case %s: expected ok, got %s: %s", de->d_name, err_name(r), e.msg);
			dsse_envelope_free(env);
		} else {
			if (strcmp(err_name(r), expected) != 0)
				fail_msg("case %s: expected %s, got %s: %s", de->d_name, expected, err_name(r), e.msg);
			if (strstr(e.msg, msg) == NULL)
				fail_msg("case %s: message \"%s\" lacks \"%s\"", de->d_name, e.msg, msg);
			assert_null(env);
		}
		free(env_json);
		free(expected);
		cases++;
	}
	closedir(d);
	assert_true(cases >= 20);
}

static void test_oversized(void **state)
{
	size_t n = DSSE_ENVELOPE_MAX + 1;
	char *big = malloc(n);
	struct dsse_envelope *env = NULL;
	struct err e;

	assert_non_null(big);
	memset(big, ' ', n);
	assert_int_equal(dsse_parse(big, n, "big.json", &env, &e), ERR_TOO_LARGE);
	assert_non_null(strstr(e.msg, "big.json: envelope of 4194305 bytes is over the limit of 4194304 bytes"));
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pae_vector),
		cmocka_unit_test(test_spec_envelope),
		cmocka_unit_test(test_roundtrip_ecdsa),
		cmocka_unit_test(test_roundtrip_ed25519),
		cmocka_unit_test(test_second_signature_trusted),
		cmocka_unit_test(test_attempt_cap),
		cmocka_unit_test(test_threads_share_keyring),
		cmocka_unit_test(test_allocation_failures),
		cmocka_unit_test(test_hostile_fixtures),
		cmocka_unit_test(test_oversized),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
