/* cmd_harden — `hardline harden [OPTIONS] SRC DST`: hardens an image without running it (daemonless mode). Reads SRC
 * (oci:, oci-archive:, docker-archive:), builds the merged view of its layers (imageview), runs the same profile as
 * harden-rootfs, and writes DST (oci:, oci-archive:) with one new top layer, or one squashed layer. Every platform of
 * a multi-platform index is hardened (nothing runs, so the architecture does not matter) unless --platform picks one. */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hardener/attest.h"
#include "hardener/cli.h"
#include "hardener/command.h"
#include "hardener/engine.h"
#include "hardener/facts.h"
#include "hardener/imageview.h"
#include "hardener/policy.h"
#include "hardener/report.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/oci.h"
#include "lib/str.h"
#include "lib/tarlayer.h"
#include "lib/transport.h"

#ifndef HARDLINE_VERSION
#define HARDLINE_VERSION "0.1.0"
#endif

int cmd_harden(int argc, char **argv);

static const char synopsis[] =
    "harden [--policy FILE] [--keep NAME]... [--squash] [--compression gzip|zstd|none] [--max-expanded SIZE] "
    "[--platform OS/ARCH[/VARIANT]] [--report FILE] [--dry-run] [--quiet] [--key KEY] SRC DST";

/* Prints the reason and the synopsis on stderr; returns 2. */
static int usage(const char *reason)
{
	const struct command c = { "harden", synopsis, NULL, NULL };

	return command_usage(&c, reason);
}

/* --help on stdout. */
static void help(void)
{
	printf(
	    "usage: hardline %s\n\n"
	    "Hardens the image SRC into DST without running it. SRC: oci:DIR[:TAG], oci-archive:FILE[:TAG],\n"
	    "docker-archive:FILE[:TAG]; DST: oci:DIR[:TAG] or oci-archive:FILE[:TAG]. Prints the output manifest "
	    "digest.\n\n"
	    "  --policy FILE          policy JSON (docs/policy.md); default: the built-in profile\n"
	    "  --keep NAME            keep the executable NAME in the bin directories (repeatable)\n"
	    "  --squash               write one layer with only what remains (removed bytes are really gone)\n"
	    "  --compression C        gzip (default), zstd or none for the written layer\n"
	    "  --max-expanded SIZE    refuse a layer that expands past SIZE bytes (K, M, G suffixes; default 8G)\n"
	    "  --platform P           harden only this platform of a multi-platform SRC (default: every one)\n"
	    "  --report FILE          write the JSON step report to FILE\n"
	    "  --dry-run              run the steps and report, write nothing\n"
	    "  --quiet                no progress and no summary on stderr\n"
	    "  --key KEY              also sign a hardening attestation of DST (as hardline attest; oci: keeps it in\n"
	    "                         its sha256-<hex>.att manifest, oci-archive:FILE in FILE.att.json)\n"
	    "  --help                 this text\n\n"
	    "SOURCE_DATE_EPOCH sets the config and history times and clamps file times (default: the input's).\n"
	    "Exit status: 0 done, 1 failure, 2 usage error.\n",
	    synopsis);
}

/* Times: SOURCE_DATE_EPOCH when set, else the input config's "created" (no clamp when it has none). */
static int pick_times(const struct oci_image *img, char created[32], const char **createdp, int64_t *max_mtime,
    struct err *e)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	const json_t *c = json_object_get(img->config, "created");
	int64_t t;

	*createdp = NULL;
	*max_mtime = INT64_MAX;
	if (sde != NULL && sde[0] != '\0') {
		if (str_to_i64(sde, 0, INT64_MAX / 2, &t, "SOURCE_DATE_EPOCH", e) != 0)
			return err_prefix(e, "SOURCE_DATE_EPOCH must be seconds since 1970");
		imageview_fmt_time(t, created);
		*createdp = created;
		*max_mtime = t;
		return 0;
	}
	if (json_is_string(c) && imageview_parse_time(json_string_value(c), &t, e) == 0)
		*max_mtime = t;
	err_clear(e);
	return 0;
}

/* What every platform of one run shares. */
struct harden_job {
	const struct hpolicy *pol;
	struct imageview_opts vo;
	enum tarlayer_compression comp;
	bool squash;
	bool dry_run;
	const char *src;
	const char *dst;
	const char *created; /* SOURCE_DATE_EPOCH as RFC 3339, or NULL */
};

/* Hardens one platform's image img of store: builds its merged view, measures the facts before, runs the steps,
 * measures the facts after and, unless a dry run, writes the result into w. Everything is recorded in rep; *digest
 * receives the written manifest's digest (empty on a dry run). */
