/* Tests of webhook/admission: a data-driven loop over tests/fixtures/admission/<case>/{review.json,expect.json}
 * (one TAP line per case), then the response invariants the API server checks, the warning limits, every prefix
 * of a review (no crash, always an answer) and the image-checker hook. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/casedirs.h"
#include "tests/unit/failalloc.h"

#include "lib/json.h"
#include "webhook/admission.h"
#include "webhook/wpolicy.h"

static const char *fixture_dir(void)
{
	const char *d = getenv("HL_ADMISSION_FIXTURES");

	return d != NULL ? d : "tests/fixtures/admission";
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Every string of the array expect[key] must (want true) or must not occur in text. */
static void check_substrings(const json_t *expect, const char *key, const char *text, bool want, const char *name)
{
	json_t *arr = json_object_get(expect, key), *it;
	size_t i;

	json_array_foreach(arr, i, it)
	{
		bool found = text != NULL && strstr(text, json_string_value(it)) != NULL;

		if (found != want)
			fail_msg("%s: %s \"%s\" %s in:\n%s", name, key, json_string_value(it),
			    want ? "not found" : "found", text != NULL ? text : "(none)");
	}
}

/* The invariants of any 200 answer: v1 AdmissionReview, response.uid echoed, allowed present, warnings short. */
static json_t *check_review_shape(const struct adm_result *res, const char *uid)
{
	json_t *doc, *resp, *w;
	struct err e;
	size_t i;

	assert_int_equal(res->http_status, 200);
	assert_string_equal(res->content_type, "application/json");
	assert_int_equal(json_parse_buf(res->response_body, res->response_len, 1 << 24, "response", &doc, &e), 0);
	assert_string_equal(json_string_value(json_object_get(doc, "apiVersion")), "admission.k8s.io/v1");
	assert_string_equal(json_string_value(json_object_get(doc, "kind")), "AdmissionReview");
	resp = json_object_get(doc, "response");
	assert_non_null(resp);
	if (uid != NULL)
		assert_string_equal(json_string_value(json_object_get(resp, "uid")), uid);
	assert_true(json_is_boolean(json_object_get(resp, "allowed")));
	assert_int_equal(json_is_true(json_object_get(resp, "allowed")), res->allowed);
	w = json_object_get(resp, "warnings");
	assert_true(json_array_size(w) <= ADM_MAX_WARNINGS);
	for (i = 0; i < json_array_size(w); i++)
		assert_true(json_string_length(json_array_get(w, i)) <= ADM_WARNING_MAX_CHARS);
	if (json_object_get(resp, "status") != NULL)
		assert_true(
		    json_string_length(json_object_get(json_object_get(resp, "status"), "message")) <= ADM_MESSAGE_MAX);
	return doc;
}

