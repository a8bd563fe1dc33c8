/* policy — the hardening policy: built-in defaults (the article's profile) and the JSON policy file over them.
 * Every key is checked (unknown keys refused, types and ranges checked); an error names the file, the line of the
 * offending key and what is wrong. The format is documented in docs/policy.md. */
#include "hardener/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "hardener/fstree.h"
#include "lib/fileio.h"
#include "lib/json.h"
#include "lib/str.h"

#define POLICY_MAX_BYTES (1u << 20) /* a policy file is small: refuse anything over 1 MiB */
#define POLICY_MAX_LIST 4096	    /* entries per list */
#define POLICY_MAX_STR 1024	    /* bytes per string */
#define POLICY_UID_MAX 2147483646   /* non-root ids up to INT32_MAX-1 */

static const char *const default_system_dirs[] = { "/bin", "/sbin", "/usr", "/etc", "/lib", "/lib32", "/lib64",
	"/libx32", "/opt", NULL };
static const char *const default_sticky_dirs[] = { "/tmp", "/var/tmp", NULL };
static const char *const default_bin_dirs[] = { "/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin",
	"/usr/local/sbin", NULL };
static const char *const default_allow[] = { "nologin", NULL };

bool strlist_has(const struct strlist *l, const char *s)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

/* Appends a copy of s. Returns 0 or ERR_NOMEM (the list is unchanged then). */
int strlist_add(struct strlist *l, const char *s)
{
	char **v, *c;

	if ((c = strdup(s)) == NULL)
		return ERR_NOMEM;
	if ((v = realloc(l->v, (l->n + 1) * sizeof(*v))) == NULL) {
		free(c);
		return ERR_NOMEM;
	}
	v[l->n++] = c;
	l->v = v;
	return 0;
}

