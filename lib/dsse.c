/* dsse — DSSE envelopes, PAE, signing and verification (see dsse.h). */
#include "lib/dsse.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lib/base64.h"
#include "lib/fileio.h"
#include "lib/json.h"
#include "lib/str.h"

int dsse_pae(const char *type, const void *body, size_t body_len, unsigned char **out, size_t *out_len, struct err *e)
{
	size_t tlen = strlen(type), hlen, total;
	char head[96];
	unsigned char *p;
	int n;

	*out = NULL;
	*out_len = 0;
	/* "DSSEv1 <tlen> " then type, then " <blen> " then body */
	n = snprintf(head, sizeof(head), "DSSEv1 %zu ", tlen);
	if (n < 0 || (size_t)n >= sizeof(head))
		return err_set(e, ERR_INTERNAL, "PAE: header does not fit");
	hlen = (size_t)n;
	total = hlen + tlen + 1 + 20 + 1;
	if (body_len > SIZE_MAX - total)
		return err_set(e, ERR_TOO_LARGE, "PAE: body of %zu bytes is too large", body_len);
	if ((p = malloc(total + body_len)) == NULL)
		return err_set(e, ERR_NOMEM, "PAE: out of memory for %zu bytes", body_len);
	memcpy(p, head, hlen);
	memcpy(p + hlen, type, tlen);
	n = snprintf((char *)p + hlen + tlen, 23, " %zu ", body_len);
	memcpy(p + hlen + tlen + (size_t)n, body, body_len);
	*out_len = hlen + tlen + (size_t)n + body_len;
	*out = p;
	return 0;
}

void dsse_envelope_free(struct dsse_envelope *env)
{
	size_t i;

	if (env == NULL)
		return;
	for (i = 0; i < env->nsigs; i++) {
		free(env->sigs[i].keyid);
		free(env->sigs[i].sig);
	}
	free(env->payload_type);
	free(env->payload);
	free(env);
}

/* A required string member of obj; ERR_PARSE naming label and key when absent or not a string. */
static int required_str(const json_t *obj, const char *key, const char *where, const char *label, const char **out,
    struct err *e)
{
	int r = json_get_str(obj, key, out, where, e);

	if (r == ERR_NOT_FOUND)
		return err_set(e, ERR_PARSE, "%s: %s has no \"%s\"; not a DSSE envelope", label, where, key);
	if (r != 0)
		return err_prefix(e, "%s", label);
	return 0;
}

/* signatures[i] of an envelope into s (sig decoded, keyid copied); errors name label and the index. */
static int parse_signature(const json_t *js, size_t i, const char *label, struct dsse_signature *s, struct err *e)
{
	char where[40], what[48];
	const char *keyid = "", *sig = NULL;
	int r;

	snprintf(where, sizeof(where), "signatures[%zu]", i);
	if (!json_is_object(js))
		return err_set(e, ERR_PARSE, "%s: %s must be an object", label, where);
	if ((r = required_str(js, "sig", where, label, &sig, e)) != 0)
		return r;
	if ((r = json_get_str(js, "keyid", &keyid, where, e)) != 0 && r != ERR_NOT_FOUND)
		return err_prefix(e, "%s", label);
	if (strlen(keyid) > DSSE_KEYID_MAX)
		return err_set(e, ERR_INVALID, "%s: %s.keyid is longer than %d characters", label, where,
		    DSSE_KEYID_MAX);
	if (sig[0] == '\0')
		return err_set(e, ERR_INVALID, "%s: %s.sig is empty", label, where);
	snprintf(what, sizeof(what), "%s.sig", where);
	if ((r = base64_decode(sig, strlen(sig), KEY_SIG_MAX, &s->sig, &s->sig_len, what, e)) != 0)
		return err_prefix(e, "%s", label);
	if ((s->keyid = strdup(keyid)) == NULL)
		return err_set(e, ERR_NOMEM, "%s: out of memory", label);
	return 0;
}

