/* Tests of the hardening steps (users, permissions, executables, package-manager, system-cruft) on hand-built
 * fstrees with a fake backend whose file contents come from a table: usrmerge, symlink chains, busybox applets,
 * setgid, sticky /tmp, the dpkg database, broken links, and idempotence after a simulated commit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hardener/engine.h"
#include "tests/unit/fsfix.h"

/* ---- fixture: a tree, a fake backend, a policy, a report ---- */

#define MAX_FILES 64

struct fake_file {
	char path[256];
	char *data;
	size_t len;
};

struct fake_backend {
	struct fs_backend base;
	struct fake_file files[MAX_FILES];
	size_t n;
};

static int fake_read(struct fs_backend *b, const struct fs_node *n, size_t cap, struct strbuf *out, struct err *e)
{
	struct fake_backend *fb = (struct fake_backend *)b;
	size_t i;

	if (n->content != NULL) /* committed by simulate_commit */
		return n->content_len > cap ? err_set(e, ERR_TOO_LARGE, "too large")
					    : sb_append(out, n->content, n->content_len);
	for (i = 0; i < fb->n; i++)
		if (strcmp(fb->files[i].path, n->path) == 0) {
			if (fb->files[i].len > cap)
				return err_set(e, ERR_TOO_LARGE, "%s too large", n->path);
			return sb_append(out, fb->files[i].data, fb->files[i].len);
		}
	return 0;
}

static const struct fs_backend_ops fake_ops = { "fake", fake_read, NULL, NULL };

struct fx {
	struct fstree *t;
	struct fake_backend b;
	struct hpolicy p;
	struct report *r;
	struct harden_ctx ctx;
};

static struct fx *fx_new(void)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct err e;

	assert_non_null(f);
	f->t = fstree_new();
	f->b.base.ops = &fake_ops;
	assert_int_equal(hpolicy_init_defaults(&f->p, &e), 0);
	f->r = report_new(false);
	f->ctx.tree = f->t;
	f->ctx.backend = &f->b.base;
	f->ctx.policy = &f->p;
	f->ctx.report = f->r;
	f->ctx.mode = HARDEN_MODE_IMAGE;
	return f;
}

static void fx_free(struct fx *f)
{
	size_t i;

	for (i = 0; i < f->b.n; i++)
		free(f->b.files[i].data);
	fstree_free(f->t);
	hpolicy_cleanup(&f->p);
	report_free(f->r);
	free(f);
}

/* fsfix_put into the fixture's tree. */
static struct fs_node *put(struct fx *f, const char *path, enum fs_type type, uint32_t mode, const char *link)
{
	return fsfix_put(f->t, path, type, mode, link);
}

static void dir(struct fx *f, const char *path)
{
	put(f, path, FS_DIR, 0755, NULL);
}

static struct fs_node *file_n(struct fx *f, const char *path, uint32_t mode, const char *data, size_t len)
{
	struct fs_node *n = put(f, path, FS_REG, mode, NULL);
	struct fake_file *ff = &f->b.files[f->b.n++];

	assert_true(f->b.n <= MAX_FILES);
	n->size = len;
	assert_int_equal(fstree_set_head(n, data, len, NULL), 0);
	assert_int_equal(str_copy(ff->path, sizeof(ff->path), path), 0);
	ff->data = malloc(len + 1);
	memcpy(ff->data, data, len);
	ff->len = len;
	return n;
}

static struct fs_node *file(struct fx *f, const char *path, uint32_t mode, const char *text)
{
	return file_n(f, path, mode, text, strlen(text));
}

static void link_(struct fx *f, const char *path, const char *target)
{
	put(f, path, FS_SYMLINK, 0777, target);
}

/* Runs one step with a fresh report step; returns that step's JSON (borrowed from *json, decref *json). */
static json_t *run(struct fx *f, int (*step)(struct harden_ctx *, struct report_step *, struct err *), const char *name,
    json_t **json)
{
	struct report_step *rs;
	struct err e;
	json_t *steps;

	report_free(f->r);
	f->r = f->ctx.report = report_new(false);
	rs = report_step_begin(f->r, name);
	err_clear(&e);
	assert_int_equal(step(&f->ctx, rs, &e), 0);
	*json = report_to_json(f->r);
	steps = json_object_get(*json, "steps");
	return json_array_get(steps, 0);
}

