/* att_store — cosign's legacy ".att" manifest (one DSSE envelope per layer) built, merged and listed without I/O,
 * and the --require expressions of `hardline verify`. The callers (attest.c) move the bytes to an OCI layout or a
 * registry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hardener/att_store.h"
#include "hardener/facts.h"
#include "lib/json.h"
#include "lib/oci.h"

int att_tag(const char *digest, char out[ATT_TAG_LEN + 1], struct err *e)
{
	out[0] = '\0';
	if (digest_validate(digest, e) != 0)
		return err_prefix(e, "attestation tag");
	if (str_fmt(out, ATT_TAG_LEN + 1, "sha256-%s.att", digest + 7) != 0)
		return err_set(e, ERR_INTERNAL, "attestation tag: too long");
	return 0;
}

void att_manifest_cleanup(struct att_manifest *m)
{
	if (m == NULL)
		return;
	sb_cleanup(&m->config);
	sb_cleanup(&m->manifest);
	m->config_digest[0] = m->manifest_digest[0] = '\0';
	m->n_layers = 0;
	m->added = false;
}

/* The layers array of a parsed .att manifest, each entry checked as a descriptor. Borrowed from man. */
static int old_layers(const json_t *man, const char *label, json_t **layers, struct err *e)
{
	struct oci_descriptor d;
	char where[300];
	json_t *arr = NULL, *v;
	int64_t sv;
	size_t i;
	int r;

	*layers = NULL;
	if (!json_is_object(man))
		return err_set(e, ERR_PARSE, "%s: not a JSON object; the attestation manifest is malformed", label);
	if ((r = json_get_int(man, "schemaVersion", 2, 2, &sv, label, e)) != 0) {
		if (r == ERR_NOT_FOUND)
			err_set(e, ERR_INVALID, "%s: no schemaVersion 2; the attestation manifest is malformed", label);
		return e->code;
	}
	if ((r = json_get_arr(man, "layers", &arr, label, e)) != 0) {
		if (r == ERR_NOT_FOUND)
			err_set(e, ERR_INVALID, "%s: no layers; the attestation manifest is malformed", label);
		return e->code;
	}
	if (json_array_size(arr) > ATT_MAX_LAYERS)
		return err_set(e, ERR_TOO_LARGE, "%s: more than %d attestations", label, ATT_MAX_LAYERS);
	json_array_foreach(arr, i, v)
	{
		snprintf(where, sizeof(where), "%.200s layers[%zu]", label, i);
		if ((r = oci_descriptor_parse(v, where, &d, e)) != 0)
			return r;
		oci_descriptor_cleanup(&d);
	}
	*layers = arr;
	return 0;
}

/* Serializes v into sb and its digest into dg. */
static int dump_digest(const json_t *v, struct strbuf *sb, char dg[DIGEST_STR_LEN + 1], struct err *e)
{
	int r;

	if ((r = oci_json_dump(v, sb, e)) != 0)
		return r;
	return sha256_digest_str(sb->data, sb->len, dg, e);
}

int att_manifest_merge(const char *old, size_t old_len, const char *label, const char *envelope_digest,
    uint64_t envelope_size, const char *predicate_type, struct att_manifest *out, struct err *e)
{
	json_t *oldm = NULL, *olayers = NULL, *layers = NULL, *diffs = NULL, *cfg = NULL, *man = NULL, *l, *v;
	bool present = false;
	size_t i;
	int r;

	memset(out, 0, sizeof(*out));
	sb_init(&out->config, ATT_MANIFEST_MAX);
	sb_init(&out->manifest, ATT_MANIFEST_MAX);
	if ((r = digest_validate(envelope_digest, e)) != 0)
		goto out;
	if (old != NULL) {
		if ((r = json_parse_buf(old, old_len, ATT_MANIFEST_MAX, label, &oldm, e)) != 0 ||
		    (r = old_layers(oldm, label, &olayers, e)) != 0)
			goto out;
	}
	if ((layers = json_array()) == NULL || (diffs = json_array()) == NULL) {
		r = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(olayers, i, v)
	{
		if (strcmp(json_string_value(json_object_get(v, "digest")), envelope_digest) == 0)
			present = true;
		if (json_array_append(layers, v) != 0 || json_array_append(diffs, json_object_get(v, "digest")) != 0) {
			r = err_set(e, ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	if (!present) {
		if (json_array_size(layers) >= ATT_MAX_LAYERS) {
			r = err_set(e, ERR_TOO_LARGE,
			    "%s: already holds %d attestations, the most hardline keeps; remove old "
			    "ones first",
			    label, ATT_MAX_LAYERS);
			goto out;
		}
		l = json_pack("{s:s, s:s, s:I, s:{s:s, s:s}}", "mediaType", ATT_MT_DSSE, "digest", envelope_digest,
		    "size", (json_int_t)envelope_size, "annotations", ATT_ANN_SIGNATURE, "", ATT_ANN_PREDICATE,
		    predicate_type);
		if (l == NULL || json_array_append_new(layers, l) != 0 ||
		    json_array_append_new(diffs, json_string(envelope_digest)) != 0) {
			r = err_set(e, ERR_NOMEM, "out of memory (or a predicate type that is not UTF-8)");
			goto out;
		}
	}
	cfg = json_pack("{s:s, s:{}, s:s, s:{s:s, s:O}}", "architecture", "", "config", "os", "", "rootfs", "type",
	    "layers", "diff_ids", diffs);
	if (cfg == NULL) {
		r = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = dump_digest(cfg, &out->config, out->config_digest, e)) != 0)
		goto out;
	man = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:O}", "schemaVersion", 2, "mediaType", OCI_MT_MANIFEST,
	    "config", "mediaType", OCI_MT_CONFIG, "digest", out->config_digest, "size", (json_int_t)out->config.len,
	    "layers", layers);
	if (man == NULL) {
		r = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = dump_digest(man, &out->manifest, out->manifest_digest, e)) != 0)
		goto out;
	out->n_layers = json_array_size(layers);
	out->added = !present;
	r = 0;
out:
	json_decref(oldm);
	json_decref(layers);
	json_decref(diffs);
	json_decref(cfg);
	json_decref(man);
	return r;
}