int dsse_parse_json(const char *buf, size_t len, const char *label, struct dsse_envelope **out, struct err *e)
{
	struct dsse_envelope *env = NULL;
	json_t *root = NULL, *sigs = NULL;
	const char *type = NULL, *payload = NULL;
	size_t i;
	int r;

	*out = NULL;
	if (len > DSSE_ENVELOPE_MAX)
		return err_set(e, ERR_TOO_LARGE, "%s: envelope of %zu bytes is over the limit of %u bytes", label, len,
		    DSSE_ENVELOPE_MAX);
	if ((r = json_parse_buf(buf, len, DSSE_ENVELOPE_MAX, label, &root, e)) != 0)
		goto out;
	if (!json_is_object(root)) {
		r = err_set(e, ERR_PARSE, "%s: a DSSE envelope must be a JSON object", label);
		goto out;
	}
	if ((r = required_str(root, "payloadType", "envelope", label, &type, e)) != 0 ||
	    (r = required_str(root, "payload", "envelope", label, &payload, e)) != 0)
		goto out;
	if ((r = json_get_arr(root, "signatures", &sigs, "envelope", e)) == ERR_NOT_FOUND) {
		r = err_set(e, ERR_PARSE, "%s: envelope has no \"signatures\"; not a DSSE envelope", label);
		goto out;
	} else if (r != 0) {
		err_prefix(e, "%s", label);
		goto out;
	}
	if (type[0] == '\0' || strlen(type) > DSSE_PAYLOAD_TYPE_MAX) {
		r = err_set(e, ERR_INVALID, "%s: payloadType must be 1 to %d characters", label, DSSE_PAYLOAD_TYPE_MAX);
		goto out;
	}
	if (json_array_size(sigs) == 0) {
		r = err_set(e, ERR_INVALID, "%s: envelope has no signatures; it was never signed", label);
		goto out;
	}
	if (json_array_size(sigs) > DSSE_MAX_SIGNATURES) {
		r = err_set(e, ERR_TOO_LARGE, "%s: envelope has %zu signatures, more than the limit of %d", label,
		    json_array_size(sigs), DSSE_MAX_SIGNATURES);
		goto out;
	}
	if ((env = calloc(1, sizeof(*env))) == NULL || (env->payload_type = strdup(type)) == NULL) {
		r = err_set(e, ERR_NOMEM, "%s: out of memory", label);
		goto out;
	}
	if ((r = base64_decode(payload, strlen(payload), DSSE_ENVELOPE_MAX, &env->payload, &env->payload_len, "payload",
		 e)) != 0) {
		err_prefix(e, "%s", label);
		goto out;
	}
	for (i = 0; i < json_array_size(sigs); i++) {
		env->nsigs = i + 1;
		if ((r = parse_signature(json_array_get(sigs, i), i, label, &env->sigs[i], e)) != 0)
			goto out;
	}
	*out = env;
	env = NULL; /* transferred */
	r = 0;
out:
	dsse_envelope_free(env);
	json_decref(root);
	return r;
}

/* The fast path of dsse_parse. jansson costs about 10 ns per byte, mostly in the long payload string; envelopes as
 * signers write them are a narrow subset of JSON that a direct scan reads exactly: one object with the members
 * payload, payloadType and signatures (an array of objects with sig and keyid), every value a string of printable
 * ASCII without escapes, whitespace between tokens. On that subset the scan and jansson agree byte for byte (the
 * fuzz target checks it). Anything else - escapes, non-ASCII, unknown members, duplicates, any error at all - makes
 * fast_parse return 0 and dsse_parse_json decide, so that acceptance and messages come from one place. */
struct fast_str {
	const char *p;
	size_t n;
};

/* Skips JSON whitespace at *i. */
static void fast_ws(const char *b, size_t len, size_t *i)
{
	while (*i < len && (b[*i] == ' ' || b[*i] == '\t' || b[*i] == '\n' || b[*i] == '\r'))
		(*i)++;
}

/* Consumes optional whitespace and the character c; -1 when c is not next. */
static int fast_char(const char *b, size_t len, size_t *i, char c)
{
	fast_ws(b, len, i);
	if (*i >= len || b[*i] != c)
		return -1;
	(*i)++;
	return 0;
}

/* Consumes optional whitespace and a string of printable ASCII without escapes; -1 otherwise. */
static int fast_string(const char *b, size_t len, size_t *i, struct fast_str *s)
{
	size_t j;

	fast_ws(b, len, i);
	if (*i >= len || b[*i] != '"')
		return -1;
	for (j = *i + 1; j < len && b[j] != '"'; j++)
		if ((unsigned char)b[j] < 0x20 || (unsigned char)b[j] > 0x7e || b[j] == '\\')
			return -1;
	if (j >= len)
		return -1;
	s->p = b + *i + 1;
	s->n = j - *i - 1;
	*i = j + 1;
	return 0;
}

