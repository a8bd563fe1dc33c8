/* cmd_table_static — the commands of the static in-build binary (build/hardline-static): only those that need no
 * network library, so that it links statically and runs in any base image. */
#include <stddef.h>

#include "hardener/command.h"

int cmd_harden_rootfs(int argc, char **argv);

const struct command hardline_commands[] = {
	{ "harden-rootfs", "harden-rootfs [--policy FILE] [--keep NAME]... [--report FILE] [--dry-run] [--quiet] DIR",
	    "harden a root filesystem directory in place (/ as the last build step)", cmd_harden_rootfs },
	{ NULL, NULL, NULL, NULL },
};
