/* step_executables — the allowlist over the bin dirs: every non-directory there whose name is not allowed goes.
 * Handles usrmerge (/bin -> usr/bin is processed once and the link itself stays), symlink chains (a kept name keeps
 * every link of its chain and the final file) and multi-call binaries (busybox, toybox): their applet names go unless
 * allowed, the binary stays only when an allowed name needs it, and the report says which applets stay reachable. */
#include "hardener/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hardener/multicall.h"

#define MAX_DIRS 64
#define MAX_HOPS 40

struct entry {
	struct fs_node *n;
	char *target;	      /* the regular file the name finally leads to (owned), NULL when none */
	size_t ident;	      /* index of the entry standing for the same binary (self, or a look-alike copy) */
	struct multicall *mc; /* set on the identity entry of a multi-call binary (owned) */
	bool keep;
};

struct pathset {
	char **v;
	size_t n, alloc;
};

/* A small set of paths (the chains of allowed names): membership, insertion (copied; ERR_NOMEM), cleanup. */
static bool pathset_has(const struct pathset *s, const char *p)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i], p) == 0)
			return true;
	return false;
}

static int pathset_add(struct pathset *s, const char *p)
{
	if (pathset_has(s, p))
		return 0;
	if (s->n == s->alloc) {
		size_t na = s->alloc ? s->alloc * 2 : 16;
		char **v = realloc(s->v, na * sizeof(*v));

		if (v == NULL)
			return ERR_NOMEM;
		s->v = v;
		s->alloc = na;
	}
	if ((s->v[s->n] = strdup(p)) == NULL)
		return ERR_NOMEM;
	s->n++;
	return 0;
}