static void run_case(void **state)
{
	const char *name = *state;
	char path[1024];
	char *body, *pol_text = NULL;
	size_t len;
	json_t *expect, *pol, *doc = NULL, *resp, *status, *w, *it;
	struct wpolicy *p = NULL;
	struct adm_result res;
	enum adm_mode mode = ADM_ENFORCE;
	struct err e;
	const char *s;
	json_int_t want_http = 200;
	size_t i;

	snprintf(path, sizeof(path), "%s/%s/expect.json", fixture_dir(), name);
	assert_int_equal(json_load_file_capped(path, 1 << 20, &expect, &e), 0);
	if ((s = json_string_value(json_object_get(expect, "mode"))) != NULL)
		assert_int_equal(adm_mode_parse(s, &mode, &e), 0);
	pol = json_object_get(expect, "policy");
	if (pol != NULL) {
		pol_text = json_dumps(pol, 0);
		if (wpolicy_parse(pol_text, strlen(pol_text), "policy (expect.json)", &p, &e) != 0)
			fail_msg("%s: policy: %s", name, e.msg);
	} else {
		assert_int_equal(wpolicy_load(NULL, &p, &e), 0);
	}
	if ((s = json_string_value(json_object_get(expect, "ownNamespace"))) != NULL)
		assert_int_equal(wpolicy_set_own_namespace(p, s, &e), 0);
	snprintf(path, sizeof(path), "%s/%s/review.json", fixture_dir(), name);
	body = read_all(path, &len);
	assert_int_equal(adm_review(p, mode, NULL, body, len, 0, &res, &e), 0);
	assert_non_null(res.log_fields);
	assert_non_null(res.response_body);
	assert_non_null(res.decision);
	assert_non_null(res.metric_kind);
	if (json_object_get(expect, "http") != NULL)
		want_http = json_integer_value(json_object_get(expect, "http"));
	if (res.http_status != want_http)
		fail_msg("%s: http %d, expected %lld; body: %s", name, res.http_status, (long long)want_http,
		    res.response_body);
	if (want_http != 200) {
		assert_false(res.allowed);
		assert_string_equal(res.decision, "error");
		check_substrings(expect, "body", res.response_body, true, name);
		goto out;
	}
	{
		const char *uid = NULL;
		json_t *rv = NULL;

		if (json_parse_buf(body, len, 1 << 24, "review", &rv, &e) == 0)
			uid = json_string_value(json_object_get(json_object_get(rv, "request"), "uid"));
		doc = check_review_shape(&res, uid);
		json_decref(rv);
	}
	resp = json_object_get(doc, "response");
	status = json_object_get(resp, "status");
	if (json_object_get(expect, "allowed") != NULL &&
	    json_is_true(json_object_get(expect, "allowed")) != res.allowed)
		fail_msg("%s: allowed=%d, expected the opposite; response: %s", name, res.allowed, res.response_body);
	if (json_object_get(expect, "code") != NULL) {
		if (json_integer_value(json_object_get(status, "code")) !=
		    json_integer_value(json_object_get(expect, "code")))
			fail_msg("%s: status.code in %s", name, res.response_body);
	} else if (!res.allowed) {
		fail_msg("%s: denied unexpectedly: %s", name, res.response_body);
	}
	if ((s = json_string_value(json_object_get(expect, "decision"))) != NULL && strcmp(s, res.decision) != 0)
		fail_msg("%s: decision %s, expected %s", name, res.decision, s);
	if ((s = json_string_value(json_object_get(expect, "note"))) != NULL) {
		const char *note = json_string_value(json_object_get(res.log_fields, "note"));

		if (note == NULL || strcmp(note, s) != 0)
			fail_msg("%s: note \"%s\", expected \"%s\"", name, note ? note : "(none)", s);
	}
	check_substrings(expect, "message", json_string_value(json_object_get(status, "message")), true, name);
	check_substrings(expect, "notMessage", json_string_value(json_object_get(status, "message")), false, name);
	check_substrings(expect, "annotation",
	    json_string_value(json_object_get(json_object_get(resp, "auditAnnotations"), "violations")), true, name);
	w = json_object_get(resp, "warnings");
	if (json_object_get(expect, "maxWarnings") != NULL &&
	    json_array_size(w) > (size_t)json_integer_value(json_object_get(expect, "maxWarnings")))
		fail_msg("%s: %zu warnings", name, json_array_size(w));
	json_array_foreach(json_object_get(expect, "warnings"), i, it)
	{
		size_t k;
		json_t *x;
		bool found = false;

		json_array_foreach(w, k, x) found =
		    found || strstr(json_string_value(x), json_string_value(it)) != NULL;
		if (!found)
			fail_msg("%s: warning \"%s\" not in %s", name, json_string_value(it), res.response_body);
	}
	if (res.allowed && mode == ADM_ENFORCE)
		assert_null(status);
out:
	json_decref(doc);
	adm_result_cleanup(&res);
	free(body);
	free(pol_text);
	json_decref(expect);
	wpolicy_unref(p);
}

