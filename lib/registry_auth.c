/* registry_auth — WWW-Authenticate challenge parsing, docker/podman auth file lookup and token replies; pure
 * functions over capped untrusted input (registry_auth_find only adds reading the files). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "lib/base64.h"
#include "lib/json.h"
#include "lib/registry_auth.h"
#include "lib/str.h"

/* RFC 7230 tchar. */
static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* A cursor over the header value. */
struct cur {
	const char *p;
	size_t len, i;
};

/* Moves the cursor past spaces and tabs. */
static void skip_ows(struct cur *c)
{
	while (c->i < c->len && (c->p[c->i] == ' ' || c->p[c->i] == '\t'))
		c->i++;
}

/* Reads a token at the cursor; returns its length (0 when there is none). */
static size_t read_token(struct cur *c, const char **tok)
{
	size_t start = c->i;

	while (c->i < c->len && is_tchar(c->p[c->i]))
		c->i++;
	*tok = c->p + start;
	return c->i - start;
}

/* Reads a parameter value (token or quoted-string with backslash escapes) into dst[size]. ERR_PARSE for an
 * unterminated string or a control byte in it, ERR_TOO_LARGE when it does not fit. */
static int read_value(struct cur *c, char *dst, size_t size, struct err *e)
{
	size_t n = 0;
	const char *tok;
	size_t tlen;

	if (c->i < c->len && c->p[c->i] == '"') {
		c->i++;
		for (;;) {
			char ch;
			if (c->i >= c->len)
				return err_set(e, ERR_PARSE, "unterminated quoted string at offset %zu", c->i);
			ch = c->p[c->i++];
			if (ch == '"')
				break;
			if (ch == '\\') {
				if (c->i >= c->len)
					return err_set(e, ERR_PARSE, "unterminated quoted string at offset %zu", c->i);
				ch = c->p[c->i++];
			}
			if ((unsigned char)ch < 0x20 && ch != '\t')
				return err_set(e, ERR_PARSE, "control byte in quoted string at offset %zu", c->i - 1);
			if (n + 1 >= size)
				return err_set(e, ERR_TOO_LARGE, "parameter value over %zu bytes", size - 1);
			dst[n++] = ch;
		}
		dst[n] = '\0';
		return 0;
	}
	tlen = read_token(c, &tok);
	if (tlen == 0)
		return err_set(e, ERR_PARSE, "expected a token or a quoted string at offset %zu", c->i);
	if (tlen >= size)
		return err_set(e, ERR_TOO_LARGE, "parameter value over %zu bytes", size - 1);
	memcpy(dst, tok, tlen);
	dst[tlen] = '\0';
	return 0;
}

/* Parses the parameters of one challenge into ch (when ch is not NULL; skipped otherwise) up to the next challenge
 * or the end. The cursor is after the scheme. */
static int parse_params(struct cur *c, struct registry_challenge *ch, struct err *e)
{
	char scratch[REGISTRY_CHALLENGE_MAX], *dst;
	unsigned seen = 0, bit;
	const char *name;
	size_t nlen, save, size;
	int r;

	for (;;) {
		skip_ows(c);
		while (c->i < c->len && (c->p[c->i] == ',' || c->p[c->i] == ' ' || c->p[c->i] == '\t'))
			c->i++;
		if (c->i >= c->len)
			return 0;
		save = c->i;
		nlen = read_token(c, &name);
		if (nlen == 0)
			return err_set(e, ERR_PARSE, "unexpected byte 0x%02x at offset %zu", (unsigned char)c->p[c->i],
			    c->i);
		skip_ows(c);
		if (c->i >= c->len || c->p[c->i] != '=') {
			c->i = save; /* the next challenge's scheme */
			return 0;
		}
		c->i++;
		skip_ows(c);
		if (c->i >= c->len || c->p[c->i] == ',' || c->p[c->i] == '=') {
			/* token68 ("abc=="): nothing we use */
			while (c->i < c->len && c->p[c->i] == '=')
				c->i++;
			continue;
		}
		dst = scratch;
		size = sizeof(scratch);
		bit = 0;
		if (ch != NULL && nlen == 5 && strncasecmp(name, "realm", 5) == 0)
			dst = ch->realm, size = sizeof(ch->realm), bit = 1;
		else if (ch != NULL && nlen == 7 && strncasecmp(name, "service", 7) == 0)
			dst = ch->service, size = sizeof(ch->service), bit = 2;
		else if (ch != NULL && nlen == 5 && strncasecmp(name, "scope", 5) == 0)
			dst = ch->scope, size = sizeof(ch->scope), bit = 4;
		else if (ch != NULL && nlen == 5 && strncasecmp(name, "error", 5) == 0)
			dst = ch->error, size = sizeof(ch->error), bit = 8;
		if (bit != 0 && (seen & bit) != 0)
			return err_set(e, ERR_PARSE, "parameter \"%.*s\" given twice", (int)nlen, name);
		seen |= bit;
		if ((r = read_value(c, dst, size, e)) != 0)
			return err_prefix(e, "parameter \"%.*s\"", (int)(nlen > 32 ? 32 : nlen), name);
		skip_ows(c);
		if (c->i < c->len && c->p[c->i] != ',')
			return err_set(e, ERR_PARSE, "expected ',' at offset %zu", c->i);
	}
}

