/* attest — hardening attestations bound to image manifest digests: measure an image (the facts of `scan`), sign an
 * in-toto Statement about its manifest digest (DSSE), store it beside the image (a cosign-style sha256-<hex>.att
 * manifest in an OCI layout or a registry, an envelope file); and the other way: find an image's attestations,
 * verify them against trusted keys and check the facts. Used by `hardline attest`, `hardline verify` and
 * `hardline harden --key`. */
#ifndef HARDLINE_ATTEST_H
#define HARDLINE_ATTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "hardener/att_store.h"
#include "lib/err.h"

#define ATTEST_POLICY_LABEL "dev.hardline.policy.digest"
#define ATTEST_PROFILE_LABEL "dev.hardline.policy.profile"
#define ATTEST_SIDECAR_SUFFIX ".att.json" /* oci-archive:FILE keeps its envelopes in FILE.att.json */
#define ATTEST_MAX_REQUIRE 32

/* What `hardline attest` is asked to do. All strings are borrowed for the call. */
struct attest_opts {
	const char *key_path;	 /* the private key (passphrase from HARDLINE_KEY_PASSWORD) */
	const char *platform;	 /* "os/arch[/variant]" of an index, NULL = every platform */
	const char *out_file;	 /* write the envelope(s) here, one JSON per line; NULL = none */
	bool push;		 /* write the .att manifest to the registry */
	const char *push_to;	 /* docker://REGISTRY/REPO for an oci: image pushed earlier; NULL */
	bool quiet;		 /* no progress lines on stderr */
	const char *only_digest; /* attest only the platform whose manifest has this digest; NULL = all */
};

/* What only `harden` knows; every member may be NULL (then taken from the image: facts measured, policy from the
 * labels ATTEST_POLICY_LABEL / ATTEST_PROFILE_LABEL, omitted when the image has none). Borrowed. */
struct attest_input {
	const char *input_digest; /* manifest (or index) digest of the image before hardening */
	const char *policy_digest;
	const char *profile;
	json_t *steps; /* the report's "steps" array */
	json_t *facts; /* the facts after hardening */
};

/* Attests every selected platform of image ("oci:DIR[:TAG]", "oci-archive:FILE[:TAG]",
 * "docker://REGISTRY/REPO@sha256:<hex>"): subject = that platform's manifest digest, name = the image reference.
 * An oci: layout receives the envelope in its sha256-<hex>.att manifest (added to the attestations there,
 * identical envelopes once); an oci-archive gets FILE.att.json unless out_file is given; --push writes the
 * registry's .att manifest. The timestamp is SOURCE_DATE_EPOCH or now. Prints one line per attestation to out:
 * "<manifest digest> <where>". in may be NULL. Errors: ERR_USAGE (bad options), those of the store, the key, the
 * registry. */
int attest_image(const char *image, const struct attest_opts *o, const struct attest_input *in, FILE *out,
    struct err *e);

struct report;

/* `harden --key`: attests the image that harden wrote to dst for one platform's report rep (its output digest is
 * the subject; its input digest, policy digest and profile, steps and facts go into the predicate), stored as
 * attest_image stores it. key_path is the private key. Errors say that dst was written but not attested. */
int attest_from_report(const char *dst, const char *key_path, const struct report *rep, FILE *out, struct err *e);

/* What `hardline verify` is asked to check. Borrowed. */
struct verify_opts {
	const char *const *key_paths; /* public key files or directories */
	size_t n_keys;
	const char *envelope_file;	/* read envelopes from this file (one JSON per line) instead of the store */
	const struct att_require *reqs; /* every one must hold */
	size_t n_reqs;
	const char *platform; /* NULL = every platform must verify */
	bool json;	      /* print the verified Statements as JSON instead of the summary */
};

/* Finds the attestations of every selected platform's manifest of image (the .att manifest of an oci: layout or
 * of the registry, FILE.att.json beside an oci-archive, or o->envelope_file) and verifies them: a trusted key's
 * signature, payloadType in-toto, predicate type HARDLINE_PREDICATE_TYPE, subject = the manifest digest, every
 * --require. Returns 0 when every platform has one valid attestation, printing the summary (or JSON) to out; why
 * each attestation was refused goes to errs ("attestation N (...): reason"). ERR_VERIFY when none is valid,
 * ERR_NOT_FOUND when there are none, ERR_USAGE, or the store's errors. */
int attest_verify(const char *image, const struct verify_opts *o, FILE *out, FILE *errs, struct err *e);

#endif
