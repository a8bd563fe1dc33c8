/* step_system_cruft — what a container never uses but an attacker might: crontabs and periodic jobs, init scripts,
 * sysctl/modprobe settings, fstab, root's home contents, the policy's extra paths, and then every symlink left
 * pointing nowhere (including those the earlier steps broke). Runs after the other deleting steps for that reason. */
#include "hardener/engine.h"
#include "hardener/pathpat.h"

#include <stdio.h>
#include <string.h>

#define MAX_PASSES 41 /* a chain of broken links is removed one link per pass */

static const char *const cruft[] = {
	/* cron and periodic jobs */
	"/var/spool/cron",
	"/etc/crontabs",
	"/etc/cron.*",
	"/etc/crontab",
	"/etc/periodic",
	"/etc/anacrontab",
	"/var/spool/anacron",
	/* init scripts */
	"/etc/init.d",
	"/lib/rc",
	"/etc/conf.d",
	"/etc/inittab",
	"/etc/runlevels",
	"/etc/rc.conf",
	"/etc/rc*.d",
	"/etc/rc.local",
	/* kernel tunables and modules */
	"/etc/sysctl.conf",
	"/etc/sysctl.d",
	"/etc/modprobe.d",
	"/etc/modules",
	"/etc/modules-load.d",
	"/etc/mdev.conf",
	"/etc/acpi",
	"/etc/fstab",
	/* root's home contents (the directory itself stays, 0700) */
	"/root/*",
	NULL,
};

/* Link targets under these are provided by the runtime (procfs, sysfs, devtmpfs, tmpfs), not by the image. */
static bool runtime_path(const char *p)
{
	static const char *const roots[] = { "/proc", "/sys", "/dev", "/run", NULL };
	size_t i, n;

	for (i = 0; roots[i] != NULL; i++) {
		n = strlen(roots[i]);
		if (strncmp(p, roots[i], n) == 0 && (p[n] == '\0' || p[n] == '/'))
			return true;
	}
	return false;
}

/* Whether a policy path is an fnmatch pattern rather than a path. */
static bool is_pattern(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* Deletes what the built-in list and the policy's delete_paths name. */
static int delete_listed(struct harden_ctx *ctx, struct report_step *rs, struct err *e)
{
	const struct strlist *extra = &ctx->policy->delete_paths;
	struct fs_node *const *v;
	size_t nv, i, k;

	if ((v = fstree_sorted(ctx->tree, &nv)) == NULL && nv != 0)
		return err_set(e, ERR_NOMEM, "out of memory sorting the tree");
	for (i = 0; i < nv; i++) {
		struct fs_node *n = v[i];
		int m, mx = 0;

		if (n->changes & FS_CH_DELETE)
			continue;
		m = pathpat_scan(cruft, sizeof(cruft) / sizeof(cruft[0]) - 1, n->path);
		if (m == 2) {
			fstree_mark_delete(ctx->tree, n);
			report_change(rs, "delete", n->path, NULL);
		} else {
			for (k = 0; k < extra->n && mx < 2; k++) {
				int mk = is_pattern(extra->v[k])
				    ? pathpat_scan((const char *const *)&extra->v[k], 1, n->path)
				    : 0;

				mx = mk > mx ? mk : mx;
			}
			if (mx == 2) {
				fstree_mark_delete(ctx->tree, n);
				report_change(rs, "delete", n->path, "policy deletePaths");
			}
		}
		if (n->type == FS_DIR && (m == 2 || mx == 2 || (m == 0 && mx == 0)))
			i = fstree_subtree_end(ctx->tree, i) - 1; /* deleted whole, or nothing beneath can match */
	}
	/* Exact policy paths: located through symlinked parents (/lib/x on a usrmerged tree is /usr/lib/x). */
	for (k = 0; k < extra->n; k++) {
		char real[4096];
		struct fs_node *n;
		struct err sub;

		if (is_pattern(extra->v[k]) ||
		    fstree_resolve(ctx->tree, extra->v[k], false, real, sizeof(real), &sub) != 0 ||
		    strcmp(real, "/") == 0 || (n = fstree_get(ctx->tree, real)) == NULL || (n->changes & FS_CH_DELETE))
			continue;
		fstree_mark_delete(ctx->tree, n);
		report_change(rs, "delete", n->path, "policy deletePaths");
	}
	return 0;
}

/* Deletes symlinks whose target is missing, deleted, or a loop, until none is left. */
static int delete_broken_links(struct harden_ctx *ctx, struct report_step *rs, struct err *e)
{
	int pass;

	for (pass = 0; pass < MAX_PASSES; pass++) {
		struct fs_node *const *v;
		size_t nv, i, found = 0;

		if ((v = fstree_sorted(ctx->tree, &nv)) == NULL && nv != 0)
			return err_set(e, ERR_NOMEM, "out of memory sorting the tree");
		for (i = 0; i < nv; i++) {
			struct fs_node *n = v[i];
			char out[4096];
			struct err sub;
			int r;

			if (n->type != FS_SYMLINK || (n->changes & FS_CH_DELETE))
				continue;
			out[0] = '\0';
			r = fstree_resolve(ctx->tree, n->path, true, out, sizeof(out), &sub);
			if ((r == ERR_NOT_FOUND && !runtime_path(out)) || r == ERR_INVALID) {
				fstree_mark_delete(ctx->tree, n);
				report_change(rs, "delete-broken-symlink", n->path,
				    r == ERR_INVALID ? "a loop or a non-directory in its path" : n->link);
				found++;
			}
		}
		if (found == 0)
			return 0;
	}
	return 0;
}

/* The step (engine.h): marks the cruft, /root 0700 and broken symlinks. Negative only for ERR_NOMEM. */
int step_system_cruft(struct harden_ctx *ctx, struct report_step *rs, struct err *e)
{
	struct fs_node *root;
	int r;

	if ((r = delete_listed(ctx, rs, e)) != 0)
		return r;
	root = fstree_get(ctx->tree, "/root");
	if (root != NULL && root->type == FS_DIR && !(root->changes & FS_CH_DELETE)) {
		char detail[32];
		uint32_t old = root->mode;

		if (fstree_mark_mode(root, 0700)) {
			snprintf(detail, sizeof(detail), "%04o -> 0700", old);
			report_change(rs, "chmod", "/root", detail);
		}
	}
	return delete_broken_links(ctx, rs, e);
}
