/* Tests of webhook/attcheck and webhook/attdir: attestations in a directory admit their image digest only when
 * signed by a trusted key for that digest; tags are refused with how to pin; requirements and age limits; hostile
 * files in the directory are skipped, not fatal; a new file and a removed key take effect at the next poll. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/dsse.h"
#include "lib/intoto.h"
#include "lib/keys.h"
#include "lib/str.h"
#include "webhook/attcheck.h"
#include "webhook/attdir.h"

#define DIG_A "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DIG_B "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define DIG_C "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define DIG_D "sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
#define DIG_POLICY "sha256:0000000000000000000000000000000000000000000000000000000000000000"

struct fixture {
	char root[64], keys[128], atts[128];
	struct key *trusted, *other;
};

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

/* A signed envelope over a hardline Statement for digest with the given shells count and timestamp. */
static char *envelope(const struct key *k, const char *digest, int shells, int64_t ts, size_t *len)
{
	json_t *facts = json_pack("{s{si s[]} s{si s[]}}", "shells", "count", shells, "items", "packageManagers",
	    "count", 0, "items");
	json_t *pred = NULL, *stmt = NULL;
	struct dsse_envelope *env = NULL;
	struct err e;
	char *body, *out = NULL;

	assert_int_equal(intoto_predicate_hardening_new("test", NULL, DIG_POLICY, "default", NULL, facts, ts, &pred,
			     &e),
	    0);
	json_decref(facts);
	assert_int_equal(intoto_statement_new("registry.example.com/shop/web", digest, HARDLINE_PREDICATE_TYPE, pred,
			     &stmt, &e),
	    0);
	body = json_dumps(stmt, JSON_COMPACT);
	assert_non_null(body);
	assert_int_equal(dsse_sign(INTOTO_PAYLOAD_TYPE, body, strlen(body), k, &env, &e), 0);
	assert_int_equal(dsse_fmt(env, &out, len, &e), 0);
	free(body);
	json_decref(stmt);
	dsse_envelope_free(env);
	return out;
}