int registry_challenge_parse(const char *hdr, size_t len, struct registry_challenge *out, struct err *e)
{
	struct registry_challenge basic, bearer;
	struct cur c = { hdr, len, 0 };
	bool have_basic = false, have_bearer = false;
	const char *scheme;
	size_t slen;
	int r;

	memset(out, 0, sizeof(*out));
	if (len > REGISTRY_CHALLENGE_MAX)
		return err_set(e, ERR_TOO_LARGE, "WWW-Authenticate: %zu bytes is over the limit of %d", len,
		    REGISTRY_CHALLENGE_MAX);
	if (memchr(hdr, '\0', len) != NULL)
		return err_set(e, ERR_PARSE, "WWW-Authenticate: NUL byte");
	memset(&basic, 0, sizeof(basic));
	memset(&bearer, 0, sizeof(bearer));
	for (;;) {
		struct registry_challenge *ch = NULL;

		while (c.i < c.len && (hdr[c.i] == ',' || hdr[c.i] == ' ' || hdr[c.i] == '\t'))
			c.i++;
		if (c.i >= c.len)
			break;
		slen = read_token(&c, &scheme);
		if (slen == 0)
			return err_set(e, ERR_PARSE, "WWW-Authenticate: expected an auth scheme at offset %zu", c.i);
		if (slen == 6 && strncasecmp(scheme, "Bearer", 6) == 0 && !have_bearer)
			ch = &bearer, have_bearer = true, bearer.scheme = REGISTRY_SCHEME_BEARER;
		else if (slen == 5 && strncasecmp(scheme, "Basic", 5) == 0 && !have_basic)
			ch = &basic, have_basic = true, basic.scheme = REGISTRY_SCHEME_BASIC;
		if (c.i < c.len && hdr[c.i] != ' ' && hdr[c.i] != '\t' && hdr[c.i] != ',')
			return err_set(e, ERR_PARSE, "WWW-Authenticate: unexpected byte 0x%02x at offset %zu",
			    (unsigned char)hdr[c.i], c.i);
		if ((r = parse_params(&c, ch, e)) != 0)
			return err_prefix(e, "WWW-Authenticate");
	}
	if (have_bearer) {
		if (bearer.realm[0] == '\0')
			return err_set(e, ERR_PARSE, "WWW-Authenticate: Bearer challenge without a realm");
		*out = bearer;
		return 0;
	}
	if (have_basic) {
		*out = basic;
		return 0;
	}
	return err_set(e, ERR_UNSUPPORTED, "WWW-Authenticate: no Basic or Bearer challenge");
}