/* Every prefix of a real review gets an answer (never a crash): HTTP 400 or a well-formed review. */
static void test_prefixes(void **state)
{
	char path[1024], *body;
	size_t len;
	struct wpolicy *p = NULL;
	struct err e;

	snprintf(path, sizeof(path), "%s/cronjob-template/review.json", fixture_dir());
	body = read_all(path, &len);
	assert_int_equal(wpolicy_load(NULL, &p, &e), 0);
	for (size_t n = 0; n <= len; n++) {
		struct adm_result res;

		assert_int_equal(adm_review(p, ADM_WARN, NULL, body, n, 0, &res, &e), 0);
		assert_true(res.http_status == 200 || res.http_status == 400);
		adm_result_cleanup(&res);
	}
	free(body);
	wpolicy_unref(p);
}

static void test_violation_fmt(void **state)
{
	struct adm_violations vs;
	char out[64], big[600];

	adm_violations_init(&vs);
	assert_int_equal(adm_violations_add(&vs, "container web", "securityContext.privileged", "remove it",
			     "must be %s", "false"),
	    0);
	assert_string_equal(adm_violation_fmt(&vs.v[0], true, big, sizeof(big)),
	    "container web: securityContext.privileged must be false; remove it");
	assert_string_equal(adm_violation_fmt(&vs.v[0], false, big, sizeof(big)),
	    "container web: securityContext.privileged must be false");
	adm_violation_fmt(&vs.v[0], true, out, 20);
	assert_int_equal(strlen(out), 19);
	assert_string_equal(out + 16, "...");
	/* who is cut, not escaped again (podspec escaped it) */
	memset(big, 'w', 300);
	big[300] = '\0';
	assert_int_equal(adm_violations_add(&vs, big, "f", NULL, "p"), 0);
	assert_int_equal(strlen(vs.v[1].who), 100);
	assert_string_equal(vs.v[1].who + 97, "...");
	for (int i = 0; i < ADM_MAX_VIOLATIONS + 5; i++)
		assert_int_equal(adm_violations_add(&vs, "c", "f", NULL, "p"), 0);
	assert_int_equal(vs.n, ADM_MAX_VIOLATIONS);
	assert_int_equal(vs.dropped, 7);
	adm_violations_cleanup(&vs);
	adm_violations_cleanup(&vs);
}

static void test_modes(void **state)
{
	enum adm_mode m;
	struct err e;

	assert_int_equal(adm_mode_parse("warn", &m, &e), 0);
	assert_int_equal(m, ADM_WARN);
	assert_string_equal(adm_mode_name(m), "warn");
	assert_int_equal(adm_mode_parse("Enforce", &m, &e), ERR_INVALID);
	assert_non_null(strstr(e.msg, "enforce, warn or audit"));
}

/* The image checker hook: called once per evaluated container, after the rules; its violations deny; its failure
 * is a 500 deny in enforce mode and a warning in warn mode. */
struct hook_state {
	int calls;
	int fail;
	int notice; /* add a notice (an attestation in its grace period) for every pinned image */
};

static int hook(void *arg, const char *container, const char *image, uint64_t deadline_ms, struct adm_violations *v,
    struct adm_violations *notices, struct err *e)
{
	struct hook_state *st = arg;

	st->calls++;
	assert_int_equal(deadline_ms, 4242);
	if (st->fail)
		return err_set(e, ERR_TIMEOUT, "registry did not answer in time");
	if (strstr(image, "@sha256:") == NULL)
		return adm_violations_add(v, container, "image", "pin it by digest", "is not pinned by digest");
	if (st->notice)
		return adm_violations_add(notices, container, "image", "attest it again",
		    "attestation in grace period");
	return 0;
}

