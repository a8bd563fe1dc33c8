/* rules — the securityContext rules (see rules.h and docs/webhook-policy.md for the messages users see).
 * Type errors in the object are reported as ERR_INVALID rather than as violations: the API server validated the
 * object, so a wrong type means the review itself is malformed. */
#include "webhook/rules.h"

#include <string.h>

#include "lib/str.h"

#define FIX_SET_EITHER "set it in the container's or the pod's securityContext"

/* A member that may be absent or null (both mean unset). */
static json_t *member(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_null(v) ? NULL : v;
}

/* The securityContext of a container or pod (NULL when unset); ERR_INVALID if it is not an object. */
static int get_sc(const json_t *obj, const char *who, const char *field, json_t **out, struct err *e)
{
	json_t *sc = member(obj, field);

	*out = NULL;
	if (sc != NULL && !json_is_object(sc))
		return err_set(e, ERR_INVALID, "%s: %s must be an object", who, field);
	*out = sc;
	return 0;
}

/* Optional bool: *set tells whether present. */
static int opt_bool(const json_t *sc, const char *key, bool *set, bool *val, const char *who, const char *where,
    struct err *e)
{
	json_t *v = member(sc, key);

	*set = false;
	*val = false;
	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return err_set(e, ERR_INVALID, "%s: %s.%s must be true or false", who, where, key);
	*set = true;
	*val = json_is_true(v);
	return 0;
}

/* Optional integer: *set tells whether present; ERR_INVALID for another type. */
static int opt_int(const json_t *sc, const char *key, bool *set, json_int_t *val, const char *who, const char *where,
    struct err *e)
{
	json_t *v = member(sc, key);

	*set = false;
	*val = 0;
	if (v == NULL)
		return 0;
	if (!json_is_integer(v))
		return err_set(e, ERR_INVALID, "%s: %s.%s must be an integer", who, where, key);
	*set = true;
	*val = json_integer_value(v);
	return 0;
}

/* Optional string member: *out NULL when unset; ERR_INVALID for another type. */
static int opt_string(const json_t *obj, const char *key, const char **out, const char *who, const char *where,
    struct err *e)
{
	json_t *v = member(obj, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return err_set(e, ERR_INVALID, "%s: %s.%s must be a string", who, where, key);
	*out = json_string_value(v);
	return 0;
}

/* Adds "<field> is <escaped value>, <must>" for an untrusted value. */
static int add_is(struct adm_violations *v, const char *who, const char *field, const char *fix, const char *val,
    const char *must, struct err *e)
{
	char esc[72];
	int r;

	str_escape(esc, sizeof(esc), val, strlen(val), 63);
	if ((r = adm_violations_add(v, who, field, fix, "is %s, %s", esc, must)) != 0)
		return err_set(e, r, "out of memory");
	return 0;
}

/* seLinuxOptions of the securityContext sc (at where: "securityContext" or "spec.securityContext"): type one of
 * the container types, user and role unset. */
static int check_selinux(const json_t *sc, const char *who, const char *where, struct adm_violations *v, struct err *e)
{
	static const char *const types[] = { "", "container_t", "container_init_t", "container_kvm_t" };
	json_t *se = member(sc, "seLinuxOptions");
	const char *t, *u, *ro;
	char field[160], w2[140];
	int r;

	if (se == NULL)
		return 0;
	str_fmt(w2, sizeof(w2), "%s.seLinuxOptions", where);
	if (!json_is_object(se))
		return err_set(e, ERR_INVALID, "%s: %s must be an object", who, w2);
	if ((r = opt_string(se, "type", &t, who, w2, e)) != 0 || (r = opt_string(se, "user", &u, who, w2, e)) != 0 ||
	    (r = opt_string(se, "role", &ro, who, w2, e)) != 0)
		return r;
	if (t != NULL) {
		size_t i;

		for (i = 0; i < 4 && strcmp(t, types[i]) != 0; i++)
			;
		str_fmt(field, sizeof(field), "%s.type", w2);
		if (i == 4 &&
		    (r = add_is(v, who, field, "remove it or use container_t", t,
			 "must be container_t, container_init_t or container_kvm_t", e)) != 0)
			return r;
	}
	if (u != NULL && *u != '\0') {
		str_fmt(field, sizeof(field), "%s.user", w2);
		if ((r = adm_violations_add(v, who, field, "remove it", "must be unset")) != 0)
			return err_set(e, r, "out of memory");
	}
	if (ro != NULL && *ro != '\0') {
		str_fmt(field, sizeof(field), "%s.role", w2);
		if ((r = adm_violations_add(v, who, field, "remove it", "must be unset")) != 0)
			return err_set(e, r, "out of memory");
	}
	return 0;
}

/* appArmorProfile.type of sc, when set: RuntimeDefault or Localhost. */
static int check_apparmor(const json_t *sc, const char *who, const char *where, struct adm_violations *v, struct err *e)
{
	json_t *ap = member(sc, "appArmorProfile");
	const char *t;
	char field[160], w2[140];
	int r;

	if (ap == NULL)
		return 0;
	str_fmt(w2, sizeof(w2), "%s.appArmorProfile", where);
	if (!json_is_object(ap))
		return err_set(e, ERR_INVALID, "%s: %s must be an object", who, w2);
	if ((r = opt_string(ap, "type", &t, who, w2, e)) != 0 || t == NULL)
		return r;
	if (strcmp(t, "RuntimeDefault") == 0 || strcmp(t, "Localhost") == 0)
		return 0;
	str_fmt(field, sizeof(field), "%s.type", w2);
	return add_is(v, who, field, "use RuntimeDefault", t, "must be RuntimeDefault or Localhost", e);
}

/* windowsOptions.hostProcess of sc must not be true. */
static int check_host_process(const json_t *sc, const char *who, const char *where, struct adm_violations *v,
    struct err *e)
{
	json_t *wo = member(sc, "windowsOptions");
	bool set, val;
	char field[160], w2[140];
	int r;

