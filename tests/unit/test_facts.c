/* Tests of hardener/facts: every category on a hand-built tree (pending marks applied), multi-call applets, scripts,
 * the users and groups, sorted and capped lists, hostile names, and the summary line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hardener/facts.h"
#include "tests/unit/fsfix.h"

#define MAX_FILES 32

struct fake_backend {
	struct fs_backend base;
	const char *paths[MAX_FILES];
	const char *data[MAX_FILES];
	size_t len[MAX_FILES];
	size_t n;
};

static int fake_read(struct fs_backend *b, const struct fs_node *n, size_t cap, struct strbuf *out, struct err *e)
{
	struct fake_backend *fb = (struct fake_backend *)b;
	size_t i;

	for (i = 0; i < fb->n; i++)
		if (strcmp(fb->paths[i], n->path) == 0)
			return fb->len[i] > cap ? err_set(e, ERR_TOO_LARGE, "too large")
						: sb_append(out, fb->data[i], fb->len[i]);
	return 0;
}

static const struct fs_backend_ops fake_ops = { "fake", fake_read, NULL, NULL };

static struct fs_node *file(struct fstree *t, struct fake_backend *b, const char *path, uint32_t mode, const char *data,
    size_t len)
{
	struct fs_node *n = fsfix_put(t, path, FS_REG, mode, NULL);

	n->size = len;
	assert_int_equal(fstree_set_head(n, data, len, NULL), 0);
	assert_true(b->n < MAX_FILES);
	b->paths[b->n] = path;
	b->data[b->n] = data;
	b->len[b->n] = len;
	b->n++;
	return n;
}

static struct fs_node *text(struct fstree *t, struct fake_backend *b, const char *path, uint32_t mode, const char *s)
{
	return file(t, b, path, mode, s, strlen(s));
}

static const char busybox_bin[] = "\177ELF\2\1\1\0 BusyBox v1.36.1 (fake)\0"
				  "[\0[[\0ash\0cat\0chmod\0ls\0mount\0sh\0su\0vi\0wget\0zcat\0";

/* The paths of a category's items, comma-joined. */
static const char *paths_of(const json_t *facts, const char *key)
{
	static char buf[2048];
	const json_t *items = json_object_get(json_object_get(facts, key), "items"), *x;
	size_t i;

	buf[0] = '\0';
	json_array_foreach(items, i, x)
	{
		const char *s =
		    json_is_string(x) ? json_string_value(x) : json_string_value(json_object_get(x, "path"));

		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? "," : "", s);
	}
	return buf;
}

static long long count_of(const json_t *facts, const char *key)
{
	return (long long)json_integer_value(json_object_get(json_object_get(facts, key), "count"));
}

static const json_t *exe(const json_t *facts, const char *path)
{
	const json_t *items = json_object_get(json_object_get(facts, "executables"), "items"), *x;
	size_t i;

	json_array_foreach(items, i, x) if (strcmp(json_string_value(json_object_get(x, "path")), path) == 0) return x;
	return NULL;
}

