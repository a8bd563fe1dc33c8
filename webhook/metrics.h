/* metrics — the webhook's Prometheus counters, kept in C11 atomics so that the request path takes no lock, and
 * rendered in the text exposition format 0.0.4 for /metrics. Label sets are fixed and small: unknown kinds and
 * decisions count as "other". One set per process. */
#ifndef HARDLINE_WEBHOOK_METRICS_H
#define HARDLINE_WEBHOOK_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"
#include "lib/str.h"

/* Label values of hardline_admission_requests_total; the index of each is its enum value. */
enum metrics_mode { METRICS_ENFORCE, METRICS_WARN, METRICS_AUDIT, METRICS_MODE_COUNT };

/* Records one finished admission request: mode (enum metrics_mode), the decision ("allow", "deny", "warn",
 * "audit", "error"; anything else counts as "other"), the object kind ("Pod", "Deployment", ...; NULL or unknown
 * counts as "other") and its duration in microseconds. Thread-safe, lock-free. */
void metrics_observe(int mode, const char *decision, const char *kind, uint64_t duration_us);

/* Requests being handled now (first call seen, completion not yet): +1 / -1. */
void metrics_in_flight_add(int delta);
int64_t metrics_in_flight(void);

/* A policy or certificate reload attempt and its result. */
void metrics_policy_reload(bool ok);
void metrics_tls_reload(bool ok);

/* Attestation checks: a result answered from the cache (hit) or not (miss); one look-up in a source ("directory",
 * "registry"; others count as "other") with its result ("found", "none", "error"; others count as "error"). */
void metrics_attestation_cache(bool hit);
void metrics_attestation_fetch(const char *source, const char *result);

/* The serving certificate's notAfter, seconds since the epoch. */
void metrics_set_cert_expiry(int64_t t);

/* Readiness: the certificate and the policy are loaded and the server is not draining. */
void metrics_set_ready(bool ready);
bool metrics_ready(void);

/* Appends the whole exposition to sb. ERR_TOO_LARGE / ERR_NOMEM from the buffer. */
int metrics_render(struct strbuf *sb, struct err *e);

/* Zeroes every counter (for tests). */
void metrics_reset(void);

#endif
