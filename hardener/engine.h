/* engine — runs the hardening profile over an fstree: one engine, two backends (fsdir for a live directory,
 * the image view for OCI layers). The steps only read the tree (and file contents via the backend) and mark changes;
 * the caller commits them through the backend unless it is a dry run. */
#ifndef HARDLINE_ENGINE_H
#define HARDLINE_ENGINE_H

#include <stdbool.h>

#include "hardener/fstree.h"
#include "hardener/policy.h"
#include "hardener/report.h"

enum harden_mode { HARDEN_MODE_ROOTFS, HARDEN_MODE_IMAGE };

struct harden_ctx {
	struct fstree *tree;	      /* borrowed */
	struct fs_backend *backend;   /* borrowed: to read file contents */
	const struct hpolicy *policy; /* borrowed */
	struct report *report;	      /* borrowed */
	enum harden_mode mode;
	bool dry_run;
	const char *root_dir;  /* rootfs mode: the directory being hardened (for the upgrade step), else NULL */
	const char *self_path; /* rootfs mode: the hardener's own path inside the root ("/hardline"), or NULL */
};

/* A step: reads ctx->tree, marks changes, records them in its report step. A non-fatal problem is recorded with
 * report_step_fail and 0 returned; a negative return aborts the run (e.g. out of memory, a malformed passwd file
 * that cannot be rewritten safely). */
struct step {
	const char *name;
	int (*run)(struct harden_ctx *ctx, struct report_step *rs, struct err *e);
};

/* The profile's steps in order: upgrade, users, permissions, executables, package-manager, system-cruft, self. */
extern const struct step harden_steps[];
extern const size_t harden_nsteps;

/* Runs every step enabled by the policy, in order; disabled steps are recorded as skipped. Steps already recorded
 * in ctx->report (by harden_run_before_index) are not run again. */
int harden_run(struct harden_ctx *ctx, struct err *e);

/* Rootfs mode: runs the steps that change the live system behind the index's back (upgrade: the package manager
 * rewrites files), so that the caller indexes the tree afterwards. ctx->tree and ctx->backend may be NULL here. */
int harden_run_before_index(struct harden_ctx *ctx, struct err *e);

/* The steps, one file each (hardener/step_<name>.c). */
int step_upgrade(struct harden_ctx *ctx, struct report_step *rs, struct err *e);
int step_users(struct harden_ctx *ctx, struct report_step *rs, struct err *e);
int step_permissions(struct harden_ctx *ctx, struct report_step *rs, struct err *e);
int step_executables(struct harden_ctx *ctx, struct report_step *rs, struct err *e);
int step_package_manager(struct harden_ctx *ctx, struct report_step *rs, struct err *e);
int step_system_cruft(struct harden_ctx *ctx, struct report_step *rs, struct err *e);
int step_self(struct harden_ctx *ctx, struct report_step *rs, struct err *e);

#endif
