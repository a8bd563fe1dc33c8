/* step_upgrade — in the in-build mode, upgrades the installed packages with the distribution's package manager while
 * it is still there (apt-get, apk, dnf, microdnf). It runs the real system's program, so only when the directory
 * being hardened is "/" itself: a foreign root's binaries are never run (no chroot). Fixed argv and environment,
 * fork/execve, no shell. */
#include "hardener/engine.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/str.h"

#define UPGRADE_MAX_ARGS 8

struct pm {
	const char *name;
	const char *path;
	const char *const cmds[2][UPGRADE_MAX_ARGS]; /* commands run in order; an empty first slot ends the list */
};

static const struct pm managers[] = {
	/* Error-Mode=any: a failed fetch is an error, not a warning over stale lists (older apt ignores the option) */
	{ "apt-get", "/usr/bin/apt-get",
	    { { "apt-get", "-q", "-o", "APT::Update::Error-Mode=any", "update", NULL },
		{ "apt-get", "-q", "-y", "upgrade", NULL } } },
	{ "apk", "/sbin/apk", { { "apk", "upgrade", "--no-cache", NULL }, { NULL } } },
	{ "apk", "/usr/sbin/apk", { { "apk", "upgrade", "--no-cache", NULL }, { NULL } } },
	{ "microdnf", "/usr/bin/microdnf", { { "microdnf", "-y", "upgrade", NULL }, { NULL } } },
	{ "dnf", "/usr/bin/dnf", { { "dnf", "-y", "upgrade", NULL }, { NULL } } },
};

static char *const upgrade_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"DEBIAN_FRONTEND=noninteractive",
	"LANG=C",
	"HOME=/root",
	NULL,
};

/* Whether dir names "/" (the system this process runs on). */
static bool is_system_root(const char *dir)
{
	struct stat a, b;

	return stat(dir, &a) == 0 && stat("/", &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Runs path with argv; its output goes to our stderr (stdout stays for the dry-run plan). Returns the exit status,
 * or -1 with errno when it could not be started or was killed by a signal (errno 0 then). */
static int run(const char *path, const char *const *argv)
{
	pid_t pid;
	int st;

	fflush(NULL);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execve(path, (char *const *)argv, upgrade_env);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	errno = 0;
	return -1;
}

/* The step: skipped unless ctx->root_dir is "/" and a package manager is found; its failure is recorded in rs and
 * only returned (ERR_IO) when the policy requires the upgrade. Runs nothing in a dry run. */
int step_upgrade(struct harden_ctx *ctx, struct report_step *rs, struct err *e)
{
	const struct pm *m = NULL;
	char cmdline[256], msg[512];
	size_t i, c;
	struct stat st;

	if (ctx->root_dir == NULL || !is_system_root(ctx->root_dir)) {
		report_step_skip(rs, "only when hardening / from inside the build");
		return 0;
	}
	for (i = 0; i < sizeof(managers) / sizeof(managers[0]) && m == NULL; i++)
		if (stat(managers[i].path, &st) == 0 && S_ISREG(st.st_mode) && access(managers[i].path, X_OK) == 0)
			m = &managers[i];
	if (m == NULL) {
		report_step_skip(rs, "no package manager found (apt-get, apk, microdnf, dnf)");
		return 0;
	}
	report_step_set(rs, "manager", json_string(m->name));
	for (c = 0; c < 2 && m->cmds[c][0] != NULL; c++) {
		struct strbuf sb;
		int status;

		sb_init(&sb, sizeof(cmdline) - 1);
		for (i = 0; m->cmds[c][i] != NULL; i++)
			sb_printf(&sb, "%s%s", i ? " " : "", m->cmds[c][i]);
		str_copy(cmdline, sizeof(cmdline), sb.data ? sb.data : "");
		sb_cleanup(&sb);
		if (ctx->dry_run) {
			report_note(rs, "dry run: would run %s", cmdline);
			continue;
		}
		status = run(m->path, m->cmds[c]);
		if (status == 0) {
			report_note(rs, "ran %s", cmdline);
			continue;
		}
		if (status < 0)
			str_fmt(msg, sizeof(msg), "%s could not run: %s", cmdline, errno ? strerror(errno) : "killed");
		else
			str_fmt(msg, sizeof(msg),
			    "%s exited with status %d (no network in the build?); packages were not "
			    "upgraded",
			    cmdline, status);
		report_step_fail(rs, msg);
		if (ctx->policy->upgrade_required)
			return err_set(e, ERR_IO, "%s; the policy requires the upgrade (steps.upgrade.required)", msg);
		return 0;
	}
	return 0;
}
