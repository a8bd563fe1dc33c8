/* wpolicy — loading, checking and sharing the webhook's policy file (see wpolicy.h and docs/webhook-policy.md).
 * Parsing is strict: every key is known, every value has the documented type, and an error names the file, the line
 * of the offending key and what to write instead. */
#define _GNU_SOURCE /* memmem */
#include "webhook/wpolicy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/digest.h"
#include "lib/fileio.h"
#include "lib/json.h"
#include "lib/str.h"

#define UID_MAX_ALLOWED 2147483647LL

/* Policy key of each rule and the value that turns the rule on. */
static const struct {
	const char *key;
	bool strict;
} rule_keys[WR__COUNT] = {
	[WR_READ_ONLY_ROOT_FS] = { "readOnlyRootFilesystem", true },
	[WR_RUN_AS_NON_ROOT] = { "runAsNonRoot", true },
	[WR_RUN_AS_USER] = { NULL, true }, /* follows allowedUIDs */
	[WR_NO_PRIV_ESCALATION] = { "allowPrivilegeEscalation", false },
	[WR_NOT_PRIVILEGED] = { "privileged", false },
	[WR_DROP_ALL_CAPS] = { "dropAllCapabilities", true },
	[WR_SECCOMP] = { "seccomp", true },
	[WR_NO_HOST_NAMESPACES] = { "hostNamespaces", false },
	[WR_NO_HOST_PATH] = { "hostPath", false },
	[WR_NO_HOST_PORTS] = { "hostPorts", false },
	[WR_DENY_WINDOWS] = { "windowsPods", false },
	[WR_PROC_MOUNT] = { "procMount", true },
	[WR_SELINUX] = { "seLinux", true },
	[WR_APPARMOR] = { "appArmor", true },
	[WR_SYSCTLS] = { "sysctls", true },
	[WR_VOLUME_TYPES] = { "volumeTypes", true },
};

/* Where the policy text came from, so that errors can name a line. */
struct src {
	const char *label;
	const char *buf;
	size_t len;
};

const char *wpolicy_rule_key(enum wrule r)
{
	if ((int)r < 0 || r >= WR__COUNT)
		return "?";
	if (r == WR_RUN_AS_USER)
		return "allowedUIDs";
	return rule_keys[r].key;
}

/* The 1-based line of the first occurrence of "key" in the source text, or 0 when not found. The first occurrence
 * is a good enough pointer for a human reading the error. */
static int key_line(const struct src *s, const char *key)
{
	char pat[96];
	const char *hit;
	int line = 1;

	if (s->buf == NULL || str_fmt(pat, sizeof(pat), "\"%s\"", key) != 0)
		return 0;
	hit = memmem(s->buf, s->len, pat, strlen(pat));
	if (hit == NULL)
		return 0;
	for (const char *c = s->buf; c < hit; c++)
		if (*c == '\n')
			line++;
	return line;
}

/* Sets e to "<label>, line N: <message>" (line of key), returning ERR_INVALID. */
static int bad(const struct src *s, const char *key, struct err *e, const char *msg)
{
	int line = key_line(s, key);

	if (line > 0)
		return err_set(e, ERR_INVALID, "%s, line %d: %s", s->label, line, msg);
	return err_set(e, ERR_INVALID, "%s: %s", s->label, msg);
}

/* Refuses keys of obj not in allowed, naming the first unknown one and its line. */
static int check_keys(const struct src *s, const json_t *obj, const char *const *allowed, const char *where,
    struct err *e)
{
	const char *key = json_unknown_key(obj, allowed);
	char msg[512], k[80];

	if (key == NULL)
		return 0;
	str_escape(k, sizeof(k), key, strlen(key), 60);
	str_fmt(msg, sizeof(msg), "%s: unknown key \"%s\" (check its spelling; docs/webhook-policy.md lists the keys)",
	    where, k);
	return bad(s, key, e, msg);
}

/* A getter error (wrong type) gets the file and line prepended. */
static int typed(const struct src *s, const char *key, int r, struct err *e)
{
	char msg[ERR_MSG_MAX];

	if (r == 0 || r == ERR_NOT_FOUND)
		return r;
	str_copy(msg, sizeof(msg), e->msg);
	return bad(s, key, e, msg);
}