int att_manifest_layers(const char *buf, size_t len, const char *label, struct att_layer **out, size_t *n,
    struct err *e)
{
	json_t *man = NULL, *layers, *v;
	struct att_layer *ls = NULL;
	const char *mt, *pt;
	size_t i, k = 0;
	int r;

	*out = NULL;
	*n = 0;
	if ((r = json_parse_buf(buf, len, ATT_MANIFEST_MAX, label, &man, e)) != 0 ||
	    (r = old_layers(man, label, &layers, e)) != 0)
		goto out;
	if (json_array_size(layers) > 0 && (ls = calloc(json_array_size(layers), sizeof(*ls))) == NULL) {
		r = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(layers, i, v)
	{
		mt = json_string_value(json_object_get(v, "mediaType"));
		if (mt == NULL || strcmp(mt, ATT_MT_DSSE) != 0)
			continue;
		(void)str_copy(ls[k].digest, sizeof(ls[k].digest), json_string_value(json_object_get(v, "digest")));
		ls[k].size = (uint64_t)json_integer_value(json_object_get(v, "size"));
		pt = json_string_value(json_object_get(json_object_get(v, "annotations"), ATT_ANN_PREDICATE));
		if (pt != NULL)
			str_escape(ls[k].predicate_type, sizeof(ls[k].predicate_type), pt, strlen(pt), 200);
		k++;
	}
	*out = ls;
	ls = NULL; /* transferred */
	*n = k;
	r = 0;
out:
	free(ls);
	json_decref(man);
	return r;
}

/* The fact names --require accepts: the count categories of the facts (facts_categories) and three top-level
 * counts. */
static const char *const req_top_level[] = { "files", "bytes", "loginShells", NULL };

/* Whether s[0..n) names one of list. */
static bool name_is_one_of(const char *const *list, const char *s, size_t n)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strlen(list[i]) == n && strncmp(list[i], s, n) == 0)
			return true;
	return false;
}
#define REQ_FACT_LIST                                                                                                  \
	"executables, shells, fetchTools, interpreters, packageManagers, setuid, setgid, "                             \
	"worldWritable, users, groups, files, bytes, loginShells"

int att_require_parse(const char *s, struct att_require *out, struct err *e)
{
	const char *op = strpbrk(s, "<=");
	size_t n;
	uint64_t v;

	memset(out, 0, sizeof(*out));
	if (op == NULL)
		return err_set(e, ERR_USAGE, "--require \"%.60s\": expected FACT=N or FACT<=N (e.g. shells=0)", s);
	n = (size_t)(op - s);
	if (!name_is_one_of(facts_categories, s, n) && !name_is_one_of(req_top_level, s, n))
		return err_set(e, ERR_USAGE, "--require \"%.60s\": unknown fact \"%.*s\"; the facts are " REQ_FACT_LIST,
		    s, (int)(n > 40 ? 40 : n), s);
	memcpy(out->fact, s, n);
	out->fact[n] = '\0';
	if (op[0] == '=') {
		out->op = ATT_REQ_EQ;
		op++;
	} else if (op[0] == '<' && op[1] == '=') {
		out->op = ATT_REQ_LE;
		op += 2;
	} else {
		return err_set(e, ERR_USAGE, "--require \"%.60s\": the operator must be = or <=", s);
	}
	if (str_to_u64(op, 0, INT64_MAX, &v, "--require value", e) != 0)
		return err_set(e, ERR_USAGE, "--require \"%.60s\": \"%.30s\" is not a whole number", s, op);
	out->value = (int64_t)v;
	return 0;
}

int att_require_eval(const json_t *facts, const struct att_require *req, struct err *e)
{
	const json_t *v;
	json_int_t have;

	if (strcmp(req->fact, "files") == 0 || strcmp(req->fact, "bytes") == 0)
		v = json_object_get(facts, req->fact);
	else if (strcmp(req->fact, "loginShells") == 0)
		v = json_object_get(json_object_get(facts, "users"), "loginShells");
	else
		v = json_object_get(json_object_get(facts, req->fact), "count");
	if (!json_is_integer(v))
		return err_set(e, ERR_NOT_FOUND, "the attested facts have no %s count, so %s%s%lld cannot be checked",
		    req->fact, req->fact, req->op == ATT_REQ_EQ ? "=" : "<=", (long long)req->value);
	have = json_integer_value(v);
	if ((req->op == ATT_REQ_EQ && have != req->value) || (req->op == ATT_REQ_LE && have > req->value))
		return err_set(e, ERR_DENIED, "%s is %lld, required %s %lld", req->fact, (long long)have,
		    req->op == ATT_REQ_EQ ? "=" : "<=", (long long)req->value);
	return 0;
}
