/* step_users — the accounts of the image: the app user exists, every other account but root (and the policy's
 * keep list) is deleted by exact name, every password is locked and nobody has a login shell.
 * Works on /etc/passwd, group, shadow and gshadow through accounts.c; a malformed file is reported and left as is. */
#include "hardener/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hardener/accounts.h"

struct afile {
	const char *path;
	enum acct_kind kind;
	uint32_t create_mode;
	struct fs_node *node; /* the file in the tree, NULL when absent */
	struct acct_file *f;  /* parsed content, NULL when absent or refused */
	char *orig;	      /* the content as read */
	size_t orig_len;
	bool refused;
};

/* Whether path resolves to something that is not a directory. */
static bool path_exists(struct fstree *t, const char *path)
{
	const struct fs_node *n;
	char out[4096];
	struct err e;

	return fstree_resolve(t, path, true, out, sizeof(out), &e) == 0 && (n = fstree_get(t, out)) != NULL &&
	    n->type != FS_DIR;
}

/* The shell given to every account but the app user: a nologin that exists in the tree. */
static const char *nologin_path(struct fstree *t)
{
	static const char *const cands[] = { "/usr/sbin/nologin", "/sbin/nologin", "/usr/bin/nologin", "/bin/nologin" };
	size_t i;

	for (i = 0; i < sizeof(cands) / sizeof(cands[0]); i++)
		if (path_exists(t, cands[i]))
			return cands[i];
	return "/sbin/nologin";
}

/* Whether a shell already refuses logins (an absolute .../nologin or .../false, present or not: a missing shell
 * refuses too). Such a shell is left as it is, so that a second run changes nothing. */
static bool no_login_shell(const char *sh)
{
	const char *b = strrchr(sh, '/');

	b = b ? b + 1 : sh;
	return sh[0] == '/' && (strcmp(b, "nologin") == 0 || strcmp(b, "false") == 0);
}

/* Whether an account is kept: root, the app user and the policy's keep list, by exact name. */
static bool kept_user(const struct hpolicy *p, const char *name)
{
	return strcmp(name, "root") == 0 || strcmp(name, p->user) == 0 || strlist_has(&p->keep_users, name);
}

