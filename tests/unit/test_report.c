/* Tests of hardener/report: counts by action, the path cap with true counts kept, skipped and failed steps, escaped
 * non-UTF-8 paths, the human summary ("nothing to change" when idempotent) and the JSON file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hardener/report.h"

/* The summary as a string (free() it). */
static char *summary(const struct report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	report_print_summary(r, f);
	fclose(f);
	return buf;
}

static void test_counts_and_summary(void **state)
{
	struct report *r = report_new(false);
	struct report_step *s;
	json_t *j, *st;
	char *text;

	assert_non_null(r);
	report_step_skip(report_step_begin(r, "upgrade"), "in-build mode only");
	s = report_step_begin(r, "users");
	report_change(s, "delete-user", "/etc/passwd", "games");
	report_change(s, "delete-user", "/etc/passwd", "bob");
	report_change(s, "lock", "/etc/shadow", "root");
	report_note(s, "kept %d accounts", 2);
	report_step_fail(report_step_begin(r, "executables"), "busybox could not be read");
	assert_ptr_equal(report_step_find(r, "users"), s);
	assert_null(report_step_find(r, "self"));
	assert_int_equal(report_total_changes(r), 3);

	text = summary(r);
	assert_non_null(strstr(text, "upgrade: skipped (in-build mode only)\n"));
	assert_non_null(strstr(text, "users: 3 changes (delete-user 2, lock 1)\n"));
	assert_non_null(strstr(text, "  note: kept 2 accounts\n"));
	assert_non_null(strstr(text, "executables: nothing to change; FAILED: busybox could not be read\n"));
	assert_non_null(strstr(text, "3 changes made\n"));
	free(text);

	assert_non_null(j = report_to_json(r));
	assert_int_equal(json_integer_value(json_object_get(j, "totalChanges")), 3);
	st = json_array_get(json_object_get(j, "steps"), 1);
	assert_string_equal(json_string_value(json_object_get(st, "status")), "ok");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "counts"), "delete-user")), 2);
	assert_string_equal(json_string_value(
				json_object_get(json_array_get(json_object_get(st, "paths"), 0), "detail")),
	    "games");
	st = json_array_get(json_object_get(j, "steps"), 0);
	assert_string_equal(json_string_value(json_object_get(st, "reason")), "in-build mode only");
	json_decref(j);
	report_free(r);
}

static void test_nothing_to_change(void **state)
{
	struct report *r = report_new(false);
	char *text;

	report_step_begin(r, "users");
	report_step_begin(r, "permissions");
	text = summary(r);
	assert_non_null(strstr(text, "users: nothing to change\n"));
	assert_non_null(strstr(text, "nothing to change: the tree is already hardened"));
	free(text);
	report_free(r);
	r = report_new(true);
	report_change(report_step_begin(r, "permissions"), "chmod", "/etc", "0775 -> 0755");
	text = summary(r);
	assert_non_null(strstr(text, "permissions: 1 change planned (chmod 1)"));
	assert_non_null(strstr(text, "dry run: 1 change planned, nothing was changed"));
	free(text);
	report_free(r);
}

/* A huge run keeps at most REPORT_MAX_PATHS paths per step but the true counts. */
static void test_path_cap(void **state)
{
	struct report *r = report_new(false);
	struct report_step *s = report_step_begin(r, "executables");
	json_t *j, *st;
	size_t i;

	for (i = 0; i < REPORT_MAX_PATHS + 500; i++)
		report_change(s, "delete", "/usr/bin/x", NULL);
	assert_non_null(j = report_to_json(r));
	st = json_array_get(json_object_get(j, "steps"), 0);
	assert_int_equal(json_array_size(json_object_get(st, "paths")), REPORT_MAX_PATHS);
	assert_int_equal(json_integer_value(json_object_get(st, "changes")), REPORT_MAX_PATHS + 500);
	assert_true(json_is_true(json_object_get(st, "pathsTruncated")));
	json_decref(j);
	report_free(r);
}

static void test_non_utf8_and_file(void **state)
{
	struct report *r = report_new(false);
	char path[] = "/tmp/hl-report-XXXXXX";
	json_error_t je;
	json_t *j;
	int fd;

	report_change(report_step_begin(r, "permissions"), "clear-setuid", "/usr/bin/bad\xffname", NULL);
	report_note(report_step_find(r, "permissions"), "kept %s", "/usr/bin/bad\xffname");
	report_set(r, "facts", json_pack("{s:i}", "files", 3));
	assert_true((fd = mkstemp(path)) >= 0);
	close(fd);
	assert_int_equal(report_write_file(r, path, NULL), 0);
	assert_non_null(j = json_load_file(path, 0, &je));
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(json_object_get(json_array_get(json_object_get(j, "steps"), 0), "paths"),
				    0),
				"path")),
	    "/usr/bin/bad\\xffname");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "facts"), "files")), 3);
	assert_string_equal(json_string_value(
				json_array_get(json_object_get(json_array_get(json_object_get(j, "steps"), 0), "notes"),
				    0)),
	    "kept /usr/bin/bad\\xffname");
	json_decref(j);
	unlink(path);
	assert_int_not_equal(report_write_file(r, "/nonexistent/dir/report.json", NULL), 0);
	report_free(r);
	report_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_and_summary),
		cmocka_unit_test(test_nothing_to_change),
		cmocka_unit_test(test_path_cap),
		cmocka_unit_test(test_non_utf8_and_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
