/* Tests of lib/fileio: a whole file read, the cap (one byte over is refused), a missing file and a directory; atomic
 * writes (mode, content, no temp file left, nothing on failure); secret reads (the cap, nothing returned on error). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/fileio.h"

static void test_read_capped(void **state)
{
	char path[] = "/tmp/test_fileio.XXXXXX";
	struct strbuf sb;
	struct err e;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "0123456789", 10), 10);
	close(fd);
	sb_init(&sb, 10);
	assert_int_equal(fileio_read_capped(path, &sb, "f", &e), 0);
	assert_int_equal(sb.len, 10);
	assert_memory_equal(sb.data, "0123456789", 10);
	sb_cleanup(&sb);
	sb_init(&sb, 9);
	assert_int_equal(fileio_read_capped(path, &sb, "f", &e), ERR_TOO_LARGE);
	assert_string_equal(e.msg, "f: larger than the limit of 9 bytes");
	sb_cleanup(&sb);
	unlink(path);
	sb_init(&sb, 9);
	assert_int_equal(fileio_read_capped(path, &sb, "gone", &e), ERR_NOT_FOUND);
	assert_string_equal(e.msg, "gone: no such file");
	assert_int_equal(fileio_read_capped("/", &sb, "root", &e), ERR_IO);
	assert_non_null(strstr(e.msg, "root: cannot read"));
	sb_cleanup(&sb);
}

/* The whole new content or nothing: the mode asked for, no temp file left beside it, a failure leaves no file. */
static void test_write_atomic(void **state)
{
	char dir[] = "/tmp/test_fileio.XXXXXX", path[64], bad[80];
	struct strbuf sb;
	struct stat st;
	struct err e;
	DIR *d;
	struct dirent *de;
	int n = 0;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/out.json", dir);
	assert_int_equal(fileio_write_atomic(path, "old", 3, 0600, "out", &e), 0);
	assert_int_equal(fileio_write_atomic(path, "{\"new\":1}\n", 10, 0644, "out", &e), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	sb_init(&sb, 100);
	assert_int_equal(fileio_read_capped(path, &sb, "out", &e), 0);
	assert_int_equal(sb.len, 10);
	assert_memory_equal(sb.data, "{\"new\":1}\n", 10);
	sb_cleanup(&sb);
	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.' || strstr(de->d_name, ".tmp-") != NULL;
	closedir(d);
	assert_int_equal(n, 1); /* out.json only */
	snprintf(bad, sizeof(bad), "%s/missing/out.json", dir);
	assert_int_equal(fileio_write_atomic(bad, "x", 1, 0644, "bad", &e), ERR_IO);
	assert_non_null(strstr(e.msg, "bad: cannot create"));
	/* fileio_remove_tree: the tree goes, a symlink in it is removed, not followed */
	snprintf(bad, sizeof(bad), "%s/sub", dir);
	assert_int_equal(mkdir(bad, 0755), 0);
	snprintf(bad, sizeof(bad), "%s/sub/link", dir);
	assert_int_equal(symlink("/tmp", bad), 0); /* a directory outside: it must survive */
	fileio_remove_tree(dir);
	assert_int_equal(access(dir, F_OK), -1);
	assert_int_equal(access("/tmp", F_OK), 0);
}

/* A secret read: exactly max bytes fit and come back NUL-terminated, one more is refused with nothing returned. */
static void test_read_secret(void **state)
{
	char path[] = "/tmp/test_fileio.XXXXXX";
	unsigned char *buf = (unsigned char *)"x";
	size_t len = 7;
	struct err e;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "-----KEY-----", 13), 13);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(fileio_read_secret_fd(fd, 13, &buf, &len, "key", &e), 0);
	assert_int_equal(len, 13);
	assert_string_equal((char *)buf, "-----KEY-----");
	explicit_bzero(buf, len);
	free(buf);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(fileio_read_secret_fd(fd, 12, &buf, &len, "key", &e), ERR_TOO_LARGE);
	assert_null(buf);
	assert_int_equal(len, 0);
	assert_string_equal(e.msg, "key: larger than the limit of 12 bytes");
	close(fd);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_capped),
		cmocka_unit_test(test_write_atomic),
		cmocka_unit_test(test_read_secret),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
