/* step_package_manager — package-manager programs, their caches, configuration and maintainer scripts go; the
 * package databases stay, so that vulnerability scanners still see what is installed (the original `.*apk.*` delete
 * blinded Trivy). Language package managers (pip, npm, gem) count too: `python -m pip` works without /usr/bin/pip. */
#include "hardener/engine.h"
#include "hardener/facts.h"
#include "hardener/pathpat.h"

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#define MAX_DIRS 64

/* Paths (fnmatch with FNM_PATHNAME) deleted wherever they are; none of them holds a package database. */
static const char *const paths[] = {
	/* apt / dpkg */
	"/var/cache/apt",
	"/var/lib/apt/lists",
	"/etc/apt",
	"/usr/lib/apt",
	"/usr/lib/dpkg",
	"/etc/dpkg",
	"/var/cache/debconf",
	"/var/lib/dpkg/info/*.preinst",
	"/var/lib/dpkg/info/*.postinst",
	"/var/lib/dpkg/info/*.prerm",
	"/var/lib/dpkg/info/*.postrm",
	"/var/lib/dpkg/info/*.config",
	"/var/lib/dpkg/*-old",
	"/var/backups/dpkg.*",
	"/var/backups/apt.*",
	"/usr/libexec/dpkg",
	"/usr/share/debconf",
	"/usr/share/bug/apt",
	"/usr/share/bug/dpkg",
	/* apk */
	"/var/cache/apk",
	"/etc/apk/cache",
	/* rpm family */
	"/var/cache/dnf",
	"/var/cache/yum",
	"/var/lib/dnf",
	"/var/lib/yum",
	"/etc/dnf",
	"/etc/yum",
	"/etc/yum.repos.d",
	"/usr/lib/python3*/site-packages/dnf",
	"/usr/lib/python3*/site-packages/dnf-plugins",
	/* pip and ensurepip (it reinstalls pip) */
	"/usr/lib/python3*/dist-packages/pip",
	"/usr/lib/python3*/dist-packages/pip-*",
	"/usr/lib/python3*/site-packages/pip",
	"/usr/lib/python3*/site-packages/pip-*",
	"/usr/local/lib/python3*/dist-packages/pip",
	"/usr/local/lib/python3*/dist-packages/pip-*",
	"/usr/local/lib/python3*/site-packages/pip",
	"/usr/local/lib/python3*/site-packages/pip-*",
	"/usr/lib/python3*/ensurepip",
	"/usr/local/lib/python3*/ensurepip",
	"/root/.cache/pip",
	"/home/*/.cache/pip",
	/* npm, corepack */
	"/usr/lib/node_modules/npm",
	"/usr/local/lib/node_modules/npm",
	"/usr/lib/node_modules/corepack",
	"/usr/local/lib/node_modules/corepack",
	"/root/.npm",
	"/home/*/.npm",
	NULL,
};

/* The package databases scanners read: never deleted by this step, and reported as kept. */
static const char *const databases[] = {
	"/var/lib/dpkg/status",
	"/var/lib/dpkg/status.d",
	"/lib/apk/db/installed",
	"/usr/lib/apk/db/installed",
	"/var/lib/rpm",
	"/usr/lib/sysimage/rpm",
	NULL,
};

/* Whether s matches one of the fnmatch patterns. */
static bool matches(const char *const *pats, const char *s, int flags)
{
	size_t i;

	for (i = 0; pats[i] != NULL; i++)
		if (fnmatch(pats[i], s, flags) == 0)
			return true;
	return false;
}

/* True when deleting path would take a package database with it. */
static bool holds_database(const char *path)
{
	size_t i, n = strlen(path);

	for (i = 0; databases[i] != NULL; i++)
		if (strncmp(databases[i], path, n) == 0 && (databases[i][n] == '\0' || databases[i][n] == '/'))
			return true;
	return false;
}

/* The last component of path (borrowed from it). */
static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* Whether n sits directly in one of the resolved bin dirs. */
static bool in_bin_dir(const char *path, char dirs[][4096], size_t nd)
{
	size_t k, plen = (size_t)(base_name(path) - path);

	for (k = 0; k < nd; k++) {
		size_t dlen = strlen(dirs[k]);

		if ((dlen == 1 && plen == 1) || (plen == dlen + 1 && strncmp(path, dirs[k], dlen) == 0))
			return true;
	}
	return false;
}

/* Whether path is one of the bin dirs or one of their ancestors. */
static bool holds_bin_dir(const char *path, char dirs[][4096], size_t nd)
{
	size_t k, n = strlen(path);

	for (k = 0; k < nd; k++)
		if (n == 1 || (strncmp(dirs[k], path, n) == 0 && (dirs[k][n] == '\0' || dirs[k][n] == '/')))
			return true;
	return false;
}

/* The step (engine.h): marks package-manager programs in the bin dirs (unless allowlisted) and their caches,
 * state and libraries anywhere, and notes each package database kept. Negative only for ERR_NOMEM. */
int step_package_manager(struct harden_ctx *ctx, struct report_step *rs, struct err *e)
{
	static char dirs[MAX_DIRS][4096];
	const struct hpolicy *p = ctx->policy;
	struct fs_node *const *v;
	size_t nd, nv, i, npaths = sizeof(paths) / sizeof(paths[0]) - 1;
	int m;

	nd = fstree_resolve_dirs(ctx->tree, p->bin_dirs.v, p->bin_dirs.n, dirs, MAX_DIRS);
	if ((v = fstree_sorted(ctx->tree, &nv)) == NULL && nv != 0)
		return err_set(e, ERR_NOMEM, "out of memory sorting the tree");
	for (i = 0; i < nv; i++) {
		struct fs_node *n = v[i];
		const char *b = base_name(n->path);

		if (n->changes & FS_CH_DELETE)
			continue;
		if (n->type != FS_DIR && in_bin_dir(n->path, dirs, nd) && matches(facts_package_managers, b, 0)) {
			if (strlist_has(&p->allow, b)) {
				report_note(rs, "kept %s: the allowlist names it", n->path);
				continue;
			}
			fstree_mark_delete(ctx->tree, n);
			report_change(rs, "delete", n->path, "package-manager program");
			continue;
		}
		m = pathpat_scan(paths, npaths, n->path);
		if (m == 2 && !holds_database(n->path)) {
			fstree_mark_delete(ctx->tree, n);
			report_change(rs, "delete", n->path,
			    n->type == FS_DIR ? "package-manager cache, state or library" : "package-manager file");
			if (n->type == FS_DIR)
				i = fstree_subtree_end(ctx->tree, i) - 1;
		} else if (m == 0 && n->type == FS_DIR && !holds_bin_dir(n->path, dirs, nd)) {
			i = fstree_subtree_end(ctx->tree, i) - 1; /* nothing beneath can match */
		}
	}
	for (i = 0; databases[i] != NULL; i++) {
		const struct fs_node *n = fstree_get(ctx->tree, databases[i]);

		if (n != NULL && !(n->changes & FS_CH_DELETE))
			report_note(rs,
			    "kept the package database %s so that vulnerability scanners still see what is "
			    "installed",
			    databases[i]);
	}
	return 0;
}
