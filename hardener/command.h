/* command — the table of hardline subcommands. main() looks the first argument up here; the full build
 * (cmd_table.c) and the static in-build binary (cmd_table_static.c) each define their own table. */
#ifndef HARDLINE_COMMAND_H
#define HARDLINE_COMMAND_H

struct command {
	const char *name;
	const char *synopsis; /* the usage line after "hardline " */
	const char *summary;  /* one line for the command list */
	/* Runs the command with argv[0] = the command name. Returns the exit status: 0 ok, 1 failure, 2 usage. */
	int (*run)(int argc, char **argv);
};

extern const struct command hardline_commands[]; /* ends with a zeroed entry */

/* Prints "hardline: <reason>" (when reason is not NULL) and the command's synopsis to stderr; returns 2. */
int command_usage(const struct command *c, const char *reason);
/* The table entry named name, or NULL. */
const struct command *command_find(const char *name);

#endif
