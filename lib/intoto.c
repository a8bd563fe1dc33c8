/* intoto — building and parsing in-toto Statements and the hardening predicate (see intoto.h). */
#include "lib/intoto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/json.h"
#include "lib/str.h"

int intoto_statement_new(const char *name, const char *digest, const char *predicate_type, json_t *predicate,
    json_t **out, struct err *e)
{
	json_t *st = NULL;
	int r;

	*out = NULL;
	if ((r = digest_validate(digest, e)) != 0) {
		err_prefix(e, "statement subject");
		goto out;
	}
	if (predicate != NULL && !json_is_object(predicate)) {
		r = err_set(e, ERR_INVALID, "statement predicate must be a JSON object");
		goto out;
	}
	st = json_pack("{s:s, s:[{s:s, s:{s:s}}], s:s}", "_type", INTOTO_STATEMENT_V1, "subject", "name",
	    name != NULL && name[0] != '\0' ? name : "_", "digest", "sha256", digest + 7, "predicateType",
	    predicate_type);
	if (st == NULL || (predicate != NULL && json_object_set(st, "predicate", predicate) != 0)) {
		r = err_set(e, ERR_NOMEM, "statement: out of memory (or a name that is not UTF-8)");
		goto out;
	}
	*out = st;
	st = NULL; /* transferred */
	r = 0;
out:
	json_decref(predicate);
	json_decref(st);
	return r;
}

void intoto_statement_free(struct intoto_statement *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < st->nsubjects; i++)
		free(st->subjects[i].name);
	free(st->subjects);
	free(st->type);
	free(st->predicate_type);
	json_decref(st->predicate);
	free(st);
}

/* Whether s is exactly DIGEST_HEX_LEN lowercase hex digits. */
static int is_lower_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < DIGEST_HEX_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[DIGEST_HEX_LEN] == '\0';
}

/* subject[i] of a Statement into sub (its sha256 digest; name required in v0.1); errors name the index. */
static int parse_subject(const json_t *js, size_t i, bool v01, struct intoto_subject *sub, struct err *e)
{
	char where[40];
	const char *name = "", *hex = NULL;
	json_t *dig = NULL;
	const char *alg;
	json_t *v;
	int r;

	snprintf(where, sizeof(where), "statement subject[%zu]", i);
	if (!json_is_object(js))
		return err_set(e, ERR_PARSE, "%s must be an object", where);
	r = json_get_str(js, "name", &name, where, e);
	if (r == ERR_NOT_FOUND && v01)
		return err_set(e, ERR_PARSE, "%s has no \"name\" (required in Statement v0.1)", where);
	if (r != 0 && r != ERR_NOT_FOUND)
		return r;
	if (strlen(name) > INTOTO_NAME_MAX)
		return err_set(e, ERR_INVALID, "%s.name is longer than %d characters", where, INTOTO_NAME_MAX);
	if ((r = json_get_obj(js, "digest", &dig, where, e)) == ERR_NOT_FOUND)
		return err_set(e, ERR_PARSE, "%s has no \"digest\"; subjects are matched by digest", where);
	if (r != 0)
		return r;
	json_object_foreach(dig, alg, v)
	{
		if (!json_is_string(v))
			return err_set(e, ERR_INVALID, "%s.digest.%.32s must be a string", where, alg);
	}
	if ((r = json_get_str(dig, "sha256", &hex, where, e)) == ERR_NOT_FOUND)
		return err_set(e, ERR_UNSUPPORTED, "%s has no sha256 digest; only sha256 subjects are supported",
		    where);
	if (r != 0)
		return r;
	if (!is_lower_hex64(hex))
		return err_set(e, ERR_INVALID, "%s.digest.sha256 must be 64 lowercase hex characters", where);
	snprintf(sub->digest, sizeof(sub->digest), "sha256:%s", hex);
	if ((sub->name = strdup(name)) == NULL)
		return err_set(e, ERR_NOMEM, "statement: out of memory");
	return 0;
}

