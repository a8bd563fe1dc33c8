/* Tests of webhook/rules and webhook/podspec: effective values (container over pod where Kubernetes defines the
 * pod-level field), each rule's message, Windows pods, type errors, and where each kind keeps its pod spec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "webhook/podspec.h"
#include "webhook/rules.h"

#define GOOD                                                                                                           \
	"\"readOnlyRootFilesystem\":true,\"runAsNonRoot\":true,\"runAsUser\":1000,"                                    \
	"\"allowPrivilegeEscalation\":false,\"capabilities\":{\"drop\":[\"ALL\"]},"                                    \
	"\"seccompProfile\":{\"type\":\"RuntimeDefault\"}"

/* Runs both rule sets over a pod spec given as JSON; returns the violations as one "|"-joined string (static) or
 * "ERR:<message>" when the rules returned an error. */
static const char *eval(const char *policy, const char *spec_json)
{
	static char out[8192];
	struct wpolicy *p = NULL;
	struct podspec_container *cs = NULL;
	struct adm_violations vs;
	json_error_t je;
	json_t *spec = json_loads(spec_json, JSON_REJECT_DUPLICATES, &je);
	json_t *meta = NULL;
	struct err e;
	size_t n = 0;
	int r;

	if (spec == NULL)
		fail_msg("bad test JSON: %s: %s", je.text, spec_json);
	if (json_object_get(spec, "spec") != NULL) { /* a whole Pod: take its metadata too */
		json_t *pod = spec;
		struct podspec ps;

		assert_int_equal(podspec_find("", "Pod", pod, &ps, &e), 0);
		spec = json_incref(ps.spec);
		meta = json_incref(ps.meta);
		json_decref(pod);
	}
	assert_int_equal(wpolicy_parse(policy, strlen(policy), "p", &p, &e), 0);
	adm_violations_init(&vs);
	out[0] = '\0';
	if ((r = podspec_containers(spec, 1000, &cs, &n, &e)) == 0 &&
	    (r = rules_check_containers(p, spec, cs, n, &vs, &e)) == 0)
		r = rules_check_pod(p, spec, meta, "pod", "spec", &vs, &e);
	if (r != 0) {
		snprintf(out, sizeof(out), "ERR:%s", e.msg);
	} else {
		for (size_t i = 0; i < vs.n; i++) {
			char line[600];
			size_t l = strlen(out);

			snprintf(out + l, sizeof(out) - l, "%s%s", i ? "|" : "",
			    adm_violation_fmt(&vs.v[i], false, line, sizeof(line)));
		}
	}
	free(cs);
	adm_violations_cleanup(&vs);
	json_decref(spec);
	json_decref(meta);
	wpolicy_unref(p);
	return out;
}

#define C(sc) "{\"containers\":[{\"name\":\"web\",\"image\":\"i\",\"securityContext\":{" sc "}}]"

static void test_compliant(void **state)
{
	assert_string_equal(eval("{}", C(GOOD) "}"), "");
}