/* Loads a colon file. Absent: a->node and a->f stay NULL. Not a regular file or malformed: reported, a->refused. */
static int afile_load(struct harden_ctx *ctx, struct report_step *rs, struct afile *a, struct err *e)
{
	struct fs_node *n = fstree_get(ctx->tree, a->path);
	struct strbuf sb;
	struct err sub;
	int r;

	if (n == NULL || (n->changes & FS_CH_DELETE))
		return 0;
	a->node = n;
	if (n->type != FS_REG) {
		char msg[512];

		snprintf(msg, sizeof(msg),
		    "%s is not a regular file (a symlink or special file); it was left unchanged, "
		    "replace it with a regular file",
		    a->path);
		report_step_fail(rs, msg);
		report_note(rs, "%s", msg);
		a->refused = true;
		return 0;
	}
	sb_init(&sb, ACCT_MAX_FILE + 1);
	err_clear(&sub);
	r = fs_backend_read(ctx->backend, ctx->tree, n, ACCT_MAX_FILE, &sb, &sub);
	if (r == ERR_NOMEM) {
		sb_cleanup(&sb);
		return err_set(e, r, "%s", sub.msg);
	}
	if (r == 0)
		r = accounts_parse(a->kind, a->path, sb.data ? sb.data : "", sb.len, &a->f, &sub);
	if (r == ERR_NOMEM) {
		sb_cleanup(&sb);
		return err_set(e, r, "%s", sub.msg);
	}
	if (r != 0) {
		report_step_fail(rs, sub.msg);
		report_note(rs, "%s", sub.msg);
		a->refused = true;
		sb_cleanup(&sb);
		return 0;
	}
	a->orig_len = sb.len;
	if ((a->orig = sb_steal(&sb, NULL)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory reading %s", a->path);
	return 0;
}

/* Makes sure dir exists as a directory; creates it (and missing parents) root:root 0755 otherwise. */
static int ensure_dir(struct harden_ctx *ctx, struct report_step *rs, const char *dir, uint32_t uid, uint32_t gid,
    struct fs_node **out, struct err *e)
{
	struct fs_node *n = fstree_get(ctx->tree, dir), tmpl;
	char parent[4096];
	char *slash;
	int r;

	*out = NULL;
	if (n != NULL && !(n->changes & FS_CH_DELETE)) {
		*out = n;
		return 0;
	}
	if (strcmp(dir, "/") != 0) {
		struct fs_node *pn;

		if (str_copy(parent, sizeof(parent), dir) != 0)
			return err_set(e, ERR_TOO_LARGE, "path %.200s is too long", dir);
		slash = strrchr(parent, '/');
		if (slash == parent)
			slash[1] = '\0';
		else
			*slash = '\0';
		if ((r = ensure_dir(ctx, rs, parent, 0, 0, &pn, e)) != 0)
			return r;
		if (pn->type != FS_DIR)
			return 0;
	}
	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.path = (char *)dir;
	tmpl.type = FS_DIR;
	tmpl.mode = 0755;
	tmpl.uid = uid;
	tmpl.gid = gid;
	tmpl.changes = FS_CH_CREATE;
	if ((r = fstree_put(ctx->tree, &tmpl, out, e)) != 0)
		return r;
	report_change(rs, "create", dir, "directory");
	return 0;
}

/* Writes a's new content into the tree when it differs (or creates the file). */
static int afile_store(struct harden_ctx *ctx, struct report_step *rs, struct afile *a, struct err *e)
{
	struct strbuf sb;
	int r;

	if (a->f == NULL)
		return 0;
	sb_init(&sb, ACCT_MAX_FILE);
	if ((r = accounts_fmt(a->f, &sb, e)) != 0)
		goto out;
	if (a->node == NULL) {
		struct fs_node tmpl, *dir;

		if ((r = ensure_dir(ctx, rs, "/etc", 0, 0, &dir, e)) != 0)
			goto out;
		if (dir->type != FS_DIR) {
			report_step_fail(rs, "/etc is not a directory; account files were not created");
			r = 0;
			goto out;
		}
		memset(&tmpl, 0, sizeof(tmpl));
		tmpl.path = (char *)a->path;
		tmpl.type = FS_REG;
		tmpl.mode = a->create_mode;
		tmpl.changes = FS_CH_CREATE;
		if ((r = fstree_put(ctx->tree, &tmpl, &a->node, e)) != 0 ||
		    (r = fstree_mark_content(a->node, sb.data ? sb.data : "", sb.len, e)) != 0)
			goto out;
		report_change(rs, "create", a->path, NULL);
	} else if (sb.len != a->orig_len || memcmp(sb.data ? sb.data : "", a->orig, sb.len) != 0) {
		if ((r = fstree_mark_content(a->node, sb.data ? sb.data : "", sb.len, e)) != 0)
			goto out;
		report_change(rs, "rewrite", a->path, NULL);
	}
	r = 0;
out:
	sb_cleanup(&sb);
	return r;
}

/* Sets a field, turning "changed" into a flag; negative on error. */
static int set(struct acct_file *f, size_t i, size_t k, const char *v, bool *changed, struct err *e)
{
	int r = accounts_set(f, i, k, v, e);

	if (r > 0)
		*changed = true;
	return r < 0 ? r : 0;
}

/* Whether a password field is already locked without hash material. */
static bool is_locked(const char *pw)
{
	return strcmp(pw, "!") == 0 || strcmp(pw, "*") == 0 || strcmp(pw, "!*") == 0;
}

/* passwd: delete other users, update the app user, no login shell, password field pointing to shadow. */
static int do_passwd(struct harden_ctx *ctx, struct report_step *rs, struct afile *a, bool have_shadow, struct err *e)
{
	const struct hpolicy *p = ctx->policy;
	const char *nologin = nologin_path(ctx->tree);
	const char *pwfield = have_shadow ? "x" : "*";
	char uid[16], gid[16];
	size_t i;
	long app;
	int r;

	snprintf(uid, sizeof(uid), "%u", p->uid);
	snprintf(gid, sizeof(gid), "%u", p->gid);
	for (i = 0; i < a->f->n; i++) {
		const char *name;
		bool changed = false;
		char detail[512];

		if (!accounts_is_entry(a->f, i))
			continue;
		name = accounts_get(a->f, i, PW_NAME);
		if (!kept_user(p, name)) {
			report_change(rs, "delete-user", a->path, name);
			accounts_delete(a->f, i);
			continue;
		}
		if (strcmp(name, p->user) == 0) {
			if ((r = set(a->f, i, PW_UID, uid, &changed, e)) != 0 ||
			    (r = set(a->f, i, PW_GID, gid, &changed, e)) != 0 ||
			    (r = set(a->f, i, PW_DIR, p->home, &changed, e)) != 0 ||
			    (r = set(a->f, i, PW_PASSWD, pwfield, &changed, e)) != 0 ||
			    (r = set(a->f, i, PW_SHELL, p->shell, &changed, e)) != 0)
				return r;
			if (changed)
				report_change(rs, "update-user", a->path, name);
			continue;
		}
		if (!no_login_shell(accounts_get(a->f, i, PW_SHELL))) {
			snprintf(detail, sizeof(detail), "%.100s: %.200s -> %s", name, accounts_get(a->f, i, PW_SHELL),
			    nologin);
			if ((r = set(a->f, i, PW_SHELL, nologin, &changed, e)) != 0)
				return r;
			report_change(rs, "set-shell", a->path, detail);
		}
		changed = false;
		if ((r = set(a->f, i, PW_PASSWD, pwfield, &changed, e)) != 0)
			return r;
		if (changed)
			report_change(rs, "lock", a->path, name);
		if (strcmp(accounts_get(a->f, i, PW_UID), uid) == 0)
			report_note(rs, "kept account %s has uid %s, the app user's uid", name, uid);
	}
	if ((app = accounts_find(a->f, p->user)) < 0) {
		const char *const fields[] = { p->user, pwfield, uid, gid, "", p->home, p->shell };

		if ((r = accounts_append(a->f, fields, e)) != 0)
			return r;
		report_change(rs, "create-user", a->path, p->user);
	}
	return 0;
}

/* Collects the primary gids of the accounts kept in passwd (except the app user's, which the app group owns). */
static size_t kept_gids(const struct hpolicy *p, const struct afile *pw, uint32_t *gids, size_t max)
{
	size_t i, n = 0;
	struct err e;

	if (pw->f == NULL)
		return 0;
	for (i = 0; i < pw->f->n && n < max; i++) {
		uint32_t g;

		if (accounts_is_entry(pw->f, i) && strcmp(accounts_get(pw->f, i, PW_NAME), p->user) != 0 &&
		    accounts_id(pw->f, i, PW_GID, &g, &e) == 0)
			gids[n++] = g;
	}
	return n;
}

/* Rewrites a comma-separated member list keeping only kept users. */
static int filter_members(const struct hpolicy *p, struct acct_file *f, size_t i, size_t k, bool *changed,
    struct err *e)
{
	const char *list = accounts_get(f, i, k);
	struct strbuf sb;
	const char *q = list;
	int r = 0;

	sb_init(&sb, ACCT_MAX_LINE);
	while (*q) {
		const char *c = strchr(q, ',');
		size_t ll = c ? (size_t)(c - q) : strlen(q);
		char name[256];

		if (ll > 0 && ll < sizeof(name)) {
			memcpy(name, q, ll);
			name[ll] = '\0';
			if (kept_user(p, name) && ((sb.len > 0 && sb_puts(&sb, ",") != 0) || sb_puts(&sb, name) != 0)) {
				r = err_set(e, ERR_NOMEM, "out of memory editing %s", f->label);
				goto out;
			}
		}
		if (c == NULL)
			break;
		q = c + 1;
	}
	r = set(f, i, k, sb.data ? sb.data : "", changed, e);
out:
	sb_cleanup(&sb);
	return r;
}

/* Whether a group is kept: by name (root, the app user, the keep list) or as the primary group of a kept account. */
static bool kept_group(const struct hpolicy *p, const char *name, uint32_t gid, bool gid_known, const uint32_t *gids,
    size_t ngids)
{
	size_t i;

	if (kept_user(p, name))
		return true;
	if (!gid_known || gid == p->gid)
		return false;
	for (i = 0; i < ngids; i++)
		if (gids[i] == gid)
			return true;
	return false;
}

/* group and gshadow: delete other groups, lock group passwords, drop deleted users from member lists, add the app
 * group. kept_names collects the names of the kept groups (from group) for gshadow. */
static int do_groups(struct harden_ctx *ctx, struct report_step *rs, struct afile *a, const struct afile *group,
    const uint32_t *gids, size_t ngids, bool have_gshadow, struct err *e)
{
	const struct hpolicy *p = ctx->policy;
	bool gs = a->kind == ACCT_GSHADOW;
	char gid[16];
	size_t i;
	int r;

	snprintf(gid, sizeof(gid), "%u", p->gid);
	for (i = 0; i < a->f->n; i++) {
		const char *name;
		bool keep, changed = false;
		uint32_t g = 0;

		if (!accounts_is_entry(a->f, i))
			continue;
		name = accounts_get(a->f, i, 0);
		if (gs) {
			/* gshadow has no gid: a group is kept when group kept it (or by name when group is unusable). */
			keep = group->f != NULL ? accounts_find(group->f, name) >= 0 : kept_user(p, name);
		} else {
			bool known = accounts_id(a->f, i, GR_GID, &g, e) == 0;

			keep = kept_group(p, name, g, known, gids, ngids);
		}
		if (!keep) {
			report_change(rs, "delete-group", a->path, name);
			accounts_delete(a->f, i);
			continue;
		}
		if (!gs && strcmp(name, p->user) == 0 && (r = set(a->f, i, GR_GID, gid, &changed, e)) != 0)
			return r;
		if (gs) {
			if ((r = filter_members(p, a->f, i, SG_ADMINS, &changed, e)) != 0 ||
			    (r = filter_members(p, a->f, i, SG_MEMBERS, &changed, e)) != 0)
				return r;
		} else if ((r = filter_members(p, a->f, i, GR_MEM, &changed, e)) != 0) {
			return r;
		}
		if (changed)
			report_change(rs, "update-group", a->path, name);
		changed = false;
		if (gs ? !is_locked(accounts_get(a->f, i, SG_PASSWD))
		       : strcmp(accounts_get(a->f, i, GR_PASSWD), have_gshadow ? "x" : "!") != 0) {
			if ((r = set(a->f, i, 1, gs ? "!" : have_gshadow ? "x" : "!", &changed, e)) != 0)
				return r;
			if (changed)
				report_change(rs, "lock", a->path, name);
		}
	}
	if (accounts_find(a->f, p->user) < 0) {
		const char *const gfields[] = { p->user, have_gshadow ? "x" : "!", gid, "" };
		const char *const sfields[] = { p->user, "!", "", "" };

		if ((r = accounts_append(a->f, gs ? sfields : gfields, e)) != 0)
			return r;
		report_change(rs, "create-group", a->path, p->user);
	}
	return 0;
}

/* shadow: delete other users, lock every password (hash material removed), add entries for kept users. */
static int do_shadow(struct harden_ctx *ctx, struct report_step *rs, struct afile *a, const struct afile *pw,
    struct err *e)
{
	const struct hpolicy *p = ctx->policy;
	size_t i;
	int r;

	for (i = 0; i < a->f->n; i++) {
		const char *name;
		bool changed = false;

		if (!accounts_is_entry(a->f, i))
			continue;
		name = accounts_get(a->f, i, SP_NAME);
		if (!kept_user(p, name) || (pw->f != NULL && accounts_find(pw->f, name) < 0)) {
			report_change(rs, "delete-user", a->path, name);
			accounts_delete(a->f, i);
			continue;
		}
		if (!is_locked(accounts_get(a->f, i, SP_PWD))) {
			if ((r = set(a->f, i, SP_PWD, "!", &changed, e)) != 0)
				return r;
			report_change(rs, "lock", a->path, name);
		}
	}
	if (pw->f == NULL)
		return 0;
	for (i = 0; i < pw->f->n; i++) {
		const char *name;

		if (!accounts_is_entry(pw->f, i))
			continue;
		name = accounts_get(pw->f, i, PW_NAME);
		if (accounts_find(a->f, name) < 0) {
			const char *const fields[] = { name, "!", "", "", "", "", "", "", "" };

			if ((r = accounts_append(a->f, fields, e)) != 0)
				return r;
			report_change(rs, "lock", a->path, name);
		}
	}
	return 0;
}

/* The app user's home: created owned by the app user when missing; an existing one is left as it is. */
static int ensure_home(struct harden_ctx *ctx, struct report_step *rs, struct err *e)
{
	const struct hpolicy *p = ctx->policy;
	char home[4096];
	struct fs_node *n;

	if (fs_path_normalize(p->home, home, sizeof(home)) != 0)
		return err_set(e, ERR_INVALID, "policy home %.200s is too long", p->home);
	n = fstree_get(ctx->tree, home);
	if (n != NULL && !(n->changes & FS_CH_DELETE)) {
		if (n->type != FS_DIR)
			report_note(rs, "home %s exists but is not a directory; left unchanged", home);
		return 0;
	}
	return ensure_dir(ctx, rs, home, p->uid, p->gid, &n, e);
}

/* The step (engine.h): rewrites the account files that parse (a malformed one is reported with its line and left
 * unchanged: report_step_fail), deletes the backups and creates the home. Negative only for ERR_NOMEM and the like. */
int step_users(struct harden_ctx *ctx, struct report_step *rs, struct err *e)
{
	static const char *const backups[] = { "/etc/passwd-", "/etc/group-", "/etc/shadow-", "/etc/gshadow-" };
	struct afile pw = { "/etc/passwd", ACCT_PASSWD, 0644, NULL, NULL, NULL, 0, false };
	struct afile gr = { "/etc/group", ACCT_GROUP, 0644, NULL, NULL, NULL, 0, false };
	struct afile sh = { "/etc/shadow", ACCT_SHADOW, 0600, NULL, NULL, NULL, 0, false };
	struct afile gs = { "/etc/gshadow", ACCT_GSHADOW, 0600, NULL, NULL, NULL, 0, false };
	struct afile none = { "", ACCT_GROUP, 0, NULL, NULL, NULL, 0,
		true }; /* "group unusable": gshadow keeps by name */
	struct afile *all[] = { &pw, &gr, &sh, &gs };
	uint32_t gids[256];
	size_t ngids, i;
	bool fresh;
	int r;

	for (i = 0; i < 4; i++)
		if ((r = afile_load(ctx, rs, all[i], e)) != 0)
			goto out;
	/* No passwd at all (scratch, a minimal busybox image): create passwd, group and shadow with root and the app
	 * user. A group file is created whenever it is missing so that the app user's gid has a name. */
	fresh = pw.node == NULL;
	if ((fresh && (pw.f = accounts_new(ACCT_PASSWD, pw.path)) == NULL) ||
	    (gr.node == NULL && (gr.f = accounts_new(ACCT_GROUP, gr.path)) == NULL) ||
	    (fresh && sh.node == NULL && (sh.f = accounts_new(ACCT_SHADOW, sh.path)) == NULL)) {
		r = err_set(e, ERR_NOMEM, "out of memory creating account files");
		goto out;
	}
	if (fresh) {
		const char *const root[] = { "root", "x", "0", "0", "root", "/root", nologin_path(ctx->tree) };

		if ((r = accounts_append(pw.f, root, e)) != 0)
			goto out;
	}
	if (gr.node == NULL) {
		const char *const root[] = { "root", gs.f != NULL ? "x" : "!", "0", "" };

		if ((r = accounts_append(gr.f, root, e)) != 0)
			goto out;
	}
	if (pw.f != NULL && (r = do_passwd(ctx, rs, &pw, sh.node != NULL || sh.f != NULL, e)) != 0)
		goto out;
	ngids = kept_gids(ctx->policy, &pw, gids, sizeof(gids) / sizeof(gids[0]));
	if (gr.f != NULL && (r = do_groups(ctx, rs, &gr, &gr, gids, ngids, gs.f != NULL, e)) != 0)
		goto out;
	if (gs.f != NULL && (r = do_groups(ctx, rs, &gs, gr.refused ? &none : &gr, gids, ngids, true, e)) != 0)
		goto out;
	if (sh.f != NULL && (r = do_shadow(ctx, rs, &sh, &pw, e)) != 0)
		goto out;
	for (i = 0; i < 4; i++)
		if ((r = afile_store(ctx, rs, all[i], e)) != 0)
			goto out;
	for (i = 0; i < sizeof(backups) / sizeof(backups[0]); i++) {
		struct fs_node *n = fstree_get(ctx->tree, backups[i]);

		if (n != NULL && !(n->changes & FS_CH_DELETE)) {
			fstree_mark_delete(ctx->tree, n);
			report_change(rs, "delete", backups[i], "backup of an account file");
		}
	}
	if ((r = ensure_home(ctx, rs, e)) != 0)
		goto out;
	if (!path_exists(ctx->tree, ctx->policy->shell))
		report_note(rs,
		    "the shell of %s, %s, does not exist in the tree (a login would fail, which is harmless; "
		    "set steps.users.shell to silence this)",
		    ctx->policy->user, ctx->policy->shell);
	r = 0;
out:
	for (i = 0; i < 4; i++) {
		accounts_free(all[i]->f);
		free(all[i]->orig);
	}
	return r;
}