/* Whether the scanned string s is exactly word. */
static int fast_is(const struct fast_str *s, const char *word)
{
	return s->n == strlen(word) && memcmp(s->p, word, s->n) == 0;
}

/* The signatures array, after its '['. */
static int fast_signatures(const char *b, size_t len, size_t *i, struct fast_str keyid[], struct fast_str sig[],
    size_t *nsigs)
{
	struct fast_str k;
	unsigned seen;

	for (*nsigs = 0;;) {
		if (*nsigs == DSSE_MAX_SIGNATURES || fast_char(b, len, i, '{') != 0)
			return -1;
		keyid[*nsigs].p = "";
		keyid[*nsigs].n = 0;
		for (seen = 0;;) {
			if (fast_string(b, len, i, &k) != 0 || fast_char(b, len, i, ':') != 0)
				return -1;
			if (fast_is(&k, "sig") && !(seen & 1)) {
				seen |= 1;
				if (fast_string(b, len, i, &sig[*nsigs]) != 0)
					return -1;
			} else if (fast_is(&k, "keyid") && !(seen & 2)) {
				seen |= 2;
				if (fast_string(b, len, i, &keyid[*nsigs]) != 0)
					return -1;
			} else {
				return -1;
			}
			if (fast_char(b, len, i, ',') == 0)
				continue;
			if (fast_char(b, len, i, '}') == 0)
				break;
			return -1;
		}
		if (!(seen & 1))
			return -1;
		(*nsigs)++;
		if (fast_char(b, len, i, ',') == 0)
			continue;
		return fast_char(b, len, i, ']');
	}
}

/* Returns 1 with *out set when buf is in the fast subset and valid, 0 when dsse_parse_json must decide. */
static int fast_parse(const char *buf, size_t len, struct dsse_envelope **out)
{
	struct fast_str k, type = { NULL, 0 }, payload = { NULL, 0 }, keyid[DSSE_MAX_SIGNATURES],
			   sig[DSSE_MAX_SIGNATURES];
	struct dsse_envelope *env = NULL;
	size_t i = 0, nsigs = 0, j;
	unsigned seen = 0;
	struct err e;
	int ok = 0;

	if (fast_char(buf, len, &i, '{') != 0)
		return 0;
	for (;;) {
		if (fast_string(buf, len, &i, &k) != 0 || fast_char(buf, len, &i, ':') != 0)
			return 0;
		if (fast_is(&k, "payloadType") && !(seen & 1)) {
			seen |= 1;
			if (fast_string(buf, len, &i, &type) != 0)
				return 0;
		} else if (fast_is(&k, "payload") && !(seen & 2)) {
			seen |= 2;
			if (fast_string(buf, len, &i, &payload) != 0)
				return 0;
		} else if (fast_is(&k, "signatures") && !(seen & 4)) {
			seen |= 4;
			if (fast_char(buf, len, &i, '[') != 0 || fast_signatures(buf, len, &i, keyid, sig, &nsigs) != 0)
				return 0;
		} else {
			return 0;
		}
		if (fast_char(buf, len, &i, ',') == 0)
			continue;
		if (fast_char(buf, len, &i, '}') == 0)
			break;
		return 0;
	}
	fast_ws(buf, len, &i);
	if (i != len || seen != 7 || nsigs == 0 || type.n == 0 || type.n > DSSE_PAYLOAD_TYPE_MAX)
		return 0;
	if ((env = calloc(1, sizeof(*env))) == NULL || (env->payload_type = strndup(type.p, type.n)) == NULL ||
	    base64_decode(payload.p, payload.n, DSSE_ENVELOPE_MAX, &env->payload, &env->payload_len, "payload", &e) !=
		0)
		goto out;
	for (j = 0; j < nsigs; j++) {
		env->nsigs = j + 1;
		if (keyid[j].n > DSSE_KEYID_MAX || sig[j].n == 0 ||
		    (env->sigs[j].keyid = strndup(keyid[j].p, keyid[j].n)) == NULL ||
		    base64_decode(sig[j].p, sig[j].n, KEY_SIG_MAX, &env->sigs[j].sig, &env->sigs[j].sig_len, "sig",
			&e) != 0)
			goto out;
	}
	*out = env;
	env = NULL; /* transferred */
	ok = 1;
out:
	dsse_envelope_free(env);
	return ok;
}

