/* dsse — DSSE v1 envelopes (secure-systems-lab/dsse): strict parsing and serialization, the pre-authentication
 * encoding PAE, signing with one key and verification against a keyring of trusted keys.
 * After verification use env->payload, exactly the bytes that were verified; never re-parse the envelope. */
#ifndef HARDLINE_DSSE_H
#define HARDLINE_DSSE_H

#include <stddef.h>

#include "lib/err.h"
#include "lib/keys.h"

#define DSSE_ENVELOPE_MAX (4u * 1024 * 1024) /* bytes of envelope JSON */
#define DSSE_MAX_SIGNATURES 16
#define DSSE_KEYID_MAX 256	    /* characters of a keyid hint */
#define DSSE_PAYLOAD_TYPE_MAX 256   /* characters of a payloadType */
#define DSSE_MAX_VERIFY_ATTEMPTS 64 /* signature checks per envelope beyond the keyid-hinted ones */

struct dsse_signature {
	char *keyid;	    /* the unauthenticated hint; "" when absent */
	unsigned char *sig; /* decoded signature bytes */
	size_t sig_len;
};

struct dsse_envelope {
	char *payload_type;
	unsigned char *payload; /* decoded; NUL-terminated for convenience (not counted in payload_len) */
	size_t payload_len;
	struct dsse_signature sigs[DSSE_MAX_SIGNATURES];
	size_t nsigs;
};

/* PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in ASCII decimal. *out is a new
 * buffer of *out_len bytes (free() it). */
int dsse_pae(const char *type, const void *body, size_t body_len, unsigned char **out, size_t *out_len, struct err *e);

/* Parses an envelope from buf[len] (at most DSSE_ENVELOPE_MAX bytes): duplicate keys, wrong types, missing
 * payload/payloadType/signatures/sig, invalid base64 (standard or URL-safe accepted), no signatures or more than
 * DSSE_MAX_SIGNATURES are refused (ERR_PARSE, ERR_INVALID, ERR_TOO_LARGE); unknown members are ignored as the spec
 * says. label names the source in messages. *out is new (dsse_envelope_free it). */
int dsse_parse(const char *buf, size_t len, const char *label, struct dsse_envelope **out, struct err *e);

/* The same parse, always through jansson. dsse_parse reads the common shape of envelopes by a direct scan and
 * hands everything else to this function; tests and the fuzz target compare the two. */
int dsse_parse_json(const char *buf, size_t len, const char *label, struct dsse_envelope **out, struct err *e);

/* Reads and parses an envelope file (over the cap: ERR_TOO_LARGE). */
int dsse_load_file(const char *path, struct dsse_envelope **out, struct err *e);

/* Serializes env as compact JSON with sorted keys: {"payload","payloadType","signatures":[{"keyid","sig"}]}, base64
 * standard padded. *out is a new NUL-terminated string of *len bytes (free() it). */
int dsse_fmt(const struct dsse_envelope *env, char **out, size_t *len, struct err *e);

/* Signs payload[n] of payload_type with k (its keyid is the hint) into a new envelope with one signature. */
int dsse_sign(const char *payload_type, const void *payload, size_t n, const struct key *k, struct dsse_envelope **out,
    struct err *e);

/* Verifies env against the trusted keys of kr. When expected_type is not NULL a different payloadType is refused
 * (ERR_INVALID). keyid hints only order the attempts: signatures whose keyid names a trusted key are tried with that
 * key first, then every signature with every trusted key, at most DSSE_MAX_VERIFY_ATTEMPTS checks in this second
 * round (so a hostile envelope cannot cost 16 x 64 checks). Returns 0 when one signature is valid under one trusted
 * key, setting *signer (borrowed from kr, may be NULL) to it; ERR_VERIFY otherwise with a message saying whether a
 * trusted key's signature failed (payload or signature modified) or no trusted key signed. */
int dsse_verify(const struct dsse_envelope *env, const struct keyring *kr, const char *expected_type,
    const struct key **signer, struct err *e);

/* Frees env; accepts NULL. */
void dsse_envelope_free(struct dsse_envelope *env);

#endif