/* Frees a vector of n strings and the vector. */
static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Reads an array of non-empty strings (at most WPOLICY_MAX_LIST, each < 512 bytes) into a new vector. */
static int get_strv(const struct src *s, const json_t *obj, const char *key, const char *where, char ***out,
    size_t *nout, struct err *e)
{
	json_t *arr = NULL, *it;
	char **v = NULL, msg[512];
	size_t i, n = 0;
	int r;

	if ((r = typed(s, key, json_get_arr(obj, key, &arr, where, e), e)) != 0)
		return r;
	if (json_array_size(arr) > WPOLICY_MAX_LIST) {
		str_fmt(msg, sizeof(msg), "%s.%s has %zu entries, more than the limit of %d", where, key,
		    json_array_size(arr), WPOLICY_MAX_LIST);
		return bad(s, key, e, msg);
	}
	if ((v = calloc(json_array_size(arr) + 1, sizeof(*v))) == NULL)
		return err_set(e, ERR_NOMEM, "%s: out of memory", s->label);
	json_array_foreach(arr, i, it)
	{
		const char *str = json_string_value(it);

		if (str == NULL || json_string_length(it) == 0 || strlen(str) != json_string_length(it) ||
		    json_string_length(it) >= 512) {
			str_fmt(msg, sizeof(msg), "%s.%s[%zu] must be a non-empty string (at most 511 bytes)", where,
			    key, i);
			r = bad(s, key, e, msg);
			goto fail;
		}
		if ((v[n] = strdup(str)) == NULL) {
			r = err_set(e, ERR_NOMEM, "%s: out of memory", s->label);
			goto fail;
		}
		n++;
	}
	*out = v;
	*nout = n;
	return 0;
fail:
	strv_free(v, n);
	return r;
}

/* The image patterns: a "*" may only end a pattern, right after a "/". */
static int check_image_patterns(const struct src *s, char **v, size_t n, struct err *e)
{
	char msg[700], esc[540];

	for (size_t i = 0; i < n; i++) {
		const char *star = strchr(v[i], '*');
		size_t len = strlen(v[i]);

		if (star == NULL)
			continue;
		if (star == v[i] + len - 1 && len >= 2 && v[i][len - 2] == '/' && len > 2)
			continue;
		str_escape(esc, sizeof(esc), v[i], len, 512);
		str_fmt(msg, sizeof(msg),
		    "exempt.images[%zu] \"%s\": \"*\" is only allowed at the end, after a \"/\" "
		    "(\"registry.example.com/team/*\")",
		    i, esc);
		return bad(s, "images", e, msg);
	}
	return 0;
}