/* Normalizes an auths key into host (docker.io for Docker Hub's names) and namespace ("" for none). */
static int split_key(const char *key, char *host, size_t hsize, char *ns, size_t nsize)
{
	const char *slash;
	size_t hlen;

	if (str_has_prefix(key, "https://"))
		key += 8;
	else if (str_has_prefix(key, "http://"))
		key += 7;
	slash = strchr(key, '/');
	hlen = slash != NULL ? (size_t)(slash - key) : strlen(key);
	if (hlen == 0 || hlen >= hsize)
		return -1;
	memcpy(host, key, hlen);
	host[hlen] = '\0';
	if (strcmp(host, "index.docker.io") == 0 || strcmp(host, "registry-1.docker.io") == 0)
		str_copy(host, hsize, "docker.io");
	ns[0] = '\0';
	if (slash == NULL)
		return 0;
	slash++;
	if (strcmp(slash, "") == 0 || strcmp(slash, "v1/") == 0 || strcmp(slash, "v1") == 0 ||
	    strcmp(slash, "v2/") == 0 || strcmp(slash, "v2") == 0)
		return 0;
	if (str_copy(ns, nsize, slash) != 0)
		return -1;
	if (str_has_suffix(ns, "/"))
		ns[strlen(ns) - 1] = '\0';
	return 0;
}

/* Decodes one entry's "auth" (base64 "user:password", split at the first ':') into out; on error out is wiped and
 * the message names the file (label) and the key. */
static int decode_entry(const json_t *entry, const char *label, const char *key, struct registry_creds *out,
    struct err *e)
{
	unsigned char *raw = NULL;
	const char *auth, *colon;
	size_t rawlen = 0, ulen;
	char esc[80];
	int r;

	str_escape(esc, sizeof(esc), key, strlen(key), 60);
	if ((r = json_get_str(entry, "auth", &auth, "auths entry", e)) != 0)
		goto out;
	if ((r = base64_decode(auth, strlen(auth), sizeof(out->user) + sizeof(out->pass), &raw, &rawlen, "auth", e)) !=
	    0)
		goto out;
	r = ERR_INVALID;
	colon = memchr(raw, ':', rawlen);
	if (colon == NULL || colon == (const char *)raw || memchr(raw, '\0', rawlen) != NULL) {
		err_set(e, ERR_INVALID, "\"auth\" must be base64 of \"user:password\"");
		goto out;
	}
	ulen = (size_t)(colon - (const char *)raw);
	if (ulen >= sizeof(out->user) || rawlen - ulen - 1 >= sizeof(out->pass)) {
		r = err_set(e, ERR_TOO_LARGE, "user name or password too long");
		goto out;
	}
	memcpy(out->user, raw, ulen);
	out->user[ulen] = '\0';
	memcpy(out->pass, colon + 1, rawlen - ulen - 1);
	out->pass[rawlen - ulen - 1] = '\0';
	r = 0;
out:
	if (raw != NULL) {
		OPENSSL_cleanse(raw, rawlen);
		free(raw);
	}
	if (r != 0) {
		registry_creds_cleanup(out);
		err_prefix(e, "%s: auths \"%s\"", label, esc);
	}
	return r;
}

/* registry_auth_lookup over a parsed file root (borrowed). */
static int lookup_json(const json_t *root, const char *label, const char *registry, const char *repository,
    struct registry_creds *out, struct err *e)
{
	char host[256], ns[512];
	const json_t *best = NULL;
	const char *key, *best_key = NULL;
	json_t *auths, *entry;
	size_t best_len = 0, nlen;
	int r;

	if (!json_is_object(root))
		return err_set(e, ERR_INVALID, "%s: must be a JSON object", label);
	r = json_get_obj(root, "auths", &auths, label, e);
	if (r == ERR_NOT_FOUND)
		return err_set(e, ERR_NOT_FOUND, "%s: no \"auths\"", label);
	if (r != 0)
		return r;
	json_object_foreach(auths, key, entry)
	{
		if (split_key(key, host, sizeof(host), ns, sizeof(ns)) != 0 || strcmp(host, registry) != 0)
			continue;
		if (!json_is_object(entry) || json_object_get(entry, "auth") == NULL)
			continue;
		nlen = strlen(ns);
		if (nlen > 0 &&
		    (repository == NULL || strncmp(repository, ns, nlen) != 0 ||
			(repository[nlen] != '\0' && repository[nlen] != '/')))
			continue;
		if (best == NULL || nlen > best_len) {
			best = entry;
			best_key = key;
			best_len = nlen;
		}
	}
	if (best == NULL)
		return err_set(e, ERR_NOT_FOUND, "%s: no credentials for %s", label, registry);
	return decode_entry(best, label, best_key, out, e);
}