static size_t count(json_t *step, const char *action)
{
	return (size_t)json_integer_value(json_object_get(json_object_get(step, "counts"), action));
}

static bool deleted(struct fx *f, const char *path)
{
	struct fs_node *n = fstree_get(f->t, path);

	assert_non_null(n);
	return (n->changes & FS_CH_DELETE) != 0;
}

/* The current content of a file (new content when rewritten). */
static char *content(struct fx *f, const char *path)
{
	struct fs_node *n = fstree_get(f->t, path);
	struct strbuf sb;
	struct err e;

	assert_non_null(n);
	sb_init(&sb, 1 << 20);
	assert_int_equal(fs_backend_read(&f->b.base, f->t, n, 1 << 20, &sb, &e), 0);
	return sb_steal(&sb, NULL);
}

static void assert_content(struct fx *f, const char *path, const char *want)
{
	char *got = content(f, path);

	assert_string_equal(got, want);
	free(got);
}

static bool has_note(json_t *step, const char *needle)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(step, "notes"), i,
	    v) if (strstr(json_string_value(v), needle) != NULL) return true;
	return false;
}

/* Applies the marks the way a backend commit would: deleted nodes go, every other mark is cleared (new content
 * stays in n->content, where the fake backend reads it). */
static void simulate_commit(struct fx *f)
{
	struct fs_node *const *v;
	char **doomed;
	size_t n, i, k = 0;

	v = fstree_sorted(f->t, &n);
	doomed = calloc(n + 1, sizeof(*doomed));
	for (i = 0; i < n; i++) {
		if (v[i]->changes & FS_CH_DELETE)
			doomed[k++] = strdup(v[i]->path);
		v[i]->changes = 0;
	}
	for (i = 0; i < k; i++) {
		fstree_remove(f->t, doomed[i]);
		free(doomed[i]);
	}
	free(doomed);
}

static void run_all(struct fx *f, json_t **json)
{
	static const struct {
		const char *name;
		int (*fn)(struct harden_ctx *, struct report_step *, struct err *);
	} steps[] = {
		{ "users", step_users },
		{ "permissions", step_permissions },
		{ "executables", step_executables },
		{ "package-manager", step_package_manager },
		{ "system-cruft", step_system_cruft },
	};
	struct err e;
	size_t i;

	report_free(f->r);
	f->r = f->ctx.report = report_new(false);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct report_step *rs = report_step_begin(f->r, steps[i].name);

		err_clear(&e);
		assert_int_equal(steps[i].fn(&f->ctx, rs, &e), 0);
	}
	*json = report_to_json(f->r);
}

/* A fake busybox: ELF magic, the version marker and a sorted applet-name table. */
static const char busybox_bin[] = "\177ELF\2\1\1\0\0\0\0\0\0\0\0\0 BusyBox v1.36.1 (fake)\0\0\0"
				  "[\0[[\0ash\0cat\0chmod\0ls\0mount\0sh\0su\0vi\0wget\0zcat\0\0tail";

static void busybox_root(struct fx *f)
{
	dir(f, "/");
	dir(f, "/bin");
	dir(f, "/sbin");
	dir(f, "/usr");
	dir(f, "/usr/bin");
	dir(f, "/usr/sbin");
	file_n(f, "/bin/busybox", 0755, busybox_bin, sizeof(busybox_bin));
	link_(f, "/bin/sh", "/bin/busybox");
	link_(f, "/bin/ls", "busybox");
	link_(f, "/bin/cat", "/bin/busybox");
	link_(f, "/usr/bin/wget", "../../bin/busybox");
	file(f, "/sbin/nologin", 0755, "\177ELF nologin");
}

