/* admission — AdmissionReview (admission.k8s.io/v1) parsing, evaluation and the response the API server expects
 * (see admission.h). Everything read from the body is untrusted: types are checked, sizes capped, and what goes back
 * into messages is escaped and truncated. */
#include "webhook/admission.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/str.h"
#include "webhook/podspec.h"
#include "webhook/rules.h"

#define ADM_MAX_BODY (4u * 1024 * 1024) /* above the API server's 3 MiB request limit; the server caps first */
#define ADM_MAX_UID 128			/* Kubernetes UIDs are 36 characters */
#define ADM_MAX_GROUPS 1000		/* userInfo.groups entries */
#define SHOW_MAX 253			/* names in messages and log fields */

/* The fields of one request that decide what happens to it. Strings are borrowed from root. */
struct review {
	json_t *root;
	const char *uid, *op, *ns, *name, *user, *subres, *group, *kind, *version;
	json_t *groups, *object, *old;
	bool dry_run;
};

/* ---- violations ---- */

/* Marks a cut at the end of dst[size] (which snprintf filled and truncated) with "...". */
static void mark_cut(char *dst, size_t size)
{
	size_t n = strlen(dst);

	if (n >= 3 && n + 1 == size)
		memcpy(dst + n - 3, "...", 3);
}

void adm_violations_init(struct adm_violations *vs)
{
	memset(vs, 0, sizeof(*vs));
}

void adm_violations_cleanup(struct adm_violations *vs)
{
	for (size_t i = 0; i < vs->n; i++) {
		free(vs->v[i].who);
		free(vs->v[i].field);
		free(vs->v[i].problem);
		free(vs->v[i].fix);
	}
	free(vs->v);
	memset(vs, 0, sizeof(*vs));
}

/* A copy of a display string cut to max bytes (with "..." when cut). */
static char *dup_cut(const char *s, size_t max)
{
	char buf[256];

	if (s == NULL)
		return NULL;
	if (max >= sizeof(buf))
		max = sizeof(buf) - 1;
	if (str_fmt(buf, max + 1, "%s", s) != 0)
		mark_cut(buf, max + 1);
	return strdup(buf);
}

int adm_violations_add(struct adm_violations *vs, const char *who, const char *field, const char *fix,
    const char *problem_fmt, ...)
{
	struct adm_violation nv = { 0 };
	char problem[256];
	va_list ap;

	if (vs->n >= ADM_MAX_VIOLATIONS) {
		vs->dropped++;
		return 0;
	}
	va_start(ap, problem_fmt);
	vsnprintf(problem, sizeof(problem), problem_fmt, ap);
	va_end(ap);
	if (vs->n == vs->alloc) {
		size_t na = vs->alloc ? vs->alloc * 2 : 8;
		struct adm_violation *v = realloc(vs->v, na * sizeof(*v));

		if (v == NULL)
			return ERR_NOMEM;
		vs->v = v;
		vs->alloc = na;
	}
	nv.who = dup_cut(who != NULL ? who : "pod", 100);
	nv.field = dup_cut(field, 200);
	nv.problem = strdup(problem);
	nv.fix = fix != NULL ? strdup(fix) : NULL;
	if (nv.who == NULL || nv.field == NULL || nv.problem == NULL || (fix != NULL && nv.fix == NULL)) {
		free(nv.who);
		free(nv.field);
		free(nv.problem);
		free(nv.fix);
		return ERR_NOMEM;
	}
	vs->v[vs->n++] = nv;
	return 0;
}

char *adm_violation_fmt(const struct adm_violation *v, bool with_fix, char *dst, size_t size)
{
	if (size == 0)
		return dst;
	if (str_fmt(dst, size, "%s: %s %s%s%s", v->who, v->field, v->problem, with_fix && v->fix ? "; " : "",
		with_fix && v->fix ? v->fix : "") != 0)
		mark_cut(dst, size);
	return dst;
}

/* ---- modes ---- */

const char *adm_mode_name(enum adm_mode m)
{
	switch (m) {
	case ADM_ENFORCE:
		return "enforce";
	case ADM_WARN:
		return "warn";
	case ADM_AUDIT:
		return "audit";
	}
	return "?";
}

