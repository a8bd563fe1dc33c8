/* base64 — RFC 4648 encoding for DSSE envelopes and keys.
 * Encoding is the standard alphabet with padding; decoding takes the standard or the URL-safe alphabet, padded or
 * not (DSSE verifiers must accept both), and rejects everything else: foreign bytes, whitespace, bad padding and
 * non-zero trailing bits (a second spelling of the same bytes). */
#ifndef HARDLINE_BASE64_H
#define HARDLINE_BASE64_H

#include <stddef.h>

#include "lib/err.h"

/* Length of the padded encoding of n bytes, without the NUL; 0 when that would overflow size_t. */
size_t base64_encoded_len(size_t n);

/* Encodes src[n] (standard alphabet, padded) into a new NUL-terminated string *out (free() it); *out_len, when not
 * NULL, gets its length. Errors: ERR_TOO_LARGE (n too big to encode), ERR_NOMEM. *out is NULL on error. */
int base64_encode(const void *src, size_t n, char **out, size_t *out_len, struct err *e);

/* Decodes src[n] into a new buffer *out of *out_len bytes (free() it; it is NUL-terminated for convenience, the NUL
 * not counted). Refuses a result over max bytes with ERR_TOO_LARGE, and malformed input with ERR_PARSE naming
 * what ("payload", "signatures[0].sig") and the offending offset. An empty input decodes to zero bytes. */
int base64_decode(const char *src, size_t n, size_t max, unsigned char **out, size_t *out_len, const char *what,
    struct err *e);

#endif