/* busybox_root where nologin is a busybox applet too (as `busybox --install -s` makes it). */
static void busybox_root_applet_nologin(struct fx *f)
{
	busybox_root(f);
	fstree_remove(f->t, "/sbin/nologin");
	link_(f, "/sbin/nologin", "/bin/busybox");
}

/* ---- users ---- */

static void test_users(void **state)
{
	struct fx *f = fx_new();
	json_t *json, *st;
	struct fs_node *home;

	dir(f, "/");
	dir(f, "/etc");
	dir(f, "/usr");
	dir(f, "/usr/sbin");
	file(f, "/usr/sbin/nologin", 0755, "\177ELF");
	file(f, "/etc/passwd", 0644,
	    "root:x:0:0:root:/root:/bin/bash\n"
	    "rootfoo:x:0:0::/:/bin/sh\n"
	    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
	    "ubuntu:x:1000:1000:Ubuntu:/home/ubuntu:/bin/bash\n");
	file(f, "/etc/shadow", 0640,
	    "root::19000:0:99999:7:::\n"
	    "rootfoo:$6$s$h:19000:0:99999:7:::\n"
	    "daemon:*:19000:0:99999:7:::\n"
	    "ubuntu:!:19000:0:99999:7:::\n");
	file(f, "/etc/group", 0644, "root:x:0:\ndaemon:x:1:\nsudo:x:27:ubuntu,root\nubuntu:x:1000:\n");
	file(f, "/etc/passwd-", 0644, "root:x:0:0:root:/root:/bin/bash\n");
	file(f, "/etc/gshadow", 0640, "root:*::\nsudo:$6$x::ubuntu,root\nubuntu:!::\n");

	st = run(f, step_users, "users", &json);
	assert_string_equal(json_string_value(json_object_get(st, "status")), "ok");
	assert_content(f, "/etc/passwd",
	    "root:x:0:0:root:/root:/usr/sbin/nologin\n"
	    "appuser:x:1000:1000::/app:/usr/sbin/nologin\n");
	assert_content(f, "/etc/shadow", "root:!:19000:0:99999:7:::\nappuser:!:::::::\n");
	assert_content(f, "/etc/group", "root:x:0:\nappuser:x:1000:\n");
	assert_content(f, "/etc/gshadow", "root:*::\nappuser:!::\n");
	assert_true(deleted(f, "/etc/passwd-"));
	home = fstree_get(f->t, "/app");
	assert_non_null(home);
	assert_int_equal(home->type, FS_DIR);
	assert_int_equal(home->uid, 1000);
	assert_int_equal(home->gid, 1000);
	assert_true(home->changes & FS_CH_CREATE);
	assert_int_equal(count(st, "delete-user"), 6);	/* rootfoo, daemon, ubuntu in passwd and shadow */
	assert_int_equal(count(st, "delete-group"), 5); /* daemon, sudo, ubuntu in group; sudo, ubuntu in gshadow */
	assert_int_equal(count(st, "set-shell"), 1);
	assert_true(count(st, "lock") >= 1);
	json_decref(json);

	/* Second run after commit: nothing to change. */
	simulate_commit(f);
	st = run(f, step_users, "users", &json);
	assert_int_equal(json_integer_value(json_object_get(st, "changes")), 0);
	json_decref(json);
	fx_free(f);
}

static void test_users_malformed(void **state)
{
	struct fx *f = fx_new();
	json_t *json, *st;
	struct fs_node *pw;

	dir(f, "/");
	dir(f, "/etc");
	dir(f, "/app");
	pw = file(f, "/etc/passwd", 0644, "root:x:0:0:root:/root:/bin/sh\ngames:x:5:60\n");
	file(f, "/etc/group", 0644, "root:x:0:\n");
	st = run(f, step_users, "users", &json);
	assert_string_equal(json_string_value(json_object_get(st, "status")), "failed");
	assert_non_null(strstr(json_string_value(json_object_get(st, "reason")), "/etc/passwd line 2"));
	assert_int_equal(pw->changes, 0);
	json_decref(json);
	fx_free(f);
}