	if (wo == NULL)
		return 0;
	str_fmt(w2, sizeof(w2), "%s.windowsOptions", where);
	if (!json_is_object(wo))
		return err_set(e, ERR_INVALID, "%s: %s must be an object", who, w2);
	if ((r = opt_bool(wo, "hostProcess", &set, &val, who, w2, e)) != 0 || !val)
		return r;
	str_fmt(field, sizeof(field), "%s.hostProcess", w2);
	if ((r = adm_violations_add(v, who, field, "remove it", "must be false or unset")) != 0)
		return err_set(e, r, "out of memory");
	return 0;
}

/* seccompProfile.type, or NULL when unset. */
static int seccomp_type(const json_t *sc, const char **out, const char *who, const char *where, struct err *e)
{
	json_t *prof = member(sc, "seccompProfile"), *t;

	*out = NULL;
	if (prof == NULL)
		return 0;
	if (!json_is_object(prof))
		return err_set(e, ERR_INVALID, "%s: %s.seccompProfile must be an object", who, where);
	t = member(prof, "type");
	if (t == NULL)
		return 0;
	if (!json_is_string(t))
		return err_set(e, ERR_INVALID, "%s: %s.seccompProfile.type must be a string", who, where);
	*out = json_string_value(t);
	return 0;
}

/* True when uid is one of the policy's allowedUIDs. */
static bool uid_allowed(const struct wpolicy *p, json_int_t uid)
{
	for (size_t i = 0; i < p->n_allowed_uids; i++)
		if (p->allowed_uids[i] == uid)
			return true;
	return false;
}

/* "1000" or "one of 1000, 1001, ..." into dst. */
static void fmt_uids(const struct wpolicy *p, char *dst, size_t size)
{
	struct strbuf sb;
	char *s;

	sb_init(&sb, size > 0 ? size - 1 : 0);
	if (p->n_allowed_uids > 1)
		sb_puts(&sb, "one of ");
	for (size_t i = 0; i < p->n_allowed_uids && i < 8; i++)
		sb_printf(&sb, "%s%lld", i ? ", " : "", (long long)p->allowed_uids[i]);
	if (p->n_allowed_uids > 8)
		sb_puts(&sb, ", ...");
	s = sb.data;
	str_copy(dst, size, s != NULL ? s : "");
	sb_cleanup(&sb);
}

/* The capabilities rule: drop contains "ALL", add is empty or only NET_BIND_SERVICE. */
static int check_caps(const json_t *sc, const char *who, struct adm_violations *v, struct err *e)
{
	json_t *caps = member(sc, "capabilities"), *drop, *add, *it;
	bool has_all = false;
	char bad[160] = "";
	size_t i, nbad = 0, blen = 0;
	int r;

	if (caps != NULL && !json_is_object(caps))
		return err_set(e, ERR_INVALID, "%s: securityContext.capabilities must be an object", who);
	drop = member(caps, "drop");
	add = member(caps, "add");
	if ((drop != NULL && !json_is_array(drop)) || (add != NULL && !json_is_array(add)))
		return err_set(e, ERR_INVALID, "%s: securityContext.capabilities.add and .drop must be arrays", who);
	json_array_foreach(drop, i, it)
	{
		if (!json_is_string(it))
			return err_set(e, ERR_INVALID, "%s: securityContext.capabilities.drop[%zu] must be a string",
			    who, i);
		if (strcmp(json_string_value(it), "ALL") == 0)
			has_all = true;
	}
	if (!has_all &&
	    (r = adm_violations_add(v, who, "securityContext.capabilities.drop",
		 "add drop: [\"ALL\"] and add back only NET_BIND_SERVICE if the app binds a port below 1024",
		 "must include ALL")) != 0)
		return err_set(e, r, "out of memory");
	json_array_foreach(add, i, it)
	{
		const char *cap = json_string_value(it);
		char esc[40];

		if (cap == NULL)
			return err_set(e, ERR_INVALID, "%s: securityContext.capabilities.add[%zu] must be a string",
			    who, i);
		if (strcmp(cap, "NET_BIND_SERVICE") == 0)
			continue;
		if (nbad++ < 4) {
			str_escape(esc, sizeof(esc), cap, strlen(cap), 32);
			str_fmt(bad + blen, sizeof(bad) - blen, "%s%s", blen ? ", " : "", esc);
			blen = strlen(bad);
		}
	}
	if (nbad > 0 &&
	    (r = adm_violations_add(v, who, "securityContext.capabilities.add",
		 "remove them; only NET_BIND_SERVICE may be added", "adds %s%s", bad, nbad > 4 ? ", ..." : "")) != 0)
		return err_set(e, r, "out of memory");
	return 0;
}

/* The hostPorts rule on one container: every ports[].hostPort 0 or unset. */
static int check_host_ports(const json_t *c, const char *who, struct adm_violations *v, struct err *e)
{
	json_t *ports = member(c, "ports"), *it;
	size_t i;
	int r;

	if (ports == NULL)
		return 0;
	if (!json_is_array(ports))
		return err_set(e, ERR_INVALID, "%s: ports must be an array", who);
	json_array_foreach(ports, i, it)
	{
		json_t *hp;
		char field[48];

		if (!json_is_object(it))
			return err_set(e, ERR_INVALID, "%s: ports[%zu] must be an object", who, i);
		hp = member(it, "hostPort");
		if (hp == NULL)
			continue;
		if (!json_is_integer(hp))
			return err_set(e, ERR_INVALID, "%s: ports[%zu].hostPort must be an integer", who, i);
		if (json_integer_value(hp) == 0)
			continue;
		str_fmt(field, sizeof(field), "ports[%zu].hostPort", i);
		if ((r = adm_violations_add(v, who, field, "remove it and reach the pod through a Service",
			 "is %lld, must be 0 or unset", (long long)json_integer_value(hp))) != 0)
			return err_set(e, r, "out of memory");
	}
	return 0;
}

/* All container-level rules for one container; psc is the pod's securityContext (may be NULL). */
static int check_one(const struct wpolicy *p, const json_t *psc, bool windows, const struct podspec_container *pc,
    struct adm_violations *v, struct err *e)
{
	const char *who = pc->who, *sec = NULL, *psec = NULL;
	json_t *sc = NULL;
	bool set, val, pset, pval;
	json_int_t uid, puid;
	int r;

#define ADD(...)                                                                                                       \
	do {                                                                                                           \
		if ((r = adm_violations_add(v, who, __VA_ARGS__)) != 0)                                                \
			return err_set(e, r, "out of memory");                                                         \
	} while (0)

