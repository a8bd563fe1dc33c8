/* intoto — in-toto Statements (attestation spec v1; v0.1, what cosign emits, accepted on input) and the hardline
 * hardening predicate whose schema docs/attestation.md documents. A Statement travels as the payload of a DSSE
 * envelope of payloadType INTOTO_PAYLOAD_TYPE. */
#ifndef HARDLINE_INTOTO_H
#define HARDLINE_INTOTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/digest.h"
#include "lib/dsse.h"
#include "lib/err.h"
#include "lib/keys.h"

#define INTOTO_STATEMENT_V1 "https://in-toto.io/Statement/v1"
#define INTOTO_STATEMENT_V01 "https://in-toto.io/Statement/v0.1"
#define INTOTO_PAYLOAD_TYPE "application/vnd.in-toto+json"
#define HARDLINE_PREDICATE_TYPE "https://hardline.dev/attestation/hardening/v1"
#define HARDLINE_HARDENER_NAME "hardline"
#define INTOTO_STATEMENT_MAX (4u * 1024 * 1024) /* bytes of Statement JSON */
#define INTOTO_MAX_SUBJECTS 1024
#define INTOTO_NAME_MAX 4096 /* characters of a subject name */

struct intoto_subject {
	char *name;			 /* "" when absent (allowed in v1) */
	char digest[DIGEST_STR_LEN + 1]; /* "sha256:<hex>" */
};

struct intoto_statement {
	char *type; /* INTOTO_STATEMENT_V1 or INTOTO_STATEMENT_V01 */
	char *predicate_type;
	struct intoto_subject *subjects;
	size_t nsubjects;
	json_t *predicate; /* owned reference; NULL when absent */
};

/* Builds a v1 Statement with one subject {name, digest {sha256: hex}}: name is the image reference (may be NULL or
 * "", then "_" as the spec suggests), digest a "sha256:<hex>" string, predicate is stolen (also on error; may be
 * NULL to omit it). *out is a new reference. Errors: ERR_PARSE/ERR_UNSUPPORTED for a bad digest, ERR_NOMEM. */
int intoto_statement_new(const char *name, const char *digest, const char *predicate_type, json_t *predicate,
    json_t **out, struct err *e);

/* Parses a Statement from buf[len] (at most INTOTO_STATEMENT_MAX; usually the verified DSSE payload). Accepts v1
 * and v0.1 _type; requires a non-empty subject list whose entries each carry a valid sha256 digest (other digest
 * algorithms are ignored but a subject without sha256 is refused), a string predicateType, and when present an
 * object predicate. Unknown members are ignored (spec). *out is new (intoto_statement_free it). */
int intoto_parse(const void *buf, size_t len, struct intoto_statement **out, struct err *e);

/* True when one subject of st has the digest "sha256:<hex>". */
bool intoto_has_subject(const struct intoto_statement *st, const char *digest);

/* Frees st; accepts NULL. */
void intoto_statement_free(struct intoto_statement *st);

/* The whole check of one attestation, for `hardline verify` and the webhook: parses the DSSE envelope buf[len],
 * requires payloadType INTOTO_PAYLOAD_TYPE, verifies it against kr (dsse_verify), parses the verified payload as a
 * Statement, and requires predicate_type (when not NULL) and a subject with subject_digest ("sha256:<hex>", when not
 * NULL). Errors: those of dsse_parse/dsse_verify/intoto_parse, ERR_INVALID for another predicate type, ERR_NOT_FOUND
 * when no subject has the digest; messages start with label. On success *out is new (intoto_statement_free it) and
 * *signer (may be NULL) is the trusted key that verified, borrowed from kr. */
int intoto_verify(const char *buf, size_t len, const char *label, const struct keyring *kr, const char *subject_digest,
    const char *predicate_type, struct intoto_statement **out, const struct key **signer, struct err *e);

/* Formats a Unix time as RFC 3339 UTC ("2026-12-01T04:26:17Z") into out[21]. ERR_INVALID for an unrepresentable
 * time. */
int intoto_time_fmt(int64_t t, char out[21], struct err *e);

/* Builds the hardening predicate (schema in docs/attestation.md):
 *   {"hardener":{"name":"hardline","version":V}, "input":{"digest":D} (only when input_digest is not NULL),
 *    "policy":{"digest":P,"profile":PR}, "steps":S, "facts":F, "timestamp":"<RFC 3339>"}
 * steps (an array) and facts (an object) are borrowed: the predicate takes its own references; either may be NULL
 * ("steps": [] and "facts": {} then). Digests must be "sha256:<hex>". *out is a new reference. */
int intoto_predicate_hardening_new(const char *hardener_version, const char *input_digest, const char *policy_digest,
    const char *profile, json_t *steps, json_t *facts, int64_t timestamp, json_t **out, struct err *e);

#endif
