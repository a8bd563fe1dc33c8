/* report — what the hardening run did, step by step, and the facts after.
 * Each step records its changes as (action, path, detail) and counters; the report is written as JSON (for
 * machines, --report FILE) and as a short human summary on stderr. Paths are capped per step in the JSON
 * (REPORT_MAX_PATHS) with the true counts kept, so a huge image cannot make a huge report. */
#ifndef HARDLINE_REPORT_H
#define HARDLINE_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "lib/err.h"

#define REPORT_MAX_PATHS 2000

struct report;
struct report_step;

/* A new empty report; NULL on allocation failure. report_free(NULL) is a no-op. */
struct report *report_new(bool dry_run);
void report_free(struct report *r);

/* Starts the record of a step (borrowed pointer, lives as long as the report). */
struct report_step *report_step_begin(struct report *r, const char *name);
/* The step named name already begun in r (borrowed), or NULL. */
struct report_step *report_step_find(struct report *r, const char *name);
/* Marks the step skipped (disabled by policy, not applicable, ...) with a reason. */
void report_step_skip(struct report_step *s, const char *why);
/* Marks the step failed with a message. The other steps still run, so that the report shows everything, but the
 * engine then refuses the run (harden_run) unless the step may fail (upgrade without "required"). */
void report_step_fail(struct report_step *s, const char *msg);
/* True when the step was marked failed; *why (may be NULL) then gets its message (borrowed). */
bool report_step_failed(const struct report_step *s, const char **why);
/* Records one change: action is a short verb ("delete", "chmod", "chown", "rewrite", "lock", "create",
 * "clear-setuid", ...), path the object, detail an optional note (NULL ok). Also counts it by action. */
void report_change(struct report_step *s, const char *action, const char *path, const char *detail);
/* Adds a free-form note to the step (e.g. "busybox applets still reachable: cat, ls"). */
void report_note(struct report_step *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Attaches a JSON value under the step's "details" (stolen). */
void report_step_set(struct report_step *s, const char *key, json_t *value);
/* Total changes recorded in the whole report. */
size_t report_total_changes(const struct report *r);

/* Attaches the facts after hardening (stolen) and other top-level members (stolen). */
void report_set(struct report *r, const char *key, json_t *value);

/* The report as JSON (new reference). */
json_t *report_to_json(const struct report *r);
/* Writes the JSON to path (0644, via a temporary file and rename). */
int report_write_file(const struct report *r, const char *path, struct err *e);
/* On a failed run: writes r to path when path is not NULL (as report_write_file) and, when that fails too, prints
 * "hardline: <why>" on stderr; nothing is returned because the run's own error is what the caller reports. */
void report_write_after_failure(const struct report *r, const char *path);
/* The human summary: one line per step with its counts, then the facts; "nothing to change" when idempotent. */
void report_print_summary(const struct report *r, FILE *out);

#endif