static void test_image_hook(void **state)
{
	static const char review[] =
	    "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
	    "\"request\":{\"uid\":\"u1\",\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},"
	    "\"operation\":\"CREATE\",\"namespace\":\"default\",\"object\":{\"spec\":{\"containers\":["
	    "{\"name\":\"a\",\"image\":\"nginx:1\"},{\"name\":\"b\",\"image\":\"nginx@sha256:00\"}]}}}}";
	struct hook_state st = { 0, 0, 0 };
	struct adm_image_checker ck = { hook, &st };
	struct wpolicy *p = NULL;
	struct adm_result res;
	struct err e;
	const char *pol =
	    "{\"rules\":{\"readOnlyRootFilesystem\":false,\"runAsNonRoot\":false,"
	    "\"allowPrivilegeEscalation\":true,\"dropAllCapabilities\":false,\"seccomp\":false},\"allowedUIDs\":[]}";

	assert_int_equal(wpolicy_parse(pol, strlen(pol), "p", &p, &e), 0);
	assert_int_equal(adm_review(p, ADM_ENFORCE, &ck, review, strlen(review), 4242, &res, &e), 0);
	assert_int_equal(st.calls, 2);
	assert_false(res.allowed);
	assert_non_null(strstr(res.response_body, "container a: image is not pinned by digest; pin it by digest"));
	assert_null(strstr(res.response_body, "container b"));
	adm_result_cleanup(&res);

	st.fail = 1;
	assert_int_equal(adm_review(p, ADM_ENFORCE, &ck, review, strlen(review), 4242, &res, &e), 0);
	assert_false(res.allowed);
	assert_string_equal(res.decision, "error");
	assert_non_null(strstr(res.response_body, "\"code\":500"));
	assert_non_null(strstr(res.response_body, "registry did not answer in time"));
	adm_result_cleanup(&res);

	/* with another violation present: 403 listing both; the hook is not called again after its failure */
	{
		const char *pol2 = "{\"rules\":{\"runAsNonRoot\":false,\"allowPrivilegeEscalation\":true,"
				   "\"dropAllCapabilities\":false,\"seccomp\":false},\"allowedUIDs\":[]}";
		struct wpolicy *p2 = NULL;

		assert_int_equal(wpolicy_parse(pol2, strlen(pol2), "p2", &p2, &e), 0);
		st.calls = 0;
		assert_int_equal(adm_review(p2, ADM_ENFORCE, &ck, review, strlen(review), 4242, &res, &e), 0);
		assert_int_equal(st.calls, 1);
		assert_false(res.allowed);
		assert_non_null(strstr(res.response_body, "\"code\":403"));
		assert_non_null(strstr(res.response_body, "readOnlyRootFilesystem must be true"));
		assert_non_null(strstr(res.response_body, "container a: image could not be checked: registry did not"));
		adm_result_cleanup(&res);
		wpolicy_unref(p2);
	}

	assert_int_equal(adm_review(p, ADM_WARN, &ck, review, strlen(review), 4242, &res, &e), 0);
	assert_true(res.allowed);
	assert_non_null(strstr(res.response_body, "could not be checked"));
	adm_result_cleanup(&res);

	/* notices: an admitted pod still tells the user, as a warning, in enforce mode too */
	{
		static const char pinned[] =
		    "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
		    "\"request\":{\"uid\":\"u2\",\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},"
		    "\"operation\":\"CREATE\",\"namespace\":\"default\",\"object\":{\"spec\":{\"containers\":["
		    "{\"name\":\"b\",\"image\":\"nginx@sha256:00\"}]}}}}";

		st.fail = 0;
		st.notice = 1;
		assert_int_equal(adm_review(p, ADM_ENFORCE, &ck, pinned, strlen(pinned), 4242, &res, &e), 0);
		assert_true(res.allowed);
		assert_non_null(strstr(res.response_body,
		    "\"warnings\":[\"hardline: container b: image attestation in grace period; attest it again\"]"));
		assert_non_null(json_object_get(res.log_fields, "notices"));
		adm_result_cleanup(&res);
		/* and beside the violations of warn mode */
		assert_int_equal(adm_review(p, ADM_WARN, &ck, review, strlen(review), 4242, &res, &e), 0);
		assert_true(res.allowed);
		assert_non_null(strstr(res.response_body, "container a: image is not pinned by digest"));
		assert_non_null(strstr(res.response_body, "container b: image attestation in grace period"));
		adm_result_cleanup(&res);
	}
	wpolicy_unref(p);
}

