/* cmd_table_static — the commands of the static in-build binary (build/hardline-static): only those that need no
 * network library, so that it links statically and runs in any base image. */
#include <stddef.h>

#include "hardener/command.h"

const struct command hardline_commands[] = {
	{ NULL, NULL, NULL, NULL },
};
