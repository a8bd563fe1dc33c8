/* registry_auth — the pure parts of registry authentication: WWW-Authenticate challenges (RFC 7235 syntax, Basic and
 * Bearer), docker/podman auth files ({"auths": {"host[/namespace]": {"auth": base64("user:pass")}}}) and the
 * JSON of a token endpoint. Everything here reads untrusted bytes: inputs are capped and malformed ones refused. */
#ifndef HARDLINE_REGISTRY_AUTH_H
#define HARDLINE_REGISTRY_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

#define REGISTRY_CHALLENGE_MAX 8192	 /* a WWW-Authenticate value longer than this is refused */
#define REGISTRY_AUTH_FILE_MAX (1 << 20) /* auth files over 1 MiB are refused */
#define REGISTRY_TOKEN_MAX 16384	 /* a bearer token longer than this is refused */

enum registry_scheme {
	REGISTRY_SCHEME_NONE = 0,
	REGISTRY_SCHEME_BASIC,
	REGISTRY_SCHEME_BEARER,
};

struct registry_challenge {
	enum registry_scheme scheme;
	char realm[1024];  /* Bearer: the token endpoint URL (not yet checked: the client decides what it trusts) */
	char service[256]; /* "" when absent */
	char scope[1024];  /* "" when absent */
	char error[64];	   /* the "error" parameter ("insufficient_scope"), "" when absent */
};

struct registry_creds {
	char user[256];
	char pass[1024];
};

/* Parses a WWW-Authenticate value hdr[len] that may hold several challenges ("Bearer realm=\"…\",service=\"…\",
 * Basic realm=\"…\""). Picks Bearer over Basic; other schemes are skipped. Parameter names are case-insensitive,
 * values are tokens or quoted strings with backslash escapes; a repeated parameter is refused, unknown ones are
 * ignored. Bearer needs a non-empty realm. *out is cleared first and set only on success.
 * Errors: ERR_PARSE (malformed; names the offset), ERR_TOO_LARGE (header or a value over its field),
 * ERR_UNSUPPORTED (no Basic or Bearer challenge). */
int registry_challenge_parse(const char *hdr, size_t len, struct registry_challenge *out, struct err *e);

/* Finds credentials for registry (as in struct imageref: "docker.io", "127.0.0.1:5000") and repository in the auth
 * file text json[len] (label names it in messages). Keys may carry a scheme ("https://"), a "/v1/" or "/v2/" suffix,
 * or a repository namespace ("quay.io/org"); the longest namespace that contains repository wins;
 * "index.docker.io" and "registry-1.docker.io" mean docker.io. Entries without "auth" (credential helpers) do not
 * match. Returns 0 and fills *out, ERR_NOT_FOUND (no entry), ERR_PARSE / ERR_INVALID (malformed file or entry, named
 * by label and key), ERR_TOO_LARGE. *out is cleared first. */
int registry_auth_lookup(const char *json, size_t len, const char *label, const char *registry, const char *repository,
    struct registry_creds *out, struct err *e);

/* Looks for credentials in the auth files, in order: path when not NULL (and then only there: the webhook's mounted
 * docker config), otherwise $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json, ~/.docker/config.json; the
 * first file with an entry wins, missing files are skipped. Returns 0, ERR_NOT_FOUND, or the error of a file that
 * could not be read or parsed. */
int registry_auth_find(const char *path, const char *registry, const char *repository, struct registry_creds *out,
    struct err *e);

/* Wipes credentials (OPENSSL_cleanse). */
void registry_creds_cleanup(struct registry_creds *c);

/* Parses a token endpoint reply body[len] ({"token": …} or {"access_token": …}, optional "expires_in" seconds).
 * The token must be 1..REGISTRY_TOKEN_MAX printable ASCII bytes without spaces (it goes into a header).
 * *token is a new string (free() it after wiping); *expires_in_s is 60 when absent or smaller (the spec's minimum).
 * Errors: ERR_PARSE, ERR_INVALID, ERR_TOO_LARGE; *token is NULL on error. */
int registry_token_parse(const char *body, size_t len, char **token, int64_t *expires_in_s, struct err *e);

#endif