static void test_users_scratch(void **state)
{
	struct fx *f = fx_new();
	json_t *json, *st;
	struct fs_node *sh;

	dir(f, "/");
	st = run(f, step_users, "users", &json);
	assert_content(f, "/etc/passwd",
	    "root:x:0:0:root:/root:/sbin/nologin\nappuser:x:1000:1000::/app:/usr/sbin/nologin\n");
	assert_content(f, "/etc/group", "root:!:0:\nappuser:!:1000:\n");
	assert_content(f, "/etc/shadow", "root:!:::::::\nappuser:!:::::::\n");
	sh = fstree_get(f->t, "/etc/shadow");
	assert_int_equal(sh->mode, 0600);
	assert_true(fstree_get(f->t, "/etc")->changes & FS_CH_CREATE);
	assert_true(count(st, "create") >= 4);
	json_decref(json);
	fx_free(f);
}

/* ---- permissions ---- */

static void test_permissions(void **state)
{
	struct fx *f = fx_new();
	json_t *json, *st;
	struct fs_node *n;

	dir(f, "/");
	dir(f, "/usr");
	n = put(f, "/usr/bin", FS_DIR, 0775, NULL);
	n->uid = 5;
	file(f, "/usr/bin/passwd", 04755, "x");
	file(f, "/usr/bin/wall", 02755, "x");
	file(f, "/usr/bin/both", 06755, "x");
	file(f, "/data.txt", 0666, "x");
	put(f, "/tmp", FS_DIR, 0777, NULL);
	put(f, "/shared", FS_DIR, 0777, NULL);
	put(f, "/dev", FS_DIR, 0755, NULL);
	put(f, "/dev/null", FS_CHR, 0666, NULL);
	link_(f, "/usr/bin/link", "passwd");
	put(f, "/setgid-dir", FS_DIR, 02775, NULL);

	st = run(f, step_permissions, "permissions", &json);
	assert_int_equal(fstree_get(f->t, "/usr/bin")->mode, 0755);
	assert_int_equal(fstree_get(f->t, "/usr/bin")->uid, 0);
	assert_int_equal(fstree_get(f->t, "/usr/bin/passwd")->mode, 0755);
	assert_int_equal(fstree_get(f->t, "/usr/bin/wall")->mode, 0755);
	assert_int_equal(fstree_get(f->t, "/usr/bin/both")->mode, 0755);
	assert_int_equal(fstree_get(f->t, "/data.txt")->mode, 0664);
	assert_int_equal(fstree_get(f->t, "/tmp")->mode, 01777);
	assert_int_equal(fstree_get(f->t, "/shared")->mode, 0775);
	assert_int_equal(fstree_get(f->t, "/dev/null")->mode, 0666);
	assert_int_equal(fstree_get(f->t, "/usr/bin/link")->mode, 0777);
	assert_int_equal(fstree_get(f->t, "/usr/bin/link")->changes, 0);
	assert_int_equal(fstree_get(f->t, "/setgid-dir")->mode, 02775); /* setgid on a dir is not a privilege */
	assert_null(fstree_get(f->t, "/var/tmp"));			/* fixed when present, never created */
	assert_int_equal(count(st, "clear-setuid"), 2);
	assert_int_equal(count(st, "clear-setgid"), 2);
	assert_int_equal(count(st, "chmod-sticky"), 1);
	json_decref(json);

	simulate_commit(f);
	st = run(f, step_permissions, "permissions", &json);
	assert_int_equal(json_integer_value(json_object_get(st, "changes")), 0);
	json_decref(json);
	fx_free(f);
}

/* ---- executables ---- */

