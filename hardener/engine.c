/* engine — the profile's step table and the loop that runs it: each step enabled by the policy runs in order and
 * records what it did in its report step; disabled and not-applicable steps are recorded as skipped with why. */
#include "hardener/engine.h"

#include <string.h>

const struct step harden_steps[] = {
	{ "upgrade", step_upgrade },
	{ "users", step_users },
	{ "permissions", step_permissions },
	{ "executables", step_executables },
	{ "package-manager", step_package_manager },
	{ "system-cruft", step_system_cruft },
	{ "self", step_self },
};
const size_t harden_nsteps = sizeof(harden_steps) / sizeof(harden_steps[0]);

/* The key of a step in the policy file's "steps" object (docs/policy.md). */
static const char *policy_step_key(const char *name)
{
	if (strcmp(name, "package-manager") == 0)
		return "packageManager";
	if (strcmp(name, "system-cruft") == 0)
		return "systemCruft";
	return name;
}

/* Whether the policy enables the step named name (unknown names are enabled). */
static bool step_enabled(const struct hpolicy *p, const char *name)
{
	if (strcmp(name, "upgrade") == 0)
		return p->upgrade;
	if (strcmp(name, "users") == 0)
		return p->users;
	if (strcmp(name, "permissions") == 0)
		return p->permissions;
	if (strcmp(name, "executables") == 0)
		return p->executables;
	if (strcmp(name, "package-manager") == 0)
		return p->package_manager;
	if (strcmp(name, "system-cruft") == 0)
		return p->system_cruft;
	if (strcmp(name, "self") == 0)
		return p->self_delete;
	return true;
}

/* Steps that act on the live system rather than on the index: they run in the in-build (rootfs) mode only. */
static bool rootfs_only(const char *name)
{
	return strcmp(name, "upgrade") == 0 || strcmp(name, "self") == 0;
}

/* Runs one step unless it is disabled, not applicable, or already recorded in the report. */
static int run_one(struct harden_ctx *ctx, const struct step *st, struct err *e)
{
	struct report_step *rs;
	int r;

	if (report_step_find(ctx->report, st->name) != NULL)
		return 0; /* ran before the tree was indexed (harden_run_before_index) */
	rs = report_step_begin(ctx->report, st->name);
	if (!step_enabled(ctx->policy, st->name)) {
		report_step_skip(rs, "disabled by policy");
		return 0;
	}
	if (ctx->mode != HARDEN_MODE_ROOTFS && rootfs_only(st->name)) {
		report_step_skip(rs, "in-build mode only");
		return 0;
	}
	if ((r = st->run(ctx, rs, e)) < 0)
		return err_prefix(e, "step %s", st->name);
	return 0;
}

int harden_run_before_index(struct harden_ctx *ctx, struct err *e)
{
	size_t i;
	int r;

	for (i = 0; i < harden_nsteps; i++)
		if (strcmp(harden_steps[i].name, "upgrade") == 0 && (r = run_one(ctx, &harden_steps[i], e)) != 0)
			return r;
	return 0;
}

int harden_run(struct harden_ctx *ctx, struct err *e)
{
	const char *why;
	size_t i;
	int r;

	for (i = 0; i < harden_nsteps; i++)
		if ((r = run_one(ctx, &harden_steps[i], e)) != 0)
			return r;
	/* A step that could not do its job (e.g. a malformed /etc/passwd left as it is, with a second uid-0 account
	 * in it) must not pass for a hardened image: refuse the run before anything is committed. Only the upgrade
	 * may fail (offline builds), unless the policy requires it, in which case it already failed the run. */
	for (i = 0; i < harden_nsteps; i++) {
		if (strcmp(harden_steps[i].name, "upgrade") == 0)
			continue;
		if (report_step_failed(report_step_find(ctx->report, harden_steps[i].name), &why))
			return err_set(e, ERR_INVALID,
			    "step %s failed: %.400s; nothing was changed (fix the input, or "
			    "switch the step off in the policy: steps.%s.enabled false)",
			    harden_steps[i].name, why, policy_step_key(harden_steps[i].name));
	}
	return 0;
}
