/* Tests of hardener/multicall: busybox, toybox (padded name table) and coreutils recognized by content, the applet
 * table recovered in order, short tables and non-ELF files refused, and the reading heuristic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hardener/multicall.h"

#define ELF "\177ELF\2\1\1\0"

static struct multicall *classify(const char *buf, size_t len)
{
	struct multicall *m = (struct multicall *)1;
	struct err e;

	assert_int_equal(multicall_classify(buf, len, &m, &e), 0);
	return m;
}

static void test_busybox(void **state)
{
	static const char bin[] =
	    ELF "junk\0zz\0aa\0BusyBox v1.36.1\0"
		"[\0[[\0acpid\0ash\0cat\0chmod\0ls\0mount\0sh\0su\0vi\0wget\0zcat\0\0\0\0\0\0\0\0\0\0\0mm";
	struct multicall *m = classify(bin, sizeof(bin));

	assert_non_null(m);
	assert_string_equal(m->kind, "busybox");
	assert_true(m->applets_known);
	assert_int_equal(m->napplets, 13);
	assert_string_equal(m->applets[0], "[");
	assert_string_equal(m->applets[12], "zcat");
	assert_true(multicall_has_applet(m, "sh"));
	assert_true(multicall_has_applet(m, "["));
	assert_false(multicall_has_applet(m, "bash"));
	assert_false(multicall_has_applet(m, "mm"));
	multicall_free(m);
}

static void test_toybox_padded(void **state)
{
	/* names separated by alignment padding (up to 8 NULs) */
	static const char bin[] =
	    ELF "\0\0base64\0\0\0\0cat\0\0\0\0\0chmod\0\0\0cp\0\0\0\0\0\0date\0\0\0\0dd\0\0\0\0\0\0"
		"echo\0\0\0\0ls\0\0\0\0\0\0mkdir\0\0\0rm\0\0\0\0\0\0sh\0\0\0\0\0\0toybox\0\0";
	struct multicall *m = classify(bin, sizeof(bin));

	assert_non_null(m);
	assert_string_equal(m->kind, "toybox");
	assert_int_equal(m->napplets, 12);
	assert_true(multicall_has_applet(m, "toybox"));
	multicall_free(m);
}

static void test_toybox_marker_only(void **state)
{
	/* the real layout: names interleaved with option strings, and an unrelated sorted run elsewhere */
	static const char bin[] = ELF "usage: toybox [--long | --help]\0acpi\0abctV\0ascii\0base32\0diw#<0\0"
				      "alpha\0arm\0blackfin\0c6x\0cris\0csky\0frv\0h8300\0ia64\0m68k\0mips\0ppc\0";
	struct multicall *m = classify(bin, sizeof(bin));

	assert_non_null(m);
	assert_string_equal(m->kind, "toybox");
	assert_false(m->applets_known);
	multicall_free(m);
}

static void test_coreutils_and_refusals(void **state)
{
	static const char cu[] = ELF "usage --coreutils-prog=PROG\0";
	static const char short_table[] = ELF "BusyBox v1\0a\0b\0c\0";
	static const char not_elf[] = "#!/bin/sh\nBusyBox v1\0a\0b\0c\0d\0e\0f\0g\0h\0i\0j\0k\0";
	static const char plain[] = ELF "a\0b\0c\0d\0e\0f\0g\0h\0i\0j\0k\0l\0";
	struct multicall *m = classify(cu, sizeof(cu));

	assert_non_null(m);
	assert_string_equal(m->kind, "coreutils");
	assert_false(m->applets_known);
	assert_false(multicall_has_applet(m, "ls"));
	multicall_free(m);
	m = classify(short_table, sizeof(short_table));
	assert_non_null(m);
	assert_false(m->applets_known); /* fewer than MULTICALL_MIN_APPLETS names */
	multicall_free(m);
	assert_null(classify(not_elf, sizeof(not_elf)));
	assert_null(classify(plain, sizeof(plain))); /* a sorted table alone is no marker */
	assert_null(classify("", 0));
}

static void test_heuristic(void **state)
{
	struct fs_node n;
	unsigned char head[8];

	memset(&n, 0, sizeof(n));
	n.type = FS_REG;
	memcpy(head, ELF, 8);
	n.head = head;
	n.head_len = 8;
	assert_true(multicall_worth_reading(&n, "busybox", 1));
	assert_true(multicall_worth_reading(&n, "busybox.static", 1));
	assert_true(multicall_worth_reading(&n, "toybox", 1));
	assert_true(multicall_worth_reading(&n, "python3.11", 2));
	assert_false(multicall_worth_reading(&n, "ls", 1));
	head[0] = '#';
	assert_false(multicall_worth_reading(&n, "busybox", 5));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_busybox),
		cmocka_unit_test(test_toybox_padded),
		cmocka_unit_test(test_toybox_marker_only),
		cmocka_unit_test(test_coreutils_and_refusals),
		cmocka_unit_test(test_heuristic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
