/* Tests of hardener/att_store: the cosign-style .att manifest (tag, build, append, dedup, what is kept of old
 * layers, malformed and oversized inputs, listing) and the --require expressions of `hardline verify`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/failalloc.h"
#include "hardener/att_store.h"
#include "lib/json.h"

#define DA "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DB "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define PT "https://hardline.dev/attestation/hardening/v1"

static json_t *parse(const struct strbuf *sb)
{
	json_t *j = NULL;
	struct err e;

	assert_int_equal(json_parse_buf(sb->data, sb->len, 1 << 20, "test", &j, &e), 0);
	return j;
}

static void test_tag(void **state)
{
	char tag[ATT_TAG_LEN + 1];
	struct err e;

	(void)state;
	assert_int_equal(att_tag(DA, tag, &e), 0);
	assert_string_equal(tag, "sha256-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.att");
	assert_int_not_equal(att_tag("sha256:xyz", tag, &e), 0);
	assert_string_equal(tag, "");
}

static void test_new_manifest(void **state)
{
	struct att_manifest m;
	char dg[DIGEST_STR_LEN + 1];
	json_t *man, *cfg, *l;
	struct err e;

	(void)state;
	assert_int_equal(att_manifest_merge(NULL, 0, "new", DA, 1234, PT, &m, &e), 0);
	assert_true(m.added);
	assert_int_equal(m.n_layers, 1);
	man = parse(&m.manifest);
	cfg = parse(&m.config);
	assert_int_equal(json_integer_value(json_object_get(man, "schemaVersion")), 2);
	assert_string_equal(json_string_value(json_object_get(man, "mediaType")),
	    "application/vnd.oci.image.manifest.v1+json");
	assert_string_equal(json_string_value(json_object_get(json_object_get(man, "config"), "digest")),
	    m.config_digest);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(man, "config"), "size")), m.config.len);
	l = json_array_get(json_object_get(man, "layers"), 0);
	assert_string_equal(json_string_value(json_object_get(l, "mediaType")), ATT_MT_DSSE);
	assert_string_equal(json_string_value(json_object_get(l, "digest")), DA);
	assert_int_equal(json_integer_value(json_object_get(l, "size")), 1234);
	assert_string_equal(json_string_value(json_object_get(json_object_get(l, "annotations"), "predicateType")), PT);
	assert_string_equal(json_string_value(json_object_get(json_object_get(l, "annotations"), ATT_ANN_SIGNATURE)),
	    "");
	/* the config lists each layer's digest as a diff_id, as cosign writes it */
	assert_string_equal(json_string_value(
				json_array_get(json_object_get(json_object_get(cfg, "rootfs"), "diff_ids"), 0)),
	    DA);
	/* the digests are of the exact bytes */
	assert_int_equal(sha256_digest_str(m.manifest.data, m.manifest.len, dg, &e), 0);
	assert_string_equal(dg, m.manifest_digest);
	assert_int_equal(sha256_digest_str(m.config.data, m.config.len, dg, &e), 0);
	assert_string_equal(dg, m.config_digest);
	json_decref(man);
	json_decref(cfg);
	att_manifest_cleanup(&m);
}

static void test_append_and_dedup(void **state)
{
	struct att_manifest a, b, c;
	json_t *man;
	struct err e;

	(void)state;
	assert_int_equal(att_manifest_merge(NULL, 0, "new", DA, 10, PT, &a, &e), 0);
	assert_int_equal(att_manifest_merge(a.manifest.data, a.manifest.len, "old", DB, 20, "https://x/other", &b, &e),
	    0);
	assert_true(b.added);
	assert_int_equal(b.n_layers, 2);
	man = parse(&b.manifest);
	assert_string_equal(json_string_value(
				json_object_get(json_array_get(json_object_get(man, "layers"), 0), "digest")),
	    DA);
	assert_string_equal(json_string_value(
				json_object_get(json_array_get(json_object_get(man, "layers"), 1), "digest")),
	    DB);
	json_decref(man);
	/* the same envelope again: nothing added, the same bytes */
	assert_int_equal(att_manifest_merge(b.manifest.data, b.manifest.len, "old", DA, 10, PT, &c, &e), 0);
	assert_false(c.added);
	assert_int_equal(c.n_layers, 2);
	assert_string_equal(c.manifest_digest, b.manifest_digest);
	att_manifest_cleanup(&a);
	att_manifest_cleanup(&b);
	att_manifest_cleanup(&c);
}

