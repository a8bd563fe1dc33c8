/* cmd_image_inspect — hidden debugging commands over lib/oci: `image-inspect` lists an image's platforms, manifests
 * and layers, reading every blob verified; `image-copy` round-trips an image through the OCI writer so that skopeo
 * and umoci can check the output. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "hardener/cli.h"
#include "hardener/command.h"
#include "lib/oci.h"

int cmd_image_inspect(int argc, char **argv);
int cmd_image_copy(int argc, char **argv);

/* Parses [--platform P] and leaves optind at the first operand; returns 0, or 2 after printing usage. */
static int parse_opts(int argc, char **argv, const char **platform)
{
	static const struct option opts[] = {
		{ "platform", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	char msg[200];
	int c;

	*platform = NULL;
	optind = 1;
	opterr = 0; /* the usage message below names the option; getopt's own would repeat it */
	while ((c = getopt_long(argc, argv, ":p:", opts, NULL)) != -1) {
		if (c != 'p')
			return command_usage(command_find(argv[0]), cli_opt_error(c, argv, msg, sizeof(msg)));
		*platform = optarg;
	}
	return 0;
}

/* Reads the whole blob of d verified; returns 0 or the error. */
static int drain(struct oci_store *s, const struct oci_descriptor *d, struct err *e)
{
	struct oci_reader *rd = NULL;
	int r;

	if ((r = oci_blob_open(s, d, &rd, e)) == 0)
		r = oci_reader_finish(rd, e);
	oci_reader_free(rd);
	return r;
}

int cmd_image_inspect(int argc, char **argv)
{
	struct oci_store *s = NULL;
	struct oci_image **imgs = NULL;
	const struct oci_descriptor *root;
	const char *platform;
	char plat[200];
	struct err e;
	size_t n = 0, i, j;
	int r, rc = 1;

	err_clear(&e);
	if ((r = parse_opts(argc, argv, &platform)) != 0)
		return r;
	if (argc - optind != 1)
		return command_usage(command_find(argv[0]), "expected one image reference");
	if ((r = oci_store_open(argv[optind], &s, &e)) != 0 || (r = oci_store_images(s, platform, &imgs, &n, &e)) != 0)
		goto out;
	root = oci_store_root(s);
	printf("root %s %s %llu\n", root->media_type, root->digest, (unsigned long long)root->size);
	for (i = 0; i < n; i++) {
		oci_platform_fmt(&imgs[i]->manifest_desc, plat, sizeof(plat));
		printf("image %s manifest %s %s %llu\n", plat, imgs[i]->manifest_desc.media_type,
		    imgs[i]->manifest_desc.digest, (unsigned long long)imgs[i]->manifest_desc.size);
		printf("  config %s %s %llu\n", imgs[i]->config_desc.media_type, imgs[i]->config_desc.digest,
		    (unsigned long long)imgs[i]->config_desc.size);
		for (j = 0; j < imgs[i]->n_layers; j++) {
			if ((r = drain(s, &imgs[i]->layers[j], &e)) != 0)
				goto out;
			printf("  layer %s %s %llu diff_id %s\n", imgs[i]->layers[j].media_type,
			    imgs[i]->layers[j].digest, (unsigned long long)imgs[i]->layers[j].size,
			    imgs[i]->diff_ids[j]);
		}
	}
	rc = 0;
out:
	if (r != 0)
		fprintf(stderr, "hardline: %s\n", e.msg);
	oci_images_free(imgs, n);
	oci_store_free(s);
	return r == ERR_USAGE ? 2 : rc;
}

int cmd_image_copy(int argc, char **argv)
{
	struct oci_store *s = NULL;
	struct oci_writer *w = NULL;
	struct oci_image **imgs = NULL;
	struct oci_descriptor root;
	const char *platform;
	struct err e;
	size_t n = 0, i;
	int r, rc = 1;

	err_clear(&e);
	memset(&root, 0, sizeof(root));
	if ((r = parse_opts(argc, argv, &platform)) != 0)
		return r;
	if (argc - optind != 2)
		return command_usage(command_find(argv[0]), "expected SRC and DST");
	if ((r = oci_store_open(argv[optind], &s, &e)) != 0 ||
	    (r = oci_store_images(s, platform, &imgs, &n, &e)) != 0 ||
	    (r = oci_writer_new(argv[optind + 1], &w, &e)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if ((r = oci_writer_copy_image(w, s, imgs[i], NULL, &e)) != 0)
			goto out;
	if ((r = oci_writer_finish(w, &root, &e)) != 0)
		goto out;
	printf("%s\n", root.digest);
	rc = 0;
out:
	if (r != 0)
		fprintf(stderr, "hardline: %s\n", e.msg);
	oci_descriptor_cleanup(&root);
	oci_writer_free(w);
	oci_images_free(imgs, n);
	oci_store_free(s);
	return r == ERR_USAGE ? 2 : rc;
}