static void test_effective_values(void **state)
{
	/* pod-level runAsNonRoot, runAsUser and seccomp are inherited */
	assert_string_equal(
	    eval("{}",
		C("\"readOnlyRootFilesystem\":true,\"allowPrivilegeEscalation\":false,"
		  "\"capabilities\":{\"drop\":[\"ALL\"]}") ",\"securityContext\":{\"runAsNonRoot\":true,\"runAsUser\":"
							   "1000,"
							   "\"seccompProfile\":{\"type\":\"Localhost\"}}}"),
	    "");
	/* the container wins over the pod */
	assert_string_equal(eval("{}",
				C(GOOD) ",\"securityContext\":{\"runAsUser\":0,\"runAsNonRoot\":false,"
					"\"seccompProfile\":{\"type\":\"Unconfined\"}}}"),
	    "");
	assert_string_equal(
	    eval("{}",
		C("\"readOnlyRootFilesystem\":true,\"runAsNonRoot\":false,\"runAsUser\":0,"
		  "\"allowPrivilegeEscalation\":false,\"capabilities\":{\"drop\":[\"ALL\"]},"
		  "\"seccompProfile\":{\"type\":\"Unconfined\"}") ",\"securityContext\":{\"runAsNonRoot\":true,"
								  "\"runAsUser\":1000,\"seccompProfile\":{\"type\":"
								  "\"RuntimeDefault\"}}}"),
	    "container web: securityContext.runAsNonRoot is false, must be true|"
	    "container web: securityContext.runAsUser is 0, must be 1000|"
	    "container web: securityContext.seccompProfile.type is Unconfined, must be RuntimeDefault or Localhost");
	/* pod-level value that fails is reported on the container that inherits it */
	assert_string_equal(eval("{}",
				C("\"readOnlyRootFilesystem\":true,\"allowPrivilegeEscalation\":false,"
				  "\"capabilities\":{\"drop\":[\"ALL\"]},\"seccompProfile\":{\"type\":"
				  "\"RuntimeDefault\"}") ","
							 "\"securityContext\":{\"runAsNonRoot\":false,\"runAsUser\":"
							 "1001}}"),
	    "container web: securityContext.runAsNonRoot is false, must be true|"
	    "container web: securityContext.runAsUser is 1001, must be 1000");
}

static void test_container_only_fields(void **state)
{
	/* readOnlyRootFilesystem, allowPrivilegeEscalation, capabilities are not pod fields: a pod-level copy
	 * does not count */
	assert_string_equal(
	    eval("{}",
		C("\"runAsNonRoot\":true,\"runAsUser\":1000,"
		  "\"seccompProfile\":{\"type\":\"RuntimeDefault\"}") ",\"securityContext\":{"
								      "\"readOnlyRootFilesystem\":true,"
								      "\"allowPrivilegeEscalation\":false,"
								      "\"capabilities\":{\"drop\":[\"ALL\"]}}}"),
	    "container web: securityContext.readOnlyRootFilesystem must be true|"
	    "container web: securityContext.allowPrivilegeEscalation must be false|"
	    "container web: securityContext.capabilities.drop must include ALL");
}

static void test_capabilities(void **state)
{
	assert_string_equal(
	    eval("{}",
		C("\"readOnlyRootFilesystem\":true,\"runAsNonRoot\":true,\"runAsUser\":1000,"
		  "\"allowPrivilegeEscalation\":false,\"capabilities\":{\"drop\":[\"all\"],\"add\":[\"NET_BIND_"
		  "SERVICE\","
		  "\"CAP_SYS_ADMIN\",\"A\",\"B\",\"C\",\"D\"]},\"seccompProfile\":{\"type\":\"RuntimeDefault\"}") "}"),
	    "container web: securityContext.capabilities.drop must include ALL|"
	    "container web: securityContext.capabilities.add adds CAP_SYS_ADMIN, A, B, C, ...");
}

static void test_pod_level(void **state)
{
	assert_string_equal(
	    eval("{}",
		C(GOOD) ",\"hostNetwork\":false,\"hostPID\":true,\"hostIPC\":true,"
			"\"volumes\":[{\"name\":\"a\",\"emptyDir\":{}},{\"hostPath\":{\"path\":\"/\"}}]}"),
	    "pod: spec.hostPID must be false or unset|pod: spec.hostIPC must be false or unset|"
	    "pod: spec.volumes[1].hostPath is not allowed");
	assert_string_equal(eval("{\"rules\":{\"hostNamespaces\":true,\"hostPath\":true}}",
				C(GOOD) ",\"hostPID\":true,\"volumes\":[{\"hostPath\":{\"path\":\"/\"}}]}"),
	    "");
	assert_string_equal(eval("{}",
				"{\"containers\":[{\"name\":\"w\",\"ports\":[{\"hostPort\":0},"
				"{\"hostPort\":443}],\"securityContext\":{" GOOD "}}]}"),
	    "container w: ports[1].hostPort is 443, must be 0 or unset");
}

