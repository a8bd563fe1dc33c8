/* step_permissions — ownership and mode bits: system directories root:root 0755, no setuid or setgid file anywhere
 * (the original script forgot setgid), nothing world-writable except the sticky temp dirs, which become exactly 1777.
 * Symlinks are never touched (their mode means nothing on Linux), nor are device nodes under /dev, nor the app user's
 * home directory. */
#include "hardener/engine.h"

#include <stdio.h>
#include <string.h>

#define MAX_DIRS 64 /* policy lists longer than this are truncated (reported) */

/* Resolves each policy path to the directory it really is; duplicates and non-directories are dropped. */
static size_t resolve_dirs(struct fstree *t, const struct strlist *l, char out[][4096], size_t max)
{
	size_t i, j, n = 0;

	for (i = 0; i < l->n && n < max; i++) {
		const struct fs_node *d;
		struct err e;

		if (fstree_resolve(t, l->v[i], true, out[n], sizeof(out[n]), &e) != 0)
			continue;
		d = fstree_get(t, out[n]);
		if (d == NULL || d->type != FS_DIR || (d->changes & FS_CH_DELETE))
			continue;
		for (j = 0; j < n && strcmp(out[j], out[n]) != 0; j++)
			;
		if (j == n)
			n++;
	}
	return n;
}

/* Whether path is one of list[n]. */
static bool in_list(char list[][4096], size_t n, const char *path)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], path) == 0)
			return true;
	return false;
}

/* Whether path is /dev or beneath it. */
static bool under_dev(const char *path)
{
	return strcmp(path, "/dev") == 0 || str_has_prefix(path, "/dev/");
}

/* The step (engine.h): marks owner and mode changes, one report change per fixed bit. Negative only for
 * ERR_NOMEM. */
int step_permissions(struct harden_ctx *ctx, struct report_step *rs, struct err *e)
{
	static char sys[MAX_DIRS][4096], sticky[MAX_DIRS][4096], home[4096];
	const struct hpolicy *p = ctx->policy;
	struct fs_node *const *v;
	size_t nsys, nsticky, nv, i, k;

	if (p->system_dirs.n > MAX_DIRS || p->sticky_dirs.n > MAX_DIRS)
		report_note(rs, "only the first %d system and sticky dirs of the policy are used", MAX_DIRS);
	/* The app user's home belongs to the app user (the users step made it so), even under a system dir. */
	if (fs_path_normalize(p->home, home, sizeof(home)) != 0)
		home[0] = '\0';
	nsys = resolve_dirs(ctx->tree, &p->system_dirs, sys, MAX_DIRS);
	nsticky = resolve_dirs(ctx->tree, &p->sticky_dirs, sticky, MAX_DIRS);
	if ((v = fstree_sorted(ctx->tree, &nv)) == NULL && nv != 0)
		return err_set(e, ERR_NOMEM, "out of memory sorting the tree");

	/* System directories and every directory beneath them: root:root 0755 (sticky dirs excepted). */
	for (k = 0; k < nsys; k++) {
		size_t end;

		for (i = 0; i < nv && strcmp(v[i]->path, sys[k]) != 0; i++)
			;
		if (i == nv)
			continue;
		end = fstree_subtree_end(ctx->tree, i);
		for (; i < end; i++) {
			struct fs_node *n = v[i];
			char detail[64];
			uint32_t old = n->mode, ouid = n->uid, ogid = n->gid;

			if (n->type != FS_DIR || (n->changes & (FS_CH_DELETE | FS_CH_CREATE)) ||
			    in_list(sticky, nsticky, n->path) || strcmp(n->path, home) == 0)
				continue;
			if (fstree_mark_owner(n, 0, 0)) {
				snprintf(detail, sizeof(detail), "%u:%u -> 0:0", ouid, ogid);
				report_change(rs, "chown", n->path, detail);
			}
			if (fstree_mark_mode(n, 0755)) {
				snprintf(detail, sizeof(detail), "%04o -> 0755", old);
				report_change(rs, "chmod", n->path, detail);
			}
		}
	}

	/* Every other object: setuid/setgid off on files, world-write off, sticky dirs exactly 1777. */
	for (i = 0; i < nv; i++) {
		struct fs_node *n = v[i];
		uint32_t mode = n->mode;
		char detail[64];

		if ((n->changes & FS_CH_DELETE) || n->type == FS_SYMLINK || n->type == FS_HARDLINK)
			continue;
		if ((n->type == FS_CHR || n->type == FS_BLK || n->type == FS_FIFO || n->type == FS_SOCK) &&
		    under_dev(n->path))
			continue;
		if (n->type == FS_DIR && in_list(sticky, nsticky, n->path)) {
			if (fstree_mark_mode(n, 01777)) {
				snprintf(detail, sizeof(detail), "%04o -> 1777", mode);
				report_change(rs, "chmod-sticky", n->path, detail);
			}
			continue;
		}
		if (n->type == FS_REG && (mode & 04000))
			report_change(rs, "clear-setuid", n->path, NULL);
		if (n->type == FS_REG && (mode & 02000))
			report_change(rs, "clear-setgid", n->path, NULL);
		if (mode & 0002)
			report_change(rs, "clear-world-write", n->path, NULL);
		if (n->type == FS_REG)
			mode &= ~(uint32_t)06000;
		mode &= ~(uint32_t)0002;
		fstree_mark_mode(n, mode);
	}
	return 0;
}
