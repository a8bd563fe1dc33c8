/* report — the record of a hardening run: per step its status, its changes (counted by action, paths kept up to
 * REPORT_MAX_PATHS), notes and details, plus top-level members such as the facts after. Written as JSON and as a
 * short human summary. Allocation failures are remembered and surface as an error when the report is written. */
#include "hardener/report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hardener/facts.h"
#include "lib/fileio.h"
#include "lib/str.h"

#define REPORT_MAX_STEPS 32
#define REPORT_MAX_NOTES 200

enum step_status { STEP_OK, STEP_SKIPPED, STEP_FAILED };

struct report_step {
	char name[48];
	enum step_status status;
	char *reason; /* skip reason or failure message (owned) */
	size_t nchanges;
	json_t *counts;	 /* {"action": n} */
	json_t *order;	 /* ["action", ...] in first-seen order, for the summary */
	json_t *changes; /* [{"action","path","detail"}] up to REPORT_MAX_PATHS */
	json_t *notes;	 /* ["..."] */
	json_t *details; /* {} */
};

struct report {
	bool dry_run;
	bool oom; /* an allocation failed while recording: the report is incomplete */
	struct report_step steps[REPORT_MAX_STEPS];
	size_t nsteps;
	struct report_step overflow; /* returned when there are too many steps, never reported */
	json_t *extra;		     /* top-level members (facts, ...) */
};

/* Frees what a step record owns and zeroes it. */
static void step_clear(struct report_step *s)
{
	free(s->reason);
	json_decref(s->counts);
	json_decref(s->order);
	json_decref(s->changes);
	json_decref(s->notes);
	json_decref(s->details);
	memset(s, 0, sizeof(*s));
}

struct report *report_new(bool dry_run)
{
	struct report *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->dry_run = dry_run;
	if ((r->extra = json_object()) == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

void report_free(struct report *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nsteps; i++)
		step_clear(&r->steps[i]);
	step_clear(&r->overflow);
	json_decref(r->extra);
	free(r);
}

struct report_step *report_step_begin(struct report *r, const char *name)
{
	struct report_step *s;

	if (r->nsteps == REPORT_MAX_STEPS) {
		r->oom = true;
		step_clear(&r->overflow);
		s = &r->overflow;
	} else {
		s = &r->steps[r->nsteps++];
	}
	str_copy(s->name, sizeof(s->name), name);
	s->counts = json_object();
	s->order = json_array();
	s->changes = json_array();
	s->notes = json_array();
	s->details = json_object();
	if (s->counts == NULL || s->order == NULL || s->changes == NULL || s->notes == NULL || s->details == NULL)
		r->oom = true;
	return s;
}

struct report_step *report_step_find(struct report *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nsteps; i++)
		if (strcmp(r->steps[i].name, name) == 0)
			return &r->steps[i];
	return NULL;
}

/* Sets the status and its reason (copied). */
static void set_reason(struct report_step *s, enum step_status st, const char *why)
{
	free(s->reason);
	s->reason = strdup(why != NULL ? why : "");
	s->status = st;
}

void report_step_skip(struct report_step *s, const char *why)
{
	set_reason(s, STEP_SKIPPED, why);
}

void report_step_fail(struct report_step *s, const char *msg)
{
	set_reason(s, STEP_FAILED, msg);
}

bool report_step_failed(const struct report_step *s, const char **why)
{
	if (s == NULL || s->status != STEP_FAILED)
		return false;
	if (why != NULL)
		*why = s->reason != NULL ? s->reason : "no reason given";
	return true;
}

void report_change(struct report_step *s, const char *action, const char *path, const char *detail)
{
	json_t *c = s->counts != NULL ? json_object_get(s->counts, action) : NULL;

	s->nchanges++;
	if (s->counts == NULL || s->order == NULL || s->changes == NULL)
		return;
	if (c == NULL) {
		json_object_set_new(s->counts, action, json_integer(1));
		json_array_append_new(s->order, json_string(action));
	} else {
		json_integer_set(c, json_integer_value(c) + 1);
	}
	if (json_array_size(s->changes) < REPORT_MAX_PATHS) {
		json_t *o = json_pack("{s:s, s:s?, s:s*}", "action", action, "path", path, "detail", detail);

		if (o == NULL && path != NULL) { /* a path (or detail) that is not UTF-8: record them escaped */
			char pb[1024], db[1024];

			str_escape(pb, sizeof(pb), path, strlen(path), 900);
			if (detail != NULL)
				str_escape(db, sizeof(db), detail, strlen(detail), 900);
			o = json_pack("{s:s, s:s, s:s*}", "action", action, "path", pb, "detail", detail ? db : NULL);
		}
		json_array_append_new(s->changes, o);
	}
}

void report_note(struct report_step *s, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	json_t *n;

	if (s->notes == NULL || json_array_size(s->notes) >= REPORT_MAX_NOTES)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if ((n = json_string(buf)) == NULL) { /* not UTF-8 (a path in it): keep it escaped */
		char esc[sizeof(buf) * 2];

		n = json_string(str_escape(esc, sizeof(esc), buf, strlen(buf), sizeof(buf)));
	}
	json_array_append_new(s->notes, n);
}