/* Log fields carry what the server's one line per decision needs. */
static void test_log_fields(void **state)
{
	char path[1024], *body;
	size_t len;
	struct wpolicy *p = NULL;
	struct adm_result res;
	struct err e;
	json_t *lf;

	snprintf(path, sizeof(path), "%s/pod-rootfs-unset/review.json", fixture_dir());
	body = read_all(path, &len);
	assert_int_equal(wpolicy_load(NULL, &p, &e), 0);
	assert_int_equal(adm_review(p, ADM_AUDIT, NULL, body, len, 0, &res, &e), 0);
	lf = res.log_fields;
	assert_string_equal(json_string_value(json_object_get(lf, "decision")), "audit");
	assert_string_equal(json_string_value(json_object_get(lf, "mode")), "audit");
	assert_string_equal(json_string_value(json_object_get(lf, "kind")), "Pod");
	assert_string_equal(json_string_value(json_object_get(lf, "namespace")), "default");
	assert_string_equal(json_string_value(json_object_get(lf, "name")), "web");
	assert_string_equal(json_string_value(json_object_get(lf, "user")), "alice");
	assert_string_equal(json_string_value(json_object_get(lf, "operation")), "CREATE");
	assert_non_null(json_string_value(json_object_get(lf, "uid")));
	assert_int_equal(json_array_size(json_object_get(lf, "reasons")), 1);
	assert_true(json_is_true(json_object_get(lf, "allowed")));
	assert_string_equal(res.metric_kind, "Pod");
	adm_result_cleanup(&res);
	free(body);
	/* a CREATE with generateName and no name: logged as the deny message shows it */
	snprintf(path, sizeof(path), "%s/pod-generate-name/review.json", fixture_dir());
	body = read_all(path, &len);
	assert_int_equal(adm_review(p, ADM_ENFORCE, NULL, body, len, 0, &res, &e), 0);
	assert_string_equal(json_string_value(json_object_get(res.log_fields, "name")), "web-5d8f6-*");
	assert_non_null(strstr(res.response_body, "Pod shop/web-5d8f6-*:"));
	adm_result_cleanup(&res);
	free(body);
	wpolicy_unref(p);
}

/* jansson allocations fail after a budget: every budget gives either an answer or ERR_NOMEM, never a crash or a
 * leak (ASan's leak check runs at exit). */
static void test_alloc_failures(void **state)
{
	static const char *const cases[] = { "warn-many", "audit-one", "cronjob-template", "pod-compliant",
		"wrong-type-runasuser", "v1beta1-refused", "ephemeral-new-bad" };
	static const enum adm_mode modes[] = { ADM_WARN, ADM_AUDIT, ADM_ENFORCE, ADM_ENFORCE, ADM_ENFORCE, ADM_ENFORCE,
		ADM_ENFORCE };
	struct wpolicy *p = NULL;
	struct err e;

	assert_int_equal(wpolicy_load(NULL, &p, &e), 0);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char path[1024], *body;
		size_t len;
		int nomem = 0;

		snprintf(path, sizeof(path), "%s/%s/review.json", fixture_dir(), cases[c]);
		body = read_all(path, &len);
		for (long budget = 0;; budget++) {
			struct adm_result res;
			int r;

			failalloc_arm_latched(budget);
			r = adm_review(p, modes[c], NULL, body, len, 0, &res, &e);
			failalloc_disarm();
			if (r == ERR_NOMEM) {
				assert_null(res.response_body);
				assert_null(res.log_fields);
				nomem++;
				continue;
			}
			assert_int_equal(r, 0);
			assert_non_null(res.response_body);
			adm_result_cleanup(&res);
			if (failalloc_untouched()) /* the whole review ran within the budget */
				break;
		}
		assert_true(nomem > 0);
		free(body);
	}
	wpolicy_unref(p);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_violation_fmt),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_image_hook),
		cmocka_unit_test(test_log_fields),
		cmocka_unit_test(test_alloc_failures),
	};

	return casedirs_run("admission", fixture_dir(), run_case, fixed, sizeof(fixed) / sizeof(fixed[0]));
}
