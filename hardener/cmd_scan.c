/* cmd_scan — `hardline scan IMAGE [--json] [--diff OTHER]`: measures an image's attack surface (facts.h) from its
 * layers without running anything; IMAGE is oci:, oci-archive:, docker-archive: or dir:PATH (a root filesystem
 * directory, read through the fsdir backend). --diff puts two images side by side (before and after hardening). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hardener/cli.h"
#include "hardener/command.h"
#include "hardener/facts.h"
#include "hardener/fsdir.h"
#include "hardener/imageview.h"
#include "lib/log.h"
#include "lib/oci.h"
#include "lib/str.h"
#include "lib/tarlayer.h"

int cmd_scan(int argc, char **argv);

static const char synopsis[] =
    "scan [--json] [--diff OTHER] [--platform OS/ARCH[/VARIANT]] [--max-expanded SIZE] IMAGE";

/* Prints the reason and the synopsis on stderr; returns 2. */
static int usage(const char *reason)
{
	const struct command c = { "scan", synopsis, NULL, NULL };

	return command_usage(&c, reason);
}

/* --help on stdout. */
static void help(void)
{
	printf("usage: hardline %s\n\n"
	       "Measures the attack surface of IMAGE from its files, without running it (docs/facts.md).\n"
	       "IMAGE: oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:TAG] or dir:PATH.\n\n"
	       "  --json               the facts as JSON (with --diff: {\"before\", \"after\", \"delta\"})\n"
	       "  --diff OTHER         compare IMAGE (before) with OTHER (after)\n"
	       "  --platform P         the platform to scan when the image has several\n"
	       "  --max-expanded SIZE  refuse a layer that expands past SIZE bytes (K, M, G; default 8G)\n"
	       "  --help               this text\n\n"
	       "Exit status: 0 done, 1 failure, 2 usage error.\n",
	    synopsis);
}

/* Measures ref (an image reference or dir:PATH) into *facts (a new reference). */
static int scan_one(const char *ref, const char *platform, const struct tarlayer_limits *lim, json_t **facts,
    struct err *e)
{
	struct oci_store *store = NULL;
	struct oci_image **imgs = NULL;
	struct fs_backend *b = NULL;
	struct fstree *t = NULL;
	struct imageview_opts vo;
	size_t nimg = 0;
	int rc;

	*facts = NULL;
	if (strncmp(ref, "dir:", 4) == 0) {
		if ((rc = fsdir_open(ref + 4, &b, &t, e)) != 0)
			goto out;
	} else {
		vo.limits = *lim;
		vo.progress = false;
		if ((rc = oci_store_open(ref, &store, e)) != 0 ||
		    (rc = oci_store_images(store, platform, &imgs, &nimg, e)) != 0)
			goto out;
		if (nimg != 1) {
			rc = err_set(e, ERR_INVALID, "%.200s holds %zu platforms; choose one with --platform OS/ARCH",
			    ref, nimg);
			goto out;
		}
		if ((rc = imageview_open(store, imgs[0], &vo, &b, &t, e)) != 0)
			goto out;
	}
	rc = facts_compute(t, b, facts, e);
out:
	if (b != NULL)
		b->ops->free(b);
	fstree_free(t);
	oci_images_free(imgs, nimg);
	oci_store_free(store);
	return rc;
}

/* The count of category cat in facts (0 when absent). */
static json_int_t count_of(const json_t *facts, const char *cat)
{
	return json_integer_value(json_object_get(json_object_get(facts, cat), "count"));
}

/* An item's display text: a path string, or the "path"/"name" member of an object. */
static const char *item_text(const json_t *it)
{
	if (json_is_string(it))
		return json_string_value(it);
	if (json_is_string(json_object_get(it, "path")))
		return json_string_value(json_object_get(it, "path"));
	if (json_is_string(json_object_get(it, "name")))
		return json_string_value(json_object_get(it, "name"));
	return "?";
}

/* Whether category cat of facts lists an item whose display text is text. */
static bool has_item(const json_t *facts, const char *cat, const char *text)
{
	const json_t *items = json_object_get(json_object_get(facts, cat), "items"), *it;
	size_t i;

	json_array_foreach(items, i, it)
	{
		if (strcmp(item_text(it), text) == 0)
			return true;
	}
	return false;
}

#define SHOW_MAX 12

/* The facts f of image ref as a table: the count per category and its first SHOW_MAX items. */
static void print_table(const char *ref, const json_t *f, FILE *out)
{
	const json_t *items, *it;
	size_t c, i;
	char line[512];

	fprintf(out, "%s\n", ref);
	fprintf(out, "  %-16s %lld (%lld bytes)\n", "files", (long long)json_integer_value(json_object_get(f, "files")),
	    (long long)json_integer_value(json_object_get(f, "bytes")));
	for (c = 0; facts_categories[c] != NULL; c++) {
		items = json_object_get(json_object_get(f, facts_categories[c]), "items");
		fprintf(out, "  %-16s %lld", facts_categories[c], (long long)count_of(f, facts_categories[c]));
		json_array_foreach(items, i, it)
		{
			if (i == SHOW_MAX) {
				fprintf(out, " ...");
				break;
			}
			str_escape(line, sizeof(line), item_text(it), strlen(item_text(it)), 200);
			fprintf(out, "%s%s", i == 0 ? "  " : ", ", line);
		}
		fprintf(out, "\n");
	}
}