	if ((r = get_sc(pc->obj, who, "securityContext", &sc, e)) != 0)
		return r;
	if (p->rule[WR_READ_ONLY_ROOT_FS] && !windows) {
		if ((r = opt_bool(sc, "readOnlyRootFilesystem", &set, &val, who, "securityContext", e)) != 0)
			return r;
		if (!val)
			ADD("securityContext.readOnlyRootFilesystem", "mount an emptyDir at the paths it writes to",
			    "must be true");
	}
	if (p->rule[WR_RUN_AS_NON_ROOT]) {
		if ((r = opt_bool(sc, "runAsNonRoot", &set, &val, who, "securityContext", e)) != 0 ||
		    (r = opt_bool(psc, "runAsNonRoot", &pset, &pval, who, "pod securityContext", e)) != 0)
			return r;
		if (set ? !val : !(pset && pval))
			ADD("securityContext.runAsNonRoot", FIX_SET_EITHER, "%s",
			    set || pset ? "is false, must be true" : "must be true");
	}
	if (p->rule[WR_NOT_PRIVILEGED] && (r = check_host_process(sc, who, "securityContext", v, e)) != 0)
		return r;
	if (windows) /* the other fields do not exist on Windows (API validation refuses them) */
		goto ports;
	if (p->rule[WR_RUN_AS_USER]) {
		char uids[96];

		if ((r = opt_int(sc, "runAsUser", &set, &uid, who, "securityContext", e)) != 0 ||
		    (r = opt_int(psc, "runAsUser", &pset, &puid, who, "pod securityContext", e)) != 0)
			return r;
		fmt_uids(p, uids, sizeof(uids));
		if (!set && !pset)
			ADD("securityContext.runAsUser",
			    "the image's USER is not visible to the webhook; " FIX_SET_EITHER, "must be set to %s",
			    uids);
		else if (!uid_allowed(p, set ? uid : puid))
			ADD("securityContext.runAsUser",
			    set ? "run the app as an allowed UID (hardened images run as "
				  "1000)"
				: "it is inherited from the pod's securityContext; run as an allowed UID",
			    "is %lld, must be %s", (long long)(set ? uid : puid), uids);
	}
	if (p->rule[WR_NO_PRIV_ESCALATION]) {
		if ((r = opt_bool(sc, "allowPrivilegeEscalation", &set, &val, who, "securityContext", e)) != 0)
			return r;
		if (!set || val)
			ADD("securityContext.allowPrivilegeEscalation",
			    set ? NULL
				: "unset means true; set it to "
				  "false explicitly",
			    "must be false");
	}
	if (p->rule[WR_NOT_PRIVILEGED]) {
		if ((r = opt_bool(sc, "privileged", &set, &val, who, "securityContext", e)) != 0)
			return r;
		if (val)
			ADD("securityContext.privileged", "remove it", "must be false or unset");
	}
	if (p->rule[WR_DROP_ALL_CAPS] && (r = check_caps(sc, who, v, e)) != 0)
		return r;
	if (p->rule[WR_SECCOMP]) {
		if ((r = seccomp_type(sc, &sec, who, "securityContext", e)) != 0 ||
		    (r = seccomp_type(psc, &psec, who, "pod securityContext", e)) != 0)
			return r;
		if (sec == NULL)
			sec = psec;
		if (sec == NULL)
			ADD("securityContext.seccompProfile.type", FIX_SET_EITHER,
			    "must be RuntimeDefault or Localhost");
		else if (strcmp(sec, "RuntimeDefault") != 0 && strcmp(sec, "Localhost") != 0) {
			char esc[40];

			str_escape(esc, sizeof(esc), sec, strlen(sec), 32);
			ADD("securityContext.seccompProfile.type", "use RuntimeDefault",
			    "is %s, must be RuntimeDefault or Localhost", esc);
		}
	}
	if (p->rule[WR_PROC_MOUNT]) {
		const char *pm;

		if ((r = opt_string(sc, "procMount", &pm, who, "securityContext", e)) != 0)
			return r;
		if (pm != NULL && strcmp(pm, "Default") != 0 &&
		    (r = add_is(v, who, "securityContext.procMount", "remove it", pm, "must be Default or unset", e)) !=
			0)
			return r;
	}
	if (p->rule[WR_SELINUX] && (r = check_selinux(sc, who, "securityContext", v, e)) != 0)
		return r;
	if (p->rule[WR_APPARMOR] && (r = check_apparmor(sc, who, "securityContext", v, e)) != 0)
		return r;
ports:
	if (p->rule[WR_NO_HOST_PORTS] && (r = check_host_ports(pc->obj, who, v, e)) != 0)
		return r;
#undef ADD
	return 0;
}

int rules_check_containers(const struct wpolicy *p, const json_t *spec, const struct podspec_container *c, size_t n,
    struct adm_violations *v, struct err *e)
{
	json_t *psc = NULL;
	bool windows = podspec_is_windows(spec);
	int r;