/* Layers of other tools (cosign's bundle annotations, other media types) are kept as they are. */
static void test_keeps_foreign_layers(void **state)
{
	static const char old[] =
	    "{\"schemaVersion\":2,\"mediaType\":\"application/"
	    "vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":"
	    "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" DB "\",\"size\":5},\"layers\":[{\"mediaType\":"
	    "\"application/vnd.dsse.envelope.v1+json\",\"digest\":\"" DB
	    "\",\"size\":7,\"annotations\":{\"predicateType\":"
	    "\"https://slsa.dev/provenance/v1\",\"dev.sigstore.cosign/bundle\":\"{}\"}},{\"mediaType\":\"text/plain\","
	    "\"digest\":\"" DB "\",\"size\":1}]}";
	struct att_manifest m;
	struct att_layer *ls = NULL;
	size_t n = 0;
	json_t *man;
	struct err e;

	(void)state;
	assert_int_equal(att_manifest_merge(old, strlen(old), "old", DA, 3, PT, &m, &e), 0);
	man = parse(&m.manifest);
	assert_int_equal(json_array_size(json_object_get(man, "layers")), 3);
	assert_string_equal(json_string_value(
				json_object_get(json_object_get(json_array_get(json_object_get(man, "layers"), 0),
						    "annotations"),
				    "dev.sigstore.cosign/bundle")),
	    "{}");
	json_decref(man);
	/* listing: only the DSSE layers, with their predicate types */
	assert_int_equal(att_manifest_layers(m.manifest.data, m.manifest.len, "m", &ls, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(ls[0].predicate_type, "https://slsa.dev/provenance/v1");
	assert_string_equal(ls[1].digest, DA);
	assert_int_equal(ls[1].size, 3);
	assert_string_equal(ls[1].predicate_type, PT);
	free(ls);
	att_manifest_cleanup(&m);
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
		"<html>garbage",
		"[]",
		"{\"schemaVersion\":1,\"layers\":[]}",
		"{\"schemaVersion\":2}",
		"{\"schemaVersion\":2,\"layers\":{}}",
		"{\"schemaVersion\":2,\"layers\":[{\"mediaType\":\"x\",\"digest\":\"sha256:12\",\"size\":1}]}",
		"{\"schemaVersion\":2,\"layers\":[{\"mediaType\":\"x\",\"digest\":\"" DA "\"}]}",
		"{\"schemaVersion\":2,\"schemaVersion\":2,\"layers\":[]}",
		NULL,
	};
	struct att_manifest m;
	struct att_layer *ls;
	size_t i, n;
	struct err e;

	(void)state;
	for (i = 0; bad[i] != NULL; i++) {
		assert_int_not_equal(att_manifest_merge(bad[i], strlen(bad[i]), "bad", DA, 1, PT, &m, &e), 0);
		assert_non_null(strstr(e.msg, "bad"));
		att_manifest_cleanup(&m);
		assert_int_not_equal(att_manifest_layers(bad[i], strlen(bad[i]), "bad", &ls, &n, &e), 0);
		assert_null(ls);
	}
}

/* An .att manifest at the cap refuses one more, and one over the cap is refused when read. */
static void test_layer_cap(void **state)
{
	struct strbuf sb;
	struct att_manifest m;
	struct att_layer *ls;
	size_t i, n;
	struct err e;

	(void)state;
	sb_init(&sb, 1 << 20);
	assert_int_equal(sb_puts(&sb, "{\"schemaVersion\":2,\"layers\":["), 0);
	for (i = 0; i < ATT_MAX_LAYERS; i++)
		assert_int_equal(sb_printf(&sb, "%s{\"mediaType\":\"%s\",\"digest\":\"sha256:%064zx\",\"size\":1}",
				     i ? "," : "", ATT_MT_DSSE, i),
		    0);
	assert_int_equal(sb_puts(&sb, "]}"), 0);
	assert_int_equal(att_manifest_merge(sb.data, sb.len, "full", DA, 1, PT, &m, &e), ERR_TOO_LARGE);
	att_manifest_cleanup(&m);
	assert_int_equal(att_manifest_layers(sb.data, sb.len, "full", &ls, &n, &e), 0);
	assert_int_equal(n, ATT_MAX_LAYERS);
	free(ls);
	sb.len -= 2;
	assert_int_equal(sb_printf(&sb, ",{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":1}]}", ATT_MT_DSSE, DA), 0);
	assert_int_equal(att_manifest_layers(sb.data, sb.len, "over", &ls, &n, &e), ERR_TOO_LARGE);
	sb_cleanup(&sb);
}

/* Every jansson allocation of a merge and a listing fails in turn: each is refused with ERR_NOMEM (or, when the
 * failure hits the parse of the old manifest, a parse error) and frees what it took (ASan checks the leaks), until
 * the run where nothing fails gives the same bytes as a run without failures. */