void report_step_set(struct report_step *s, const char *key, json_t *value)
{
	if (s->details == NULL || value == NULL) {
		json_decref(value);
		return;
	}
	json_object_set_new(s->details, key, value);
}

size_t report_total_changes(const struct report *r)
{
	size_t i, n = 0;

	for (i = 0; i < r->nsteps; i++)
		n += r->steps[i].nchanges;
	return n;
}

void report_set(struct report *r, const char *key, json_t *value)
{
	if (value == NULL) {
		r->oom = true;
		return;
	}
	if (json_object_set_new(r->extra, key, value) != 0)
		r->oom = true;
}

/* The status as written in the JSON report. */
static const char *status_name(enum step_status st)
{
	return st == STEP_OK ? "ok" : st == STEP_SKIPPED ? "skipped" : "failed";
}

json_t *report_to_json(const struct report *r)
{
	json_t *root = json_object(), *steps = json_array();
	size_t i;

	if (root == NULL || steps == NULL)
		goto fail;
	for (i = 0; i < r->nsteps; i++) {
		const struct report_step *s = &r->steps[i];
		json_t *o = json_pack("{s:s, s:s, s:I, s:O*, s:O*, s:b, s:O*, s:O*}", "name", s->name, "status",
		    status_name(s->status), "changes", (json_int_t)s->nchanges, "counts", s->counts, "paths",
		    s->changes, "pathsTruncated", s->nchanges > json_array_size(s->changes), "notes", s->notes,
		    "details", s->details);

		if (o == NULL)
			goto fail;
		if (s->reason != NULL)
			json_object_set_new(o, "reason", json_string(s->reason));
		if (json_array_append_new(steps, o) != 0)
			goto fail;
	}
	if (json_object_set_new(root, "dryRun", json_boolean(r->dry_run)) != 0 ||
	    json_object_set_new(root, "totalChanges", json_integer((json_int_t)report_total_changes(r))) != 0 ||
	    json_object_set_new(root, "steps", steps) != 0) {
		steps = NULL;
		goto fail;
	}
	steps = NULL;
	if (json_object_update(root, r->extra) != 0)
		goto fail;
	return root;
fail:
	json_decref(steps);
	json_decref(root);
	return NULL;
}

int report_write_file(const struct report *r, const char *path, struct err *e)
{
	json_t *j = NULL;
	char *s = NULL, label[300];
	size_t len;
	int rc = ERR_NOMEM;

	if (r->oom) {
		err_set(e, ERR_NOMEM, "report %s: out of memory while recording the run; the report is incomplete",
		    path);
		goto out;
	}
	if ((j = report_to_json(r)) == NULL || (s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS)) == NULL) {
		err_set(e, ERR_NOMEM, "report %s: out of memory", path);
		goto out;
	}
	len = strlen(s);
	s[len] = '\n'; /* the dump's NUL becomes the file's final newline: exactly len + 1 bytes are written */
	str_fmt(label, sizeof(label), "report %.250s", path);
	rc = fileio_write_atomic(path, s, len + 1, 0644, label, e);
out:
	free(s);
	json_decref(j);
	return rc;
}

void report_write_after_failure(const struct report *r, const char *path)
{
	struct err e;

	if (path != NULL && report_write_file(r, path, &e) != 0)
		fprintf(stderr, "hardline: %s\n", e.msg);
}

void report_print_summary(const struct report *r, FILE *out)
{
	size_t i, total = report_total_changes(r);
	const json_t *facts;
	char line[1024];

	for (i = 0; i < r->nsteps; i++) {
		const struct report_step *s = &r->steps[i];
		size_t j;
		json_t *a;

		if (s->status == STEP_SKIPPED) {
			fprintf(out, "%s: skipped (%s)\n", s->name, s->reason ? s->reason : "");
			continue;
		}
		fprintf(out, "%s: ", s->name);
		if (s->nchanges == 0) {
			fprintf(out, "nothing to change");
		} else {
			fprintf(out, "%zu change%s%s (", s->nchanges, s->nchanges == 1 ? "" : "s",
			    r->dry_run ? " planned" : "");
			json_array_foreach(s->order, j, a)
			{
				fprintf(out, "%s%s %lld", j ? ", " : "", json_string_value(a),
				    (long long)json_integer_value(json_object_get(s->counts, json_string_value(a))));
			}
			fprintf(out, ")");
		}
		if (s->status == STEP_FAILED)
			fprintf(out, "; FAILED: %s", s->reason ? s->reason : "");
		fprintf(out, "\n");
		json_array_foreach(s->notes, j, a)
		{
			fprintf(out, "  note: %s\n", json_string_value(a));
		}
	}
	if ((facts = json_object_get(r->extra, "facts")) != NULL && json_is_object(facts))
		fprintf(out, "facts after: %s\n", facts_summary_line(facts, line, sizeof(line)));
	if (json_object_get(r->extra, "error") != NULL)
		fprintf(out, "%zu change%s planned, not all applied: the run failed (below)\n", total,
		    total == 1 ? "" : "s");
	else if (total == 0)
		fprintf(out, "nothing to change: the tree is already hardened by this policy\n");
	else if (r->dry_run)
		fprintf(out, "dry run: %zu change%s planned, nothing was changed\n", total, total == 1 ? "" : "s");
	else
		fprintf(out, "%zu change%s made\n", total, total == 1 ? "" : "s");
}