static void test_all_rules_off(void **state)
{
	assert_string_equal(
	    eval(
		"{\"allowedUIDs\":[],\"rules\":{\"readOnlyRootFilesystem\":false,"
		"\"runAsNonRoot\":false,\"allowPrivilegeEscalation\":true,\"privileged\":true,\"dropAllCapabilities\":"
		"false,"
		"\"seccomp\":false,\"hostNamespaces\":true,\"hostPath\":true,\"hostPorts\":true,\"windowsPods\":true}}",
		"{\"hostNetwork\":true,\"os\":{\"name\":\"windows\"},\"containers\":[{\"name\":\"w\","
		"\"securityContext\":"
		"{\"privileged\":true},\"ports\":[{\"hostPort\":1}]}]}"),
	    "");
}

static void test_windows(void **state)
{
	const char *win = "{\"os\":{\"name\":\"windows\"},\"securityContext\":{\"runAsNonRoot\":true},"
			  "\"containers\":[{\"name\":\"w\"}]}";

	assert_string_equal(eval("{}", win), "pod: spec.os.name is windows; hardline admits Linux pods only");
	assert_string_equal(eval("{\"rules\":{\"windowsPods\":true}}", win), "");
	assert_string_equal(eval("{\"rules\":{\"windowsPods\":true}}",
				"{\"os\":{\"name\":\"windows\"},"
				"\"containers\":[{\"name\":\"w\",\"ports\":[{\"hostPort\":80}]}]}"),
	    "container w: securityContext.runAsNonRoot must be true|container w: ports[0].hostPort is 80, must be 0 or "
	    "unset");
	/* os.name linux is a Linux pod */
	assert_string_equal(eval("{}", C(GOOD) ",\"os\":{\"name\":\"linux\"}}"), "");
}

static void test_all_lists(void **state)
{
	assert_string_equal(
	    eval("{\"rules\":{\"readOnlyRootFilesystem\":true}}",
		"{\"securityContext\":{"
		"\"runAsNonRoot\":true,\"runAsUser\":1000,\"seccompProfile\":{\"type\":\"RuntimeDefault\"}},"
		"\"initContainers\":[{\"name\":\"i\",\"securityContext\":{\"allowPrivilegeEscalation\":false,"
		"\"capabilities\":{\"drop\":[\"ALL\"]}}}],"
		"\"containers\":[{\"securityContext\":{\"readOnlyRootFilesystem\":true,\"allowPrivilegeEscalation\":"
		"false,"
		"\"capabilities\":{\"drop\":[\"ALL\"]}}}],"
		"\"ephemeralContainers\":[{\"name\":\"dbg\",\"securityContext\":{\"readOnlyRootFilesystem\":true,"
		"\"capabilities\":{\"drop\":[\"ALL\"]}}}]}"),
	    "init container i: securityContext.readOnlyRootFilesystem must be true|"
	    "ephemeral container dbg: securityContext.allowPrivilegeEscalation must be false");
}

static void test_type_errors(void **state)
{
	assert_string_equal(eval("{}", "{\"containers\":[{\"name\":\"w\",\"securityContext\":\"x\"}]}"),
	    "ERR:container w: securityContext must be an object");
	assert_string_equal(eval("{}", "{\"securityContext\":[],\"containers\":[{\"name\":\"w\"}]}"),
	    "ERR:pod: securityContext must be an object");
	assert_string_equal(eval("{}", C("\"readOnlyRootFilesystem\":\"true\"") "}"),
	    "ERR:container web: securityContext.readOnlyRootFilesystem must be true or false");
	assert_string_equal(eval("{}", C("\"capabilities\":{\"drop\":\"ALL\"}") "}"),
	    "ERR:container web: securityContext.capabilities.add and .drop must be arrays");
	assert_string_equal(eval("{}", "{\"containers\":[7]}"), "ERR:spec.containers[0] must be an object");
	assert_string_equal(eval("{}", "{\"containers\":[{\"name\":1}]}"),
	    "ERR:spec.containers[0].name must be a string");
	assert_string_equal(eval("{}", C(GOOD) ",\"volumes\":{}}"), "ERR:pod: spec.volumes must be an array");
	assert_string_equal(eval("{}", C(GOOD) ",\"hostPID\":1}"), "ERR:pod: spec.hostPID must be true or false");
	/* null means unset */
	assert_string_equal(eval("{}",
				"{\"securityContext\":null,\"volumes\":null,\"initContainers\":null,"
				"\"containers\":[{\"name\":\"w\",\"ports\":null,\"securityContext\":{" GOOD
				",\"privileged\":null}}]}"),
	    "");
}

