/* attcheck — the webhook's image attestation check (the adm_image_checker hook): the image must be pinned by digest
 * and carry a DSSE-signed in-toto Statement with hardline's predicate, whose subject is that digest, signed by a
 * trusted key, found in the policy's sources (directories of envelopes), young enough and with facts within the
 * policy's limits. Results are cached by digest (attcache); keys and directories are re-read when they change. */
#ifndef HARDLINE_WEBHOOK_ATTCHECK_H
#define HARDLINE_WEBHOOK_ATTCHECK_H

#include <stdint.h>

#include <jansson.h>

#include "lib/err.h"
#include "webhook/admission.h"

#define ATTCHECK_DEADLINE_MARGIN_MS 500 /* kept free before the request's deadline to write the answer */
#define ATTCHECK_MAX_SOURCES 16
#define ATTCHECK_MAX_REQUIRE 32

struct attcheck;

/* A checker that checks nothing until attcheck_configure gives it an "attestations" object. *out is new
 * (attcheck_free it). ERR_NOMEM. */
int attcheck_new(struct attcheck **out, struct err *e);

/* Frees ac; NULL is fine. The server using its hook must be stopped first. */
void attcheck_free(struct attcheck *ac);

/* Puts in force the policy's "attestations" object (borrowed; NULL or {"required": false}: no image check). Keys:
 * required, keys, imageReferences, sources, require, maxAge, maxAgeGrace, cache (docs/webhook-policy.md). Loads the
 * keys and reads the directories now. On error (ERR_INVALID naming the key, ERR_NOT_FOUND for keys that are not
 * there, ...) the previous configuration stays in force. A new configuration starts with an empty cache; the same
 * object as the one in force changes nothing. Call from one thread (the watcher); checks may run meanwhile. */
int attcheck_configure(struct attcheck *ac, const json_t *att, struct err *e);

/* Re-reads the trusted keys and the attestation directories that changed (the key paths, their "..data", the
 * directory listings); clears the cache when something changed. Returns 1 when something changed, else 0. A key
 * set that no longer loads is logged and the keyring becomes empty (everything is refused until it is fixed: a
 * removed key must stop admitting). Call from one thread (the watcher), e.g. every second. */
int attcheck_poll(struct attcheck *ac);

/* The adm_image_checker of ac (borrowed, lives as long as ac). */
const struct adm_image_checker *attcheck_hook(struct attcheck *ac);

/* The check itself (what the hook calls): container (display name) and image as in the pod spec; deadline_ms
 * absolute CLOCK_MONOTONIC ms (0: none), ATTCHECK_DEADLINE_MARGIN_MS before which the check gives up. Appends a
 * violation (field "image") when the image is not pinned, has no valid attestation, or fails a requirement, and a
 * notice (may be NULL: none recorded) when the attestation is past maxAge but within maxAgeGrace;
 * returns ERR_TIMEOUT / ERR_NETWORK with e saying what could not be fetched from where (fail closed), ERR_NOMEM. */
int attcheck_check(struct attcheck *ac, const char *container, const char *image, uint64_t deadline_ms,
    struct adm_violations *v, struct adm_violations *notices, struct err *e);

#endif