	if ((r = get_sc(spec, "pod", "securityContext", &psc, e)) != 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if ((r = check_one(p, psc, windows, &c[i], v, e)) != 0)
			return r;
	return 0;
}

/* The sysctls that Pod Security "restricted" allows: namespaced and isolated from the node. */
static bool sysctl_safe(const char *name)
{
	static const char *const safe[] = { "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range",
		"net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start",
		"net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
		"net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_rmem",
		"net.ipv4.tcp_wmem" };

	for (size_t i = 0; i < sizeof(safe) / sizeof(safe[0]); i++)
		if (strcmp(name, safe[i]) == 0)
			return true;
	return false;
}

/* The volume sources Pod Security "restricted" allows (hostPath has its own rule). */
static bool volume_type_allowed(const char *key)
{
	static const char *const ok[] = { "name", "configMap", "downwardAPI", "emptyDir", "projected", "secret", "csi",
		"persistentVolumeClaim", "ephemeral", "image", "hostPath" };

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(key, ok[i]) == 0)
			return true;
	return false;
}

/* The pod securityContext's sysctls: only safe names. */
static int check_sysctls(const json_t *psc, const char *who, const char *path, struct adm_violations *v, struct err *e)
{
	json_t *arr = member(psc, "sysctls"), *it;
	char field[200], esc[72];
	size_t i;
	int r;

	if (arr == NULL)
		return 0;
	if (!json_is_array(arr))
		return err_set(e, ERR_INVALID, "%s: %s.securityContext.sysctls must be an array", who, path);
	json_array_foreach(arr, i, it)
	{
		const char *name = json_string_value(json_object_get(it, "name"));

		if (!json_is_object(it) || name == NULL)
			return err_set(e, ERR_INVALID, "%s: %s.securityContext.sysctls[%zu].name must be a string", who,
			    path, i);
		if (sysctl_safe(name))
			continue;
		str_escape(esc, sizeof(esc), name, strlen(name), 63);
		str_fmt(field, sizeof(field), "%s.securityContext.sysctls[%s]", path, esc);
		if ((r = adm_violations_add(v, who, field, "remove it; only the safe namespaced sysctls are allowed",
			 "is not allowed")) != 0)
			return err_set(e, r, "out of memory");
	}
	return 0;
}

/* The AppArmor annotations of the pod's metadata: runtime/default or localhost/<profile>. */
static int check_apparmor_annotations(const json_t *meta, const char *who, struct adm_violations *v, struct err *e)
{
	static const char prefix[] = "container.apparmor.security.beta.kubernetes.io/";
	json_t *ann = member(meta, "annotations"), *val;
	const char *key;
	char field[200], esc[72];

	if (ann == NULL)
		return 0;
	if (!json_is_object(ann))
		return err_set(e, ERR_INVALID, "%s: metadata.annotations must be an object", who);
	json_object_foreach(ann, key, val)
	{
		const char *s = json_string_value(val);

		if (!str_has_prefix(key, prefix))
			continue;
		if (s == NULL)
			return err_set(e, ERR_INVALID, "%s: metadata.annotations values must be strings", who);
		if (strcmp(s, "runtime/default") == 0 || str_has_prefix(s, "localhost/"))
			continue;
		str_escape(esc, sizeof(esc), key + sizeof(prefix) - 1, strlen(key + sizeof(prefix) - 1), 63);
		str_fmt(field, sizeof(field), "annotation %s%s", prefix, esc);
		if (add_is(v, who, field, "use runtime/default, or set securityContext.appArmorProfile", s,
			"must be runtime/default or localhost/<profile>", e) != 0)
			return e->code;
	}
	return 0;
}

int rules_check_pod(const struct wpolicy *p, const json_t *spec, const json_t *meta, const char *who, const char *path,
    struct adm_violations *v, struct err *e)
{
	static const char *const hostns[] = { "hostNetwork", "hostPID", "hostIPC" };
	char field[160], where[120];
	bool windows = podspec_is_windows(spec);
	json_t *vols, *it, *psc = NULL;
	size_t i;
	int r;

