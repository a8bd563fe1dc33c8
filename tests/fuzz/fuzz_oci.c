/* libFuzzer target for lib/oci: the input is parsed as an image index, a manifest and a config (every descriptor
 * re-parsed and re-serialized), and opened as a docker-archive tar (index, legacy manifest.json, links between
 * members) through a memfd. Any answer is fine; a crash, leak or hang is not. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/oci.h"

static void descriptors(json_t *arr)
{
	struct oci_descriptor d;
	struct err e;
	json_t *v, *j;
	size_t i;

	json_array_foreach(arr, i, v)
	{
		if (oci_descriptor_parse(v, "fuzz", &d, &e) == 0) {
			j = oci_descriptor_to_json(&d);
			json_decref(j);
			(void)oci_platform_match(&d, "linux/arm64/v8");
			oci_descriptor_cleanup(&d);
		}
	}
}

static void as_archive(const uint8_t *data, size_t size)
{
	struct oci_store *s = NULL;
	struct oci_image **imgs = NULL;
	struct oci_reader *rd;
	char ref[64];
	size_t n = 0, i, j;
	struct err e;
	int fd;

	if ((fd = memfd_create("fuzz-oci", 0)) < 0)
		return;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(ref, sizeof(ref), "docker-archive:/proc/self/fd/%d", fd);
		if (oci_store_open(ref, &s, &e) == 0 && oci_store_images(s, NULL, &imgs, &n, &e) == 0) {
			for (i = 0; i < n; i++)
				for (j = 0; j < imgs[i]->n_layers; j++)
					if (oci_blob_open(s, &imgs[i]->layers[j], &rd, &e) == 0) {
						(void)oci_reader_finish(rd, &e);
						oci_reader_free(rd);
					}
		}
		oci_images_free(imgs, n);
		oci_store_free(s);
	}
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *doc = NULL;
	struct err e;

	if (oci_index_parse((const char *)data, size, "fuzz", &doc, &e) == 0) {
		descriptors(json_object_get(doc, "manifests"));
		json_decref(doc);
	}
	if (oci_manifest_parse((const char *)data, size, "fuzz", &doc, &e) == 0) {
		descriptors(json_object_get(doc, "layers"));
		json_decref(doc);
	}
	if (oci_config_parse((const char *)data, size, "fuzz", &doc, &e) == 0)
		json_decref(doc);
	if (size >= 512)
		as_archive(data, size);
	return 0;
}
