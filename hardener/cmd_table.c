/* cmd_table — the commands of the full hardline binary. */
#include <stddef.h>

#include "hardener/command.h"

const struct command hardline_commands[] = {
	{ NULL, NULL, NULL, NULL },
};