	if ((r = get_sc(spec, who, "securityContext", &psc, e)) != 0)
		return r;
	str_fmt(where, sizeof(where), "%s.securityContext", path);
	if (p->rule[WR_NOT_PRIVILEGED] && (r = check_host_process(psc, who, where, v, e)) != 0)
		return r;
	if (!windows && p->rule[WR_SELINUX] && (r = check_selinux(psc, who, where, v, e)) != 0)
		return r;
	if (!windows && p->rule[WR_APPARMOR] &&
	    ((r = check_apparmor(psc, who, where, v, e)) != 0 ||
		(r = check_apparmor_annotations(meta, who, v, e)) != 0))
		return r;
	if (!windows && p->rule[WR_SYSCTLS] && (r = check_sysctls(psc, who, path, v, e)) != 0)
		return r;

	if (p->rule[WR_DENY_WINDOWS] && podspec_is_windows(spec)) {
		str_fmt(field, sizeof(field), "%s.os.name", path);
		if ((r = adm_violations_add(v, who, field, "run a Linux image, or exempt the namespace",
			 "is windows; hardline admits Linux pods only")) != 0)
			return err_set(e, r, "out of memory");
	}
	for (i = 0; p->rule[WR_NO_HOST_NAMESPACES] && i < 3; i++) {
		bool set, val;

		if ((r = opt_bool(spec, hostns[i], &set, &val, who, path, e)) != 0)
			return r;
		if (!val)
			continue;
		str_fmt(field, sizeof(field), "%s.%s", path, hostns[i]);
		if ((r = adm_violations_add(v, who, field, NULL, "must be false or unset")) != 0)
			return err_set(e, r, "out of memory");
	}
	if ((!p->rule[WR_NO_HOST_PATH] && !p->rule[WR_VOLUME_TYPES]) || (vols = member(spec, "volumes")) == NULL)
		return 0;
	if (!json_is_array(vols))
		return err_set(e, ERR_INVALID, "%s: %s.volumes must be an array", who, path);
	json_array_foreach(vols, i, it)
	{
		const char *name, *key;
		char esc[72], kesc[72];
		json_t *src;

		if (!json_is_object(it))
			return err_set(e, ERR_INVALID, "%s: %s.volumes[%zu] must be an object", who, path, i);
		name = json_string_value(json_object_get(it, "name"));
		if (name != NULL)
			str_escape(esc, sizeof(esc), name, strlen(name), 63);
		else
			str_fmt(esc, sizeof(esc), "%zu", i);
		if (p->rule[WR_NO_HOST_PATH] && member(it, "hostPath") != NULL) {
			str_fmt(field, sizeof(field), "%s.volumes[%s].hostPath", path, esc);
			if ((r = adm_violations_add(v, who, field,
				 "use an emptyDir, configMap, secret or "
				 "persistentVolumeClaim volume",
				 "is not allowed")) != 0)
				return err_set(e, r, "out of memory");
		}
		if (!p->rule[WR_VOLUME_TYPES])
			continue;
		json_object_foreach(it, key, src)
		{
			if (src == NULL || json_is_null(src) || volume_type_allowed(key))
				continue;
			str_escape(kesc, sizeof(kesc), key, strlen(key), 40);
			str_fmt(field, sizeof(field), "%s.volumes[%s].%s", path, esc, kesc);
			if ((r = adm_violations_add(v, who, field,
				 "use configMap, secret, emptyDir, projected, "
				 "downwardAPI, csi, persistentVolumeClaim, ephemeral or image",
				 "is not an allowed volume "
				 "type")) != 0)
				return err_set(e, r, "out of memory");
		}
	}
	return 0;
}