/* A DNS label (RFC 1123), the shape of a namespace name. */
static bool dns_label(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

/* Frees everything a policy owns (whatever its reference count); p may be NULL. */
static void policy_free(struct wpolicy *p)
{
	if (p == NULL)
		return;
	free(p->allowed_uids);
	strv_free(p->exempt_namespaces, p->n_exempt_namespaces);
	strv_free(p->exempt_users, p->n_exempt_users);
	strv_free(p->exempt_groups, p->n_exempt_groups);
	strv_free(p->exempt_images, p->n_exempt_images);
	json_decref(p->attestations);
	free(p->source);
	free(p);
}

/* allowedUIDs: absent means [1000]; [] switches the UID rule off. root may be NULL. */
static int parse_uids(const struct src *s, const json_t *root, struct wpolicy *p, struct err *e)
{
	json_t *arr = NULL, *it;
	char msg[256];
	size_t i;
	int r;

	r = typed(s, "allowedUIDs", json_get_arr(root, "allowedUIDs", &arr, "policy", e), e);
	if (r == ERR_NOT_FOUND) {
		if ((p->allowed_uids = malloc(sizeof(*p->allowed_uids))) == NULL)
			return err_set(e, ERR_NOMEM, "%s: out of memory", s->label);
		p->allowed_uids[0] = 1000;
		p->n_allowed_uids = 1;
		return 0;
	}
	if (r != 0)
		return r;
	if (json_array_size(arr) > WPOLICY_MAX_LIST) {
		str_fmt(msg, sizeof(msg), "allowedUIDs has more than %d entries", WPOLICY_MAX_LIST);
		return bad(s, "allowedUIDs", e, msg);
	}
	if ((p->allowed_uids = calloc(json_array_size(arr) + 1, sizeof(*p->allowed_uids))) == NULL)
		return err_set(e, ERR_NOMEM, "%s: out of memory", s->label);
	json_array_foreach(arr, i, it)
	{
		if (!json_is_integer(it) || json_integer_value(it) < 1 || json_integer_value(it) > UID_MAX_ALLOWED) {
			str_fmt(msg, sizeof(msg),
			    "allowedUIDs[%zu] must be an integer from 1 to %lld (0 is root, "
			    "which runAsNonRoot forbids)",
			    i, UID_MAX_ALLOWED);
			return bad(s, "allowedUIDs", e, msg);
		}
		p->allowed_uids[p->n_allowed_uids++] = json_integer_value(it);
	}
	p->rule[WR_RUN_AS_USER] = p->n_allowed_uids > 0;
	return 0;
}

/* The rules object: each key present sets its rule on or off (see rule_keys). */
static int parse_rules(const struct src *s, const json_t *root, struct wpolicy *p, struct err *e)
{
	static const char *const keys[] = { "readOnlyRootFilesystem", "runAsNonRoot", "allowPrivilegeEscalation",
		"privileged", "dropAllCapabilities", "seccomp", "hostNamespaces", "hostPath", "hostPorts",
		"windowsPods", "procMount", "seLinux", "appArmor", "sysctls", "volumeTypes", NULL };
	json_t *rules = NULL;
	int r;

	r = typed(s, "rules", json_get_obj(root, "rules", &rules, "policy", e), e);
	if (r == ERR_NOT_FOUND)
		return 0;
	if (r != 0 || (r = check_keys(s, rules, keys, "policy rules", e)) != 0)
		return r;
	for (int i = 0; i < WR__COUNT; i++) {
		bool v;

		if (rule_keys[i].key == NULL)
			continue;
		r = typed(s, rule_keys[i].key, json_get_bool(rules, rule_keys[i].key, &v, "policy rules", e), e);
		if (r == ERR_NOT_FOUND)
			continue;
		if (r != 0)
			return r;
		p->rule[i] = v == rule_keys[i].strict;
	}
	return 0;
}

/* The exempt object; namespaces default to kube-system when not given. root may be NULL. */
static int parse_exempt(const struct src *s, const json_t *root, struct wpolicy *p, struct err *e)
{
	static const char *const keys[] = { "namespaces", "users", "groups", "images", NULL };
	json_t *ex = NULL;
	int r;

	r = typed(s, "exempt", json_get_obj(root, "exempt", &ex, "policy", e), e);
	if (r != 0 && r != ERR_NOT_FOUND)
		return r;
	if (r == 0) {
		if ((r = check_keys(s, ex, keys, "policy exempt", e)) != 0)
			return r;
		r = get_strv(s, ex, "namespaces", "exempt", &p->exempt_namespaces, &p->n_exempt_namespaces, e);
		if (r != 0 && r != ERR_NOT_FOUND)
			return r;
		if ((r = get_strv(s, ex, "users", "exempt", &p->exempt_users, &p->n_exempt_users, e)) != 0 &&
		    r != ERR_NOT_FOUND)
			return r;
		if ((r = get_strv(s, ex, "groups", "exempt", &p->exempt_groups, &p->n_exempt_groups, e)) != 0 &&
		    r != ERR_NOT_FOUND)
			return r;
		if ((r = get_strv(s, ex, "images", "exempt", &p->exempt_images, &p->n_exempt_images, e)) != 0 &&
		    r != ERR_NOT_FOUND)
			return r;
		if ((r = check_image_patterns(s, p->exempt_images, p->n_exempt_images, e)) != 0)
			return r;
	}
	if (p->exempt_namespaces == NULL) {
		/* Default: kube-system. Room for the own namespace is made by wpolicy_set_own_namespace. */
		if ((p->exempt_namespaces = calloc(2, sizeof(char *))) == NULL ||
		    (p->exempt_namespaces[0] = strdup("kube-system")) == NULL)
			return err_set(e, ERR_NOMEM, "%s: out of memory", s->label);
		p->n_exempt_namespaces = 1;
	}
	return 0;
}

/* Builds a policy from a parsed document (root may be NULL: the defaults). */
static int build(const struct src *s, const json_t *root, struct wpolicy **out, struct err *e)
{
	static const char *const keys[] = { "allowedUIDs", "rules", "exempt", "attestations", NULL };
	struct wpolicy *p;
	json_t *att = NULL;
	const char *own;
	int r = ERR_NOMEM;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return err_set(e, ERR_NOMEM, "%s: out of memory", s->label);
	p->refs = 1;
	for (int i = 0; i < WR__COUNT; i++)
		p->rule[i] = true;
	if ((p->source = strdup(s->label)) == NULL) {
		err_set(e, r, "%s: out of memory", s->label);
		goto out;
	}
	if (root != NULL && !json_is_object(root)) {
		r = err_set(e, ERR_INVALID, "%s: the policy must be a JSON object ({\"rules\": {...}, ...})", s->label);
		goto out;
	}
	if (root != NULL && (r = check_keys(s, root, keys, "policy", e)) != 0)
		goto out;
	if ((r = parse_uids(s, root, p, e)) != 0)
		goto out;
	if (root != NULL && (r = parse_rules(s, root, p, e)) != 0)
		goto out;
	if ((r = parse_exempt(s, root, p, e)) != 0)
		goto out;
	if (root != NULL) {
		r = typed(s, "attestations", json_get_obj(root, "attestations", &att, "policy", e), e);
		if (r != 0 && r != ERR_NOT_FOUND)
			goto out;
		p->attestations = json_incref(att);
	}
	own = getenv("POD_NAMESPACE");
	if (own != NULL && *own != '\0' && (r = wpolicy_set_own_namespace(p, own, e)) != 0) {
		err_prefix(e, "environment variable POD_NAMESPACE");
		goto out;
	}
	*out = p;
	p = NULL; /* transferred */
	r = 0;
out:
	policy_free(p);
	return r;
}

int wpolicy_parse(const char *buf, size_t len, const char *label, struct wpolicy **out, struct err *e)
{
	struct src s = { label, buf, len };
	json_t *root = NULL;
	struct wpolicy *p = NULL;
	int r;

	*out = NULL;
	if ((r = json_parse_buf(buf, len, WPOLICY_MAX_BYTES, label, &root, e)) != 0)
		return r;
	if ((r = build(&s, root, &p, e)) == 0 && (r = sha256_digest_str(buf, len, p->digest, e)) != 0) {
		wpolicy_unref(p);
		p = NULL;
	}
	json_decref(root);
	*out = p;
	return r;
}

int wpolicy_load(const char *path, struct wpolicy **out, struct err *e)
{
	struct strbuf sb;
	char label[600], esc[520];
	int r;

	*out = NULL;
	if (path == NULL) {
		struct src s = { "built-in policy defaults", NULL, 0 };

		return build(&s, NULL, out, e);
	}
	/* Read the text ourselves (not json_load_file_capped) so that errors can point at lines and the digest
	 * covers exactly the bytes parsed. */
	str_escape(esc, sizeof(esc), path, strlen(path), 500);
	str_fmt(label, sizeof(label), "policy %s", esc);
	sb_init(&sb, WPOLICY_MAX_BYTES);
	r = fileio_read_capped(path, &sb, label, e);
	if (r == ERR_NOT_FOUND)
		err_set(e, r, "%s: no such file; check the --policy path and the volume mount", label);
	else if (r == 0)
		r = wpolicy_parse(sb.data != NULL ? sb.data : "", sb.len, label, out, e);
	sb_cleanup(&sb);
	return r;
}

int wpolicy_set_own_namespace(struct wpolicy *p, const char *ns, struct err *e)
{
	char **v, *copy;
	size_t n = p->n_exempt_namespaces;

	/* The own namespace, when set, is kept as one extra entry after the configured ones. */
	if (p->own_namespace_set) {
		free(p->exempt_namespaces[n - 1]);
		p->exempt_namespaces[n - 1] = NULL;
		p->n_exempt_namespaces = --n;
		p->own_namespace_set = false;
	}
	if (ns == NULL || *ns == '\0')
		return 0;
	if (!dns_label(ns))
		return err_set(e, ERR_INVALID,
		    "own namespace \"%.64s\" is not a valid namespace name (a DNS label: "
		    "lowercase letters, digits and '-', at most 63)",
		    ns);
	if ((copy = strdup(ns)) == NULL)
		return err_set(e, ERR_NOMEM, "own namespace: out of memory");
	if ((v = realloc(p->exempt_namespaces, (n + 2) * sizeof(*v))) == NULL) {
		free(copy);
		return err_set(e, ERR_NOMEM, "own namespace: out of memory");
	}
	v[n] = copy;
	v[n + 1] = NULL;
	p->exempt_namespaces = v;
	p->n_exempt_namespaces = n + 1;
	p->own_namespace_set = true;
	return 0;
}

struct wpolicy *wpolicy_ref(struct wpolicy *p)
{
	if (p != NULL)
		__atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
	return p;
}

void wpolicy_unref(struct wpolicy *p)
{
	if (p != NULL && __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) == 0)
		policy_free(p);
}