int dsse_parse(const char *buf, size_t len, const char *label, struct dsse_envelope **out, struct err *e)
{
	*out = NULL;
	if (len > DSSE_ENVELOPE_MAX)
		return err_set(e, ERR_TOO_LARGE, "%s: envelope of %zu bytes is over the limit of %u bytes", label, len,
		    DSSE_ENVELOPE_MAX);
	if (fast_parse(buf, len, out))
		return 0;
	return dsse_parse_json(buf, len, label, out, e);
}

int dsse_load_file(const char *path, struct dsse_envelope **out, struct err *e)
{
	struct strbuf sb;
	char label[600];
	int r;

	*out = NULL;
	sb_init(&sb, DSSE_ENVELOPE_MAX);
	str_fmt(label, sizeof(label), "envelope %.500s", path);
	r = fileio_read_capped(path, &sb, label, e);
	if (r == ERR_TOO_LARGE)
		err_set(e, r, "%s: envelope is over the limit of %u bytes", path, DSSE_ENVELOPE_MAX);
	else if (r == 0)
		r = dsse_parse(sb.data ? sb.data : "", sb.len, path, out, e);
	sb_cleanup(&sb);
	return r;
}

int dsse_fmt(const struct dsse_envelope *env, char **out, size_t *len, struct err *e)
{
	json_t *root = NULL, *arr = NULL, *js;
	char *b64 = NULL, *s;
	size_t i;
	int r = ERR_NOMEM;

	*out = NULL;
	if ((r = base64_encode(env->payload, env->payload_len, &b64, NULL, e)) != 0)
		goto out;
	r = ERR_NOMEM;
	if ((root = json_object()) == NULL || (arr = json_array()) == NULL ||
	    json_object_set_new(root, "payloadType", json_string(env->payload_type)) != 0 ||
	    json_object_set_new(root, "payload", json_string(b64)) != 0)
		goto nomem;
	for (i = 0; i < env->nsigs; i++) {
		free(b64);
		b64 = NULL;
		if ((r = base64_encode(env->sigs[i].sig, env->sigs[i].sig_len, &b64, NULL, e)) != 0)
			goto out;
		r = ERR_NOMEM;
		if ((js = json_pack("{s:s, s:s}", "keyid", env->sigs[i].keyid ? env->sigs[i].keyid : "", "sig", b64)) ==
			NULL ||
		    json_array_append_new(arr, js) != 0)
			goto nomem;
	}
	if (json_object_set(root, "signatures", arr) != 0 || (s = json_dump_canonical(root, len)) == NULL)
		goto nomem;
	*out = s;
	r = 0;
	goto out;
nomem:
	err_set(e, ERR_NOMEM, "envelope: out of memory (or invalid UTF-8 in payloadType/keyid)");
out:
	free(b64);
	json_decref(arr);
	json_decref(root);
	return r;
}

int dsse_sign(const char *payload_type, const void *payload, size_t n, const struct key *k, struct dsse_envelope **out,
    struct err *e)
{
	struct dsse_envelope *env = NULL;
	unsigned char *pae = NULL;
	size_t pae_len;
	int r;

	*out = NULL;
	if (n > DSSE_ENVELOPE_MAX)
		return err_set(e, ERR_TOO_LARGE, "payload of %zu bytes is over the envelope limit of %u bytes", n,
		    DSSE_ENVELOPE_MAX);
	if (payload_type[0] == '\0' || strlen(payload_type) > DSSE_PAYLOAD_TYPE_MAX)
		return err_set(e, ERR_INVALID, "payloadType must be 1 to %d characters", DSSE_PAYLOAD_TYPE_MAX);
	if ((r = dsse_pae(payload_type, payload, n, &pae, &pae_len, e)) != 0)
		goto out;
	r = ERR_NOMEM;
	if ((env = calloc(1, sizeof(*env))) == NULL || (env->payload_type = strdup(payload_type)) == NULL ||
	    (env->payload = malloc(n + 1)) == NULL || (env->sigs[0].keyid = strdup(key_id(k))) == NULL) {
		err_set(e, r, "out of memory");
		goto out;
	}
	memcpy(env->payload, payload, n);
	env->payload[n] = '\0';
	env->payload_len = n;
	env->nsigs = 1;
	if ((r = key_sign(k, pae, pae_len, &env->sigs[0].sig, &env->sigs[0].sig_len, e)) != 0)
		goto out;
	*out = env;
	env = NULL; /* transferred */
	r = 0;
out:
	free(pae);
	dsse_envelope_free(env);
	return r;
}

