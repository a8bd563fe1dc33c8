/* admission — one AdmissionReview (admission.k8s.io/v1) in, one decision out. Pure: no I/O, no clock, no globals;
 * the server calls adm_review once per request and sends out->response_body with out->http_status, then logs
 * out->log_fields as its one structured line for the decision. */
#ifndef HARDLINE_ADMISSION_H
#define HARDLINE_ADMISSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/err.h"
#include "webhook/wpolicy.h"

#define ADM_MAX_DEPTH 64	  /* JSON nesting over this is a malformed review */
#define ADM_MAX_CONTAINERS 1000	  /* per list (containers, initContainers, ephemeralContainers) */
#define ADM_MAX_VIOLATIONS 200	  /* kept per review; more are counted, not kept */
#define ADM_MAX_WARNINGS 10	  /* warnings per response (incl. a final "and N more") */
#define ADM_WARNING_MAX_CHARS 120 /* per warning (the API server's advice) */
#define ADM_MESSAGE_MAX 3072	  /* status.message and the audit annotation value */

/* The mode selected by the request path: enforce denies, warn allows with warnings, audit allows with audit
 * annotations. */
enum adm_mode { ADM_ENFORCE, ADM_WARN, ADM_AUDIT };

/* One broken rule. All strings are owned by the list, already escaped and truncated for display. */
struct adm_violation {
	char *who;     /* "container web", "init container setup", "ephemeral container debugger", "pod" */
	char *field;   /* "securityContext.readOnlyRootFilesystem", "spec.hostNetwork", "image" ... */
	char *problem; /* "must be true", "is 0, must be one of 1000" ... */
	char *fix;     /* how to fix it, or NULL */
};

/* The violations found in one review, in the order found. */
struct adm_violations {
	struct adm_violation *v;
	size_t n, alloc;
	size_t dropped; /* violations over ADM_MAX_VIOLATIONS, counted only */
};

/* An empty list (no allocation until the first violation); cleanup frees the entries and leaves it empty. */
void adm_violations_init(struct adm_violations *vs);
void adm_violations_cleanup(struct adm_violations *vs);

/* Appends a violation; fix may be NULL. who is a display name ("container web", as made (escaped) by
 * podspec_containers) or "pod"; who, field and problem must already be safe to show (anything taken from the
 * request escaped with str_escape); they are cut to 100, 200 and 255 bytes here. Over ADM_MAX_VIOLATIONS
 * the violation is only counted. Returns 0 or ERR_NOMEM. */
int adm_violations_add(struct adm_violations *vs, const char *who, const char *field, const char *fix,
    const char *problem_fmt, ...) __attribute__((format(printf, 5, 6)));

/* One violation as a line for users: "container web: securityContext.readOnlyRootFilesystem must be true; mount
 * an emptyDir at the paths it writes to" (with_fix false drops the part after ";"). Written into dst[size],
 * truncated with "..." when it does not fit. Returns dst. */
char *adm_violation_fmt(const struct adm_violation *v, bool with_fix, char *dst, size_t size);

/* The per-image hook for the attestation check (next issue). Called once per evaluated container whose image is
 * not exempt, after the securityContext rules, with the container's display name ("container web", to pass as
 * who to adm_violations_add) and its image reference as written in the spec (both borrowed, valid for the call). deadline_ms is the caller's deadline (see adm_review). It appends what it finds to v and returns
 * 0; a negative return with e set means the check itself failed (e.g. ERR_TIMEOUT): no further image is checked,
 * the failure is reported as a violation of field "image" ("could not be checked: <e>"), and in enforce mode the
 * review is denied (code 500 when that is the only problem, else 403 with the others); warn/audit allow it with
 * the failure as a warning/annotation. arg is the hook's
 * own state; the hook must be thread-safe. */
struct adm_image_checker {
	/* notices: what admits the image but the user should hear of (e.g. an attestation in its maxAge grace
	 * period); they come back as warnings in every mode, beside the decision, and are logged. */
	int (*check)(void *arg, const char *container, const char *image, uint64_t deadline_ms,
	    struct adm_violations *v, struct adm_violations *notices, struct err *e);
	void *arg;
};

/* What the server does with one review. All pointers are owned by the result: adm_result_cleanup frees them. */
struct adm_result {
	int http_status;     /* 200 with an AdmissionReview; 400 when the body is not a usable review (no uid) */
	char *response_body; /* NUL-terminated; the AdmissionReview JSON (200) or a one-line error text (400) */
	size_t response_len;
	const char *content_type; /* "application/json" or "text/plain; charset=utf-8" (static) */
	bool allowed;
	const char *decision;	 /* static: "allow" | "deny" | "warn" | "audit" | "error" */
	const char *metric_kind; /* static, bounded set for metric labels: "Pod", "Deployment", ... (the kinds
	                          * evaluated) or "other"; never the raw request kind */
	json_t *log_fields;	 /* object for the decision's log line: uid, kind, namespace, name, user, operation,
	                        * subResource, mode, decision, allowed, code, reasons[], note, dryRun; owned reference */
};

/* Evaluates one AdmissionReview body (untrusted bytes; the server caps len) under policy p in mode. checker may
 * be NULL (no image checks). deadline_ms is an absolute CLOCK_MONOTONIC time in milliseconds, 0 for none; it is
 * only handed to checker. On return 0, *out is filled in every case, including malformed reviews (a 200 deny
 * with code 400 when the uid is readable, else http_status 400); the server sends it as is. A negative return
 * (ERR_NOMEM, ERR_INTERNAL) means no answer could be built: answer 500 and log e. out is cleared on entry. */
int adm_review(const struct wpolicy *p, enum adm_mode mode, const struct adm_image_checker *checker, const char *body,
    size_t len, uint64_t deadline_ms, struct adm_result *out, struct err *e);

/* Frees what adm_review put in r; r may be zeroed or NULL. */
void adm_result_cleanup(struct adm_result *r);

/* "enforce" | "warn" | "audit". */
const char *adm_mode_name(enum adm_mode m);
/* Parses a mode name as above; returns 0 or ERR_INVALID. */
int adm_mode_parse(const char *s, enum adm_mode *out, struct err *e);

#endif