static void test_executables_usrmerge_chains(void **state)
{
	struct fx *f = fx_new();
	struct err e;
	json_t *json, *st;

	assert_int_equal(hpolicy_allow(&f->p, "python3", &e), 0);
	dir(f, "/");
	dir(f, "/usr");
	dir(f, "/usr/bin");
	dir(f, "/usr/sbin");
	dir(f, "/usr/bin/subdir");
	link_(f, "/bin", "usr/bin");
	link_(f, "/sbin", "usr/sbin");
	file(f, "/usr/bin/ls", 0755, "\177ELF ls");
	file(f, "/usr/bin/subdir/x", 0755, "\177ELF x");
	link_(f, "/usr/bin/python3", "python3.11");
	file(f, "/usr/bin/python3.11", 0755, "\177ELF python");
	link_(f, "/usr/bin/python3-config", "python3.11-config");
	file(f, "/usr/sbin/nologin", 0755, "\177ELF nologin");
	link_(f, "/usr/sbin/reboot", "/bin/systemctl");

	st = run(f, step_executables, "executables", &json);
	assert_true(deleted(f, "/usr/bin/ls"));
	assert_true(deleted(f, "/usr/bin/python3-config"));
	assert_true(deleted(f, "/usr/sbin/reboot"));
	assert_false(deleted(f, "/usr/bin/python3"));
	assert_false(deleted(f, "/usr/bin/python3.11"));
	assert_false(deleted(f, "/usr/sbin/nologin"));
	assert_false(deleted(f, "/bin"));
	assert_false(deleted(f, "/sbin"));
	assert_false(deleted(f, "/usr/bin/subdir/x"));
	assert_int_equal(count(st, "delete"), 3); /* each file once although /bin and /usr/bin both list it */
	assert_true(has_note(st, "1 executable files outside the bin dirs remain")); /* /usr/bin/subdir/x */
	json_decref(json);
	fx_free(f);
}

static void test_busybox_kept_for_sh(void **state)
{
	struct fx *f = fx_new();
	struct err e;
	json_t *json, *st, *mc;

	assert_int_equal(hpolicy_allow(&f->p, "sh", &e), 0);
	busybox_root(f);
	st = run(f, step_executables, "executables", &json);
	assert_false(deleted(f, "/bin/sh"));
	assert_false(deleted(f, "/bin/busybox"));
	assert_true(deleted(f, "/bin/ls"));
	assert_true(deleted(f, "/bin/cat"));
	assert_true(deleted(f, "/usr/bin/wget"));
	assert_false(deleted(f, "/sbin/nologin"));
	assert_true(has_note(st, "all 12 applets stay reachable"));
	mc = json_array_get(json_object_get(json_object_get(st, "details"), "multicall"), 0);
	assert_non_null(mc);
	assert_string_equal(json_string_value(json_object_get(mc, "kind")), "busybox");
	assert_true(json_is_true(json_object_get(mc, "kept")));
	assert_int_equal(json_array_size(json_object_get(mc, "applets")), 12);
	json_decref(json);
	fx_free(f);
}

static void test_busybox_removed(void **state)
{
	struct fx *f = fx_new();
	json_t *json, *st;

	busybox_root(f);
	st = run(f, step_executables, "executables", &json);
	assert_true(deleted(f, "/bin/busybox"));
	assert_true(deleted(f, "/bin/sh"));
	assert_true(deleted(f, "/bin/ls"));
	assert_false(deleted(f, "/sbin/nologin"));
	assert_true(has_note(st, "deleted with all its names"));
	json_decref(json);
	fx_free(f);
}

static void test_busybox_nologin_applet(void **state)
{
	struct fx *f = fx_new();
	struct err e;
	json_t *json, *st;

	/* the default allowlist (nologin) must not keep busybox alive through its nologin applet */
	busybox_root_applet_nologin(f);
	st = run(f, step_executables, "executables", &json);
	assert_true(deleted(f, "/bin/busybox"));
	assert_true(deleted(f, "/sbin/nologin"));
	assert_true(has_note(st, "nologin is an applet"));
	json_decref(json);
	fx_free(f);

	/* but when sh keeps busybox anyway, nologin stays with it */
	f = fx_new();
	assert_int_equal(hpolicy_allow(&f->p, "sh", &e), 0);
	busybox_root_applet_nologin(f);
	st = run(f, step_executables, "executables", &json);
	assert_false(deleted(f, "/bin/busybox"));
	assert_false(deleted(f, "/sbin/nologin"));
	assert_false(deleted(f, "/bin/sh"));
	assert_true(deleted(f, "/bin/ls"));
	(void)st;
	json_decref(json);
	fx_free(f);
}