int registry_auth_lookup(const char *json, size_t len, const char *label, const char *registry, const char *repository,
    struct registry_creds *out, struct err *e)
{
	json_t *root = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = json_parse_buf(json, len, REGISTRY_AUTH_FILE_MAX, label, &root, e)) != 0)
		return r;
	r = lookup_json(root, label, registry, repository, out, e);
	json_decref(root);
	return r;
}

/* Tries one file; ERR_NOT_FOUND when it is missing or has no entry. */
static int try_file(const char *path, const char *registry, const char *repository, struct registry_creds *out,
    struct err *e)
{
	json_t *root = NULL;
	int r;

	if ((r = json_load_file_capped(path, REGISTRY_AUTH_FILE_MAX, &root, e)) != 0)
		return r;
	r = lookup_json(root, path, registry, repository, out, e);
	json_decref(root);
	return r;
}

int registry_auth_find(const char *path, const char *registry, const char *repository, struct registry_creds *out,
    struct err *e)
{
	const char *env;
	char p[4096];
	int r;

	memset(out, 0, sizeof(*out));
	if (path != NULL)
		return try_file(path, registry, repository, out, e);
	if ((env = getenv("REGISTRY_AUTH_FILE")) != NULL && env[0] != '\0') {
		if ((r = try_file(env, registry, repository, out, e)) != ERR_NOT_FOUND)
			return r;
	}
	if ((env = getenv("XDG_RUNTIME_DIR")) != NULL && env[0] != '\0' &&
	    str_fmt(p, sizeof(p), "%s/containers/auth.json", env) == 0) {
		if ((r = try_file(p, registry, repository, out, e)) != ERR_NOT_FOUND)
			return r;
	}
	if ((env = getenv("HOME")) != NULL && env[0] != '\0' &&
	    str_fmt(p, sizeof(p), "%s/.docker/config.json", env) == 0) {
		if ((r = try_file(p, registry, repository, out, e)) != ERR_NOT_FOUND)
			return r;
	}
	return err_set(e, ERR_NOT_FOUND, "no credentials for %s in the auth files", registry);
}

void registry_creds_cleanup(struct registry_creds *c)
{
	if (c != NULL)
		OPENSSL_cleanse(c, sizeof(*c));
}

int registry_token_parse(const char *body, size_t len, char **token, int64_t *expires_in_s, struct err *e)
{
	const char *tok = NULL;
	json_t *root = NULL;
	int64_t exp = 60;
	size_t n, i;
	int r;

	*token = NULL;
	*expires_in_s = 60;
	if ((r = json_parse_buf(body, len, 65536, "token reply", &root, e)) != 0)
		return r;
	r = ERR_INVALID;
	if (!json_is_object(root)) {
		err_set(e, ERR_INVALID, "token reply: not a JSON object");
		goto out;
	}
	if ((r = json_get_str(root, "token", &tok, "token reply", e)) == ERR_NOT_FOUND)
		r = json_get_str(root, "access_token", &tok, "token reply", e);
	if (r == ERR_NOT_FOUND)
		r = err_set(e, ERR_INVALID, "token reply: no \"token\" or \"access_token\"");
	if (r != 0)
		goto out;
	r = json_get_int(root, "expires_in", 0, INT32_MAX, &exp, "token reply", e);
	if (r != 0 && r != ERR_NOT_FOUND)
		goto out;
	n = strlen(tok);
	r = ERR_INVALID;
	if (n == 0 || n > REGISTRY_TOKEN_MAX) {
		r = err_set(e, n == 0 ? ERR_INVALID : ERR_TOO_LARGE,
		    "token reply: token of %zu bytes (1 to %d allowed)", n, REGISTRY_TOKEN_MAX);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((unsigned char)tok[i] <= 0x20 || (unsigned char)tok[i] >= 0x7f) {
			err_set(e, ERR_INVALID, "token reply: token has a byte 0x%02x that cannot go into a header",
			    (unsigned char)tok[i]);
			goto out;
		}
	}
	if ((*token = strdup(tok)) == NULL) {
		r = err_set(e, ERR_NOMEM, "token reply: out of memory");
		goto out;
	}
	*expires_in_s = exp < 60 ? 60 : exp;
	r = 0;
out:
	json_decref(root);
	return r;
}