static void pathset_cleanup(struct pathset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* The last component of path (borrowed from it). */
static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* The path a link at path points to, with every component but the last resolved. */
static int link_next(struct fstree *t, const struct fs_node *n, char *out, size_t size)
{
	char joined[8192], dir[4096];
	struct err e;
	char *slash;

	if (n->type == FS_HARDLINK)
		return str_copy(out, size, n->link);
	if (n->link[0] == '/') {
		if (str_copy(joined, sizeof(joined), n->link) != 0)
			return ERR_TOO_LARGE;
	} else {
		if (str_copy(dir, sizeof(dir), n->path) != 0)
			return ERR_TOO_LARGE;
		slash = strrchr(dir, '/');
		slash[slash == dir ? 1 : 0] = '\0';
		if (str_fmt(joined, sizeof(joined), "%s/%s", dir, n->link) != 0)
			return ERR_TOO_LARGE;
	}
	return fstree_resolve(t, joined, false, out, size, &e);
}

/* Adds path, the symlinks of its chain and the object they finally lead to, to set. */
static int keep_chain(struct fstree *t, const char *path, struct pathset *set)
{
	char cur[4096], next[4096];
	int hops, r;

	if (str_copy(cur, sizeof(cur), path) != 0)
		return 0;
	for (hops = 0; hops < MAX_HOPS; hops++) {
		const struct fs_node *n = fstree_get(t, cur);

		if (n == NULL || (n->changes & FS_CH_DELETE))
			return 0;
		if ((r = pathset_add(set, cur)) != 0)
			return r;
		/* Only symlinks need their target kept. A hard link is a name of its own for the same bytes: the image
		 * backend writes it out as a regular file when the name it points at is deleted. */
		if (n->type != FS_SYMLINK || n->link == NULL)
			return 0;
		if (link_next(t, n, next, sizeof(next)) != 0)
			return 0;
		memcpy(cur, next, sizeof(cur));
	}
	return 0;
}

/* The regular file a name finally leads to, or NULL. */
static char *final_target(struct fstree *t, const struct fs_node *n)
{
	const struct fs_node *m = fstree_final(t, n);

	if (m == NULL || m->type != FS_REG || (m->changes & FS_CH_DELETE))
		return NULL;
	return strdup(m->path);
}

/* Entries in look-alike order: regular ELF files that are their own target, by size then head. */
static int lookalike_cmp(const void *a, const void *b)
{
	const struct entry *x = *(const struct entry *const *)a, *y = *(const struct entry *const *)b;

	if (x->n->size != y->n->size)
		return x->n->size < y->n->size ? -1 : 1;
	if (x->n->head_len != y->n->head_len)
		return x->n->head_len < y->n->head_len ? -1 : 1;
	return x->n->head_len ? memcmp(x->n->head, y->n->head, x->n->head_len) : 0; /* no head: NULL */
}

/* Entries by target path, then by position. */
static int target_cmp(const void *a, const void *b)
{
	const struct entry *x = *(const struct entry *const *)a, *y = *(const struct entry *const *)b;
	int c = strcmp(x->target, y->target);

	return c != 0 ? c : x < y ? -1 : x > y;
}

/* Sets every entry's identity: entries leading to the same file share it, and so do regular ELF files that look
 * identical (same size and first bytes) — how a live directory shows busybox hard links. */
static int set_identities(struct entry *v, size_t n)
{
	struct entry **by = calloc(n ? n : 1, sizeof(*by));
	size_t *redirect = calloc(n ? n : 1, sizeof(*redirect));
	size_t i, j, k = 0;

	if (by == NULL || redirect == NULL) {
		free(by);
		free(redirect);
		return ERR_NOMEM;
	}
	/* Same target: sorted by target (then by position), each group takes its first entry's index. */
	for (i = 0; i < n; i++) {
		v[i].ident = i;
		if (v[i].target != NULL)
			by[k++] = &v[i];
	}
	qsort(by, k, sizeof(*by), target_cmp);
	for (i = 1; i < k; i++)
		if (strcmp(by[i - 1]->target, by[i]->target) == 0)
			by[i]->ident = by[i - 1]->ident;
	/* Look-alike copies among the remaining identities. */
	for (i = 0, k = 0; i < n; i++)
		if (v[i].n->type == FS_REG && multicall_is_elf(v[i].n) && v[i].ident == i)
			by[k++] = &v[i];
	qsort(by, k, sizeof(*by), lookalike_cmp);
	for (i = 0; i < n; i++)
		redirect[i] = i;
	for (i = 1; i < k; i++)
		if (lookalike_cmp(&by[i - 1], &by[i]) == 0)
			redirect[by[i] - v] = redirect[by[i - 1] - v];
	for (j = 0; j < n; j++)
		v[j].ident = redirect[v[j].ident];
	free(by);
	free(redirect);
	return 0;
}

/* Collects the non-directories directly inside the (resolved, deduplicated) bin dirs. */
static char dirs[MAX_DIRS][4096]; /* the resolved bin dirs of the current run */
static size_t nd;

/* Collects the non-directories directly inside the bin dirs, each real directory once (/bin -> usr/bin is
 * /usr/bin): *out is a new array of *nout entries with their final targets (freed by the caller). ERR_NOMEM. */
static int collect(struct harden_ctx *ctx, struct entry **out, size_t *nout, struct err *e)
{
	const struct strlist *l = &ctx->policy->bin_dirs;
	struct fs_node *const *v;
	struct entry *ents = NULL;
	size_t nv, i, k, n = 0;

	nd = fstree_resolve_dirs(ctx->tree, l->v, l->n, dirs, MAX_DIRS);
	if ((v = fstree_sorted(ctx->tree, &nv)) == NULL && nv != 0)
		return err_set(e, ERR_NOMEM, "out of memory sorting the tree");
	if ((ents = calloc(nv ? nv : 1, sizeof(*ents))) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory listing the bin dirs");
	for (k = 0; k < nd; k++) {
		size_t dlen = strlen(dirs[k]), end;

		for (i = 0; i < nv && strcmp(v[i]->path, dirs[k]) != 0; i++)
			;
		if (i == nv)
			continue;
		end = fstree_subtree_end(ctx->tree, i);
		for (i = i + 1; i < end; i++) {
			struct fs_node *c = v[i];
			const char *b = base_name(c->path);

			if (c->type == FS_DIR || (c->changes & FS_CH_DELETE) ||
			    (size_t)(b - c->path) != (dlen == 1 ? 1 : dlen + 1))
				continue;
			ents[n].n = c;
			ents[n].target = final_target(ctx->tree, c);
			n++;
		}
	}
	*out = ents;
	*nout = n;
	return 0;
}

/* Notes what a kept or deleted multi-call binary leaves reachable, and records it in the step's details. */
static void report_multicall(struct report_step *rs, const struct strlist *allow, struct entry *v, size_t n, size_t id,
    json_t *details)
{
	const struct multicall *m = v[id].mc;
	const char *bin = v[id].target ? v[id].target : v[id].n->path;
	json_t *names = json_array(), *applets = json_array(), *o;
	size_t i;
	char list[512];
	bool bin_kept = false, bin_gone = v[id].n->changes & FS_CH_DELETE;

	list[0] = '\0';
	for (i = 0; i < n; i++) {
		if (v[i].ident != id)
			continue;
		if (v[i].keep) {
			/* Look-alike copies: when the file first seen went, the binary lives on as a kept name. */
			if (!bin_kept && bin_gone)
				bin = v[i].n->path;
			bin_kept = true;
			json_array_append_new(names, json_string(v[i].n->path));
			if (strlist_has(allow, base_name(v[i].n->path)) &&
			    strlen(list) + strlen(v[i].n->path) + 3 < sizeof(list))
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", list[0] ? ", " : "",
				    v[i].n->path);
		}
	}
	for (i = 0; m->applets_known && i < m->napplets; i++)
		json_array_append_new(applets, json_string(m->applets[i]));
	if (bin_kept) {
		if (m->applets_known)
			report_note(rs,
			    "%s %s kept because an allowed name needs it (%s); all %zu applets stay reachable "
			    "through it (`%s <applet>`), whatever names remain",
			    m->kind, bin, list, m->napplets, m->kind);
		else
			report_note(rs,
			    "%s %s kept because an allowed name needs it (%s); its applets stay reachable "
			    "through it (count unknown)",
			    m->kind, bin, list);
	} else {
		report_note(rs, "%s %s deleted with all its names: no allowed name needs it", m->kind, bin);
	}
	o = json_pack("{s:s, s:s, s:b, s:o, s:o*}", "path", bin, "kind", m->kind, "kept", bin_kept, "keptNames", names,
	    "applets", m->applets_known ? applets : NULL);
	if (!m->applets_known)
		json_decref(applets);
	if (o != NULL)
		json_array_append_new(details, o);
}

/* Whether entry i is a nologin that is merely a name of a multi-call binary. */
static bool nologin_applet(const struct entry *v, size_t i)
{
	return strcmp(base_name(v[i].n->path), "nologin") == 0 && v[v[i].ident].mc != NULL;
}

/* This step only acts on the bin dirs (as the article does); it says how many executables live elsewhere. */
static void note_outside(struct harden_ctx *ctx, struct report_step *rs)
{
	struct fs_node *const *v;
	size_t nv, i, k, count = 0;

	if ((v = fstree_sorted(ctx->tree, &nv)) == NULL)
		return;
	for (i = 0; i < nv; i++) {
		const struct fs_node *x = v[i];
		size_t plen = (size_t)(base_name(x->path) - x->path);
		bool inside = false;

		if (x->type != FS_REG || !(x->mode & 0111) || (x->changes & FS_CH_DELETE))
			continue;
		for (k = 0; k < nd && !inside; k++) {
			size_t dlen = strlen(dirs[k]);

			inside = (dlen == 1 && plen == 1) || (plen == dlen + 1 && strncmp(x->path, dirs[k], dlen) == 0);
		}
		count += !inside;
	}
	if (count > 0)
		report_note(rs,
		    "%zu executable files outside the bin dirs remain at this point; this step leaves them as "
		    "they are (the facts after list what is left)",
		    count);
}

/* The step (engine.h): marks deletions in the bin dirs, notes what multi-call binaries leave reachable and records
 * them under details.multicall. Negative only for ERR_NOMEM; an unreadable binary is noted, not fatal. */
int step_executables(struct harden_ctx *ctx, struct report_step *rs, struct err *e)
{
	const struct hpolicy *p = ctx->policy;
	struct entry *v = NULL;
	struct pathset needed = { NULL, 0, 0 };
	json_t *mcs = NULL;
	size_t n = 0, i, j, nnames, ndel = 0;
	int r;

	if ((r = collect(ctx, &v, &n, e)) != 0)
		goto out;
	if ((r = set_identities(v, n)) != 0) {
		err_set(e, r, "out of memory grouping the bin dirs' files");
		goto out;
	}
	/* Multi-call binaries, read only when worth it (see multicall_worth_reading). */
	for (i = 0; i < n; i++) {
		struct fs_node *id;

		if (v[i].ident != i || v[i].target == NULL || (id = fstree_get(ctx->tree, v[i].target)) == NULL)
			continue;
		for (nnames = 0, j = 0; j < n; j++)
			nnames += v[j].ident == i;
		if (!multicall_worth_reading(id, base_name(v[i].target), nnames))
			continue;
		if ((r = multicall_detect(ctx->backend, ctx->tree, id, &v[i].mc, e)) != 0) {
			if (r == ERR_NOMEM)
				goto out;
			report_note(rs, "%s could not be read (%s); not checked for a multi-call binary", v[i].target,
			    e->msg);
			err_clear(e);
			r = 0;
		}
	}
	/* Allowed names and everything their chains lead to. A nologin that is only an applet does not count: it would
	 * keep every applet of its binary for the sake of a shell no container logs in with. */
	for (i = 0; i < n; i++)
		if (strlist_has(&p->allow, base_name(v[i].n->path)) && !nologin_applet(v, i) &&
		    (r = keep_chain(ctx->tree, v[i].n->path, &needed)) != 0) {
			err_set(e, r, "out of memory following %s", v[i].n->path);
			goto out;
		}
	for (i = 0; i < n; i++) {
		struct entry *x = &v[i];
		const char *why = "not on the allowlist";

		x->keep = (strlist_has(&p->allow, base_name(x->n->path)) &&
			      (!nologin_applet(v, i) || (x->target != NULL && pathset_has(&needed, x->target)))) ||
		    pathset_has(&needed, x->n->path);
		if (x->keep)
			continue;
		if (nologin_applet(v, i)) {
			why =
			    "nologin is an applet of a multi-call binary that no other allowed name needs; keeping it "
			    "would keep every applet (accounts whose shell is missing cannot log in either)";
			report_note(rs, "%s deleted: %s", x->n->path, why);
		} else if (v[x->ident].mc != NULL)
			why = x->target != NULL && strcmp(x->target, x->n->path) == 0 && x->ident == i
			    ? "multi-call binary that no allowed name needs"
			    : "multi-call applet name not on the allowlist";
		fstree_mark_delete(ctx->tree, x->n);
		report_change(rs, "delete", x->n->path, why);
		ndel++;
	}
	if ((mcs = json_array()) == NULL) {
		r = err_set(e, ERR_NOMEM, "out of memory reporting multi-call binaries");
		goto out;
	}
	for (i = 0; i < n; i++)
		if (v[i].ident == i && v[i].mc != NULL)
			report_multicall(rs, &p->allow, v, n, i, mcs);
	if (json_array_size(mcs) > 0) {
		report_step_set(rs, "multicall", mcs);
		mcs = NULL; /* transferred */
	}
	note_outside(ctx, rs);
	for (i = 0; i < n; i++)
		if (v[i].keep)
			report_note(rs, "kept %s%s", v[i].n->path,
			    strlist_has(&p->allow, base_name(v[i].n->path)) ? "" : " (an allowed name leads to it)");
	r = 0;
out:
	json_decref(mcs);
	for (i = 0; v != NULL && i < n; i++) {
		free(v[i].target);
		multicall_free(v[i].mc);
	}
	free(v);
	pathset_cleanup(&needed);
	(void)ndel;
	return r;
}