static void test_busybox_hardlinks(void **state)
{
	struct fx *f = fx_new();
	struct err e;
	json_t *json, *st;

	/* A live directory shows busybox hard links as identical regular files. */
	assert_int_equal(hpolicy_allow(&f->p, "sh", &e), 0);
	dir(f, "/");
	dir(f, "/bin");
	file_n(f, "/bin/busybox", 0755, busybox_bin, sizeof(busybox_bin));
	file_n(f, "/bin/sh", 0755, busybox_bin, sizeof(busybox_bin));
	file_n(f, "/bin/ls", 0755, busybox_bin, sizeof(busybox_bin));
	/* and an image shows them as hard-link entries */
	put(f, "/bin/vi", FS_HARDLINK, 0755, "/bin/busybox");
	st = run(f, step_executables, "executables", &json);
	assert_false(deleted(f, "/bin/sh"));
	assert_true(deleted(f, "/bin/busybox"));
	assert_true(deleted(f, "/bin/ls"));
	assert_true(deleted(f, "/bin/vi"));
	assert_true(has_note(st, "all 12 applets stay reachable"));
	json_decref(json);
	fx_free(f);
}

static void test_executables_hardlink_name(void **state)
{
	struct fx *f = fx_new();
	struct err e;
	json_t *json;

	/* An image lists a second name of a file as a hard-link entry to the first name. Keeping the allowed name must
	 * not keep the first one: a hard link is a name of its own (the image backend writes it out as a regular file
	 * when the first name goes), so /bin/sh must not survive because /bin/app is allowed. */
	assert_int_equal(hpolicy_allow(&f->p, "app", &e), 0);
	dir(f, "/");
	dir(f, "/bin");
	file(f, "/bin/sh", 0755, "\177ELF not a multi-call binary");
	put(f, "/bin/app", FS_HARDLINK, 0755, "/bin/sh");
	run(f, step_executables, "executables", &json);
	assert_true(deleted(f, "/bin/sh"));
	assert_false(deleted(f, "/bin/app"));
	json_decref(json);
	fx_free(f);
}

/* ---- package manager ---- */

static void test_package_manager(void **state)
{
	struct fx *f = fx_new();
	json_t *json, *st;

	dir(f, "/");
	dir(f, "/usr");
	dir(f, "/usr/bin");
	dir(f, "/var");
	dir(f, "/var/lib");
	dir(f, "/var/lib/dpkg");
	dir(f, "/var/lib/dpkg/info");
	dir(f, "/var/lib/dpkg/status.d");
	dir(f, "/var/cache");
	dir(f, "/var/cache/apt");
	dir(f, "/lib");
	dir(f, "/lib/apk");
	dir(f, "/lib/apk/db");
	dir(f, "/usr/local");
	dir(f, "/usr/local/lib");
	dir(f, "/usr/local/lib/python3.12");
	dir(f, "/usr/local/lib/python3.12/site-packages");
	dir(f, "/usr/local/lib/python3.12/site-packages/pip");
	dir(f, "/usr/local/lib/python3.12/site-packages/requests");
	file(f, "/usr/local/lib/python3.12/site-packages/pip/__init__.py", 0644, "");
	file(f, "/var/lib/dpkg/status", 0644, "Package: libc6\n");
	file(f, "/var/lib/dpkg/status.d/base", 0644, "Package: base\n");
	file(f, "/var/lib/dpkg/info/libc6.list", 0644, "/lib\n");
	file(f, "/var/lib/dpkg/info/libc6.postinst", 0755, "#!/bin/sh\n");
	file(f, "/var/cache/apt/pkgcache.bin", 0644, "x");
	file(f, "/lib/apk/db/installed", 0644, "P:musl\n");
	file(f, "/usr/bin/apt-get", 0755, "\177ELF");
	file(f, "/usr/bin/dpkg-query", 0755, "\177ELF");
	file(f, "/usr/bin/python3", 0755, "\177ELF");
	st = run(f, step_package_manager, "package-manager", &json);
	assert_false(deleted(f, "/var/lib/dpkg/status"));
	assert_false(deleted(f, "/var/lib/dpkg/status.d/base"));
	assert_false(deleted(f, "/var/lib/dpkg/info/libc6.list"));
	assert_false(deleted(f, "/lib/apk/db/installed"));
	assert_false(deleted(f, "/usr/bin/python3"));
	assert_false(deleted(f, "/usr/local/lib/python3.12/site-packages/requests"));
	assert_true(deleted(f, "/var/lib/dpkg/info/libc6.postinst"));
	assert_true(deleted(f, "/var/cache/apt/pkgcache.bin"));
	assert_true(deleted(f, "/usr/bin/apt-get"));
	assert_true(deleted(f, "/usr/bin/dpkg-query"));
	assert_true(deleted(f, "/usr/local/lib/python3.12/site-packages/pip/__init__.py"));
	assert_true(has_note(st, "kept the package database /var/lib/dpkg/status"));
	assert_true(has_note(st, "kept the package database /lib/apk/db/installed"));
	json_decref(json);
	fx_free(f);
}

