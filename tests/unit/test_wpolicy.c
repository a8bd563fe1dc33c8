/* Tests of webhook/wpolicy: defaults, strict parsing with file and line in errors, exemptions (namespaces with the
 * webhook's own, users, groups, image patterns), the kept attestations object and reference counting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "webhook/wpolicy.h"

static struct wpolicy *parse_ok(const char *text)
{
	struct wpolicy *p = NULL;
	struct err e;

	if (wpolicy_parse(text, strlen(text), "policy t.json", &p, &e) != 0)
		fail_msg("parse failed: %s", e.msg);
	return p;
}

/* Parses text expecting failure with code and a message containing want. */
static void parse_bad(const char *text, int code, const char *want)
{
	struct wpolicy *p = (struct wpolicy *)1;
	struct err e;

	assert_int_equal(wpolicy_parse(text, strlen(text), "policy t.json", &p, &e), code);
	assert_null(p);
	if (strstr(e.msg, want) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", e.msg, want);
}

static void test_defaults(void **state)
{
	struct wpolicy *p = NULL;
	struct err e;

	unsetenv("POD_NAMESPACE");
	assert_int_equal(wpolicy_load(NULL, &p, &e), 0);
	for (int i = 0; i < WR__COUNT; i++)
		assert_true(p->rule[i]);
	assert_int_equal(p->n_allowed_uids, 1);
	assert_int_equal(p->allowed_uids[0], 1000);
	assert_true(wpolicy_namespace_exempt(p, "kube-system"));
	assert_false(wpolicy_namespace_exempt(p, "default"));
	assert_false(wpolicy_namespace_exempt(p, ""));
	assert_null(p->attestations);
	assert_string_equal(p->digest, "");
	wpolicy_unref(p);

	/* {} is the defaults too, with a digest of the bytes */
	p = parse_ok("{}");
	assert_true(p->rule[WR_READ_ONLY_ROOT_FS]);
	assert_true(wpolicy_namespace_exempt(p, "kube-system"));
	assert_string_equal(p->digest, "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
	wpolicy_unref(p);
}

static void test_design_example(void **state)
{
	const char *text =
	    "{\n"
	    "  \"allowedUIDs\": [1000],\n"
	    "  \"rules\": { \"readOnlyRootFilesystem\": true, \"runAsNonRoot\": true, \"allowPrivilegeEscalation\": "
	    "false,\n"
	    "             \"privileged\": false, \"dropAllCapabilities\": true, \"seccomp\": true, \"hostNamespaces\": "
	    "false,\n"
	    "             \"hostPath\": false, \"hostPorts\": false },\n"
	    "  \"exempt\": { \"namespaces\": [\"kube-system\"], \"users\": [], \"images\": [] },\n"
	    "  \"attestations\": { \"required\": true, \"keys\": [\"/etc/hardline/keys\"], \"imageReferences\": "
	    "\"digest\",\n"
	    "                    \"sources\": [ { \"directory\": \"/etc/hardline/attestations\" }, { \"registry\": {} "
	    "} ],\n"
	    "                    \"maxAge\": \"720h\", \"require\": { \"shells\": 0, \"packageManagers\": 0 } }\n"
	    "}\n";
	struct wpolicy *p = parse_ok(text);

	for (int i = 0; i < WR__COUNT; i++)
		assert_true(p->rule[i]);
	assert_non_null(p->attestations);
	assert_string_equal(json_string_value(json_object_get(p->attestations, "maxAge")), "720h");
	wpolicy_unref(p);
}

static void test_rules_switch(void **state)
{
	struct wpolicy *p = parse_ok("{\"rules\":{\"readOnlyRootFilesystem\":false,\"privileged\":true,"
				     "\"hostPath\":true,\"windowsPods\":true},\"allowedUIDs\":[]}");

	assert_false(p->rule[WR_READ_ONLY_ROOT_FS]);
	assert_false(p->rule[WR_NOT_PRIVILEGED]);
	assert_false(p->rule[WR_NO_HOST_PATH]);
	assert_false(p->rule[WR_DENY_WINDOWS]);
	assert_false(p->rule[WR_RUN_AS_USER]);
	assert_true(p->rule[WR_RUN_AS_NON_ROOT]);
	assert_true(p->rule[WR_SECCOMP]);
	assert_string_equal(wpolicy_rule_key(WR_RUN_AS_USER), "allowedUIDs");
	assert_string_equal(wpolicy_rule_key(WR_NO_HOST_PORTS), "hostPorts");
	wpolicy_unref(p);
}

static void test_strict(void **state)
{
	parse_bad("{\n  \"rules\": {\n    \"readOnlyRootFS\": true\n  }\n}", ERR_INVALID,
	    "policy t.json, line 3: policy rules: unknown key \"readOnlyRootFS\"");
	parse_bad("{\"rule\": {}}", ERR_INVALID, "line 1: policy: unknown key \"rule\"");
	parse_bad("{\n\"exempt\": {\"namespace\": []}}", ERR_INVALID,
	    "line 2: policy exempt: unknown key \"namespace\"");
	parse_bad("{\n\n\"rules\": {\"seccomp\": \"yes\"}}", ERR_INVALID,
	    "line 3: policy rules.seccomp must be true or false");
	parse_bad("{\"allowedUIDs\": [0]}", ERR_INVALID, "allowedUIDs[0] must be an integer from 1");
	parse_bad("{\"allowedUIDs\": [\"1000\"]}", ERR_INVALID, "allowedUIDs[0] must be an integer");
	parse_bad("{\"allowedUIDs\": 1000}", ERR_INVALID, "policy.allowedUIDs must be an array");
	parse_bad("{\"exempt\": {\"users\": [\"\"]}}", ERR_INVALID, "exempt.users[0] must be a non-empty string");
	parse_bad("{\"exempt\": {\"images\": [\"*\"]}}", ERR_INVALID, "is only allowed at the end, after a \"/\"");
	parse_bad("{\"exempt\": {\"images\": [\"registry/a*\"]}}", ERR_INVALID, "exempt.images[0]");
	parse_bad("{\"exempt\": {\"images\": [\"registry/*/x\"]}}", ERR_INVALID, "exempt.images[0]");
	parse_bad("{\"attestations\": []}", ERR_INVALID, "policy.attestations must be an object");
	parse_bad("[]", ERR_INVALID, "must be a JSON object");
	parse_bad("{\"rules\": {}, \"rules\": {}}", ERR_PARSE, "duplicate");
	parse_bad("{\"rules\": {}} x", ERR_PARSE, "policy t.json: line 1");
	parse_bad("{\"rules\": ", ERR_PARSE, "policy t.json");
}

static void test_exemptions(void **state)
{
	struct wpolicy *p = parse_ok(
	    "{\"exempt\":{\"namespaces\":[\"infra\"],\"users\":[\"system:serviceaccount:ci:d\"],"
	    "\"groups\":[\"admins\"],\"images\":[\"registry.example.com/infra/\", \"registry.example.com/team/*\","
	    "\"sha256:"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\", \"nginx:1.27\"]}}");

	assert_true(wpolicy_namespace_exempt(p, "infra"));
	assert_false(wpolicy_namespace_exempt(p, "kube-system")); /* a configured list replaces the default */
	assert_false(wpolicy_namespace_exempt(p, "infra2"));
	assert_true(wpolicy_user_exempt(p, "system:serviceaccount:ci:d"));
	assert_false(wpolicy_user_exempt(p, "system:serviceaccount:ci:dd"));
	assert_false(wpolicy_user_exempt(p, NULL));
	assert_true(wpolicy_group_exempt(p, "admins"));
	assert_false(wpolicy_group_exempt(p, "Admins"));
	assert_true(wpolicy_image_exempt(p, "registry.example.com/team/app:1"));
	assert_true(wpolicy_image_exempt(p, "registry.example.com/team/sub/app@sha256:00"));
	assert_false(wpolicy_image_exempt(p, "registry.example.com/teamx/app:1"));
	assert_false(wpolicy_image_exempt(p, "registry.example.com/infra/app")); /* no star: exact only */
	assert_true(wpolicy_image_exempt(p, "nginx:1.27"));
	assert_false(wpolicy_image_exempt(p, "nginx:1.27.1"));
	assert_true(wpolicy_image_exempt(p,
	    "any.registry/x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
	assert_false(wpolicy_image_exempt(p,
	    "any.registry/x:sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
	assert_false(wpolicy_image_exempt(p, ""));
	wpolicy_unref(p);
}

static void test_own_namespace(void **state)
{
	struct wpolicy *p;
	struct err e;

	setenv("POD_NAMESPACE", "hardline-system", 1);
	p = parse_ok("{}");
	assert_true(wpolicy_namespace_exempt(p, "hardline-system"));
	assert_true(wpolicy_namespace_exempt(p, "kube-system"));
	assert_int_equal(wpolicy_set_own_namespace(p, "hl", &e), 0);
	assert_false(wpolicy_namespace_exempt(p, "hardline-system"));
	assert_true(wpolicy_namespace_exempt(p, "hl"));
	assert_true(wpolicy_namespace_exempt(p, "kube-system"));
	assert_int_equal(wpolicy_set_own_namespace(p, "Bad_NS", &e), ERR_INVALID);
	assert_non_null(strstr(e.msg, "not a valid namespace name"));
	assert_int_equal(wpolicy_set_own_namespace(p, NULL, &e), 0);
	assert_false(wpolicy_namespace_exempt(p, "hl"));
	assert_int_equal(p->n_exempt_namespaces, 1);
	wpolicy_unref(p);

	setenv("POD_NAMESPACE", "NOT A NAME", 1);
	parse_bad("{}", ERR_INVALID, "POD_NAMESPACE");
	unsetenv("POD_NAMESPACE");
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/hl-wpolicy-XXXXXX";
	int fd = mkstemp(path);
	const char *text = "{\n  \"allowedUIDs\": [1000, 1001],\n  \"rules\": {\n    \"hostPorts\": 1\n  }\n}\n";
	struct wpolicy *p = NULL;
	struct err e;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(wpolicy_load(path, &p, &e), ERR_INVALID);
	assert_null(p);
	assert_non_null(strstr(e.msg, "line 4: policy rules.hostPorts must be true or false"));
	assert_non_null(strstr(e.msg, path));
	unlink(path);
	assert_int_equal(wpolicy_load(path, &p, &e), ERR_NOT_FOUND);
	assert_non_null(strstr(e.msg, "no such file"));
}

static void test_refcount(void **state)
{
	struct wpolicy *p = parse_ok("{\"allowedUIDs\":[1000,2000]}");

	assert_ptr_equal(wpolicy_ref(p), p);
	assert_int_equal(p->refs, 2);
	wpolicy_unref(p);
	assert_int_equal(p->n_allowed_uids, 2); /* still alive */
	wpolicy_unref(p);			/* freed (ASan checks) */
	wpolicy_unref(NULL);
	assert_null(wpolicy_ref(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_design_example),
		cmocka_unit_test(test_rules_switch),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_exemptions),
		cmocka_unit_test(test_own_namespace),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_refcount),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
