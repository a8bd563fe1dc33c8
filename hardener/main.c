/* hardline — entry point: dispatches to the subcommands of the command table (command.h). */
#include <stdio.h>
#include <string.h>

#include "hardener/command.h"
#include "lib/log.h"

#ifndef HARDLINE_VERSION
#define HARDLINE_VERSION "0.1.0"
#endif

const struct command *command_find(const char *name)
{
	const struct command *c;

	for (c = hardline_commands; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int command_usage(const struct command *c, const char *reason)
{
	if (reason != NULL)
		fprintf(stderr, "hardline: %s\n", reason);
	fprintf(stderr, "usage: hardline %s\n", c->synopsis);
	return 2;
}

static int usage(const char *reason)
{
	const struct command *c;

	if (reason != NULL)
		fprintf(stderr, "hardline: %s\n", reason);
	fprintf(stderr, "usage: hardline COMMAND [OPTIONS] ...\n\ncommands:\n");
	for (c = hardline_commands; c->name != NULL; c++)
		fprintf(stderr, "  %-14s %s\n", c->name, c->summary);
	fprintf(stderr, "\n'hardline COMMAND --help' shows a command's options.\n");
	return 2;
}

int main(int argc, char **argv)
{
	const struct command *c;

	log_init("hardline", LOG_INFO);
	if (argc < 2)
		return usage("no command given");
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("hardline %s\n", HARDLINE_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(NULL);
		return 0;
	}
	if ((c = command_find(argv[1])) == NULL) {
		char msg[160];

		snprintf(msg, sizeof(msg), "unknown command \"%.60s\"", argv[1]);
		return usage(msg);
	}
	return c->run(argc - 1, argv + 1);
}