static int harden_one(const struct harden_job *job, struct oci_store *store, const struct oci_image *img,
    struct oci_writer *w, struct report *rep, char digest[DIGEST_STR_LEN + 1], struct err *e)
{
	struct fs_backend *backend = NULL;
	struct fstree *tree = NULL;
	struct imageview_output out;
	struct harden_ctx ctx;
	const struct oci_descriptor *md, *root;
	char created[32], platform[64];
	const char *createdp = NULL;
	json_t *facts = NULL;
	int r = ERR_INTERNAL;

	digest[0] = '\0';
	oci_platform_fmt(&img->manifest_desc, platform, sizeof(platform));
	if ((r = imageview_open(store, img, &job->vo, &backend, &tree, e)) != 0)
		goto out;
	memset(&ctx, 0, sizeof(ctx));
	ctx.tree = tree;
	ctx.backend = backend;
	ctx.policy = job->pol;
	ctx.report = rep;
	ctx.mode = HARDEN_MODE_IMAGE;
	ctx.dry_run = job->dry_run;
	if ((r = facts_compute(tree, backend, &facts, e)) != 0)
		goto out;
	report_set(rep, "factsBefore", facts);
	facts = NULL; /* transferred */
	if ((r = harden_run(&ctx, e)) != 0 || (r = facts_compute(tree, backend, &facts, e)) != 0)
		goto out;
	report_set(rep, "facts", facts);
	facts = NULL; /* transferred */

	cli_report_run(rep, job->squash ? "image-squash" : "image", job->pol, fstree_count(tree));
	report_set(rep, "platform", json_string(platform));
	if ((root = oci_store_root(store)) != NULL)
		report_set(rep, "input",
		    json_pack("{s:s, s:s, s:s}", "reference", job->src, "digest", root->digest, "manifestDigest",
			img->manifest_desc.digest));

	if (!job->dry_run) {
		memset(&out, 0, sizeof(out));
		if ((r = pick_times(img, created, &createdp, &out.max_mtime, e)) != 0)
			goto out;
		out.writer = w;
		out.compression = job->comp;
		out.squash = job->squash;
		out.created = createdp;
		out.user = job->pol->image_user;
		out.version = HARDLINE_VERSION;
		out.policy_digest = job->pol->digest;
		imageview_set_output(backend, &out);
		if ((r = backend->ops->commit(backend, tree, e)) != 0)
			goto out;
		md = imageview_manifest(backend);
		str_copy(digest, DIGEST_STR_LEN + 1, md->digest);
		report_set(rep, "output",
		    json_pack("{s:s, s:s, s:I}", "reference", job->dst, "digest", md->digest, "layerEntries",
			(json_int_t)imageview_layer_entries(backend)));
	}
	r = 0;
out:
	if (r != 0)
		err_prefix(e, "%s", platform);
	if (backend != NULL)
		backend->ops->free(backend);
	fstree_free(tree);
	return r;
}

/* Writes the reports of a multi-platform run as {"platforms": [report, ...], "output": {...}} to path. */
static int write_reports(struct report **reps, size_t n, const char *dst, const char *root_digest, const char *path,
    struct err *e)
{
	json_t *doc = json_object(), *arr = json_array();
	char *s = NULL, label[300];
	size_t i;
	int r;

	for (i = 0; i < n; i++)
		json_array_append_new(arr, report_to_json(reps[i]));
	json_object_set_new(doc, "platforms", arr);
	if (root_digest[0] != '\0')
		json_object_set_new(doc, "output", json_pack("{s:s, s:s}", "reference", dst, "digest", root_digest));
	str_fmt(label, sizeof(label), "report %.250s", path);
	if ((s = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS)) == NULL)
		r = err_set(e, ERR_NOMEM, "%s: out of memory", label);
	else
		r = fileio_write_atomic(path, s, strlen(s), 0644, label, e);
	free(s);
	json_decref(doc);
	return r;
}