static void test_podspec_find(void **state)
{
	static const struct {
		const char *group, *kind, *obj, *path;
	} cases[] = {
		{ "", "Pod", "{\"spec\":{}}", "spec" },
		{ "", "PodTemplate", "{\"template\":{\"spec\":{}}}", "template.spec" },
		{ "", "ReplicationController", "{\"spec\":{\"template\":{\"spec\":{}}}}", "spec.template.spec" },
		{ "apps", "Deployment", "{\"spec\":{\"template\":{\"spec\":{}}}}", "spec.template.spec" },
		{ "apps", "StatefulSet", "{\"spec\":{\"template\":{\"spec\":{}}}}", "spec.template.spec" },
		{ "apps", "DaemonSet", "{\"spec\":{\"template\":{\"spec\":{}}}}", "spec.template.spec" },
		{ "apps", "ReplicaSet", "{\"spec\":{\"template\":{\"spec\":{}}}}", "spec.template.spec" },
		{ "batch", "Job", "{\"spec\":{\"template\":{\"spec\":{}}}}", "spec.template.spec" },
		{ "batch", "CronJob", "{\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":{\"spec\":{}}}}}}",
		    "spec.jobTemplate.spec.template.spec" },
	};
	struct podspec ps;
	struct err e;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *o = json_loads(cases[i].obj, 0, NULL);

		assert_int_equal(podspec_find(cases[i].group, cases[i].kind, o, &ps, &e), 0);
		assert_string_equal(ps.path, cases[i].path);
		assert_true(json_is_object(ps.spec));
		assert_int_equal(ps.is_template, i != 0);
		json_decref(o);
	}
	{
		json_t *o = json_loads("{\"spec\":{\"jobTemplate\":{}}}", 0, NULL);

		assert_int_equal(podspec_find("batch", "CronJob", o, &ps, &e), ERR_INVALID);
		assert_string_equal(e.msg, "CronJob: spec.jobTemplate.spec must be an object");
		assert_int_equal(podspec_find("apps", "Pod", o, &ps, &e), ERR_NOT_FOUND);
		assert_int_equal(podspec_find("", "ConfigMap", o, &ps, &e), ERR_NOT_FOUND);
		assert_int_equal(podspec_find("", "Pod", NULL, &ps, &e), ERR_INVALID);
		json_decref(o);
	}
}