void strlist_cleanup(struct strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Replaces *dst with a copy of src. ERR_NOMEM leaves *dst unchanged. */
static int set_str(char **dst, const char *src)
{
	char *c = strdup(src);

	if (c == NULL)
		return ERR_NOMEM;
	free(*dst);
	*dst = c;
	return 0;
}

/* Appends every string of the NULL-terminated v. ERR_NOMEM. */
static int list_from(struct strlist *l, const char *const *v)
{
	for (; *v != NULL; v++)
		if (strlist_add(l, *v) != 0)
			return ERR_NOMEM;
	return 0;
}

int hpolicy_init_defaults(struct hpolicy *p, struct err *e)
{
	memset(p, 0, sizeof(*p));
	p->users = p->permissions = p->executables = p->package_manager = p->system_cruft = true;
	p->upgrade = true;
	p->upgrade_required = false;
	p->self_delete = true;
	p->uid = p->gid = 1000;
	if (set_str(&p->user, "appuser") != 0 || set_str(&p->home, "/app") != 0 ||
	    set_str(&p->shell, "/usr/sbin/nologin") != 0 || set_str(&p->image_user, "1000:1000") != 0 ||
	    set_str(&p->profile, "default") != 0 || list_from(&p->system_dirs, default_system_dirs) != 0 ||
	    list_from(&p->sticky_dirs, default_sticky_dirs) != 0 || list_from(&p->bin_dirs, default_bin_dirs) != 0 ||
	    list_from(&p->allow, default_allow) != 0) {
		hpolicy_cleanup(p);
		return err_set(e, ERR_NOMEM, "out of memory setting up the default policy");
	}
	return 0;
}

void hpolicy_cleanup(struct hpolicy *p)
{
	if (p == NULL)
		return;
	free(p->user);
	free(p->home);
	free(p->shell);
	free(p->image_user);
	free(p->profile);
	strlist_cleanup(&p->keep_users);
	strlist_cleanup(&p->system_dirs);
	strlist_cleanup(&p->sticky_dirs);
	strlist_cleanup(&p->bin_dirs);
	strlist_cleanup(&p->allow);
	strlist_cleanup(&p->delete_paths);
	memset(p, 0, sizeof(*p));
}

/* Moves every owned member of src into dst (dst's old members freed); src is left empty. */
static void hpolicy_move(struct hpolicy *dst, struct hpolicy *src)
{
	hpolicy_cleanup(dst);
	*dst = *src;
	memset(src, 0, sizeof(*src));
}

/* A deep copy of src into dst (dst uninitialized). ERR_NOMEM. */
static int hpolicy_copy(struct hpolicy *dst, const struct hpolicy *src)
{
	const struct strlist *sl[] = { &src->keep_users, &src->system_dirs, &src->sticky_dirs, &src->bin_dirs,
		&src->allow, &src->delete_paths };
	struct strlist *dl[] = { &dst->keep_users, &dst->system_dirs, &dst->sticky_dirs, &dst->bin_dirs, &dst->allow,
		&dst->delete_paths };
	size_t i, j;

	*dst = *src;
	dst->user = dst->home = dst->shell = dst->image_user = dst->profile = NULL;
	for (i = 0; i < sizeof(dl) / sizeof(dl[0]); i++)
		memset(dl[i], 0, sizeof(*dl[i]));
	if (set_str(&dst->user, src->user) != 0 || set_str(&dst->home, src->home) != 0 ||
	    set_str(&dst->shell, src->shell) != 0 || set_str(&dst->image_user, src->image_user) != 0 ||
	    set_str(&dst->profile, src->profile) != 0)
		goto fail;
	for (i = 0; i < sizeof(dl) / sizeof(dl[0]); i++)
		for (j = 0; j < sl[i]->n; j++)
			if (strlist_add(dl[i], sl[i]->v[j]) != 0)
				goto fail;
	return 0;
fail:
	hpolicy_cleanup(dst);
	return ERR_NOMEM;
}

/* The loader's state: the raw text (to find the line of a key for messages) and the file name. */
struct loader {
	const char *path;
	const char *text;
	size_t len;
	struct err *e;
};

/* The 1-based line of the key named by the dotted where.key path in the raw text: each component is searched for
 * as "name": after the previous one, which finds the right "enabled" among the steps. 0 when not found. */
static unsigned key_line(const struct loader *ld, const char *where, const char *key)
{
	char path[512], pat[160];
	const char *pos = ld->text, *end = ld->text + ld->len, *comp, *hit = NULL, *c;
	unsigned line = 1;

	if (str_fmt(path, sizeof(path), "%s%s%s", where, *where && key ? "." : "", key ? key : "") != 0)
		return 0;
	for (comp = path; *comp != '\0'; comp = *c ? c + 1 : c) {
		const char *p;
		size_t plen, clen;

		for (c = comp; *c != '\0' && *c != '.'; c++)
			;
		clen = (size_t)(c - comp);
		if (clen == 0)
			continue;
		if (str_fmt(pat, sizeof(pat), "\"%.*s\"", (int)clen, comp) != 0)
			return 0;
		plen = strlen(pat);
		for (p = pos, hit = NULL; plen <= (size_t)(end - p); p++) {
			const char *q = p + plen;

			if (memcmp(p, pat, plen) != 0)
				continue;
			while (q < end && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n'))
				q++;
			if (q < end && *q == ':') {
				hit = p;
				break;
			}
		}
		if (hit == NULL)
			return 0;
		pos = hit + plen;
	}
	if (hit == NULL)
		return 0;
	for (c = ld->text; c < hit; c++)
		if (*c == '\n')
			line++;
	return line;
}

/* Turns the getter's message in ld->e into "<file>: line N: <message>; see docs/policy.md". */
static int fail_at(const struct loader *ld, int code, const char *where, const char *key)
{
	unsigned line = key_line(ld, where, key);
	char msg[ERR_MSG_MAX];

	str_copy(msg, sizeof(msg), ld->e->msg);
	if (line > 0)
		return err_set(ld->e, code, "policy %s: line %u: %s (see docs/policy.md)", ld->path, line, msg);
	return err_set(ld->e, code, "policy %s: %s (see docs/policy.md)", ld->path, msg);
}

/* json_check_keys with the line of the unknown key added to the message. */
static int check_keys(const struct loader *ld, const json_t *obj, const char *const *allowed, const char *where)
{
	if (json_check_keys(obj, allowed, where, ld->e) == 0)
		return 0;
	return fail_at(ld, ERR_INVALID, where, json_unknown_key(obj, allowed));
}

/* Optional members: absent keeps the default; present with the wrong type is an error with its line. */
static int opt_bool(const struct loader *ld, const json_t *obj, const char *where, const char *key, bool *out)
{
	int r = json_get_bool(obj, key, out, where, ld->e);

	return r == ERR_NOT_FOUND ? 0 : r != 0 ? fail_at(ld, r, where, key) : 0;
}

/* An optional uid or gid (1..POLICY_UID_MAX): absent keeps *out; a bad value fails with its line. */
static int opt_id(const struct loader *ld, const json_t *obj, const char *where, const char *key, uint32_t *out)
{
	int64_t v;
	int r = json_get_int(obj, key, 1, POLICY_UID_MAX, &v, where, ld->e);

	if (r == ERR_NOT_FOUND)
		return 0;
	if (r != 0) {
		if (r == ERR_INVALID && json_is_integer(json_object_get(obj, key)))
			err_set(ld->e, r, "%s.%s must be between 1 and %d (the application runs as non-root), not %lld",
			    where, key, POLICY_UID_MAX, (long long)json_integer_value(json_object_get(obj, key)));
		return fail_at(ld, r, where, key);
	}
	*out = (uint32_t)v;
	return 0;
}

enum str_kind { STR_ANY, STR_ABS_PATH, STR_NAME, STR_ACCOUNT };

/* Checks a string value of the given kind; returns NULL when fine, else why not. */
static const char *str_problem(const char *s, enum str_kind kind)
{
	size_t i, n = strlen(s);

	if (n == 0)
		return "must not be empty";
	if (n > POLICY_MAX_STR)
		return "is too long";
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return "must not contain control characters";
	switch (kind) {
	case STR_ABS_PATH:
		if (s[0] != '/')
			return "must be an absolute path (starting with \"/\")";
		if (strstr(s, "/../") != NULL || str_has_suffix(s, "/.."))
			return "must not contain \"..\"";
		break;
	case STR_NAME:
		if (strchr(s, '/') != NULL || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
			return "must be a file name (no \"/\")";
		break;
	case STR_ACCOUNT:
		if (n > 32)
			return "must be at most 32 characters";
		for (i = 0; i < n; i++) {
			char c = s[i];

			if (!((c >= 'a' && c <= 'z') || c == '_' || (i > 0 && ((c >= '0' && c <= '9') || c == '-'))))
				return "must be a user name: lowercase letters, digits, '_' and '-', not starting with "
				       "a "
				       "digit or '-'";
		}
		break;
	case STR_ANY:
		break;
	}
	return NULL;
}

/* Stores s (normalized when it is a path) in *dst. */
static int take_str(const struct loader *ld, const char *where, const char *key, const char *s, enum str_kind kind,
    char **dst)
{
	char norm[4096];
	const char *why = str_problem(s, kind);

	if (why != NULL) {
		char shown[100];

		str_escape(shown, sizeof(shown), s, strlen(s), 80);
		err_set(ld->e, ERR_INVALID, "%s.%s %s, not \"%s\"", where, key, why, shown);
		return fail_at(ld, ERR_INVALID, where, key);
	}
	if (kind == STR_ABS_PATH) {
		if (fs_path_normalize(s, norm, sizeof(norm)) != 0) {
			err_set(ld->e, ERR_INVALID, "%s.%s is too long", where, key);
			return fail_at(ld, ERR_INVALID, where, key);
		}
		s = norm;
	}
	if (set_str(dst, s) != 0)
		return err_set(ld->e, ERR_NOMEM, "out of memory reading policy %s", ld->path);
	return 0;
}

/* An optional string of the given kind (take_str checks and copies it into *dst): absent keeps *dst. */
static int opt_str(const struct loader *ld, const json_t *obj, const char *where, const char *key, enum str_kind kind,
    char **dst)
{
	const char *s = NULL;
	int r = json_get_str(obj, key, &s, where, ld->e);

	if (r == ERR_NOT_FOUND)
		return 0;
	if (r != 0)
		return fail_at(ld, r, where, key);
	return take_str(ld, where, key, s, kind, dst);
}

/* An optional array of strings; present replaces the default list entirely. Duplicates are dropped. */
static int opt_list(const struct loader *ld, const json_t *obj, const char *where, const char *key, enum str_kind kind,
    struct strlist *dst)
{
	json_t *arr = NULL, *v;
	struct strlist l = { NULL, 0 };
	size_t i;
	int r = json_get_arr(obj, key, &arr, where, ld->e);

	if (r == ERR_NOT_FOUND)
		return 0;
	if (r != 0)
		return fail_at(ld, r, where, key);
	if (json_array_size(arr) > POLICY_MAX_LIST) {
		err_set(ld->e, ERR_TOO_LARGE, "%s.%s has %zu entries, over the limit of %u", where, key,
		    json_array_size(arr), POLICY_MAX_LIST);
		return fail_at(ld, ERR_TOO_LARGE, where, key);
	}
	json_array_foreach(arr, i, v)
	{
		char *s = NULL;

		if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
			err_set(ld->e, ERR_INVALID, "%s.%s[%zu] must be a string", where, key, i);
			r = fail_at(ld, ERR_INVALID, where, key);
			goto out;
		}
		if ((r = take_str(ld, where, key, json_string_value(v), kind, &s)) != 0)
			goto out;
		if (!strlist_has(&l, s) && strlist_add(&l, s) != 0) {
			free(s);
			r = err_set(ld->e, ERR_NOMEM, "out of memory reading policy %s", ld->path);
			goto out;
		}
		free(s);
	}
	strlist_cleanup(dst);
	*dst = l;
	l.v = NULL;
	l.n = 0; /* transferred */
	r = 0;
out:
	strlist_cleanup(&l);
	return r;
}

/* The object steps.<name>, or NULL when absent. */
static int opt_step(const struct loader *ld, const json_t *steps, const char *name, const char *const *allowed,
    json_t **out)
{
	char where[64];
	int r;

	*out = NULL;
	if (steps == NULL)
		return 0;
	r = json_get_obj(steps, name, out, "steps", ld->e);
	if (r == ERR_NOT_FOUND)
		return 0;
	if (r != 0)
		return fail_at(ld, r, "steps", name);
	str_fmt(where, sizeof(where), "steps.%s", name);
	return check_keys(ld, *out, allowed, where);
}

/* Reads every member of the policy object root into p (which holds the values to keep when a member is absent).
 * On error p is partly updated: the caller works on a copy. */
static int load_obj(const struct loader *ld, const json_t *root, struct hpolicy *p)
{
	static const char *const top_keys[] = { "profile", "steps", "image", NULL };
	static const char *const step_keys[] = { "upgrade", "users", "permissions", "executables", "packageManager",
		"systemCruft", "self", NULL };
	static const char *const upgrade_keys[] = { "enabled", "required", NULL };
	static const char *const users_keys[] = { "enabled", "name", "uid", "gid", "home", "shell", "keep", NULL };
	static const char *const perm_keys[] = { "enabled", "systemDirs", "stickyDirs", NULL };
	static const char *const exe_keys[] = { "enabled", "binDirs", "allow", NULL };
	static const char *const enabled_keys[] = { "enabled", NULL };
	static const char *const cruft_keys[] = { "enabled", "deletePaths", NULL };
	static const char *const image_keys[] = { "user", NULL };
	json_t *steps = NULL, *s = NULL, *image = NULL;
	int r;

	if (!json_is_object(root))
		return err_set(ld->e, ERR_INVALID,
		    "policy %s: the top level must be a JSON object (see docs/policy.md)", ld->path);
	if ((r = check_keys(ld, root, top_keys, "")) != 0 ||
	    (r = opt_str(ld, root, "", "profile", STR_ANY, &p->profile)) != 0)
		return r;
	r = json_get_obj(root, "steps", &steps, "", ld->e);
	if (r != 0 && r != ERR_NOT_FOUND)
		return fail_at(ld, r, "", "steps");
	if (steps != NULL && (r = check_keys(ld, steps, step_keys, "steps")) != 0)
		return r;

	if ((r = opt_step(ld, steps, "upgrade", upgrade_keys, &s)) != 0)
		return r;
	if (s != NULL &&
	    ((r = opt_bool(ld, s, "steps.upgrade", "enabled", &p->upgrade)) != 0 ||
		(r = opt_bool(ld, s, "steps.upgrade", "required", &p->upgrade_required)) != 0))
		return r;
	if ((r = opt_step(ld, steps, "users", users_keys, &s)) != 0)
		return r;
	if (s != NULL &&
	    ((r = opt_bool(ld, s, "steps.users", "enabled", &p->users)) != 0 ||
		(r = opt_str(ld, s, "steps.users", "name", STR_ACCOUNT, &p->user)) != 0 ||
		(r = opt_id(ld, s, "steps.users", "uid", &p->uid)) != 0 ||
		(r = opt_id(ld, s, "steps.users", "gid", &p->gid)) != 0 ||
		(r = opt_str(ld, s, "steps.users", "home", STR_ABS_PATH, &p->home)) != 0 ||
		(r = opt_str(ld, s, "steps.users", "shell", STR_ABS_PATH, &p->shell)) != 0 ||
		(r = opt_list(ld, s, "steps.users", "keep", STR_ACCOUNT, &p->keep_users)) != 0))
		return r;
	if ((r = opt_step(ld, steps, "permissions", perm_keys, &s)) != 0)
		return r;
	if (s != NULL &&
	    ((r = opt_bool(ld, s, "steps.permissions", "enabled", &p->permissions)) != 0 ||
		(r = opt_list(ld, s, "steps.permissions", "systemDirs", STR_ABS_PATH, &p->system_dirs)) != 0 ||
		(r = opt_list(ld, s, "steps.permissions", "stickyDirs", STR_ABS_PATH, &p->sticky_dirs)) != 0))
		return r;
	if ((r = opt_step(ld, steps, "executables", exe_keys, &s)) != 0)
		return r;
	if (s != NULL &&
	    ((r = opt_bool(ld, s, "steps.executables", "enabled", &p->executables)) != 0 ||
		(r = opt_list(ld, s, "steps.executables", "binDirs", STR_ABS_PATH, &p->bin_dirs)) != 0 ||
		(r = opt_list(ld, s, "steps.executables", "allow", STR_NAME, &p->allow)) != 0))
		return r;
	if ((r = opt_step(ld, steps, "packageManager", enabled_keys, &s)) != 0)
		return r;
	if (s != NULL && (r = opt_bool(ld, s, "steps.packageManager", "enabled", &p->package_manager)) != 0)
		return r;
	if ((r = opt_step(ld, steps, "systemCruft", cruft_keys, &s)) != 0)
		return r;
	if (s != NULL &&
	    ((r = opt_bool(ld, s, "steps.systemCruft", "enabled", &p->system_cruft)) != 0 ||
		(r = opt_list(ld, s, "steps.systemCruft", "deletePaths", STR_ABS_PATH, &p->delete_paths)) != 0))
		return r;
	if ((r = opt_step(ld, steps, "self", enabled_keys, &s)) != 0)
		return r;
	if (s != NULL && (r = opt_bool(ld, s, "steps.self", "enabled", &p->self_delete)) != 0)
		return r;

	r = json_get_obj(root, "image", &image, "", ld->e);
	if (r == ERR_NOT_FOUND)
		return 0;
	if (r != 0)
		return fail_at(ld, r, "", "image");
	if ((r = check_keys(ld, image, image_keys, "image")) != 0 ||
	    (r = opt_str(ld, image, "image", "user", STR_ANY, &p->image_user)) != 0)
		return r;
	if (strchr(p->image_user, ' ') != NULL || strlen(p->image_user) > 64) {
		err_set(ld->e, ERR_INVALID, "image.user must be \"UID:GID\" or a user name without spaces");
		return fail_at(ld, ERR_INVALID, "image", "user");
	}
	return 0;
}

/* Reads the whole file (at most POLICY_MAX_BYTES) into *out (free() it). */
static int read_file(const char *path, char **out, size_t *len, struct err *e)
{
	struct strbuf sb;
	char label[600];
	int r;

	*out = NULL;
	sb_init(&sb, POLICY_MAX_BYTES);
	str_fmt(label, sizeof(label), "policy %.500s", path);
	r = fileio_read_capped(path, &sb, label, e);
	if (r == ERR_NOT_FOUND)
		err_set(e, r, "policy %s: no such file; check the --policy argument", path);
	else if (r == ERR_TOO_LARGE)
		err_set(e, r, "policy %s: larger than %u bytes; a policy file is small, is this the right file?", path,
		    POLICY_MAX_BYTES);
	else if (r == 0 && (*out = sb_steal(&sb, len)) == NULL)
		r = err_set(e, ERR_NOMEM, "policy %s: out of memory", path);
	sb_cleanup(&sb);
	return r;
}

int hpolicy_load_buf(struct hpolicy *p, const char *name, const char *text, size_t len, struct err *e)
{
	struct hpolicy tmp;
	struct loader ld;
	json_t *root = NULL;
	char label[600];
	int r;

	memset(&tmp, 0, sizeof(tmp));
	str_fmt(label, sizeof(label), "policy %.500s", name);
	if ((r = json_parse_buf(text, len, POLICY_MAX_BYTES, label, &root, e)) != 0)
		goto out; /* "policy FILE: line L, column C: reason" */
	if ((r = hpolicy_copy(&tmp, p)) != 0) {
		r = err_set(e, ERR_NOMEM, "policy %s: out of memory", name);
		goto out;
	}
	ld.path = name;
	ld.text = text;
	ld.len = len;
	ld.e = e;
	if ((r = load_obj(&ld, root, &tmp)) != 0)
		goto out;
	hpolicy_move(p, &tmp);
	r = 0;
out:
	hpolicy_cleanup(&tmp);
	json_decref(root);
	return r;
}

int hpolicy_load_file(struct hpolicy *p, const char *path, struct err *e)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	if ((r = read_file(path, &text, &len, e)) != 0)
		return r;
	r = hpolicy_load_buf(p, path, text, len, e);
	free(text);
	return r;
}

int hpolicy_allow(struct hpolicy *p, const char *name, struct err *e)
{
	const char *why = str_problem(name, STR_NAME);

	if (why != NULL)
		return err_set(e, ERR_INVALID,
		    "--keep \"%.80s\": the name %s; give the program's file name, e.g. "
		    "--keep python3",
		    name, why);
	if (strlist_has(&p->allow, name))
		return 0;
	if (strlist_add(&p->allow, name) != 0)
		return err_set(e, ERR_NOMEM, "out of memory adding --keep %.80s", name);
	return 0;
}

/* The list as a JSON array of strings (new reference), NULL on allocation failure. */
static json_t *list_json(const struct strlist *l)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < l->n; i++)
		if (json_array_append_new(a, json_string(l->v[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

json_t *hpolicy_to_json(const struct hpolicy *p)
{
	/* "o", not "o*": a list that could not be built (NULL, out of memory) must fail the whole pack rather than
	 * drop its key, or hpolicy_finalize would digest a policy that is not the effective one. */
	json_t *root = json_pack("{s:s?, s:{s:{s:b,s:b}, s:{s:b,s:s?,s:I,s:I,s:s?,s:s?,s:o}, s:{s:b,s:o,s:o},"
				 " s:{s:b,s:o,s:o}, s:{s:b}, s:{s:b,s:o}, s:{s:b}}, s:{s:s?}}",
	    "profile", p->profile, "steps", "upgrade", "enabled", p->upgrade, "required", p->upgrade_required, "users",
	    "enabled", p->users, "name", p->user, "uid", (json_int_t)p->uid, "gid", (json_int_t)p->gid, "home", p->home,
	    "shell", p->shell, "keep", list_json(&p->keep_users), "permissions", "enabled", p->permissions,
	    "systemDirs", list_json(&p->system_dirs), "stickyDirs", list_json(&p->sticky_dirs), "executables",
	    "enabled", p->executables, "binDirs", list_json(&p->bin_dirs), "allow", list_json(&p->allow),
	    "packageManager", "enabled", p->package_manager, "systemCruft", "enabled", p->system_cruft, "deletePaths",
	    list_json(&p->delete_paths), "self", "enabled", p->self_delete, "image", "user", p->image_user);

	return root;
}

int hpolicy_finalize(struct hpolicy *p, struct err *e)
{
	json_t *j = hpolicy_to_json(p);
	char *s = NULL;
	size_t len = 0;
	int r;

	if (j == NULL || (s = json_dump_canonical(j, &len)) == NULL) {
		r = err_set(e, ERR_NOMEM, "out of memory computing the policy digest");
		goto out;
	}
	r = sha256_digest_str(s, len, p->digest, e);
out:
	free(s);
	json_decref(j);
	return r;
}
