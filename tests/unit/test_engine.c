/* Tests of hardener/engine: the step table's names and order, steps disabled by the policy, the in-build-only steps
 * in image mode, and the upgrade run before indexing not being run twice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hardener/engine.h"

static const char *const names[] = { "upgrade", "users", "permissions", "executables", "package-manager",
	"system-cruft", "self" };

/* The report's steps as "name:status(reason)" joined by spaces, into out[size]. */
static void statuses(struct report *r, char *out, size_t size)
{
	json_t *j = report_to_json(r), *s;
	size_t i;

	out[0] = '\0';
	assert_non_null(j);
	json_array_foreach(json_object_get(j, "steps"), i, s)
	{
		snprintf(out + strlen(out), size - strlen(out), "%s%s:%s(%s)", i ? " " : "",
		    json_string_value(json_object_get(s, "name")), json_string_value(json_object_get(s, "status")),
		    json_string_value(json_object_get(s, "reason")));
	}
	json_decref(j);
}

static void test_table(void **state)
{
	size_t i;

	assert_int_equal(harden_nsteps, 7);
	for (i = 0; i < harden_nsteps; i++)
		assert_string_equal(harden_steps[i].name, names[i]);
}

static void test_disabled_and_modes(void **state)
{
	struct hpolicy p;
	struct fstree *t = fstree_new();
	struct fs_node root = { .path = (char *)"/", .type = FS_DIR, .mode = 0755 };
	struct harden_ctx ctx;
	struct err e;
	char buf[512];

	assert_int_equal(fstree_put(t, &root, NULL, &e), 0);
	assert_int_equal(hpolicy_init_defaults(&p, &e), 0);
	p.users = p.permissions = p.executables = p.package_manager = p.system_cruft = false;

	memset(&ctx, 0, sizeof(ctx));
	ctx.tree = t;
	ctx.policy = &p;
	ctx.mode = HARDEN_MODE_IMAGE;
	assert_non_null(ctx.report = report_new(true));
	assert_int_equal(harden_run(&ctx, &e), 0);
	statuses(ctx.report, buf, sizeof(buf));
	assert_string_equal(buf,
	    "upgrade:skipped(in-build mode only) users:skipped(disabled by policy) "
	    "permissions:skipped(disabled by policy) executables:skipped(disabled by policy) "
	    "package-manager:skipped(disabled by policy) system-cruft:skipped(disabled by policy) "
	    "self:skipped(in-build mode only)");
	assert_int_equal(report_total_changes(ctx.report), 0);
	report_free(ctx.report);

	/* rootfs mode: the upgrade runs before the index (here skipped: the directory is not /) and only once */
	ctx.mode = HARDEN_MODE_ROOTFS;
	ctx.root_dir = "/nonexistent-root";
	p.upgrade = true;
	assert_non_null(ctx.report = report_new(true));
	assert_int_equal(harden_run_before_index(&ctx, &e), 0);
	assert_int_equal(harden_run(&ctx, &e), 0);
	statuses(ctx.report, buf, sizeof(buf));
	assert_string_equal(buf,
	    "upgrade:skipped(only when hardening / from inside the build) "
	    "users:skipped(disabled by policy) permissions:skipped(disabled by policy) "
	    "executables:skipped(disabled by policy) package-manager:skipped(disabled by policy) "
	    "system-cruft:skipped(disabled by policy) "
	    "self:skipped(the running hardener is not inside the directory being hardened)");
	report_free(ctx.report);
	hpolicy_cleanup(&p);
	fstree_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_disabled_and_modes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
