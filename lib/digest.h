/* digest — SHA-256 (OpenSSL EVP) and the "sha256:<64 hex>" digest strings of OCI and in-toto.
 * Only sha256 is accepted: any other algorithm is ERR_UNSUPPORTED, never silently skipped. */
#ifndef HARDLINE_DIGEST_H
#define HARDLINE_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

#define DIGEST_HEX_LEN 64
#define DIGEST_STR_LEN (7 + DIGEST_HEX_LEN) /* "sha256:" + hex, without the NUL */

struct sha256 {
	void *ctx;  /* EVP_MD_CTX */
	uint64_t n; /* bytes fed so far */
};

/* Starts a running hash. Returns 0 or ERR_NOMEM. Pair with sha256_final or sha256_cleanup. */
int sha256_init(struct sha256 *h, struct err *e);
void sha256_update(struct sha256 *h, const void *p, size_t n);
/* Finishes: writes 32 raw bytes to out (may be NULL) and "sha256:<hex>" to str[DIGEST_STR_LEN+1] (may be NULL);
 * frees the context. */
void sha256_final(struct sha256 *h, unsigned char out[32], char str[DIGEST_STR_LEN + 1]);
/* Frees the context without a result (error paths); safe to call twice. */
void sha256_cleanup(struct sha256 *h);

/* One-shot: "sha256:<hex>" of p[n] into str. Returns 0 or ERR_NOMEM. */
int sha256_digest_str(const void *p, size_t n, char str[DIGEST_STR_LEN + 1], struct err *e);
/* One-shot raw 32 bytes. */
int sha256_raw(const void *p, size_t n, unsigned char out[32], struct err *e);

/* Checks that s is exactly "sha256:" followed by 64 lowercase hex characters. Returns 0, ERR_UNSUPPORTED for
 * another well-formed algorithm ("sha512:..."), or ERR_PARSE. */
int digest_validate(const char *s, struct err *e);

/* Hex encodes n bytes into out[2n+1] (lowercase). */
void hex_encode(const unsigned char *p, size_t n, char *out);

#endif
