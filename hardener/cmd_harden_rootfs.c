/* cmd_harden_rootfs — `hardline harden-rootfs [OPTIONS] DIR`: hardens a root filesystem directory in place, e.g.
 * `/` as the last step of a Containerfile (the static binary, which then deletes itself). Order: policy, upgrade (on
 * the live system), index the tree (fsdir), run the steps, then print the plan (--dry-run) or commit, then report. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hardener/cli.h"
#include "hardener/command.h"
#include "hardener/engine.h"
#include "hardener/facts.h"
#include "hardener/fsdir.h"
#include "hardener/policy.h"
#include "hardener/report.h"
#include "lib/log.h"
#include "lib/str.h"

int cmd_harden_rootfs(int argc, char **argv);

static const char synopsis[] =
    "harden-rootfs [--policy FILE] [--keep NAME]... [--report FILE] [--dry-run] [--quiet] DIR";

/* Prints the reason and the synopsis on stderr; returns 2. */
static int usage(const char *reason)
{
	const struct command c = { "harden-rootfs", synopsis, NULL, NULL };

	return command_usage(&c, reason);
}

/* --help on stdout. */
static void help(void)
{
	printf("usage: hardline %s\n\n"
	       "Hardens the root filesystem at DIR in place (\"/\" as the last build step).\n\n"
	       "  --policy FILE   policy JSON (docs/policy.md); default: the built-in profile\n"
	       "  --keep NAME     keep the executable NAME in the bin directories (repeatable)\n"
	       "  --report FILE   write the JSON report to FILE\n"
	       "  --dry-run       print the plan on stdout and change nothing\n"
	       "  --quiet         no summary on stderr\n"
	       "  --help          this text\n\n"
	       "DIR / on a booted machine (PID 1 systemd or init) is refused unless HARDLINE_ALLOW_HOST_ROOT=1.\n"
	       "Exit status: 0 done, 1 failure, 2 usage error.\n",
	    synopsis);
}