/* ---- system cruft ---- */

static void test_system_cruft(void **state)
{
	struct fx *f = fx_new();
	struct err e;
	json_t *json, *st;

	assert_int_equal(strlist_add(&f->p.delete_paths, "/opt/*.log"), 0);
	assert_int_equal(strlist_add(&f->p.delete_paths, "/lib/secret"), 0);
	dir(f, "/");
	dir(f, "/etc");
	dir(f, "/etc/crontabs");
	dir(f, "/etc/init.d");
	dir(f, "/etc/rc2.d");
	dir(f, "/etc/cron.daily");
	dir(f, "/root");
	dir(f, "/opt");
	dir(f, "/usr");
	dir(f, "/usr/lib");
	link_(f, "/lib", "usr/lib");
	file(f, "/usr/lib/secret", 0644, "x");
	file(f, "/etc/crontabs/root", 0600, "* * * * * x\n");
	file(f, "/etc/init.d/ssh", 0755, "#!/bin/sh\n");
	link_(f, "/etc/rc2.d/S01ssh", "../init.d/ssh");
	file(f, "/etc/fstab", 0644, "");
	file(f, "/etc/hostname", 0644, "x\n");
	file(f, "/root/.bashrc", 0644, "");
	file(f, "/opt/a.log", 0644, "");
	file(f, "/opt/keep.txt", 0644, "");
	link_(f, "/usr/lib/libfoo.so", "libfoo.so.1");
	link_(f, "/a", "/b");
	link_(f, "/b", "/missing");
	link_(f, "/loop1", "loop2");
	link_(f, "/loop2", "loop1");
	link_(f, "/etc/mtab", "../proc/self/mounts");
	link_(f, "/usr/lib/init-link", "/etc/init.d/ssh"); /* broken by this step's own deletions */
	link_(f, "/etc/ok", "hostname");
	st = run(f, step_system_cruft, "system-cruft", &json);
	assert_true(deleted(f, "/etc/crontabs/root"));
	assert_true(deleted(f, "/etc/init.d"));
	assert_true(deleted(f, "/etc/rc2.d/S01ssh"));
	assert_true(deleted(f, "/etc/cron.daily"));
	assert_true(deleted(f, "/etc/fstab"));
	assert_true(deleted(f, "/root/.bashrc"));
	assert_false(deleted(f, "/root"));
	assert_int_equal(fstree_get(f->t, "/root")->mode, 0700);
	assert_true(deleted(f, "/opt/a.log"));
	assert_false(deleted(f, "/opt/keep.txt"));
	assert_true(deleted(f, "/usr/lib/secret"));
	assert_false(deleted(f, "/lib"));
	assert_true(deleted(f, "/usr/lib/libfoo.so"));
	assert_true(deleted(f, "/a"));
	assert_true(deleted(f, "/b"));
	assert_true(deleted(f, "/loop1"));
	assert_true(deleted(f, "/usr/lib/init-link"));
	assert_false(deleted(f, "/etc/mtab"));
	assert_false(deleted(f, "/etc/ok"));
	assert_false(deleted(f, "/etc/hostname"));
	assert_true(count(st, "delete-broken-symlink") >= 5);
	json_decref(json);
	(void)e;
	fx_free(f);
}