int intoto_parse(const void *buf, size_t len, struct intoto_statement **out, struct err *e)
{
	struct intoto_statement *st = NULL;
	json_t *root = NULL, *subj = NULL, *pred;
	const char *type = NULL, *ptype = NULL;
	char esc[80];
	bool v01;
	size_t i, n;
	int r;

	*out = NULL;
	if ((r = json_parse_buf(buf, len, INTOTO_STATEMENT_MAX, "statement", &root, e)) != 0)
		goto out;
	if (!json_is_object(root)) {
		r = err_set(e, ERR_PARSE, "statement: an in-toto Statement must be a JSON object");
		goto out;
	}
	if ((r = json_get_str(root, "_type", &type, "statement", e)) == ERR_NOT_FOUND) {
		r = err_set(e, ERR_PARSE, "statement has no \"_type\"; not an in-toto Statement");
		goto out;
	} else if (r != 0) {
		goto out;
	}
	if (strcmp(type, INTOTO_STATEMENT_V1) != 0 && strcmp(type, INTOTO_STATEMENT_V01) != 0) {
		str_escape(esc, sizeof(esc), type, strlen(type), 64);
		r = err_set(e, ERR_UNSUPPORTED, "statement _type \"%s\" is not supported; expected %s (or %s)", esc,
		    INTOTO_STATEMENT_V1, INTOTO_STATEMENT_V01);
		goto out;
	}
	v01 = strcmp(type, INTOTO_STATEMENT_V01) == 0;
	if ((r = json_get_str(root, "predicateType", &ptype, "statement", e)) == ERR_NOT_FOUND) {
		r = err_set(e, ERR_PARSE, "statement has no \"predicateType\"");
		goto out;
	} else if (r != 0) {
		goto out;
	}
	if ((r = json_get_arr(root, "subject", &subj, "statement", e)) == ERR_NOT_FOUND) {
		r = err_set(e, ERR_PARSE, "statement has no \"subject\"");
		goto out;
	} else if (r != 0) {
		goto out;
	}
	n = json_array_size(subj);
	if (n == 0) {
		r = err_set(e, ERR_INVALID, "statement subject list is empty; it attests nothing");
		goto out;
	}
	if (n > INTOTO_MAX_SUBJECTS) {
		r = err_set(e, ERR_TOO_LARGE, "statement has %zu subjects, more than the limit of %d", n,
		    INTOTO_MAX_SUBJECTS);
		goto out;
	}
	pred = json_object_get(root, "predicate");
	if (pred != NULL && !json_is_object(pred) && !json_is_null(pred)) {
		r = err_set(e, ERR_INVALID, "statement.predicate must be an object");
		goto out;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL || (st->subjects = calloc(n, sizeof(*st->subjects))) == NULL ||
	    (st->type = strdup(type)) == NULL || (st->predicate_type = strdup(ptype)) == NULL) {
		r = err_set(e, ERR_NOMEM, "statement: out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		st->nsubjects = i + 1;
		if ((r = parse_subject(json_array_get(subj, i), i, v01, &st->subjects[i], e)) != 0)
			goto out;
	}
	if (json_is_object(pred))
		st->predicate = json_incref(pred);
	*out = st;
	st = NULL; /* transferred */
	r = 0;
out:
	intoto_statement_free(st);
	json_decref(root);
	return r;
}

bool intoto_has_subject(const struct intoto_statement *st, const char *digest)
{
	size_t i;

	for (i = 0; i < st->nsubjects; i++)
		if (strcmp(st->subjects[i].digest, digest) == 0)
			return true;
	return false;
}

int intoto_verify(const char *buf, size_t len, const char *label, const struct keyring *kr, const char *subject_digest,
    const char *predicate_type, struct intoto_statement **out, const struct key **signer, struct err *e)
{
	struct dsse_envelope *env = NULL;
	struct intoto_statement *st = NULL;
	const struct key *k = NULL;
	char esc[160];
	int r;

	*out = NULL;
	if (signer != NULL)
		*signer = NULL;
	if ((r = dsse_parse(buf, len, label, &env, e)) != 0)
		goto out;
	if ((r = dsse_verify(env, kr, INTOTO_PAYLOAD_TYPE, &k, e)) != 0 ||
	    (r = intoto_parse(env->payload, env->payload_len, &st, e)) != 0) {
		err_prefix(e, "%s", label);
		goto out;
	}
	if (predicate_type != NULL && strcmp(st->predicate_type, predicate_type) != 0) {
		str_escape(esc, sizeof(esc), st->predicate_type, strlen(st->predicate_type), 128);
		r = err_set(e, ERR_INVALID, "%s: attestation predicateType is \"%s\", expected \"%s\"", label, esc,
		    predicate_type);
		goto out;
	}
	if (subject_digest != NULL && !intoto_has_subject(st, subject_digest)) {
		r = err_set(e, ERR_NOT_FOUND,
		    "%s: the attestation is signed by a trusted key but is not about %s (its "
		    "subject is %s%s)",
		    label, subject_digest, st->subjects[0].digest, st->nsubjects > 1 ? ", ..." : "");
		goto out;
	}
	*out = st;
	st = NULL; /* transferred */
	if (signer != NULL)
		*signer = k;
	r = 0;
out:
	intoto_statement_free(st);
	dsse_envelope_free(env);
	return r;
}

int intoto_time_fmt(int64_t t, char out[21], struct err *e)
{
	struct tm tm;
	time_t tt = (time_t)t;

	out[0] = '\0';
	if (t < 0 || t > 253402300799LL || gmtime_r(&tt, &tm) == NULL)
		return err_set(e, ERR_INVALID, "timestamp %lld is outside years 1970-9999", (long long)t);
	if (strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) != 20)
		return err_set(e, ERR_INTERNAL, "timestamp %lld cannot be formatted", (long long)t);
	return 0;
}