int cmd_harden(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "keep", required_argument, NULL, 'k' },
		{ "squash", no_argument, NULL, 's' },
		{ "compression", required_argument, NULL, 'c' },
		{ "max-expanded", required_argument, NULL, 'm' },
		{ "platform", required_argument, NULL, 'P' },
		{ "report", required_argument, NULL, 'r' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "key", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *policy_file = NULL, *report_file = NULL, *platform = NULL, *src, *dst, *key_path = NULL;
	char **keep = NULL, msg[200];
	size_t nkeep = 0, i, nimg = 0, nreps = 0;
	bool dry_run = false, quiet = false, squash = false, policy_ok = false;
	enum tarlayer_compression comp = TL_GZIP;
	struct imageview_opts vo;
	struct transport_ref dref;
	struct hpolicy pol;
	struct harden_job job;
	struct report **reps = NULL;
	struct oci_store *store = NULL;
	struct oci_image **imgs = NULL;
	struct oci_writer *w = NULL;
	struct oci_descriptor rootd;
	struct err e;
	int c, rc = 1;

	err_clear(&e);
	memset(&rootd, 0, sizeof(rootd));
	memset(&job, 0, sizeof(job));
	tarlayer_limits_default(&vo.limits);
	vo.progress = false;
	if ((keep = calloc((size_t)argc + 1, sizeof(*keep))) == NULL) {
		fprintf(stderr, "hardline: out of memory\n");
		return 1;
	}
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:p:k:sc:m:P:r:nqK:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			policy_file = optarg;
			break;
		case 'k':
			keep[nkeep++] = optarg;
			break;
		case 's':
			squash = true;
			break;
		case 'c':
			if (tarlayer_compression_parse(optarg, &comp, &e) != 0) {
				rc = usage(e.msg);
				goto out;
			}
			break;
		case 'm':
			if (cli_parse_size(optarg, &vo.limits.max_expanded, &e) != 0) {
				rc = usage(e.msg);
				goto out;
			}
			break;
		case 'P':
			platform = optarg;
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
		case 'K':
			key_path = optarg;
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
	if (argc - optind != 2) {
		rc = usage(argc - optind < 2 ? "SRC and DST are required (e.g. oci-archive:app.tar oci:out:app)"
					     : "too many arguments: only SRC and DST");
		goto out;
	}
	src = argv[optind];
	dst = argv[optind + 1];
	if (transport_parse(dst, true, &dref, &e) != 0 || transport_parse(src, false, &dref, &e) != 0) {
		rc = usage(e.msg);
		goto out;
	}
	if (quiet)
		log_set_level(LOG_ERROR);
	vo.progress = !quiet && isatty(STDERR_FILENO);

	if (cli_policy_load(&pol, policy_file, keep, nkeep, &e) != 0)
		goto fail;
	policy_ok = true;
	if (oci_store_open(src, &store, &e) != 0 || oci_store_images(store, platform, &imgs, &nimg, &e) != 0)
		goto fail;
	if (nimg == 0) {
		err_set(&e, ERR_NOT_FOUND, "%.200s holds no image%s%.60s", src, platform ? " for platform " : "",
		    platform ? platform : "");
		goto fail;
	}
	if ((reps = calloc(nimg, sizeof(*reps))) == NULL) {
		err_set(&e, ERR_NOMEM, "out of memory");
		goto fail;
	}
	job.pol = &pol;
	job.vo = vo;
	job.comp = comp;
	job.squash = squash;
	job.dry_run = dry_run;
	job.src = src;
	job.dst = dst;
	if (!dry_run && oci_writer_new(dst, &w, &e) != 0)
		goto fail;
	/* Every platform of a multi-platform index is hardened (the architecture does not matter: nothing runs). */
	for (i = 0; i < nimg; i++) {
		char digest[DIGEST_STR_LEN + 1];

		if ((reps[i] = report_new(dry_run)) == NULL) {
			err_set(&e, ERR_NOMEM, "out of memory");
			goto fail;
		}
		nreps = i + 1;
		if (nimg > 1 && vo.progress) {
			char pf[64];

			oci_platform_fmt(&imgs[i]->manifest_desc, pf, sizeof(pf));
			fprintf(stderr, "platform %zu of %zu: %s\n", i + 1, nimg, pf);
		}
		if (harden_one(&job, store, imgs[i], w, reps[i], digest, &e) != 0)
			goto fail;
	}
	memset(&rootd, 0, sizeof(rootd));
	if (!dry_run && oci_writer_finish(w, &rootd, &e) != 0)
		goto fail;
	if (report_file != NULL) {
		if (nimg == 1 && report_write_file(reps[0], report_file, &e) != 0)
			goto fail;
		if (nimg > 1 && write_reports(reps, nimg, dst, dry_run ? "" : rootd.digest, report_file, &e) != 0)
			goto fail;
	}
	for (i = 0; i < nimg && !quiet; i++) {
		if (nimg > 1) {
			char pf[64];

			oci_platform_fmt(&imgs[i]->manifest_desc, pf, sizeof(pf));
			fprintf(stderr, "== %s\n", pf);
		}
		report_print_summary(reps[i], stderr);
	}
	for (i = 0; i < nimg && key_path != NULL && !dry_run; i++)
		if (attest_from_report(dst, key_path, reps[i], quiet ? NULL : stderr, &e) != 0)
			goto fail;
	if (!dry_run)
		printf("%s\n", rootd.digest);
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "hardline: %s\n", e.msg);
	if (nreps > 0 && report_file != NULL) {
		report_set(reps[nreps - 1], "error", json_string(e.msg));
		report_write_after_failure(reps[nreps - 1], report_file);
	}
	rc = e.code == ERR_USAGE ? 2 : 1;
out:
	oci_writer_free(w);
	oci_images_free(imgs, nimg);
	oci_store_free(store);
	for (i = 0; i < nreps; i++)
		report_free(reps[i]);
	free(reps);
	oci_descriptor_cleanup(&rootd);
	if (policy_ok)
		hpolicy_cleanup(&pol);
	free(keep);
	return rc;
}