/* ---- the whole profile, twice ---- */

static void test_profile_idempotent(void **state)
{
	struct fx *f = fx_new();
	struct err e;
	json_t *json;

	assert_int_equal(hpolicy_allow(&f->p, "sh", &e), 0);
	free(f->p.home);
	f->p.home = strdup("/usr/src/app"); /* a home under a system dir stays the app user's */
	busybox_root(f);
	dir(f, "/etc");
	dir(f, "/etc/periodic");
	put(f, "/tmp", FS_DIR, 0777, NULL);
	file(f, "/etc/passwd", 0644, "root:x:0:0:root:/root:/bin/ash\nbin:x:1:1:bin:/bin:/sbin/nologin\n");
	file(f, "/etc/shadow", 0640, "root:::0:::::\nbin:!::0:::::\n");
	file(f, "/etc/group", 0644, "root:x:0:root\nbin:x:1:root,bin\n");
	file(f, "/bin/mount", 04755, "\177ELF mount");
	dir(f, "/lib");
	dir(f, "/lib/apk");
	dir(f, "/lib/apk/db");
	file(f, "/lib/apk/db/installed", 0644, "P:musl\n");
	file(f, "/sbin/apk", 0755, "\177ELF apk");
	run_all(f, &json);
	assert_true(json_integer_value(json_object_get(json, "totalChanges")) > 10);
	assert_false(deleted(f, "/bin/busybox"));
	assert_true(deleted(f, "/bin/mount"));
	assert_true(deleted(f, "/sbin/apk"));
	json_decref(json);
	simulate_commit(f);
	run_all(f, &json);
	assert_int_equal(json_integer_value(json_object_get(json, "totalChanges")), 0);
	assert_int_equal(fstree_get(f->t, "/usr/src/app")->uid, 1000);
	json_decref(json);
	fx_free(f);
}

static void test_profile_idempotent_applet_nologin(void **state)
{
	struct fx *f = fx_new();
	json_t *json;

	/* users picks the busybox nologin applet as root's shell, then executables deletes it: still stable */
	busybox_root_applet_nologin(f);
	dir(f, "/etc");
	file(f, "/etc/passwd", 0644, "root:x:0:0:root:/root:/bin/ash\n");
	run_all(f, &json);
	assert_true(deleted(f, "/bin/busybox"));
	json_decref(json);
	simulate_commit(f);
	run_all(f, &json);
	assert_int_equal(json_integer_value(json_object_get(json, "totalChanges")), 0);
	json_decref(json);
	/* no shadow file: the password fields lock with "*" */
	assert_content(f, "/etc/passwd",
	    "root:*:0:0:root:/root:/sbin/nologin\nappuser:*:1000:1000::/app:/usr/sbin/nologin\n");
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_users),
		cmocka_unit_test(test_users_malformed),
		cmocka_unit_test(test_users_scratch),
		cmocka_unit_test(test_permissions),
		cmocka_unit_test(test_executables_usrmerge_chains),
		cmocka_unit_test(test_busybox_kept_for_sh),
		cmocka_unit_test(test_busybox_removed),
		cmocka_unit_test(test_busybox_nologin_applet),
		cmocka_unit_test(test_busybox_hardlinks),
		cmocka_unit_test(test_executables_hardlink_name),
		cmocka_unit_test(test_package_manager),
		cmocka_unit_test(test_system_cruft),
		cmocka_unit_test(test_profile_idempotent),
		cmocka_unit_test(test_profile_idempotent_applet_nologin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
