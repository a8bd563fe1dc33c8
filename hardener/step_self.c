/* step_self — in the in-build mode the hardener deletes its own binary last, so that the final image does not ship
 * a tool that can rewrite file modes and accounts. */
#include "hardener/engine.h"

/* The step: marks ctx->self_path (set by the command when the running binary is inside the root) for deletion. */
int step_self(struct harden_ctx *ctx, struct report_step *rs, struct err *e)
{
	struct fs_node *n;

	if (ctx->self_path == NULL) {
		report_step_skip(rs, "the running hardener is not inside the directory being hardened");
		return 0;
	}
	if ((n = fstree_get(ctx->tree, ctx->self_path)) == NULL || (n->changes & FS_CH_DELETE) || n->type != FS_REG) {
		report_step_skip(rs, "the running hardener is not in the index (already deleted?)");
		return 0;
	}
	fstree_mark_delete(ctx->tree, n);
	report_change(rs, "delete", n->path, "the hardener itself");
	return 0;
}
