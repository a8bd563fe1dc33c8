/* Tests of hardener/fstree: normalization, tree order, subtree ranges, marks, removal and chroot-style resolution. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hardener/fstree.h"
#include "tests/unit/fsfix.h"

/* fsfix_put with the usual mode (0755 for a directory, else 0644). */
static void add(struct fstree *t, const char *path, enum fs_type type, const char *link)
{
	(void)fsfix_put(t, path, type, type == FS_DIR ? 0755 : 0644, link);
}

static void test_normalize(void **state)
{
	char out[64];

	assert_int_equal(fs_path_normalize("usr//bin/./x/", out, sizeof(out)), 0);
	assert_string_equal(out, "/usr/bin/x");
	assert_int_equal(fs_path_normalize("../../etc/../etc/passwd", out, sizeof(out)), 0);
	assert_string_equal(out, "/etc/passwd");
	assert_int_equal(fs_path_normalize("", out, sizeof(out)), 0);
	assert_string_equal(out, "/");
	assert_int_equal(fs_path_normalize("/aaaaaaaaaa", out, 5), ERR_TOO_LARGE);
}

static void test_order_and_subtree(void **state)
{
	struct fstree *t = fstree_new();
	struct fs_node *const *v;
	size_t n, i;
	struct err e;
	struct fs_node bad = { .path = (char *)"/a/../b" };

	add(t, "/", FS_DIR, NULL);
	add(t, "/a-b", FS_REG, NULL);
	add(t, "/a", FS_DIR, NULL);
	add(t, "/a/x", FS_REG, NULL);
	add(t, "/a/y", FS_DIR, NULL);
	add(t, "/a/y/z", FS_REG, NULL);
	assert_int_equal(fstree_put(t, &bad, NULL, &e), ERR_INVALID);
	v = fstree_sorted(t, &n);
	assert_int_equal(n, 6);
	assert_string_equal(v[0]->path, "/");
	assert_string_equal(v[1]->path, "/a");
	assert_string_equal(v[5]->path, "/a-b");
	assert_int_equal(fstree_subtree_end(t, 1), 5);
	assert_int_equal(fstree_subtree_end(t, 0), 6);
	fstree_mark_delete(t, v[1]);
	for (i = 1; i < 5; i++)
		assert_true(v[i]->changes & FS_CH_DELETE);
	assert_false(v[5]->changes & FS_CH_DELETE);
	assert_int_equal(fstree_remove(t, "/a"), 4);
	assert_null(fstree_get(t, "/a/y/z"));
	assert_non_null(fstree_get(t, "/a-b"));
	assert_int_equal(fstree_count(t), 2);
	fstree_free(t);
}

/* Only executables keep their first bytes, copied (at most FS_HEAD_LEN) from the template and replaced by
 * fstree_set_head; the stored path is a copy too. */
static void test_head(void **state)
{
	struct fstree *t = fstree_new();
	struct fs_node tmpl, *n, *m;
	unsigned char big[FS_HEAD_LEN + 10];
	char path[] = "/bin/sh";
	struct err e;

	memset(big, 'x', sizeof(big));
	memcpy(big, "\177ELF", 4);
	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.path = path;
	tmpl.type = FS_REG;
	tmpl.mode = 0755;
	tmpl.head = big;
	tmpl.head_len = sizeof(big);
	assert_int_equal(fstree_put(t, &tmpl, &n, &e), 0);
	path[1] = 'x';
	assert_string_equal(n->path, "/bin/sh");
	assert_ptr_not_equal(n->head, big);
	assert_int_equal(n->head_len, FS_HEAD_LEN);
	assert_memory_equal(n->head, big, FS_HEAD_LEN);
	assert_int_equal(fstree_set_head(n, n->head + 1, 3, &e), 0); /* from its own head */
	assert_int_equal(n->head_len, 3);
	assert_memory_equal(n->head, "ELF", 3);
	tmpl.path = (char *)"/etc/passwd";
	tmpl.mode = 0644;
	assert_int_equal(fstree_put(t, &tmpl, &m, &e), 0);
	assert_null(m->head);
	assert_int_equal(m->head_len, 0);
	tmpl.path = (char *)"/bin/sh"; /* replacing drops the old head */
	tmpl.mode = 0755;
	tmpl.head = n->head;
	tmpl.head_len = n->head_len;
	assert_int_equal(fstree_put(t, &tmpl, &m, &e), 0);
	assert_int_equal(m->head_len, 3);
	assert_memory_equal(m->head, "ELF", 3);
	assert_int_equal(fstree_count(t), 2);
	fstree_free(t);
}

static void test_many(void **state)
{
	struct fstree *t = fstree_new();
	char p[32];
	int i;

	add(t, "/", FS_DIR, NULL);
	for (i = 0; i < 5000; i++) {
		snprintf(p, sizeof(p), "/f%d", i);
		add(t, p, FS_REG, NULL);
	}
	for (i = 0; i < 5000; i += 2) {
		snprintf(p, sizeof(p), "/f%d", i);
		assert_int_equal(fstree_remove(t, p), 1);
	}
	assert_int_equal(fstree_count(t), 2501);
	assert_non_null(fstree_get(t, "/f4999"));
	assert_null(fstree_get(t, "/f4998"));
	fstree_free(t);
}