/* Lists the items of category cat in from that other lacks, under "CAT WHAT:" with mark before each (SHOW_MAX at
 * most, then "..."); prints nothing when there are none. */
static void print_missing(const json_t *from, const json_t *other, const char *cat, const char *what, char mark,
    FILE *out)
{
	const json_t *items = json_object_get(json_object_get(from, cat), "items"), *it;
	size_t i, shown = 0;
	char line[512];

	json_array_foreach(items, i, it)
	{
		if (has_item(other, cat, item_text(it)))
			continue;
		if (shown++ == SHOW_MAX) {
			fprintf(out, "    ...\n");
			break;
		}
		if (shown == 1)
			fprintf(out, "\n%s %s:\n", cat, what);
		fprintf(out, "    %c %s\n", mark,
		    str_escape(line, sizeof(line), item_text(it), strlen(item_text(it)), 200));
	}
}

/* The before/after table of fa (image a) and fb (image b), then per category what was removed and what added. */
static void print_diff(const char *a, const char *b, const json_t *fa, const json_t *fb, FILE *out)
{
	size_t c;

	fprintf(out, "before: %s\nafter:  %s\n\n", a, b);
	fprintf(out, "  %-16s %12s %12s\n", "", "before", "after");
	fprintf(out, "  %-16s %12lld %12lld\n", "files", (long long)json_integer_value(json_object_get(fa, "files")),
	    (long long)json_integer_value(json_object_get(fb, "files")));
	fprintf(out, "  %-16s %12lld %12lld\n", "bytes", (long long)json_integer_value(json_object_get(fa, "bytes")),
	    (long long)json_integer_value(json_object_get(fb, "bytes")));
	for (c = 0; facts_categories[c] != NULL; c++)
		fprintf(out, "  %-16s %12lld %12lld\n", facts_categories[c],
		    (long long)count_of(fa, facts_categories[c]), (long long)count_of(fb, facts_categories[c]));
	for (c = 0; facts_categories[c] != NULL; c++) {
		print_missing(fa, fb, facts_categories[c], "removed", '-', out);
		print_missing(fb, fa, facts_categories[c], "added", '+', out);
	}
}

/* {"before": fa, "after": fb, "delta": {category: after - before, ...}} (fa and fb are borrowed). */
static json_t *diff_json(const json_t *fa, const json_t *fb)
{
	json_t *d = json_object(), *delta = json_object();
	size_t c;

	json_object_set_new(delta, "files",
	    json_integer(
		json_integer_value(json_object_get(fb, "files")) - json_integer_value(json_object_get(fa, "files"))));
	json_object_set_new(delta, "bytes",
	    json_integer(
		json_integer_value(json_object_get(fb, "bytes")) - json_integer_value(json_object_get(fa, "bytes"))));
	for (c = 0; facts_categories[c] != NULL; c++)
		json_object_set_new(delta, facts_categories[c],
		    json_integer(count_of(fb, facts_categories[c]) - count_of(fa, facts_categories[c])));
	json_object_set(d, "before", (json_t *)fa);
	json_object_set(d, "after", (json_t *)fb);
	json_object_set_new(d, "delta", delta);
	return d;
}

/* The command (argv[0] is "scan"): exit 0 done, 1 failure, 2 usage error. */
int cmd_scan(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "diff", required_argument, NULL, 'd' },
		{ "platform", required_argument, NULL, 'P' },
		{ "max-expanded", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *other = NULL, *platform = NULL, *ref;
	struct tarlayer_limits lim;
	json_t *fa = NULL, *fb = NULL, *doc = NULL;
	bool as_json = false;
	char msg[200];
	struct err e;
	int c, rc = 1;

	err_clear(&e);
	tarlayer_limits_default(&lim);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:jd:P:m:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			as_json = true;
			break;
		case 'd':
			other = optarg;
			break;
		case 'P':
			platform = optarg;
			break;
		case 'm':
			if (cli_parse_size(optarg, &lim.max_expanded, &e) != 0)
				return usage(e.msg);
			break;
		case 'h':
			help();
			return 0;
		default:
			return usage(cli_opt_error(c, argv, msg, sizeof(msg)));
		}
	}
	if (argc - optind != 1)
		return usage(argc - optind < 1 ? "no image given (e.g. oci-archive:app.tar or dir:/srv/rootfs)"
					       : "one image only (compare two with --diff OTHER)");
	ref = argv[optind];
	if (scan_one(ref, platform, &lim, &fa, &e) != 0 ||
	    (other != NULL && scan_one(other, platform, &lim, &fb, &e) != 0))
		goto fail;
	if (as_json) {
		char *s;

		doc = other != NULL ? diff_json(fa, fb) : json_incref(fa);
		if (doc == NULL || (s = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS)) == NULL) {
			err_set(&e, ERR_NOMEM, "out of memory");
			goto fail;
		}
		printf("%s\n", s);
		free(s);
	} else if (other != NULL) {
		print_diff(ref, other, fa, fb, stdout);
	} else {
		print_table(ref, fa, stdout);
	}
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "hardline: %s\n", e.msg);
	rc = e.code == ERR_USAGE ? 2 : 1;
out:
	json_decref(doc);
	json_decref(fa);
	json_decref(fb);
	return rc;
}