static void test_categories(void **state)
{
	struct fstree *t = fstree_new();
	struct fake_backend b = { { &fake_ops }, { 0 }, { 0 }, { 0 }, 0 };
	struct fs_node *n;
	json_t *f = NULL;
	const json_t *x;
	struct err e;
	char line[512];

	fsfix_put(t, "/", FS_DIR, 0755, NULL);
	fsfix_put(t, "/bin", FS_DIR, 0755, NULL);
	fsfix_put(t, "/usr", FS_DIR, 0755, NULL);
	fsfix_put(t, "/usr/bin", FS_DIR, 0755, NULL);
	fsfix_put(t, "/usr/local", FS_DIR, 0755, NULL);
	fsfix_put(t, "/usr/local/bin", FS_DIR, 0755, NULL);
	fsfix_put(t, "/etc", FS_DIR, 0755, NULL);
	fsfix_put(t, "/dev", FS_DIR, 0755, NULL);
	fsfix_put(t, "/dev/null", FS_CHR, 0666, NULL);
	fsfix_put(t, "/tmp", FS_DIR, 01777, NULL);
	fsfix_put(t, "/shared", FS_DIR, 0777, NULL);
	file(t, &b, "/bin/busybox", 0755, busybox_bin, sizeof(busybox_bin));
	fsfix_put(t, "/bin/sh", FS_SYMLINK, 0777, "busybox");
	fsfix_put(t, "/bin/ls", FS_SYMLINK, 0777, "/bin/busybox");
	text(t, &b, "/usr/bin/python3.11", 0755, "\177ELF python");
	fsfix_put(t, "/usr/bin/python3", FS_SYMLINK, 0777, "python3.11");
	text(t, &b, "/usr/bin/python3.11-config", 0755, "#!/bin/sh\n");
	text(t, &b, "/usr/bin/curl", 0755, "\177ELF curl");
	text(t, &b, "/usr/bin/apt", 0755, "\177ELF apt");
	text(t, &b, "/usr/bin/passwd", 04755, "\177ELF passwd");
	text(t, &b, "/usr/bin/wall", 02755, "\177ELF wall");
	text(t, &b, "/usr/local/bin/app", 0755, "#!  /usr/bin/env python3  \nprint(1)\n");
	text(t, &b, "/data", 0666, "data");
	text(t, &b, "/lib.so", 0644, "\177ELF lib");
	n = text(t, &b, "/usr/bin/wget", 0755, "\177ELF wget");
	fstree_mark_delete(t, n); /* pending delete: not measured */
	n = text(t, &b, "/usr/bin/bash", 0755, "\177ELF bash");
	fstree_mark_mode(n, 0644); /* pending chmod: no longer executable */
	text(t, &b, "/usr/bin/bad\xff", 0755, "\177ELF bad");
	text(t, &b, "/etc/passwd", 0644,
	    "root:x:0:0:root:/root:/bin/bash\nappuser:x:1000:1000::/app:/usr/sbin/nologin\n");
	text(t, &b, "/etc/group", 0644, "root:x:0:\nappuser:x:1000:appuser,root\n");

	err_clear(&e);
	assert_int_equal(facts_compute(t, &b.base, &f, &e), 0);
	assert_int_equal(json_integer_value(json_object_get(f, "schemaVersion")), 1);
	assert_int_equal(json_integer_value(json_object_get(f, "files")), 14);
	assert_string_equal(paths_of(f, "shells"), "/bin/busybox,/bin/sh");
	assert_string_equal(paths_of(f, "fetchTools"), "/bin/busybox,/usr/bin/curl");
	assert_string_equal(paths_of(f, "interpreters"), "/usr/bin/python3,/usr/bin/python3.11");
	assert_string_equal(paths_of(f, "packageManagers"), "/usr/bin/apt");
	assert_string_equal(paths_of(f, "setuid"), "/usr/bin/passwd");
	assert_string_equal(paths_of(f, "setgid"), "/usr/bin/wall");
	assert_string_equal(paths_of(f, "worldWritable"), "/data,/shared");
	assert_int_equal(count_of(f, "executables"), 12);
	assert_null(exe(f, "/usr/bin/wget"));
	assert_null(exe(f, "/usr/bin/bash"));
	assert_null(exe(f, "/lib.so"));
	assert_non_null(exe(f, "/usr/bin/bad\\xff"));

	x = exe(f, "/bin/busybox");
	assert_string_equal(json_string_value(json_object_get(x, "kind")), "multicall");
	assert_string_equal(json_string_value(json_object_get(x, "multicall")), "busybox");
	assert_int_equal(json_array_size(json_object_get(x, "applets")), 12);
	x = exe(f, "/bin/ls");
	assert_string_equal(json_string_value(json_object_get(x, "kind")), "multicall");
	assert_string_equal(json_string_value(json_object_get(x, "target")), "/bin/busybox");
	assert_null(json_object_get(x, "applets"));
	x = exe(f, "/usr/local/bin/app");
	assert_string_equal(json_string_value(json_object_get(x, "kind")), "script");
	assert_string_equal(json_string_value(json_object_get(x, "interpreter")), "/usr/bin/env python3");
	x = exe(f, "/usr/bin/python3");
	assert_string_equal(json_string_value(json_object_get(x, "kind")), "elf");

	assert_int_equal(count_of(f, "users"), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(f, "users"), "loginShells")), 1);
	x = json_array_get(json_object_get(json_object_get(f, "users"), "items"), 1);
	assert_string_equal(json_string_value(json_object_get(x, "name")), "root");
	assert_string_equal(json_string_value(json_object_get(x, "shell")), "/bin/bash");
	x = json_array_get(json_object_get(json_object_get(f, "groups"), "items"), 0);
	assert_string_equal(json_string_value(json_object_get(x, "name")), "appuser");
	assert_int_equal(json_array_size(json_object_get(x, "members")), 2);

	facts_summary_line(f, line, sizeof(line));
	assert_non_null(strstr(line, "shells 2"));
	assert_non_null(strstr(line, "users appuser root"));
	facts_summary_line(f, line, 20);
	assert_int_equal(strlen(line), 19);
	json_decref(f);
	fstree_free(t);
}