static void test_container_cap(void **state)
{
	json_t *spec = json_pack("{s:[{s:s},{s:s},{s:s}]}", "containers", "name", "a", "name", "b", "name", "c");
	struct podspec_container *cs = NULL;
	size_t n = 0;
	struct err e;

	assert_int_equal(podspec_containers(spec, 2, &cs, &n, &e), ERR_TOO_LARGE);
	assert_null(cs);
	assert_int_equal(podspec_containers(spec, 3, &cs, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_string_equal(cs[2].who, "container c");
	assert_string_equal(cs[2].image, "");
	free(cs);
	json_decref(spec);
}

static void test_restricted_extras(void **state)
{
	/* procMount */
	assert_string_equal(eval("{}", C(GOOD ",\"procMount\":\"Unmasked\"") "}"),
	    "container web: securityContext.procMount is Unmasked, must be Default or unset");
	assert_string_equal(eval("{}", C(GOOD ",\"procMount\":\"Default\"") "}"), "");
	/* SELinux: container and pod level */
	assert_string_equal(
	    eval("{}",
		C(GOOD
		    ",\"seLinuxOptions\":{\"type\":\"spc_t\",\"user\":\"u\",\"level\":\"s0\"}") ",\"securityContext\":{"
												"\"seLinuxOptions\":{"
												"\"type\":\"container_"
												"t\",\"role\":\"r\"}}"
												"}"),
	    "container web: securityContext.seLinuxOptions.type is spc_t, must be container_t, container_init_t or "
	    "container_kvm_t|container web: securityContext.seLinuxOptions.user must be unset|"
	    "pod: spec.securityContext.seLinuxOptions.role must be unset");
	/* AppArmor: field and annotation */
	assert_string_equal(
	    eval("{}",
		C(GOOD ",\"appArmorProfile\":{\"type\":\"Unconfined\"}") ",\"securityContext\":{\"appArmorProfile\":{"
									 "\"type\":\"Localhost\",\"localhostProfile\":"
									 "\"p\"}}}"),
	    "container web: securityContext.appArmorProfile.type is Unconfined, must be RuntimeDefault or Localhost");
	assert_string_equal(
	    eval("{}",
		"{\"metadata\":{\"annotations\":{"
		"\"container.apparmor.security.beta.kubernetes.io/web\":\"unconfined\","
		"\"container.apparmor.security.beta.kubernetes.io/side\":\"localhost/prof\",\"other\":\"unconfined\"}},"
		"\"spec\":" C(GOOD) "}}"),
	    "pod: annotation container.apparmor.security.beta.kubernetes.io/web is unconfined, must be "
	    "runtime/default or localhost/<profile>");
	/* sysctls */
	assert_string_equal(eval("{}",
				C(GOOD) ",\"securityContext\":{\"sysctls\":[{\"name\":\"net.ipv4.tcp_syncookies\","
					"\"value\":\"1\"},{\"name\":\"kernel.msgmax\",\"value\":\"1\"}]}}"),
	    "pod: spec.securityContext.sysctls[kernel.msgmax] is not allowed");
	/* volume types: hostPath is reported once, by its own rule */
	assert_string_equal(
	    eval("{}",
		C(GOOD) ",\"volumes\":[{\"name\":\"a\",\"nfs\":{\"server\":\"s\",\"path\":\"/\"}},"
			"{\"name\":\"b\",\"hostPath\":{\"path\":\"/\"}},{\"name\":\"c\",\"projected\":{}},"
			"{\"name\":\"d\",\"persistentVolumeClaim\":{\"claimName\":\"x\"}}]}"),
	    "pod: spec.volumes[a].nfs is not an allowed volume type|pod: spec.volumes[b].hostPath is not allowed");
	/* hostProcess, also on Windows pods */
	assert_string_equal(
	    eval("{\"rules\":{\"windowsPods\":true}}",
		"{\"os\":{\"name\":\"windows\"},"
		"\"securityContext\":{\"runAsNonRoot\":true,\"windowsOptions\":{\"hostProcess\":true}},"
		"\"containers\":[{\"name\":\"w\",\"securityContext\":{\"windowsOptions\":{\"hostProcess\":true}}}]}"),
	    "container w: securityContext.windowsOptions.hostProcess must be false or unset|"
	    "pod: spec.securityContext.windowsOptions.hostProcess must be false or unset");
	/* all switched off */
	assert_string_equal(eval("{\"rules\":{\"procMount\":false,\"seLinux\":false,\"appArmor\":false,"
				 "\"sysctls\":false,\"volumeTypes\":false}}",
				C(GOOD ",\"procMount\":\"Unmasked\","
				       "\"seLinuxOptions\":{\"type\":\"spc_t\"},\"appArmorProfile\":{\"type\":"
				       "\"Unconfined\"}") ","
							  "\"securityContext\":{\"sysctls\":[{\"name\":\"kernel."
							  "msgmax\"}]},\"volumes\":[{\"name\":\"a\","
							  "\"nfs\":{}}]}"),
	    "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compliant),
		cmocka_unit_test(test_effective_values),
		cmocka_unit_test(test_container_only_fields),
		cmocka_unit_test(test_capabilities),
		cmocka_unit_test(test_pod_level),
		cmocka_unit_test(test_all_rules_off),
		cmocka_unit_test(test_windows),
		cmocka_unit_test(test_all_lists),
		cmocka_unit_test(test_type_errors),
		cmocka_unit_test(test_restricted_extras),
		cmocka_unit_test(test_podspec_find),
		cmocka_unit_test(test_container_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