int intoto_predicate_hardening_new(const char *hardener_version, const char *input_digest, const char *policy_digest,
    const char *profile, json_t *steps, json_t *facts, int64_t timestamp, json_t **out, struct err *e)
{
	json_t *p = NULL;
	char ts[21];
	int r;

	*out = NULL;
	if (input_digest != NULL && (r = digest_validate(input_digest, e)) != 0)
		return err_prefix(e, "hardening predicate input");
	if ((r = digest_validate(policy_digest, e)) != 0)
		return err_prefix(e, "hardening predicate policy");
	if (steps != NULL && !json_is_array(steps))
		return err_set(e, ERR_INVALID, "hardening predicate: steps must be a JSON array");
	if (facts != NULL && !json_is_object(facts))
		return err_set(e, ERR_INVALID, "hardening predicate: facts must be a JSON object");
	if ((r = intoto_time_fmt(timestamp, ts, e)) != 0)
		return err_prefix(e, "hardening predicate");
	/* "o" steals: hand over a reference of our own (jansson drops stolen references when packing fails) */
	p = json_pack("{s:{s:s, s:s}, s:{s:s, s:s}, s:o, s:o, s:s}", "hardener", "name", HARDLINE_HARDENER_NAME,
	    "version", hardener_version, "policy", "digest", policy_digest, "profile", profile, "steps",
	    steps != NULL ? json_incref(steps) : json_array(), "facts",
	    facts != NULL ? json_incref(facts) : json_object(), "timestamp", ts);
	if (p == NULL ||
	    (input_digest != NULL &&
		json_object_set_new(p, "input", json_pack("{s:s}", "digest", input_digest)) != 0)) {
		json_decref(p);
		return err_set(e, ERR_NOMEM,
		    "hardening predicate: out of memory (or a version/profile that is not UTF-8)");
	}
	*out = p;
	return 0;
}