/* The running binary's path inside dir ("/hardline"), or NULL when it is not under dir (out[size]). */
static const char *self_inside(const char *dir, char *out, size_t size)
{
	char exe[PATH_MAX], rdir[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	size_t dl;

	if (n <= 0 || realpath(dir, rdir) == NULL)
		return NULL;
	exe[n] = '\0';
	if (strcmp(rdir, "/") == 0)
		return str_copy(out, size, exe) == 0 ? out : NULL;
	dl = strlen(rdir);
	if (strncmp(exe, rdir, dl) != 0 || exe[dl] != '/')
		return NULL;
	return str_copy(out, size, exe + dl) == 0 ? out : NULL;
}

/* Whether dir is the root of a booted machine (PID 1 is systemd or init) rather than of a container build: hardening
 * that deletes every user and shell of the host, so it is refused unless HARDLINE_ALLOW_HOST_ROOT=1. */
static bool booted_host_root(const char *dir)
{
	char rdir[PATH_MAX], comm[32] = "";
	const char *allow = getenv("HARDLINE_ALLOW_HOST_ROOT");
	FILE *f;

	if ((allow != NULL && strcmp(allow, "1") == 0) || realpath(dir, rdir) == NULL || strcmp(rdir, "/") != 0)
		return false;
	if ((f = fopen("/proc/1/comm", "re")) == NULL)
		return false;
	if (fgets(comm, sizeof(comm), f) == NULL)
		comm[0] = '\0';
	fclose(f);
	return strcmp(comm, "systemd\n") == 0 || strcmp(comm, "init\n") == 0;
}

/* Prints the plan: one line per change, a deleted directory once with the count of entries under it. */
static void print_plan(struct fstree *t, FILE *out)
{
	struct fs_node *const *v;
	size_t n, i, planned = 0;
	char pb[512];

	v = fstree_sorted(t, &n);
	for (i = 0; i < n; i++) {
		const struct fs_node *x = v[i];
		const char *p = str_escape(pb, sizeof(pb), x->path, strlen(x->path), 400);

		if (x->changes == 0)
			continue;
		planned++;
		if (x->changes & FS_CH_DELETE) {
			size_t end = x->type == FS_DIR ? fstree_subtree_end(t, i) : i + 1;

			if (end > i + 1)
				fprintf(out, "delete %s (and %zu entr%s under it)\n", p, end - i - 1,
				    end - i - 1 == 1 ? "y" : "ies");
			else
				fprintf(out, "delete %s\n", p);
			i = end - 1;
			continue;
		}
		if (x->changes & FS_CH_CREATE)
			fprintf(out, "create %s (%s, %04o, %u:%u)\n", p, x->type == FS_DIR ? "directory" : "file",
			    x->mode, x->uid, x->gid);
		if ((x->changes & FS_CH_CONTENT) && !(x->changes & FS_CH_CREATE))
			fprintf(out, "rewrite %s (%zu bytes)\n", p, x->content_len);
		if ((x->changes & FS_CH_OWNER) && !(x->changes & FS_CH_CREATE))
			fprintf(out, "chown %u:%u %s\n", x->uid, x->gid, p);
		if ((x->changes & FS_CH_MODE) && !(x->changes & FS_CH_CREATE))
			fprintf(out, "chmod %04o %s\n", x->mode, p);
	}
	if (planned == 0)
		fprintf(out, "nothing to change\n");
}

/* The command (argv[0] is "harden-rootfs"): exit 0 done; 1 failure (a failed step other than the upgrade fails the
 * run before anything is changed); 2 usage error. */
int cmd_harden_rootfs(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "keep", required_argument, NULL, 'k' },
		{ "report", required_argument, NULL, 'r' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *policy_file = NULL, *report_file = NULL, *dir;
	char **keep = NULL, selfbuf[PATH_MAX], msg[200];
	size_t nkeep = 0;
	bool dry_run = false, quiet = false, policy_ok = false, ran = false;
	struct hpolicy pol;
	struct report *rep = NULL;
	struct fs_backend *backend = NULL;
	struct fstree *tree = NULL;
	struct harden_ctx ctx;
	struct err e;
	json_t *notes, *facts = NULL;
	int c, rc = 1;

	err_clear(&e);
	if ((keep = calloc((size_t)argc + 1, sizeof(*keep))) == NULL) {
		fprintf(stderr, "hardline: out of memory\n");
		return 1;
	}
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:p:k:r:nqh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			policy_file = optarg;
			break;
		case 'k':
			keep[nkeep++] = optarg;
			break;
		case 'r':
			report_file = optarg;
			break;
		case 'n':
			dry_run = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			help();
			rc = 0;
			goto out;
		default:
			rc = usage(cli_opt_error(c, argv, msg, sizeof(msg)));
			goto out;
		}
	}
	if (optind == argc) {
		rc = usage("no directory given (DIR, e.g. / in a Containerfile)");
		goto out;
	}
	if (argc - optind > 1) {
		snprintf(msg, sizeof(msg), "one directory only; unexpected \"%.60s\"", argv[optind + 1]);
		rc = usage(msg);
		goto out;
	}
	dir = argv[optind];
	if (quiet)
		log_set_level(LOG_ERROR);

	if (cli_policy_load(&pol, policy_file, keep, nkeep, &e) != 0)
		goto fail;
	policy_ok = true;
	if (!dry_run && booted_host_root(dir)) {
		err_set(&e, ERR_DENIED,
		    "refusing to harden / of a booted system (PID 1 is an init): harden-rootfs / is "
		    "meant for the last step of a container build; try --dry-run, or set HARDLINE_ALLOW_HOST_ROOT=1 if "
		    "this really is the image being built");
		goto fail;
	}
	if ((rep = report_new(dry_run)) == NULL) {
		err_set(&e, ERR_NOMEM, "out of memory");
		goto fail;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.policy = &pol;
	ctx.report = rep;
	ctx.mode = HARDEN_MODE_ROOTFS;
	ctx.dry_run = dry_run;
	ctx.root_dir = dir;

	/* The upgrade rewrites the live tree: it runs before the tree is indexed. */
	if (harden_run_before_index(&ctx, &e) != 0)
		goto fail;
	if (fsdir_open(dir, &backend, &tree, &e) != 0)
		goto fail;
	ctx.tree = tree;
	ctx.backend = backend;
	ctx.self_path = self_inside(dir, selfbuf, sizeof(selfbuf));
	if ((notes = fsdir_walk_notes(backend)) != NULL && json_array_size(notes) > 0)
		report_set(rep, "notIndexed", notes);
	else
		json_decref(notes);
	if (harden_run(&ctx, &e) != 0)
		goto fail;
	ran = true;
	/* The facts after: measured on the index with its pending marks, so a dry run shows them too. */
	if (facts_compute(tree, backend, &facts, &e) == 0) {
		report_set(rep, "facts", facts);
		facts = NULL; /* transferred */
	} else {
		log_warn("the facts after hardening could not be measured: %s", e.msg);
		err_clear(&e);
	}
	if (dry_run)
		print_plan(tree, stdout);
	else if (backend->ops->commit(backend, tree, &e) != 0)
		goto fail;

	cli_report_run(rep, "rootfs", &pol, fstree_count(tree));
	if (report_file != NULL && report_write_file(rep, report_file, &e) != 0)
		goto fail;
	if (!quiet)
		report_print_summary(rep, stderr);
	rc = 0;
	goto out;
fail:
	if (rep != NULL)
		report_set(rep, "error", json_string(e.msg));
	if (ran && !quiet) /* the commit failed: show what was meant to change, then why it failed */
		report_print_summary(rep, stderr);
	fprintf(stderr, "hardline: %s\n", e.msg);
	if (rep != NULL)
		report_write_after_failure(rep, report_file);
	rc = 1;
out:
	if (backend != NULL)
		backend->ops->free(backend);
	fstree_free(tree);
	report_free(rep);
	if (policy_ok)
		hpolicy_cleanup(&pol);
	free(keep);
	return rc;
}
