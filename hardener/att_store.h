/* att_store — where attestations live beside an image: cosign's legacy ".att" manifest (tag "sha256-<hex>.att",
 * an OCI image manifest whose layers are DSSE envelopes, media type application/vnd.dsse.envelope.v1+json, each
 * annotated with its predicateType), built and merged here without I/O; and the --require expressions of
 * `hardline verify` ("shells=0", "executables<=3") evaluated against the facts of a verified predicate. */
#ifndef HARDLINE_ATT_STORE_H
#define HARDLINE_ATT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/digest.h"
#include "lib/err.h"
#include "lib/str.h"

#define ATT_MT_DSSE "application/vnd.dsse.envelope.v1+json"
#define ATT_ANN_PREDICATE "predicateType"
#define ATT_ANN_SIGNATURE "dev.cosignproject.cosign/signature"
#define ATT_TAG_LEN (DIGEST_STR_LEN + 4) /* "sha256-<hex>.att" */
#define ATT_MAX_LAYERS 256		 /* attestations kept per .att manifest */
#define ATT_MANIFEST_MAX (4u << 20)	 /* bytes of a .att manifest or its config */

/* "sha256-<hex>.att" for the image manifest digest "sha256:<hex>" into out. ERR_PARSE for a bad digest. */
int att_tag(const char *digest, char out[ATT_TAG_LEN + 1], struct err *e);

/* A .att manifest ready to store: its config blob and manifest bytes with their digests. */
struct att_manifest {
	struct strbuf config; /* the config JSON (cap ATT_MANIFEST_MAX) */
	char config_digest[DIGEST_STR_LEN + 1];
	struct strbuf manifest; /* the manifest JSON */
	char manifest_digest[DIGEST_STR_LEN + 1];
	size_t n_layers; /* attestations the manifest now lists */
	bool added;	 /* false when the envelope was there already (dedup) */
};

/* Frees the buffers; the struct may be reused. NULL-safe. */
void att_manifest_cleanup(struct att_manifest *m);

/* Builds the .att manifest that lists the envelope blob (envelope_digest, envelope_size) with annotations
 * predicateType = predicate_type and an empty cosign signature annotation, after the layers of old (the bytes of
 * the existing .att manifest, NULL when there is none; its layers and their annotations are kept as they are).
 * When old already lists that blob nothing is added (out->added false) and the manifest is rebuilt the same way.
 * The config is {"architecture":"","config":{},"os":"","rootfs":{"type":"layers","diff_ids":[every layer]}} as
 * cosign writes it. label names old in messages. Errors: ERR_PARSE/ERR_INVALID for a malformed old manifest,
 * ERR_TOO_LARGE past ATT_MAX_LAYERS, ERR_NOMEM. *out is initialized here (att_manifest_cleanup it, also on error). */
int att_manifest_merge(const char *old, size_t old_len, const char *label, const char *envelope_digest,
    uint64_t envelope_size, const char *predicate_type, struct att_manifest *out, struct err *e);

/* One attestation a .att manifest lists. */
struct att_layer {
	char digest[DIGEST_STR_LEN + 1];
	uint64_t size;
	char predicate_type[256]; /* the annotation, "" when absent (truncated when longer) */
};

/* Lists the DSSE layers of the .att manifest buf[len] (other media types are skipped) into a new array *out of *n
 * entries (free() it). Errors: ERR_PARSE/ERR_INVALID naming label, ERR_TOO_LARGE past ATT_MAX_LAYERS. */
int att_manifest_layers(const char *buf, size_t len, const char *label, struct att_layer **out, size_t *n,
    struct err *e);

/* ---- --require FACT=N / FACT<=N ---- */

enum att_req_op { ATT_REQ_EQ = 1, ATT_REQ_LE };

struct att_require {
	char fact[32]; /* a count category of docs/facts.md, or "files", "bytes", "loginShells" */
	enum att_req_op op;
	int64_t value;
};

/* Parses "shells=0", "executables<=5". Unknown fact names, other operators and non-numbers are ERR_USAGE with a
 * message listing the fact names. */
int att_require_parse(const char *s, struct att_require *out, struct err *e);

/* Evaluates req against a predicate's facts object (facts.<fact>.count, files/bytes at the top, loginShells in
 * users). 0 when satisfied; ERR_DENIED with "shells is 2, required = 0" style messages; ERR_NOT_FOUND when the
 * facts lack the member. */
int att_require_eval(const json_t *facts, const struct att_require *req, struct err *e);

#endif