int adm_mode_parse(const char *s, enum adm_mode *out, struct err *e)
{
	if (strcmp(s, "enforce") == 0)
		*out = ADM_ENFORCE;
	else if (strcmp(s, "warn") == 0)
		*out = ADM_WARN;
	else if (strcmp(s, "audit") == 0)
		*out = ADM_AUDIT;
	else
		return err_set(e, ERR_INVALID, "unknown mode \"%.32s\"; use enforce, warn or audit", s);
	return 0;
}

void adm_result_cleanup(struct adm_result *r)
{
	if (r == NULL)
		return;
	free(r->response_body);
	json_decref(r->log_fields);
	memset(r, 0, sizeof(*r));
}

/* ---- input checks ---- */

/* Refuses JSON nested deeper than max, scanning the raw bytes before jansson allocates anything. */
static int check_depth(const char *b, size_t len, int max, struct err *e)
{
	int depth = 0;
	bool in_str = false;

	for (size_t i = 0; i < len; i++) {
		char c = b[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if (c == '{' || c == '[') {
			if (++depth > max)
				return err_set(e, ERR_TOO_LARGE, "JSON nested deeper than %d levels", max);
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return 0;
}

/* An optional string member of obj: absent or null gives "". */
static int opt_str(const json_t *obj, const char *key, const char **out, const char *where, struct err *e)
{
	json_t *v = json_object_get(obj, key);

	*out = "";
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return err_set(e, ERR_INVALID, "%s.%s must be a string", where, key);
	*out = json_string_value(v);
	return 0;
}

/* Reads the envelope and the uid. Failure here means no AdmissionReview answer can be built (HTTP 400). */
static int parse_envelope(struct review *rv, struct err *e)
{
	const char *api = "", *kind = "";
	json_t *req;
	int r;

	if (!json_is_object(rv->root))
		return err_set(e, ERR_INVALID, "the body must be a JSON object (an AdmissionReview)");
	if ((r = opt_str(rv->root, "apiVersion", &api, "AdmissionReview", e)) != 0 ||
	    (r = opt_str(rv->root, "kind", &kind, "AdmissionReview", e)) != 0)
		return r;
	if (strcmp(kind, "AdmissionReview") != 0)
		return err_set(e, ERR_INVALID, "kind must be AdmissionReview");
	if (strcmp(api, "admission.k8s.io/v1") != 0)
		return err_set(e, ERR_UNSUPPORTED,
		    "AdmissionReview apiVersion must be admission.k8s.io/v1; set "
		    "admissionReviewVersions: [\"v1\"] in the ValidatingWebhookConfiguration");
	req = json_object_get(rv->root, "request");
	if (!json_is_object(req))
		return err_set(e, ERR_INVALID, "AdmissionReview.request must be an object");
	if ((r = opt_str(req, "uid", &rv->uid, "request", e)) != 0)
		return r;
	if (*rv->uid == '\0')
		return err_set(e, ERR_INVALID, "request.uid is missing");
	if (strlen(rv->uid) > ADM_MAX_UID)
		return err_set(e, ERR_TOO_LARGE, "request.uid is longer than %d characters", ADM_MAX_UID);
	return 0;
}

/* Reads the rest of the request. Failure here is answered with a deny (code 400) that echoes the uid. */
static int parse_request(struct review *rv, struct err *e)
{
	json_t *req = json_object_get(rv->root, "request"), *k, *ui, *dry;
	size_t i;
	json_t *g;
	int r;

	k = json_object_get(req, "kind");
	if (!json_is_object(k))
		return err_set(e, ERR_INVALID, "request.kind must be an object");
	if ((r = opt_str(k, "group", &rv->group, "request.kind", e)) != 0 ||
	    (r = opt_str(k, "version", &rv->version, "request.kind", e)) != 0 ||
	    (r = opt_str(k, "kind", &rv->kind, "request.kind", e)) != 0 ||
	    (r = opt_str(req, "operation", &rv->op, "request", e)) != 0 ||
	    (r = opt_str(req, "namespace", &rv->ns, "request", e)) != 0 ||
	    (r = opt_str(req, "name", &rv->name, "request", e)) != 0 ||
	    (r = opt_str(req, "subResource", &rv->subres, "request", e)) != 0)
		return r;
	if (*rv->kind == '\0')
		return err_set(e, ERR_INVALID, "request.kind.kind is missing");
	if (strcmp(rv->op, "CREATE") != 0 && strcmp(rv->op, "UPDATE") != 0 && strcmp(rv->op, "DELETE") != 0 &&
	    strcmp(rv->op, "CONNECT") != 0)
		return err_set(e, ERR_INVALID, "request.operation must be CREATE, UPDATE, DELETE or CONNECT");
	ui = json_object_get(req, "userInfo");
	rv->user = "";
	if (ui != NULL && !json_is_null(ui)) {
		if (!json_is_object(ui))
			return err_set(e, ERR_INVALID, "request.userInfo must be an object");
		if ((r = opt_str(ui, "username", &rv->user, "request.userInfo", e)) != 0)
			return r;
		rv->groups = json_object_get(ui, "groups");
		if (json_is_null(rv->groups))
			rv->groups = NULL;
		if (rv->groups != NULL && !json_is_array(rv->groups))
			return err_set(e, ERR_INVALID, "request.userInfo.groups must be an array");
		if (json_array_size(rv->groups) > ADM_MAX_GROUPS)
			return err_set(e, ERR_TOO_LARGE, "request.userInfo.groups has more than %d entries",
			    ADM_MAX_GROUPS);
		json_array_foreach(rv->groups, i, g) if (!json_is_string(g)) return err_set(e, ERR_INVALID,
		    "request.userInfo.groups[%zu] must be a string", i);
	}
	dry = json_object_get(req, "dryRun");
	if (dry != NULL && !json_is_null(dry) && !json_is_boolean(dry))
		return err_set(e, ERR_INVALID, "request.dryRun must be true or false");
	rv->dry_run = json_is_true(dry);
	rv->object = json_object_get(req, "object");
	rv->old = json_object_get(req, "oldObject");
	if (json_is_null(rv->old))
		rv->old = NULL;
	return 0;
}

/* ---- the answer ---- */

/* A short escaped copy of an untrusted string, for log fields and messages. */
static json_t *jshow(const char *s)
{
	char buf[SHOW_MAX * 4 + 8];

	str_escape(buf, sizeof(buf), s != NULL ? s : "", s != NULL ? strlen(s) : 0, SHOW_MAX);
	return json_string(buf);
}

/* Sets a member, stealing v; returns ERR_NOMEM when v is NULL or the set fails. */
static int jset(json_t *obj, const char *key, json_t *v)
{
	if (v == NULL)
		return ERR_NOMEM;
	return json_object_set_new(obj, key, v) == 0 ? 0 : ERR_NOMEM;
}

/* HTTP 400 with a one-line text body; no AdmissionReview can be built. */
static int answer_http400(struct adm_result *out, const struct err *why, struct err *e)
{
	char esc[600];
	struct strbuf sb;

	str_escape(esc, sizeof(esc), why->msg, strlen(why->msg), 500);
	sb_init(&sb, 1024);
	if (sb_printf(&sb, "hardline: bad AdmissionReview: %s\n", esc) != 0 ||
	    (out->response_body = sb_steal(&sb, &out->response_len)) == NULL) {
		sb_cleanup(&sb);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	out->http_status = 400;
	out->content_type = "text/plain; charset=utf-8";
	out->allowed = false;
	out->decision = "error";
	if (jset(out->log_fields, "decision", json_string("error")) != 0 ||
	    jset(out->log_fields, "error", json_string(esc)) != 0)
		return err_set(e, ERR_NOMEM, "out of memory");
	return 0;
}

/* Serializes {"apiVersion","kind","response": resp} into out (steals resp). */
static int answer_review(struct adm_result *out, json_t *resp, struct err *e)
{
	json_t *doc = json_pack("{s:s, s:s, s:o}", "apiVersion", "admission.k8s.io/v1", "kind", "AdmissionReview",
	    "response", resp);

	if (doc == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	out->response_body = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (out->response_body == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	out->response_len = strlen(out->response_body);
	out->http_status = 200;
	out->content_type = "application/json";
	return 0;
}

/* A response object with the uid and allowed set. */
static json_t *resp_new(const struct review *rv, bool allowed)
{
	return json_pack("{s:s, s:b}", "uid", rv->uid, "allowed", allowed);
}

static json_t *warnings_for(const struct review *rv, const struct adm_violations *vs);

/* allowed:true, no evaluation or no violation. note explains a pass without evaluation (for the log); notices (may be
 * NULL) become the response's warnings. */
static int answer_allow(const struct review *rv, struct adm_result *out, const char *note,
    const struct adm_violations *notices, struct err *e)
{
	json_t *resp = resp_new(rv, true);

	if (resp == NULL ||
	    (notices != NULL && notices->n > 0 && jset(resp, "warnings", warnings_for(rv, notices)) != 0)) {
		json_decref(resp);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	out->allowed = true;
	out->decision = "allow";
	if (jset(out->log_fields, "decision", json_string("allow")) != 0 ||
	    jset(out->log_fields, "allowed", json_true()) != 0 ||
	    (note != NULL && jset(out->log_fields, "note", json_string(note)) != 0)) {
		json_decref(resp);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	return answer_review(out, resp, e);
}

/* allowed:false with status {code, reason, message}. */
static int answer_deny(const struct review *rv, struct adm_result *out, int code, const char *reason,
    const char *decision, const char *message, struct err *e)
{
	json_t *resp = resp_new(rv, false);

	if (resp == NULL ||
	    jset(resp, "status", json_pack("{s:i, s:s, s:s}", "code", code, "reason", reason, "message", message)) !=
		0) {
		json_decref(resp);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	out->allowed = false;
	out->decision = decision;
	if (jset(out->log_fields, "decision", json_string(decision)) != 0 ||
	    jset(out->log_fields, "allowed", json_false()) != 0 ||
	    jset(out->log_fields, "code", json_integer(code)) != 0) {
		json_decref(resp);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	return answer_review(out, resp, e);
}

/* A review whose uid is known but whose content is unusable: deny with code 400 in every mode (the API server
 * never sends such a review; whoever did gets a clear answer). */
static int answer_malformed(const struct review *rv, struct adm_result *out, const struct err *why, struct err *e)
{
	char msg[ERR_MSG_MAX + 64], esc[ERR_MSG_MAX];

	str_escape(esc, sizeof(esc), why->msg, strlen(why->msg), 900);
	str_fmt(msg, sizeof(msg), "hardline: malformed AdmissionReview: %s", esc);
	if (jset(out->log_fields, "error", json_string(esc)) != 0)
		return err_set(e, ERR_NOMEM, "out of memory");
	return answer_deny(rv, out, 400, "BadRequest", "error", msg, e);
}

/* The object's name escaped into dst[size] (at most SHOW_MAX shown): request.name, else metadata.name, else (a
 * CREATE with generateName) the prefix with a star, "web-5d8f6-*"; "" when there is none. */
static void object_name(const struct review *rv, char *dst, size_t size)
{
	char name[SHOW_MAX * 4 + 8];
	const char *n = rv->name;
	json_t *meta = json_object_get(rv->object, "metadata");
	bool gen = false;

	if (*n == '\0')
		n = json_string_value(json_object_get(meta, "name"));
	if (n == NULL || *n == '\0') {
		n = json_string_value(json_object_get(meta, "generateName"));
		gen = n != NULL;
	}
	if (n == NULL)
		n = "";
	str_escape(name, sizeof(name), n, strlen(n), SHOW_MAX);
	str_fmt(dst, size, "%s%s", name, gen ? "*" : "");
}

/* "Pod default/web" for messages (the name as object_name gives it). */
static void object_display(const struct review *rv, char *dst, size_t size)
{
	char ns[80], name[SHOW_MAX * 4 + 16];

	str_escape(ns, sizeof(ns), rv->ns, strlen(rv->ns), 63);
	object_name(rv, name, sizeof(name));
	str_fmt(dst, size, "%s %s%s%s", rv->kind, ns, *ns ? "/" : "", name);
}

/* The status.message / audit annotation: every violation with its fix, capped at ADM_MESSAGE_MAX. */
static int violations_message(const struct review *rv, const struct adm_violations *vs, char **out)
{
	struct strbuf sb;
	char what[400], line[600];
	size_t total = vs->n + vs->dropped, shown = 0;

	*out = NULL;
	object_display(rv, what, sizeof(what));
	sb_init(&sb, ADM_MESSAGE_MAX);
	if (sb_printf(&sb, "%s: %zu hardline policy violation%s:", what, total, total == 1 ? "" : "s") != 0)
		goto fail;
	for (size_t i = 0; i < vs->n; i++) {
		adm_violation_fmt(&vs->v[i], true, line, sizeof(line));
		/* Keep room for the closing "and N more" line. */
		if (sb.len + strlen(line) + 16 > ADM_MESSAGE_MAX - 200)
			break;
		if (sb_printf(&sb, " [%zu] %s", i + 1, line) != 0)
			goto fail;
		shown++;
	}
	if (shown < total &&
	    sb_printf(&sb, " ... and %zu more (see the hardline-webhook log, uid %.*s)", total - shown, ADM_MAX_UID,
		rv->uid) != 0)
		goto fail;
	*out = sb_steal(&sb, NULL);
	return *out != NULL ? 0 : ERR_NOMEM;
fail:
	sb_cleanup(&sb);
	return ERR_NOMEM;
}

/* One warning: "hardline: <violation>" with its fix when that fits in ADM_WARNING_MAX_CHARS, without it
 * otherwise, cut with "..." as a last resort. */
static json_t *warning_for(const struct adm_violation *v)
{
	char line[ADM_WARNING_MAX_CHARS + 1], body[600];

	adm_violation_fmt(v, true, body, sizeof(body));
	if (strlen(body) + 10 > ADM_WARNING_MAX_CHARS)
		adm_violation_fmt(v, false, body, sizeof(body));
	if (str_fmt(line, sizeof(line), "hardline: %s", body) != 0)
		mark_cut(line, sizeof(line));
	return json_string(line);
}

/* The warnings array: at most ADM_MAX_WARNINGS entries, the last saying how many were left out. */
static json_t *warnings_for(const struct review *rv, const struct adm_violations *vs)
{
	json_t *arr = json_array();
	size_t total = vs->n + vs->dropped, i;
	char line[ADM_WARNING_MAX_CHARS + 1];

	if (arr == NULL)
		return NULL;
	for (i = 0; i < vs->n && (total <= ADM_MAX_WARNINGS ? true : i + 1 < ADM_MAX_WARNINGS); i++)
		if (json_array_append_new(arr, warning_for(&vs->v[i])) != 0)
			goto fail;
	if (i < total) {
		if (str_fmt(line, sizeof(line), "hardline: %zu more violations; see the webhook log (uid %.40s)",
			total - i, rv->uid) != 0)
			mark_cut(line, sizeof(line));
		if (json_array_append_new(arr, json_string(line)) != 0)
			goto fail;
	}
	return arr;
fail:
	json_decref(arr);
	return NULL;
}

/* Adds the notices (admitted, but the user should know: e.g. an attestation in its maxAge grace period) to the
 * response's warnings, after what is there, within ADM_MAX_WARNINGS. Returns 0 or ERR_NOMEM. */
static int append_notices(const struct review *rv, json_t *resp, const struct adm_violations *notices)
{
	json_t *w, *more;
	size_t i;

	if (notices == NULL || notices->n == 0)
		return 0;
	if ((w = json_object_get(resp, "warnings")) == NULL)
		return jset(resp, "warnings", warnings_for(rv, notices));
	if ((more = warnings_for(rv, notices)) == NULL)
		return ERR_NOMEM;
	for (i = 0; i < json_array_size(more) && json_array_size(w) < ADM_MAX_WARNINGS; i++)
		if (json_array_append(w, json_array_get(more, i)) != 0) {
			json_decref(more);
			return ERR_NOMEM;
		}
	json_decref(more);
	return 0;
}

/* The decision for a review with violations (vs->n + vs->dropped > 0), by mode. */
static int answer_violations(const struct review *rv, enum adm_mode mode, const struct adm_violations *vs,
    const struct adm_violations *notices, struct adm_result *out, struct err *e)
{
	char *msg = NULL;
	json_t *resp = NULL, *reasons;
	char line[600];
	int r = ERR_NOMEM;

	if ((reasons = json_array()) == NULL || jset(out->log_fields, "reasons", reasons) != 0)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < vs->n; i++)
		if (json_array_append_new(reasons,
			json_string(adm_violation_fmt(&vs->v[i], false, line, sizeof(line)))) != 0)
			return err_set(e, ERR_NOMEM, "out of memory");
	if (vs->dropped > 0 && jset(out->log_fields, "reasonsDropped", json_integer((json_int_t)vs->dropped)) != 0)
		return err_set(e, ERR_NOMEM, "out of memory");
	if (violations_message(rv, vs, &msg) != 0)
		return err_set(e, ERR_NOMEM, "out of memory");
	switch (mode) {
	case ADM_ENFORCE:
		r = answer_deny(rv, out, 403, "Forbidden", "deny", msg, e);
		goto out;
	case ADM_WARN:
		if ((resp = resp_new(rv, true)) == NULL || jset(resp, "warnings", warnings_for(rv, vs)) != 0 ||
		    append_notices(rv, resp, notices) != 0)
			goto nomem;
		out->decision = "warn";
		break;
	case ADM_AUDIT:
		if ((resp = resp_new(rv, true)) == NULL ||
		    jset(resp, "auditAnnotations", json_pack("{s:s}", "violations", msg)) != 0 ||
		    append_notices(rv, resp, notices) != 0)
			goto nomem;
		out->decision = "audit";
		break;
	}
	out->allowed = true;
	if (jset(out->log_fields, "decision", json_string(out->decision)) != 0 ||
	    jset(out->log_fields, "allowed", json_true()) != 0)
		goto nomem;
	r = answer_review(out, resp, e);
	resp = NULL; /* transferred */
	goto out;
nomem:
	r = err_set(e, ERR_NOMEM, "out of memory");
out:
	json_decref(resp);
	free(msg);
	return r;
}

/* ---- evaluation ---- */

/* True when an ephemeral container of the same name is in the old pod (it was admitted before). */
static bool ephemeral_existed(const json_t *old_spec, const char *name)
{
	json_t *arr = json_object_get(old_spec, "ephemeralContainers"), *c;
	size_t i;

	json_array_foreach(arr, i, c)
	{
		const char *n = json_string_value(json_object_get(c, "name"));

		if (n != NULL && strcmp(n, name) == 0)
			return true;
	}
	return false;
}

/* Why the request is let through without evaluation, or NULL when it must be evaluated. */
static const char *exemption(const struct wpolicy *p, const struct review *rv)
{
	json_t *g;
	size_t i;

	if (wpolicy_namespace_exempt(p, rv->ns))
		return "exempt namespace";
	if (wpolicy_user_exempt(p, rv->user))
		return "exempt user";
	json_array_foreach(rv->groups, i, g) if (wpolicy_group_exempt(p, json_string_value(g))) return "exempt group";
	return NULL;
}

/* Evaluates the pod spec of a parsed request and answers. Type errors in the object become a 400 deny. */
static int evaluate(const struct wpolicy *p, enum adm_mode mode, const struct adm_image_checker *checker,
    struct review *rv, uint64_t deadline_ms, struct adm_result *out, struct err *e)
{
	struct podspec ps, old_ps;
	struct podspec_container *cs = NULL;
	struct adm_violations vs, notices;
	struct err why;
	const char *note;
	bool ephemeral_only = false;
	size_t n = 0, kept = 0, exempt_imgs = 0;
	int r;

	adm_violations_init(&vs);
	adm_violations_init(&notices);
	err_clear(&why);
	if (strcmp(rv->op, "DELETE") == 0 || strcmp(rv->op, "CONNECT") == 0) {
		r = answer_allow(rv, out, "operation not evaluated", NULL, e);
		goto out;
	}
	/* Exemptions come before any look at the object: an exempt namespace is never blocked, whatever it sends. */
	if ((note = exemption(p, rv)) != NULL) {
		r = answer_allow(rv, out, note, NULL, e);
		goto out;
	}
	if (*rv->subres != '\0') {
		if ((strcmp(rv->kind, "Pod") != 0 && strcmp(rv->kind, "EphemeralContainers") != 0) ||
		    *rv->group != '\0' || strcmp(rv->subres, "ephemeralcontainers") != 0) {
			r = answer_allow(rv, out, "subresource not evaluated", NULL, e);
			goto out;
		}
		ephemeral_only = true;
	}
	if (!json_is_object(rv->object)) {
		err_set(&why, ERR_INVALID, "request.object must be an object on %s", rv->op);
		goto malformed;
	}
	r = podspec_find(rv->group, rv->kind, rv->object, &ps, &why);
	if (r == ERR_NOT_FOUND) {
		r = answer_allow(rv, out, "kind not evaluated", NULL, e);
		goto out;
	}
	if (r != 0)
		goto malformed;
	memset(&old_ps, 0, sizeof(old_ps));
	if (strcmp(rv->op, "UPDATE") == 0 && rv->old != NULL &&
	    podspec_find(rv->group, rv->kind, rv->old, &old_ps, &why) == 0 && !ephemeral_only &&
	    json_equal(old_ps.spec, ps.spec)) {
		/* Metadata or scale changes of an object admitted before (maybe before this policy): re-judging them
		 * would block controllers (finalizers, status) without making anything safer. */
		r = answer_allow(rv, out, "pod spec unchanged", NULL, e);
		goto out;
	}
	err_clear(&why);
	if ((r = podspec_containers(ps.spec, ADM_MAX_CONTAINERS, &cs, &n, &why)) != 0) {
		if (r == ERR_NOMEM)
			goto nomem;
		goto malformed;
	}
	/* Keep the containers to evaluate: on pods/ephemeralcontainers only the ephemeral containers being added;
	 * never those whose image is exempt. */
	for (size_t i = 0; i < n; i++) {
		if (ephemeral_only &&
		    (strcmp(cs[i].list, "ephemeralContainers") != 0 || ephemeral_existed(old_ps.spec, cs[i].name)))
			continue;
		if (wpolicy_image_exempt(p, cs[i].image)) {
			exempt_imgs++;
			continue;
		}
		cs[kept++] = cs[i];
	}
	if ((r = rules_check_containers(p, ps.spec, cs, kept, &vs, &why)) != 0) {
		if (r == ERR_NOMEM)
			goto nomem;
		goto malformed;
	}
	/* Pod-level fields: not on the ephemeral subresource (admitted with the pod), nor when every container's
	 * image is exempt (the exemption is for that pod as a whole). */
	if (!ephemeral_only && (kept > 0 || exempt_imgs == 0) &&
	    (r = rules_check_pod(p, ps.spec, ps.meta, ps.is_template ? "pod template" : "pod", ps.path, &vs, &why)) !=
		0) {
		if (r == ERR_NOMEM)
			goto nomem;
		goto malformed;
	}
	if (checker != NULL && checker->check != NULL) {
		for (size_t i = 0; i < kept; i++) {
			char esc[220];

			r = checker->check(checker->arg, cs[i].who, cs[i].image, deadline_ms, &vs, &notices, &why);
			if (r == 0)
				continue;
			if (r == ERR_NOMEM)
				goto nomem;
			/* The check could not run: the answer is "could not decide", never a silent allow. The other
			 * images are not tried: the usual cause (a slow registry, a passed deadline) hits them too. */
			str_escape(esc, sizeof(esc), why.msg, strlen(why.msg), 200);
			if (adm_violations_add(&vs, cs[i].who, "image", "retry; if it persists, see the webhook log",
				"could not be checked: %s", esc) != 0 ||
			    jset(out->log_fields, "error", json_string(esc)) != 0)
				goto nomem;
			if (mode == ADM_ENFORCE && vs.n == 1 && vs.dropped == 0) {
				/* Nothing but the failure: an internal error, not a policy denial. */
				char msg[600], line[400];

				str_fmt(msg, sizeof(msg), "hardline: %s",
				    adm_violation_fmt(&vs.v[0], true, line, sizeof(line)));
				r = answer_deny(rv, out, 500, "InternalError", "error", msg, e);
				goto out;
			}
			break;
		}
	}
	if (exempt_imgs > 0 && jset(out->log_fields, "exemptImages", json_integer((json_int_t)exempt_imgs)) != 0)
		goto nomem;
	if (notices.n > 0) {
		json_t *arr = json_array();
		char line[600];

		if (arr == NULL || jset(out->log_fields, "notices", arr) != 0)
			goto nomem;
		for (size_t i = 0; i < notices.n; i++)
			if (json_array_append_new(arr,
				json_string(adm_violation_fmt(&notices.v[i], true, line, sizeof(line)))) != 0)
				goto nomem;
	}
	if (vs.n + vs.dropped == 0)
		r = answer_allow(rv, out, NULL, &notices, e);
	else
		r = answer_violations(rv, mode, &vs, &notices, out, e);
	goto out;
malformed:
	r = answer_malformed(rv, out, &why, e);
	goto out;
nomem:
	r = err_set(e, ERR_NOMEM, "out of memory");
out:
	free(cs);
	adm_violations_cleanup(&vs);
	adm_violations_cleanup(&notices);
	return r;
}

/* The log fields known once the request is parsed; "name" is the one the deny message shows (object_name). */
static int log_request(const struct review *rv, json_t *lf)
{
	char name[SHOW_MAX * 4 + 16];

	object_name(rv, name, sizeof(name));
	if (jset(lf, "uid", jshow(rv->uid)) != 0 || jset(lf, "kind", jshow(rv->kind)) != 0 ||
	    jset(lf, "group", jshow(rv->group)) != 0 || jset(lf, "namespace", jshow(rv->ns)) != 0 ||
	    jset(lf, "name", json_string(name)) != 0 || jset(lf, "user", jshow(rv->user)) != 0 ||
	    jset(lf, "operation", jshow(rv->op)) != 0 ||
	    (*rv->subres != '\0' && jset(lf, "subResource", jshow(rv->subres)) != 0) ||
	    jset(lf, "dryRun", json_boolean(rv->dry_run)) != 0)
		return ERR_NOMEM;
	return 0;
}

int adm_review(const struct wpolicy *p, enum adm_mode mode, const struct adm_image_checker *checker, const char *body,
    size_t len, uint64_t deadline_ms, struct adm_result *out, struct err *e)
{
	struct review rv;
	struct err why;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&rv, 0, sizeof(rv));
	out->metric_kind = "other";
	err_clear(&why);
	if ((out->log_fields = json_object()) == NULL ||
	    jset(out->log_fields, "mode", json_string(adm_mode_name(mode))) != 0 ||
	    (p->digest[0] != '\0' && jset(out->log_fields, "policy", json_string(p->digest)) != 0)) {
		r = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	if (body == NULL)
		body = "";
	if (check_depth(body, len, ADM_MAX_DEPTH, &why) != 0 ||
	    json_parse_buf(body, len, ADM_MAX_BODY, "request body", &rv.root, &why) != 0 ||
	    parse_envelope(&rv, &why) != 0) {
		r = answer_http400(out, &why, e);
		goto out;
	}
	if (jset(out->log_fields, "uid", jshow(rv.uid)) != 0) {
		r = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	if (parse_request(&rv, &why) != 0) {
		r = answer_malformed(&rv, out, &why, e);
		goto out;
	}
	out->metric_kind = podspec_kind_label(rv.kind);
	if (log_request(&rv, out->log_fields) != 0) {
		r = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	r = evaluate(p, mode, checker, &rv, deadline_ms, out, e);
out:
	json_decref(rv.root);
	if (r != 0) {
		adm_result_cleanup(out);
		out->decision = "error";
		out->metric_kind = "other";
	}
	return r;
}