static void test_lookalike_copies(void **state)
{
	struct fstree *t = fstree_new();
	struct fake_backend b = { { &fake_ops }, { 0 }, { 0 }, { 0 }, 0 };
	json_t *f = NULL;
	struct err e;

	/* a live directory shows busybox hard links as identical regular files; an image as hard-link entries */
	fsfix_put(t, "/", FS_DIR, 0755, NULL);
	fsfix_put(t, "/bin", FS_DIR, 0755, NULL);
	file(t, &b, "/bin/busybox", 0755, busybox_bin, sizeof(busybox_bin));
	file(t, &b, "/bin/cp", 0755, busybox_bin, sizeof(busybox_bin));
	fsfix_put(t, "/bin/vi", FS_HARDLINK, 0755, "/bin/busybox");
	assert_int_equal(facts_compute(t, &b.base, &f, &e), 0);
	assert_string_equal(json_string_value(json_object_get(exe(f, "/bin/cp"), "kind")), "multicall");
	assert_string_equal(json_string_value(json_object_get(exe(f, "/bin/vi"), "kind")), "multicall");
	assert_string_equal(paths_of(f, "shells"), "/bin/busybox,/bin/cp");
	assert_int_equal(json_integer_value(json_object_get(f, "files")), 3);
	json_decref(f);
	fstree_free(t);
}

static void test_malformed_passwd_and_caps(void **state)
{
	struct fstree *t = fstree_new();
	struct fake_backend b = { { &fake_ops }, { 0 }, { 0 }, { 0 }, 0 };
	json_t *f = NULL, *items;
	char p[64];
	struct err e;
	size_t i;

	fsfix_put(t, "/", FS_DIR, 0755, NULL);
	fsfix_put(t, "/etc", FS_DIR, 0755, NULL);
	fsfix_put(t, "/s", FS_DIR, 0755, NULL);
	text(t, &b, "/etc/passwd", 0644, "root:x:0:0\n");
	for (i = 0; i < FACTS_MAX_ITEMS + 5; i++) {
		snprintf(p, sizeof(p), "/s/f%05zu", i);
		fsfix_put(t, p, FS_REG, 04644, NULL);
	}
	assert_int_equal(facts_compute(t, &b.base, &f, &e), 0);
	assert_int_equal(count_of(f, "setuid"), FACTS_MAX_ITEMS + 5);
	items = json_object_get(json_object_get(f, "setuid"), "items");
	assert_int_equal(json_array_size(items), FACTS_MAX_ITEMS);
	assert_string_equal(json_string_value(json_array_get(items, 0)), "/s/f00000");
	assert_true(json_is_true(json_object_get(json_object_get(f, "setuid"), "truncated")));
	assert_int_equal(count_of(f, "users"), 0);
	assert_non_null(
	    strstr(json_string_value(json_object_get(json_object_get(f, "users"), "error")), "/etc/passwd line 1"));
	assert_int_equal(count_of(f, "groups"), 0);
	json_decref(f);
	fstree_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_categories),
		cmocka_unit_test(test_lookalike_copies),
		cmocka_unit_test(test_malformed_passwd_and_caps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