int dsse_verify(const struct dsse_envelope *env, const struct keyring *kr, const char *expected_type,
    const struct key **signer, struct err *e)
{
	unsigned char *pae = NULL;
	size_t pae_len, i, j, nkeys = keyring_count(kr);
	const struct key *k;
	char tried_hint[DSSE_MAX_SIGNATURES] = { 0 };
	char type_esc[80], want_esc[80], ids[200];
	struct err ve;
	int r, hinted_fail = 0, attempts = 0;

	if (signer != NULL)
		*signer = NULL;
	if (expected_type != NULL && strcmp(env->payload_type, expected_type) != 0) {
		str_escape(type_esc, sizeof(type_esc), env->payload_type, strlen(env->payload_type), 64);
		str_escape(want_esc, sizeof(want_esc), expected_type, strlen(expected_type), 64);
		return err_set(e, ERR_INVALID, "envelope payloadType is \"%s\", expected \"%s\"", type_esc, want_esc);
	}
	if (env->nsigs == 0)
		return err_set(e, ERR_VERIFY, "envelope has no signatures; it was never signed");
	if (nkeys == 0)
		return err_set(e, ERR_VERIFY, "no trusted keys to verify the envelope with");
	if ((r = dsse_pae(env->payload_type, env->payload, env->payload_len, &pae, &pae_len, e)) != 0)
		goto out;
	err_clear(&ve);
	/* First the key each keyid hint names. */
	for (i = 0; i < env->nsigs; i++) {
		if ((k = keyring_find_id(kr, env->sigs[i].keyid)) == NULL)
			continue;
		tried_hint[i] = 1;
		r = key_verify(k, pae, pae_len, env->sigs[i].sig, env->sigs[i].sig_len, &ve);
		if (r == 0)
			goto found;
		if (r != ERR_VERIFY) {
			err_set(e, r, "%s", ve.msg);
			goto out;
		}
		hinted_fail = 1;
	}
	/* Then every signature with every trusted key: the keyid is only an unauthenticated hint. */
	for (i = 0; i < env->nsigs; i++) {
		for (j = 0; j < nkeys; j++) {
			k = keyring_get(kr, j);
			if (tried_hint[i] && strcmp(key_id(k), env->sigs[i].keyid) == 0)
				continue;
			if (++attempts > DSSE_MAX_VERIFY_ATTEMPTS) {
				r = err_set(e, ERR_VERIFY,
				    "no signature verified within the limit of %d signature checks "
				    "(%zu signatures x %zu trusted keys); give signatures a keyid naming their key",
				    DSSE_MAX_VERIFY_ATTEMPTS, env->nsigs, nkeys);
				goto out;
			}
			r = key_verify(k, pae, pae_len, env->sigs[i].sig, env->sigs[i].sig_len, &ve);
			if (r == 0)
				goto found;
			if (r != ERR_VERIFY) {
				err_set(e, r, "%s", ve.msg);
				goto out;
			}
		}
	}
	if (hinted_fail) {
		for (i = 0; i < env->nsigs && !tried_hint[i]; i++)
			;
		r = err_set(e, ERR_VERIFY,
		    "signature by trusted key %.16s does not verify: the payload or the signature was "
		    "modified after signing",
		    env->sigs[i].keyid);
		goto out;
	}
	str_escape(ids, sizeof(ids), env->sigs[0].keyid, strlen(env->sigs[0].keyid), 64);
	r = err_set(e, ERR_VERIFY,
	    "no signature verifies with the %zu trusted key%s (envelope signed by keyid "
	    "\"%s\"%s): signed with another key, or the payload was modified",
	    nkeys, nkeys == 1 ? "" : "s", ids, env->nsigs > 1 ? " and others" : "");
	goto out;
found:
	if (signer != NULL)
		*signer = k;
	r = 0;
out:
	free(pae);
	return r;
}
