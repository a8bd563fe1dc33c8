/* Tests of webhook/filewatch: in-place rewrites, the Kubernetes "..data" symlink swap, disappearance and return. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/str.h"
#include "webhook/filewatch.h"

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_symlink_swap(void **state)
{
	char dir[] = "/tmp/hl-filewatch.XXXXXX", p[4096], q[4096];
	struct filewatch fw;
	struct err e;

	assert_non_null(mkdtemp(dir));
	str_fmt(p, sizeof(p), "%s/..v1", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	str_fmt(p, sizeof(p), "%s/..v1/tls.crt", dir);
	write_file(p, "one");
	str_fmt(p, sizeof(p), "%s/..data", dir);
	assert_int_equal(symlink("..v1", p), 0);
	str_fmt(p, sizeof(p), "%s/tls.crt", dir);
	assert_int_equal(symlink("..data/tls.crt", p), 0);

	assert_int_equal(filewatch_init(&fw, p, &e), 0);
	assert_true(fw.present);
	assert_false(filewatch_changed(&fw));

	/* The kubelet's swap: a new directory, then an atomic rename of a new "..data" link over the old one. */
	str_fmt(q, sizeof(q), "%s/..v2", dir);
	assert_int_equal(mkdir(q, 0700), 0);
	str_fmt(q, sizeof(q), "%s/..v2/tls.crt", dir);
	write_file(q, "two");
	str_fmt(q, sizeof(q), "%s/..data_tmp", dir);
	assert_int_equal(symlink("..v2", q), 0);
	str_fmt(p, sizeof(p), "%s/..data", dir);
	assert_int_equal(rename(q, p), 0);
	str_fmt(p, sizeof(p), "%s/tls.crt", dir);
	assert_true(filewatch_changed(&fw));
	assert_false(filewatch_changed(&fw)); /* reported once */

	/* Gone, then back. */
	str_fmt(q, sizeof(q), "%s/..v2/tls.crt", dir);
	assert_int_equal(unlink(q), 0);
	assert_true(filewatch_changed(&fw));
	assert_false(fw.present);
	assert_false(filewatch_changed(&fw));
	write_file(q, "three");
	assert_true(filewatch_changed(&fw));
	assert_true(fw.present);

	unlink(q);
	str_fmt(q, sizeof(q), "%s/..v1/tls.crt", dir);
	unlink(q);
	str_fmt(q, sizeof(q), "%s/..v1", dir);
	rmdir(q);
	str_fmt(q, sizeof(q), "%s/..v2", dir);
	rmdir(q);
	str_fmt(q, sizeof(q), "%s/..data", dir);
	unlink(q);
	unlink(p);
	rmdir(dir);
}

static void test_rewrite_in_place(void **state)
{
	char path[] = "/tmp/hl-filewatch-f.XXXXXX";
	struct filewatch fw;
	struct err e;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	write_file(path, "{}");
	assert_int_equal(filewatch_init(&fw, path, &e), 0);
	assert_false(filewatch_changed(&fw));
	write_file(path, "{\"a\": 1}"); /* size changes even within one mtime tick */
	assert_true(filewatch_changed(&fw));
	unlink(path);
}

static void test_path_too_long(void **state)
{
	static char longpath[PATH_MAX + 10];
	struct filewatch fw;
	struct err e;

	memset(longpath, 'a', sizeof(longpath) - 1);
	assert_int_equal(filewatch_init(&fw, longpath, &e), ERR_TOO_LARGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_symlink_swap),
		cmocka_unit_test(test_rewrite_in_place),
		cmocka_unit_test(test_path_too_long),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