static void test_marks(void **state)
{
	struct fstree *t = fstree_new();
	struct fs_node *n;
	struct err e;

	add(t, "/f", FS_REG, NULL);
	n = fstree_get(t, "/f");
	assert_false(fstree_mark_mode(n, 0644));
	assert_true(fstree_mark_mode(n, 0600));
	assert_true(n->changes & FS_CH_MODE);
	assert_false(fstree_mark_owner(n, 0, 0));
	assert_int_equal(fstree_mark_content(n, "abc", 3, &e), 0);
	assert_int_equal(n->size, 3);
	fstree_free(t);
}

/* A new tree of a usr-merged root: /usr/bin/busybox, and /bin a symlink to usr/bin. */
static struct fstree *usrmerged(void)
{
	struct fstree *t = fstree_new();

	assert_non_null(t);
	add(t, "/", FS_DIR, NULL);
	add(t, "/usr", FS_DIR, NULL);
	add(t, "/usr/bin", FS_DIR, NULL);
	add(t, "/usr/bin/busybox", FS_REG, NULL);
	add(t, "/bin", FS_SYMLINK, "usr/bin");
	return t;
}

static void test_resolve(void **state)
{
	struct fstree *t = usrmerged();
	char out[256];
	struct err e;

	add(t, "/usr/bin/sh", FS_SYMLINK, "busybox");
	add(t, "/up", FS_SYMLINK, "../../../../usr");
	add(t, "/loop", FS_SYMLINK, "/loop");
	add(t, "/abs", FS_SYMLINK, "/usr/bin/sh");
	assert_int_equal(fstree_resolve(t, "/bin/sh", true, out, sizeof(out), &e), 0);
	assert_string_equal(out, "/usr/bin/busybox");
	assert_int_equal(fstree_resolve(t, "/bin/sh", false, out, sizeof(out), &e), 0);
	assert_string_equal(out, "/usr/bin/sh");
	assert_int_equal(fstree_resolve(t, "/up/bin/sh", true, out, sizeof(out), &e), 0);
	assert_string_equal(out, "/usr/bin/busybox");
	assert_int_equal(fstree_resolve(t, "/abs", true, out, sizeof(out), &e), 0);
	assert_string_equal(out, "/usr/bin/busybox");
	assert_int_equal(fstree_resolve(t, "/loop", true, out, sizeof(out), &e), ERR_INVALID);
	assert_int_equal(fstree_resolve(t, "/bin/nope", true, out, sizeof(out), &e), ERR_NOT_FOUND);
	assert_int_equal(fstree_resolve(t, "/usr/bin/busybox/x", true, out, sizeof(out), &e), ERR_INVALID);
	fstree_free(t);
}

/* fstree_final: a symlink (through a symlinked parent) and then a hard link lead to the file; a dangling link and a
 * loop lead nowhere; a regular file is itself. */
static void test_final(void **state)
{
	struct fstree *t = usrmerged();
	struct fs_node *bb;

	(void)state;
	add(t, "/usr/bin/ash", FS_HARDLINK, "/usr/bin/busybox");
	add(t, "/sh", FS_SYMLINK, "/bin/ash");
	add(t, "/gone", FS_SYMLINK, "/usr/bin/nope");
	add(t, "/loop", FS_SYMLINK, "/loop");
	bb = fstree_get(t, "/usr/bin/busybox");
	assert_non_null(bb);
	assert_ptr_equal(fstree_final(t, bb), bb);
	assert_ptr_equal(fstree_final(t, fstree_get(t, "/usr/bin/ash")), bb);
	assert_ptr_equal(fstree_final(t, fstree_get(t, "/sh")), bb);
	assert_null(fstree_final(t, fstree_get(t, "/gone")));
	assert_null(fstree_final(t, fstree_get(t, "/loop")));
	fstree_free(t);
}

/* fstree_resolve_dirs: a symlinked directory and its target count once; a missing name and a file are skipped;
 * max bounds what is written. */
static void test_resolve_dirs(void **state)
{
	static char *const names[] = { "/bin", "/usr/bin", "/nope", "/usr/bin/busybox", "/sbin" };
	struct fstree *t = usrmerged();
	char dirs[4][4096];

	(void)state;
	add(t, "/sbin", FS_DIR, NULL);
	assert_int_equal(fstree_resolve_dirs(t, names, 5, dirs, 4), 2);
	assert_string_equal(dirs[0], "/usr/bin");
	assert_string_equal(dirs[1], "/sbin");
	assert_int_equal(fstree_resolve_dirs(t, names, 5, dirs, 1), 1);
	assert_string_equal(dirs[0], "/usr/bin");
	fstree_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_order_and_subtree),
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_marks),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_final),
		cmocka_unit_test(test_resolve_dirs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