static void test_allocation_failures(void **state)
{
	struct att_manifest ref, a, b;
	struct att_layer *ls;
	size_t n;
	struct err e;
	long at;
	int r, done = 0;

	(void)state;
	assert_int_equal(att_manifest_merge(NULL, 0, "new", DA, 10, PT, &ref, &e), 0);
	for (at = 0; !done && at < 10000; at++) {
		failalloc_arm(at);
		r = att_manifest_merge(ref.manifest.data, ref.manifest.len, "old", DB, 20, PT, &a, &e);
		if (r != 0) {
			assert_true(r == ERR_NOMEM || r == ERR_PARSE || r == ERR_INVALID);
			att_manifest_cleanup(&a);
			continue;
		}
		r = att_manifest_layers(a.manifest.data, a.manifest.len, "a", &ls, &n, &e);
		if (r != 0) {
			assert_null(ls);
			att_manifest_cleanup(&a);
			continue;
		}
		free(ls);
		done = failalloc_untouched(); /* nothing failed: every allocation point has been tried */
		if (done) {
			failalloc_disarm();
			assert_int_equal(att_manifest_merge(ref.manifest.data, ref.manifest.len, "old", DB, 20, PT, &b,
					     &e),
			    0);
			assert_string_equal(a.manifest_digest, b.manifest_digest);
			att_manifest_cleanup(&b);
		}
		att_manifest_cleanup(&a);
	}
	failalloc_disarm();
	assert_true(done);
	att_manifest_cleanup(&ref);
}

static void test_require_parse(void **state)
{
	struct att_require q;
	struct err e;

	(void)state;
	assert_int_equal(att_require_parse("shells=0", &q, &e), 0);
	assert_string_equal(q.fact, "shells");
	assert_int_equal(q.op, ATT_REQ_EQ);
	assert_int_equal(q.value, 0);
	assert_int_equal(att_require_parse("executables<=12", &q, &e), 0);
	assert_string_equal(q.fact, "executables");
	assert_int_equal(q.op, ATT_REQ_LE);
	assert_int_equal(q.value, 12);
	assert_int_equal(att_require_parse("loginShells=1", &q, &e), 0);
	assert_int_equal(att_require_parse("nosuch=0", &q, &e), ERR_USAGE);
	assert_non_null(strstr(e.msg, "unknown fact \"nosuch\""));
	assert_int_equal(att_require_parse("shells", &q, &e), ERR_USAGE);
	assert_int_equal(att_require_parse("shells<0", &q, &e), ERR_USAGE);
	assert_int_equal(att_require_parse("shells=-1", &q, &e), ERR_USAGE);
	assert_int_equal(att_require_parse("shells=1x", &q, &e), ERR_USAGE);
	assert_int_equal(att_require_parse("shells=", &q, &e), ERR_USAGE);
	assert_int_equal(att_require_parse("shell=0", &q, &e), ERR_USAGE);
	assert_int_equal(att_require_parse("shells=99999999999999999999", &q, &e), ERR_USAGE);
}

static void test_require_eval(void **state)
{
	static const char facts[] =
	    "{\"files\":10,\"bytes\":400,\"shells\":{\"count\":2,\"items\":[]},"
	    "\"setuid\":{\"count\":0,\"items\":[]},\"users\":{\"count\":2,\"loginShells\":1,\"items\":[]}}";
	struct att_require q;
	json_t *f = NULL;
	struct err e;

	(void)state;
	assert_int_equal(json_parse_buf(facts, strlen(facts), 4096, "facts", &f, &e), 0);
	assert_int_equal(att_require_parse("shells=0", &q, &e), 0);
	assert_int_equal(att_require_eval(f, &q, &e), ERR_DENIED);
	assert_string_equal(e.msg, "shells is 2, required = 0");
	assert_int_equal(att_require_parse("shells<=2", &q, &e), 0);
	assert_int_equal(att_require_eval(f, &q, &e), 0);
	assert_int_equal(att_require_parse("shells<=1", &q, &e), 0);
	assert_int_equal(att_require_eval(f, &q, &e), ERR_DENIED);
	assert_int_equal(att_require_parse("setuid=0", &q, &e), 0);
	assert_int_equal(att_require_eval(f, &q, &e), 0);
	assert_int_equal(att_require_parse("files<=10", &q, &e), 0);
	assert_int_equal(att_require_eval(f, &q, &e), 0);
	assert_int_equal(att_require_parse("loginShells=0", &q, &e), 0);
	assert_int_equal(att_require_eval(f, &q, &e), ERR_DENIED);
	/* absent from the facts: not satisfied, and said so */
	assert_int_equal(att_require_parse("packageManagers=0", &q, &e), 0);
	assert_int_equal(att_require_eval(f, &q, &e), ERR_NOT_FOUND);
	assert_non_null(strstr(e.msg, "no packageManagers count"));
	assert_int_equal(att_require_eval(NULL, &q, &e), ERR_NOT_FOUND);
	json_decref(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tag),
		cmocka_unit_test(test_new_manifest),
		cmocka_unit_test(test_append_and_dedup),
		cmocka_unit_test(test_keeps_foreign_layers),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_layer_cap),
		cmocka_unit_test(test_allocation_failures),
		cmocka_unit_test(test_require_parse),
		cmocka_unit_test(test_require_eval),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
