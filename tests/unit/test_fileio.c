/* Tests of lib/fileio: a whole file read, the cap (one byte over is refused), a missing file and a directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_capped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