/* True when s equals one of v[0..n) (s may be NULL). */
static bool in_list(char *const *v, size_t n, const char *s)
{
	if (s == NULL)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

bool wpolicy_namespace_exempt(const struct wpolicy *p, const char *ns)
{
	return ns != NULL && *ns != '\0' && in_list(p->exempt_namespaces, p->n_exempt_namespaces, ns);
}

bool wpolicy_user_exempt(const struct wpolicy *p, const char *username)
{
	return in_list(p->exempt_users, p->n_exempt_users, username);
}

bool wpolicy_group_exempt(const struct wpolicy *p, const char *group)
{
	return in_list(p->exempt_groups, p->n_exempt_groups, group);
}

bool wpolicy_image_exempt(const struct wpolicy *p, const char *image)
{
	const char *at;

	if (image == NULL || *image == '\0')
		return false;
	at = strstr(image, "@sha256:");
	for (size_t i = 0; i < p->n_exempt_images; i++) {
		const char *pat = p->exempt_images[i];
		size_t len = strlen(pat);

		if (strcmp(pat, image) == 0)
			return true;
		if (at != NULL && str_has_prefix(pat, "sha256:") && strcmp(at + 1, pat) == 0)
			return true;
		if (len >= 2 && pat[len - 1] == '*' && strncmp(pat, image, len - 1) == 0)
			return true;
	}
	return false;
}