static void put_envelope(struct fixture *f, const char *name, const struct key *k, const char *digest, int shells,
    int64_t ts)
{
	char path[256], *env;
	size_t len;

	env = envelope(k, digest, shells, ts, &len);
	str_fmt(path, sizeof(path), "%s/%s", f->atts, name);
	write_file(path, env, len);
	free(env);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[256];
	struct err e;

	assert_non_null(f);
	str_copy(f->root, sizeof(f->root), "/tmp/hl-attcheck.XXXXXX");
	assert_non_null(mkdtemp(f->root));
	str_fmt(f->keys, sizeof(f->keys), "%s/keys", f->root);
	str_fmt(f->atts, sizeof(f->atts), "%s/atts", f->root);
	assert_int_equal(mkdir(f->keys, 0700), 0);
	assert_int_equal(mkdir(f->atts, 0700), 0);
	assert_int_equal(key_generate(KEY_ALG_ECDSA_P256, &f->trusted, &e), 0);
	assert_int_equal(key_generate(KEY_ALG_ED25519, &f->other, &e), 0);
	str_fmt(path, sizeof(path), "%s/trusted.pub", f->keys);
	assert_int_equal(key_write_public(f->trusted, path, false, &e), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	key_free(f->trusted);
	key_free(f->other);
	str_fmt(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", f->root);
	free(f);
	return 0;
}

/* A checker configured from the JSON text (with @KEYS@ and @ATTS@ replaced by the fixture's paths). */
static struct attcheck *checker(struct fixture *f, const char *extra)
{
	struct attcheck *ac = NULL;
	json_t *att;
	struct err e;
	char text[1024];

	str_fmt(text, sizeof(text), "{\"keys\": [\"%s\"], \"sources\": [{\"directory\": \"%s\"}]%s%s}", f->keys,
	    f->atts, extra != NULL ? ", " : "", extra != NULL ? extra : "");
	att = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	assert_non_null(att);
	assert_int_equal(attcheck_new(&ac, &e), 0);
	if (attcheck_configure(ac, att, &e) != 0)
		fail_msg("configure: %s", e.msg);
	json_decref(att);
	return ac;
}

/* Checks image; returns the number of violations and the first as text in line. */
static size_t check(struct attcheck *ac, const char *image, char *line, size_t size)
{
	struct adm_violations vs;
	struct err e;
	size_t n;

	adm_violations_init(&vs);
	err_clear(&e);
	assert_int_equal(attcheck_check(ac, "container web", image, 0, &vs, NULL, &e), 0);
	n = vs.n;
	line[0] = '\0';
	if (n > 0)
		adm_violation_fmt(&vs.v[0], true, line, size);
	adm_violations_cleanup(&vs);
	return n;
}

static void test_admit_and_refuse(void **state)
{
	struct fixture *f = *state;
	struct attcheck *ac;
	char line[600], path[256], *env, *p;
	size_t len;
	int64_t now = (int64_t)time(NULL);

	put_envelope(f, "a.json", f->trusted, DIG_A, 0, now);
	put_envelope(f, "b.json", f->other, DIG_B, 0, now); /* untrusted key */
	/* c: tampered payload (a byte of the base64 payload changed) */
	env = envelope(f->trusted, DIG_C, 0, now, &len);
	p = strstr(env, "\"payload\":\"");
	assert_non_null(p);
	p[20] = p[20] == 'A' ? 'B' : 'A';
	str_fmt(path, sizeof(path), "%s/c.json", f->atts);
	write_file(path, env, len);
	free(env);
	ac = checker(f, NULL);

	assert_int_equal(check(ac, "registry.example.com/shop/web@" DIG_A, line, sizeof(line)), 0);
	assert_int_equal(check(ac, "registry.example.com/shop/web@" DIG_A, line, sizeof(line)), 0); /* cached */
	assert_int_equal(check(ac, "registry.example.com/shop/web:1.2@" DIG_A, line, sizeof(line)), 0);
	assert_int_equal(check(ac, "registry.example.com/shop/web@" DIG_B, line, sizeof(line)), 1);
	assert_non_null(strstr(line,
	    "container web: image registry.example.com/shop/web@sha256:bbbbbbbbbbbb\xe2\x80\xa6 "
	    "has no hardening attestation signed by a trusted key (looked in "));
	assert_non_null(strstr(line, "hardline attest --key"));
	assert_int_equal(check(ac, "registry.example.com/shop/web@" DIG_C, line, sizeof(line)), 1);
	assert_int_equal(check(ac, "registry.example.com/shop/web@" DIG_D, line, sizeof(line)), 1);
	assert_int_equal(check(ac, "shop/web:1.2", line, sizeof(line)), 1);
	assert_string_equal(line,
	    "container web: image shop/web:1.2 is not pinned by digest; use shop/web@sha256:<digest> "
	    "(e.g. from \"skopeo inspect docker://shop/web:1.2\" or \"crane digest shop/web:1.2\")");
	assert_int_equal(check(ac, "127.0.0.1:5000/web", line, sizeof(line)), 1);
	assert_non_null(strstr(line, "is not pinned by digest; use 127.0.0.1:5000/web@sha256:<digest>"));
	assert_int_equal(check(ac, "Bad Image!", line, sizeof(line)), 1);
	assert_non_null(strstr(line, "is not a valid image reference"));
	attcheck_free(ac);
}

static void test_requirements_and_age(void **state)
{
	struct fixture *f = *state;
	struct attcheck *ac;
	char line[600];
	int64_t now = (int64_t)time(NULL);

	put_envelope(f, "a.json", f->trusted, DIG_A, 2, now);		    /* two shells */
	put_envelope(f, "b.json", f->trusted, DIG_B, 0, now - 800 * 3600);  /* 800h old: in the grace period */
	put_envelope(f, "c.json", f->trusted, DIG_C, 0, now - 1000 * 3600); /* past the grace period */
	put_envelope(f, "d1.json", f->trusted, DIG_D, 1, now);		    /* d: one bad, one good attestation */
	put_envelope(f, "d2.json", f->trusted, DIG_D, 0, now - 3600);
	ac = checker(f, "\"require\": {\"shells\": 0}, \"maxAge\": \"720h\", \"maxAgeGrace\": \"168h\"");
	assert_int_equal(check(ac, "web@" DIG_A, line, sizeof(line)), 1);
	assert_non_null(strstr(line, "has attested shells.count 2, the policy allows at most 0"));
	assert_int_equal(check(ac, "web@" DIG_B, line, sizeof(line)), 0);
	assert_int_equal(check(ac, "web@" DIG_C, line, sizeof(line)), 1);
	assert_non_null(strstr(line, "has a hardening attestation 1000h old, over attestations.maxAge 720h"));
	assert_int_equal(check(ac, "web@" DIG_D, line, sizeof(line)), 0);
	attcheck_free(ac);

	ac = checker(f, "\"require\": {\"fetchTools\": 0}");
	assert_int_equal(check(ac, "web@" DIG_A, line, sizeof(line)), 1);
	assert_non_null(strstr(line, "without the fact fetchTools.count"));
	attcheck_free(ac);
}

static void test_bad_config(void **state)
{
	struct fixture *f = *state;
	struct attcheck *ac = NULL;
	const char *bad[] = {
		"{\"keys\": [\"/nonexistent/keys\"], \"sources\": [{\"directory\": \"/tmp\"}]}",
		"{\"keys\": [\"@K\"], \"sources\": []}",
		"{\"keys\": [\"@K\"], \"sources\": [{\"directory\": \"relative\"}]}",
		"{\"keys\": [\"@K\"], \"sources\": [{\"directory\": \"/tmp\"}], \"maxAge\": \"soon\"}",
		"{\"keys\": [\"@K\"], \"sources\": [{\"directory\": \"/tmp\"}], \"require\": {\"shells\": -1}}",
		"{\"keys\": [\"@K\"], \"sources\": [{\"directory\": \"/tmp\"}], \"imageReferences\": \"tags\"}",
		"{\"keys\": [\"@K\"], \"sources\": [{\"directory\": \"/tmp\"}], \"typo\": 1}",
		"{\"sources\": [{\"directory\": \"/tmp\"}]}",
	};
	char text[512], line[300];
	struct err e;
	json_t *att;

	assert_int_equal(attcheck_new(&ac, &e), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *at = strstr(bad[i], "@K");

		if (at != NULL)
			str_fmt(text, sizeof(text), "%.*s%s%s", (int)(at - bad[i]), bad[i], f->keys, at + 2);
		else
			str_copy(text, sizeof(text), bad[i]);
		att = json_loads(text, 0, NULL);
		assert_non_null(att);
		err_clear(&e);
		if (attcheck_configure(ac, att, &e) == 0)
			fail_msg("accepted: %s", text);
		assert_true(strstr(e.msg, "policy attestations") != NULL);
		json_decref(att);
	}
	/* Off (no configuration, or required false): nothing is checked. */
	assert_int_equal(check(ac, "shop/web:1.2", line, sizeof(line)), 0);
	att = json_loads("{\"required\": false}", 0, NULL);
	assert_int_equal(attcheck_configure(ac, att, &e), 0);
	json_decref(att);
	assert_int_equal(check(ac, "shop/web:1.2", line, sizeof(line)), 0);
	attcheck_free(ac);
}

static void test_hostile_directory(void **state)
{
	struct fixture *f = *state;
	struct attdir *d = NULL;
	struct attdir_snap *s;
	const struct attdir_entry *en;
	char path[256], *big;
	struct err e;
	size_t bigsz = 5u * 1024 * 1024;

	put_envelope(f, "good.json", f->trusted, DIG_A, 0, (int64_t)time(NULL));
	str_fmt(path, sizeof(path), "%s/not-json", f->atts);
	write_file(path, "hello {", 7);
	str_fmt(path, sizeof(path), "%s/empty", f->atts);
	write_file(path, "", 0);
	str_fmt(path, sizeof(path), "%s/not-an-envelope.json", f->atts);
	write_file(path, "{\"a\": 1}", 8);
	str_fmt(path, sizeof(path), "%s/subdir", f->atts);
	assert_int_equal(mkdir(path, 0700), 0);
	str_fmt(path, sizeof(path), "%s/.hidden.json", f->atts);
	write_file(path, "{}", 2);
	str_fmt(path, sizeof(path), "%s/dangling", f->atts);
	assert_int_equal(symlink("/nonexistent", path), 0);
	{ /* signed, but its Statement's subject has no valid sha256 digest */
		const char *bad =
		    "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"name\":\"x\","
		    "\"digest\":{\"sha256\":\"not-hex\"}}],\"predicateType\":\"" HARDLINE_PREDICATE_TYPE "\"}";
		struct dsse_envelope *env = NULL;
		char *out = NULL;
		size_t len = 0;

		assert_int_equal(dsse_sign(INTOTO_PAYLOAD_TYPE, bad, strlen(bad), f->trusted, &env, &e), 0);
		assert_int_equal(dsse_fmt(env, &out, &len, &e), 0);
		str_fmt(path, sizeof(path), "%s/bad-subject.json", f->atts);
		write_file(path, out, len);
		free(out);
		dsse_envelope_free(env);
	}
	put_envelope(f, "other-subject.json", f->trusted, DIG_C, 0, (int64_t)time(NULL));
	big = malloc(bigsz);
	assert_non_null(big);
	memset(big, ' ', bigsz);
	str_fmt(path, sizeof(path), "%s/huge.json", f->atts);
	write_file(path, big, bigsz);
	free(big);

	assert_int_equal(attdir_new(f->atts, &d, &e), 0);
	s = attdir_acquire(d);
	assert_int_equal(attdir_snap_files(s), 2);
	assert_int_equal(attdir_find(s, DIG_A, &en), 1);
	assert_string_equal(en->file, "good.json");
	assert_int_equal(attdir_find(s, DIG_C, &en), 1); /* indexed under what it claims; verified at look-up */
	assert_string_equal(en->file, "other-subject.json");
	assert_int_equal(attdir_find(s, DIG_B, &en), 0);
	attdir_release(s);
	assert_int_equal(attdir_poll(d, &e), 0); /* unchanged */
	attdir_free(d);

	/* A directory that does not exist yet is empty, and is read once it appears. */
	str_fmt(path, sizeof(path), "%s/later", f->root);
	assert_int_equal(attdir_new(path, &d, &e), 0);
	s = attdir_acquire(d);
	assert_int_equal(attdir_snap_files(s), 0);
	attdir_release(s);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(attdir_poll(d, &e), 1);
	attdir_free(d);
}

/* A mounted ConfigMap: files are symlinks into "..data", which the kubelet swaps to a new timestamped directory. */
static void test_configmap_swap(void **state)
{
	struct fixture *f = *state;
	struct attdir *d = NULL;
	struct attdir_snap *s;
	const struct attdir_entry *en;
	char path[256], *env;
	size_t len;
	struct err e;

	str_fmt(path, sizeof(path), "%s/..2026_12_01_v1", f->atts);
	assert_int_equal(mkdir(path, 0700), 0);
	env = envelope(f->trusted, DIG_A, 0, (int64_t)time(NULL), &len);
	str_fmt(path, sizeof(path), "%s/..2026_12_01_v1/web.json", f->atts);
	write_file(path, env, len);
	free(env);
	str_fmt(path, sizeof(path), "%s/..data", f->atts);
	assert_int_equal(symlink("..2026_12_01_v1", path), 0);
	str_fmt(path, sizeof(path), "%s/web.json", f->atts);
	assert_int_equal(symlink("..data/web.json", path), 0);
	assert_int_equal(attdir_new(f->atts, &d, &e), 0);
	s = attdir_acquire(d);
	assert_int_equal(attdir_find(s, DIG_A, &en), 1);
	attdir_release(s);

	/* The kubelet's atomic update: a new directory, "..data" replaced by rename. */
	str_fmt(path, sizeof(path), "%s/..2026_12_01_v2", f->atts);
	assert_int_equal(mkdir(path, 0700), 0);
	env = envelope(f->trusted, DIG_B, 0, (int64_t)time(NULL), &len);
	str_fmt(path, sizeof(path), "%s/..2026_12_01_v2/web.json", f->atts);
	write_file(path, env, len);
	free(env);
	s = attdir_acquire(d); /* a reader holding the old index keeps it */
	str_fmt(path, sizeof(path), "%s/..data_tmp", f->atts);
	assert_int_equal(symlink("..2026_12_01_v2", path), 0);
	{
		char to[256];

		str_fmt(to, sizeof(to), "%s/..data", f->atts);
		assert_int_equal(rename(path, to), 0);
	}
	assert_int_equal(attdir_poll(d, &e), 1);
	assert_int_equal(attdir_find(s, DIG_A, &en), 1);
	attdir_release(s);
	s = attdir_acquire(d);
	assert_int_equal(attdir_find(s, DIG_A, &en), 0);
	assert_int_equal(attdir_find(s, DIG_B, &en), 1);
	assert_string_equal(en->file, "web.json");
	attdir_release(s);
	attdir_free(d);
}

static void test_changes_take_effect(void **state)
{
	struct fixture *f = *state;
	struct attcheck *ac;
	char line[600], path[256];

	ac = checker(f, NULL);
	assert_int_equal(check(ac, "web@" DIG_A, line, sizeof(line)), 1); /* none yet; the failure is cached */
	put_envelope(f, "a.json", f->trusted, DIG_A, 0, (int64_t)time(NULL));
	assert_int_equal(attcheck_poll(ac), 1);
	assert_int_equal(check(ac, "web@" DIG_A, line, sizeof(line)), 0);
	assert_int_equal(attcheck_poll(ac), 0);
	/* Removing the only trusted key: refused at the next poll. */
	str_fmt(path, sizeof(path), "%s/trusted.pub", f->keys);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(attcheck_poll(ac), 1);
	assert_int_equal(check(ac, "web@" DIG_A, line, sizeof(line)), 1);
	attcheck_free(ac);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_admit_and_refuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_requirements_and_age, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_configmap_swap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changes_take_effect, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
