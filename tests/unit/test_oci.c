/* Tests of lib/oci and lib/transport: a data-driven loop over tests/fixtures/oci/<case>/{layout/,expect[,tag]
 * [,platform]} (one test per case, every layer read verified), then reference parsing, caps, a legacy docker-archive
 * built here, and the writer: atomic results, reproducible bytes, existing layouts and oci-archive output. */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/casedirs.h"
#include "tests/unit/failalloc.h"

#include "lib/json.h"
#include "lib/oci.h"
#include "lib/transport.h"

static const char *fixture_dir(void)
{
	const char *d = getenv("HL_OCI_FIXTURES");

	return d != NULL ? d : "tests/fixtures/oci";
}

/* The first line of a small file into buf ("" when absent). */
static void read_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");

	buf[0] = '\0';
	if (f == NULL)
		return;
	if (fgets(buf, (int)size, f) == NULL)
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

/* Opens ref, lists its images for platform and reads every layer verified; returns 0 or the error. */
static int load_all(const char *ref, const char *platform, size_t *n_images, struct err *e)
{
	struct oci_store *s = NULL;
	struct oci_image **imgs = NULL;
	struct oci_reader *rd;
	size_t n = 0, i, j;
	int r;

	*n_images = 0;
	if ((r = oci_store_open(ref, &s, e)) != 0 || (r = oci_store_images(s, platform, &imgs, &n, e)) != 0)
		goto out;
	assert_non_null(oci_store_root(s));
	for (i = 0; i < n; i++) {
		assert_int_equal(imgs[i]->n_layers,
		    json_array_size(json_object_get(json_object_get(imgs[i]->config, "rootfs"), "diff_ids")));
		for (j = 0; j < imgs[i]->n_layers; j++) {
			if ((r = oci_blob_open(s, &imgs[i]->layers[j], &rd, e)) != 0)
				goto out;
			r = oci_reader_finish(rd, e);
			oci_reader_free(rd);
			if (r != 0)
				goto out;
		}
	}
	*n_images = n;
	r = 0;
out:
	oci_images_free(imgs, n);
	oci_store_free(s);
	return r;
}

static void run_case(void **state)
{
	const char *name = *state;
	char dir[1024], p[1200], expect[512], tag[256], platform[64], ref[1400];
	struct err e;
	size_t n = 0;
	int r;

	err_clear(&e);
	snprintf(dir, sizeof(dir), "%s/%s", fixture_dir(), name);
	snprintf(p, sizeof(p), "%s/expect", dir);
	read_line(p, expect, sizeof(expect));
	snprintf(p, sizeof(p), "%s/tag", dir);
	read_line(p, tag, sizeof(tag));
	snprintf(p, sizeof(p), "%s/platform", dir);
	read_line(p, platform, sizeof(platform));
	snprintf(ref, sizeof(ref), "oci:%s/layout%s%s", dir, tag[0] ? ":" : "", tag);
	r = load_all(ref, platform[0] ? platform : NULL, &n, &e);
	if (strncmp(expect, "ok ", 3) == 0) {
		if (r != 0)
			fail_msg("case %s: expected success, got: %s", name, e.msg);
		assert_int_equal(n, strtoul(expect + 3, NULL, 10));
	} else {
		assert_true(strncmp(expect, "error ", 6) == 0);
		if (r == 0)
			fail_msg("case %s: expected an error containing \"%s\", got success", name, expect + 6);
		if (strstr(e.msg, expect + 6) == NULL)
			fail_msg("case %s: expected \"%s\" in: %s", name, expect + 6, e.msg);
	}
}

static void test_transport_parse(void **state)
{
	struct transport_ref r;
	struct err e;
	char buf[512];

	assert_int_equal(transport_parse("oci:/a/b:docker.io/library/x:1", false, &r, &e), 0);
	assert_int_equal(r.kind, TRANSPORT_OCI);
	assert_string_equal(r.path, "/a/b");
	assert_string_equal(r.tag, "docker.io/library/x:1");
	assert_int_equal(transport_parse("oci-archive:x.tar", true, &r, &e), 0);
	assert_int_equal(r.kind, TRANSPORT_OCI_ARCHIVE);
	assert_string_equal(r.tag, "");
	assert_int_equal(transport_fmt(&r, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "oci-archive:x.tar");
	assert_int_equal(transport_parse("docker-archive:d.tar:busybox:1", false, &r, &e), 0);
	assert_int_equal(r.kind, TRANSPORT_DOCKER_ARCHIVE);
	assert_string_equal(r.tag, "busybox:1");
	assert_int_equal(transport_parse("docker-archive:d.tar", true, &r, &e), ERR_USAGE);
	assert_non_null(strstr(e.msg, "input only"));
	assert_int_equal(transport_parse("docker://busybox", false, &r, &e), ERR_USAGE);
	assert_non_null(strstr(e.msg, "unknown transport"));
	assert_int_equal(transport_parse("oci:", false, &r, &e), ERR_USAGE);
	assert_int_equal(transport_parse("oci::tag", false, &r, &e), ERR_USAGE);
	assert_int_equal(transport_parse("oci:dir:", false, &r, &e), ERR_USAGE);
	assert_int_equal(transport_parse("oci:dir:a b", false, &r, &e), ERR_USAGE);
	assert_int_equal(transport_parse("oci:dir:a\x01", false, &r, &e), ERR_USAGE);
}

static void test_platform_match(void **state)
{
	struct oci_descriptor d = { .platform_os = (char *)"linux", .platform_arch = (char *)"arm64" };
	char buf[64];

	assert_true(oci_platform_match(&d, NULL));
	assert_true(oci_platform_match(&d, "linux/arm64"));
	assert_true(oci_platform_match(&d, "linux/arm64/v8"));
	assert_false(oci_platform_match(&d, "linux/arm64/v7"));
	assert_false(oci_platform_match(&d, "linux/amd64"));
	assert_false(oci_platform_match(&d, "linux"));
	oci_platform_fmt(&d, buf, sizeof(buf));
	assert_string_equal(buf, "linux/arm64");
	d.platform_arch = (char *)"arm";
	d.platform_variant = (char *)"v7";
	assert_true(oci_platform_match(&d, "linux/arm/v7"));
	assert_false(oci_platform_match(&d, "linux/arm/v6"));
}

static void test_media_types(void **state)
{
	enum oci_compression c;
	struct err e;

	assert_string_equal(oci_mt_to_oci(DOCKER_MT_LAYER_GZIP), OCI_MT_LAYER_GZIP);
	assert_string_equal(oci_mt_to_oci(DOCKER_MT_MANIFEST), OCI_MT_MANIFEST);
	assert_string_equal(oci_mt_to_oci(DOCKER_MT_LIST), OCI_MT_INDEX);
	assert_string_equal(oci_mt_to_oci(DOCKER_MT_CONFIG), OCI_MT_CONFIG);
	assert_null(oci_mt_to_oci(DOCKER_MT_LAYER_FOREIGN));
	assert_int_equal(oci_mt_layer(OCI_MT_LAYER_ZSTD, &c, &e), 0);
	assert_int_equal(c, OCI_COMP_ZSTD);
	assert_int_equal(oci_mt_layer(DOCKER_MT_LAYER_GZIP, &c, &e), 0);
	assert_int_equal(c, OCI_COMP_GZIP);
	assert_int_equal(oci_mt_layer("application/vnd.oci.image.layer.nondistributable.v1.tar", &c, &e),
	    ERR_UNSUPPORTED);
}

/* A manifest with n layers, as text. */
static char *manifest_with_layers(size_t n)
{
	struct strbuf sb;
	size_t i;

	sb_init(&sb, 8u << 20);
	assert_int_equal(
	    sb_puts(&sb,
		"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" OCI_MT_CONFIG "\",\"digest\":"
		"\"sha256:0000000000000000000000000000000000000000000000000000000000000000\",\"size\":2},\"layers\":["),
	    0);
	for (i = 0; i < n; i++)
		assert_int_equal(sb_printf(&sb, "%s{\"mediaType\":\"%s\",\"digest\":\"sha256:%064zx\",\"size\":%zu}",
				     i ? "," : "", OCI_MT_LAYER, i, i),
		    0);
	assert_int_equal(sb_puts(&sb, "]}"), 0);
	return sb_steal(&sb, NULL);
}

static void test_caps(void **state)
{
	json_t *doc = NULL;
	struct err e;
	char *m;

	m = manifest_with_layers(OCI_MAX_ENTRIES);
	assert_int_equal(oci_manifest_parse(m, strlen(m), "m", &doc, &e), 0);
	assert_int_equal(json_array_size(json_object_get(doc, "layers")), OCI_MAX_ENTRIES);
	json_decref(doc);
	free(m);
	m = manifest_with_layers(OCI_MAX_ENTRIES + 1);
	assert_int_equal(oci_manifest_parse(m, strlen(m), "m", &doc, &e), ERR_TOO_LARGE);
	assert_non_null(strstr(e.msg, "more than the limit"));
	assert_null(doc);
	free(m);
	m = "{\"schemaVersion\":2,\"manifests\":[]}x";
	assert_int_equal(oci_index_parse(m, strlen(m), "i", &doc, &e), ERR_PARSE);
	assert_int_equal(oci_index_parse("[]", 2, "i", &doc, &e), ERR_INVALID);
	m = "{\"rootfs\":{\"type\":\"zfs\",\"diff_ids\":[]}}";
	assert_int_equal(oci_config_parse(m, strlen(m), "c", &doc, &e), ERR_UNSUPPORTED);
}

static char tmproot[64];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static int setup_tmp(void **state)
{
	snprintf(tmproot, sizeof(tmproot), "/tmp/hl-test-oci.XXXXXX");
	return mkdtemp(tmproot) != NULL ? 0 : -1;
}

static int teardown_tmp(void **state)
{
	nftw(tmproot, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* Number of entries in dir other than "." and "..". */
static int count_entries(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	return n;
}

static char *slurp(const char *path, size_t *len)
{
	struct strbuf sb;
	char buf[4096];
	ssize_t k;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	sb_init(&sb, 64u << 20);
	while ((k = read(fd, buf, sizeof(buf))) > 0)
		assert_int_equal(sb_append(&sb, buf, (size_t)k), 0);
	close(fd);
	return sb_steal(&sb, len);
}

/* Writes a one-layer image to dst (a reference); the root digest into root. */
static int write_image(const char *dst, const char *arch, char root[DIGEST_STR_LEN + 1], struct err *e)
{
	static const char layer[] = "not a real tar, only bytes";
	struct oci_writer *w = NULL;
	struct oci_descriptor ld, rd;
	struct oci_blob_out *b;
	json_t *cfg;
	char dg[DIGEST_STR_LEN + 1];
	int r;

	assert_int_equal(sha256_digest_str(layer, sizeof(layer), dg, e), 0);
	cfg = json_pack("{s:s, s:s, s:{s:s, s:[s]}}", "architecture", arch, "os", "linux", "rootfs", "type", "layers",
	    "diff_ids", dg);
	assert_non_null(cfg);
	if ((r = oci_writer_new(dst, &w, e)) != 0)
		goto out;
	assert_int_equal(oci_writer_blob_begin(w, &b, e), 0);
	assert_int_equal(oci_blob_out_write(b, layer, 10, e), 0);
	assert_int_equal(oci_blob_out_write(b, layer + 10, sizeof(layer) - 10, e), 0);
	assert_int_equal(oci_blob_out_commit(b, OCI_MT_LAYER, &ld, e), 0);
	assert_string_equal(ld.digest, dg);
	assert_int_equal(ld.size, sizeof(layer));
	r = oci_writer_add_image(w, cfg, &ld, 1, NULL, NULL, NULL, e);
	oci_descriptor_cleanup(&ld);
	if (r == 0 && (r = oci_writer_finish(w, &rd, e)) == 0) {
		memcpy(root, rd.digest, DIGEST_STR_LEN + 1);
		oci_descriptor_cleanup(&rd);
	}
out:
	oci_writer_free(w);
	json_decref(cfg);
	return r;
}

static void test_writer_layout(void **state)
{
	char ref[256], ref2[256], path[256], r1[DIGEST_STR_LEN + 1], r2[DIGEST_STR_LEN + 1];
	char *a, *b;
	size_t n, la, lb;
	struct err e;

	snprintf(ref, sizeof(ref), "oci:%s/one:v1", tmproot);
	if (write_image(ref, "amd64", r1, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(count_entries(tmproot), 1); /* no temporary left beside it */
	if (load_all(ref, NULL, &n, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(n, 1);
	/* Same input, same bytes. */
	snprintf(ref2, sizeof(ref2), "oci:%s/two:v1", tmproot);
	assert_int_equal(write_image(ref2, "amd64", r2, &e), 0);
	assert_string_equal(r1, r2);
	snprintf(path, sizeof(path), "%s/one/index.json", tmproot);
	a = slurp(path, &la);
	snprintf(path, sizeof(path), "%s/two/index.json", tmproot);
	b = slurp(path, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	free(a);
	free(b);
	/* A second tag in the same layout keeps the first; rewriting v1 replaces only v1. */
	snprintf(ref2, sizeof(ref2), "oci:%s/one:v2", tmproot);
	assert_int_equal(write_image(ref2, "arm64", r2, &e), 0);
	assert_int_equal(load_all(ref, NULL, &n, &e), 0);
	assert_int_equal(load_all(ref2, "linux/arm64", &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(write_image(ref, "amd64", r1, &e), 0);
	snprintf(path, sizeof(path), "%s/one/index.json", tmproot);
	a = slurp(path, &la);
	assert_non_null(strstr(a, "\"v1\""));
	assert_non_null(strstr(a, "\"v2\""));
	assert_null(strstr(strstr(a, "\"v1\"") + 1, "\"v1\""));
	free(a);
	/* An unrelated non-empty directory is refused. */
	snprintf(path, sizeof(path), "%s/junk", tmproot);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/junk/file", tmproot);
	close(open(path, O_CREAT | O_WRONLY, 0644));
	snprintf(ref, sizeof(ref), "oci:%s/junk", tmproot);
	assert_int_equal(write_image(ref, "amd64", r1, &e), ERR_EXISTS);
	snprintf(path, sizeof(path), "%s/junk", tmproot);
	assert_int_equal(count_entries(path), 1);
}

/* Writes data as a blob of layout dir; the digest into dg. */
static void put_blob(const char *dir, const char *data, char dg[DIGEST_STR_LEN + 1])
{
	char path[512];
	struct err e;
	FILE *f;

	assert_int_equal(sha256_digest_str(data, strlen(data), dg, &e), 0);
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir, dg + 7);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(data, 1, strlen(data), f), strlen(data));
	fclose(f);
}

/* An index listing another index many times over (each listing many manifests) is capped in all, not walked
 * 10000 x 10000 times. */
static void test_index_fanout(void **state)
{
	char dir[256], path[300], ref[300], dg[DIGEST_STR_LEN + 1], inner[DIGEST_STR_LEN + 1];
	struct strbuf sb;
	struct err e;
	size_t n, i, inner_len;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/fan", tmproot);
	snprintf(path, sizeof(path), "%s/blobs/sha256", dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/blobs", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/blobs/sha256", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	sb_init(&sb, 8u << 20);
	assert_int_equal(sb_puts(&sb, "{\"schemaVersion\":2,\"manifests\":["), 0);
	for (i = 0; i < 200; i++)
		assert_int_equal(sb_printf(&sb,
				     "%s{\"mediaType\":\"" OCI_MT_MANIFEST "\",\"digest\":\"sha256:%064d\","
				     "\"size\":2,\"platform\":{\"os\":\"linux\",\"architecture\":\"s390x\"}}",
				     i ? "," : "", 0),
		    0);
	assert_int_equal(sb_puts(&sb, "]}"), 0);
	put_blob(dir, sb.data, inner);
	inner_len = sb.len;
	sb_cleanup(&sb);
	sb_init(&sb, 8u << 20);
	assert_int_equal(sb_puts(&sb, "{\"schemaVersion\":2,\"manifests\":["), 0);
	for (i = 0; i < 100; i++)
		assert_int_equal(sb_printf(&sb, "%s{\"mediaType\":\"" OCI_MT_INDEX "\",\"digest\":\"%s\",\"size\":%zu}",
				     i ? "," : "", inner, inner_len),
		    0);
	assert_int_equal(sb_puts(&sb, "]}"), 0);
	put_blob(dir, sb.data, dg);
	snprintf(path, sizeof(path), "%s/index.json", dir);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f,
	    "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" OCI_MT_INDEX "\",\"digest\":\"%s\","
	    "\"size\":%zu}]}",
	    dg, sb.len);
	fclose(f);
	sb_cleanup(&sb);
	snprintf(path, sizeof(path), "%s/oci-layout", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("{\"imageLayoutVersion\":\"1.0.0\"}", f);
	fclose(f);
	snprintf(ref, sizeof(ref), "oci:%s", dir);
	assert_int_equal(load_all(ref, "linux/amd64", &n, &e), ERR_TOO_LARGE);
	assert_non_null(strstr(e.msg, "descriptors in all"));
}

/* An attestation added to an existing layout as an extra index entry: replaced when added again, and not counted
 * as an image when the layout is read without a tag. */
static void test_writer_extra_entry(void **state)
{
	char ref[256], path[300], r1[DIGEST_STR_LEN + 1], name[128];
	struct oci_writer *w;
	struct oci_descriptor d, root;
	struct err e;
	json_t *idx;
	size_t n;
	int round;

	snprintf(ref, sizeof(ref), "oci:%s/att:v1", tmproot);
	assert_int_equal(write_image(ref, "amd64", r1, &e), 0);
	snprintf(name, sizeof(name), "sha256-%s.att", r1 + 7);
	snprintf(ref, sizeof(ref), "oci:%s/att", tmproot);
	for (round = 0; round < 2; round++) {
		assert_int_equal(oci_writer_new(ref, &w, &e), 0);
		assert_int_equal(oci_writer_add_blob_bytes(w, round ? "{\"b\":2}" : "{\"a\":1}", 7, OCI_MT_MANIFEST, &d,
				     &e),
		    0);
		assert_non_null(d.annotations = json_pack("{s:s}", OCI_ANN_REF_NAME, name));
		assert_int_equal(oci_writer_add_index_entry(w, &d, &e), 0);
		oci_descriptor_cleanup(&d);
		if (oci_writer_finish(w, &root, &e) != 0)
			fail_msg("%s", e.msg);
		assert_string_equal(root.digest, "");
		oci_writer_free(w);
	}
	snprintf(path, sizeof(path), "%s/att/index.json", tmproot);
	assert_int_equal(json_load_file_capped(path, 1 << 20, &idx, &e), 0);
	assert_int_equal(json_array_size(json_object_get(idx, "manifests")), 2);
	json_decref(idx);
	if (load_all(ref, NULL, &n, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(n, 1);
}

/* A FIFO where a blob should be is refused, not waited on. */
static void test_fifo_blob(void **state)
{
	static const char layer[] = "not a real tar, only bytes";
	char ref[256], path[512], r1[DIGEST_STR_LEN + 1], dg[DIGEST_STR_LEN + 1];
	struct err e;
	size_t n;

	snprintf(ref, sizeof(ref), "oci:%s/fifo", tmproot);
	assert_int_equal(write_image(ref, "amd64", r1, &e), 0);
	assert_int_equal(sha256_digest_str(layer, sizeof(layer), dg, &e), 0);
	snprintf(path, sizeof(path), "%s/fifo/blobs/sha256/%s", tmproot, dg + 7);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkfifo(path, 0644), 0);
	assert_int_equal(load_all(ref, NULL, &n, &e), ERR_INVALID);
	assert_non_null(strstr(e.msg, "not a regular file"));
}

static void test_writer_abandoned(void **state)
{
	struct oci_writer *w;
	struct oci_descriptor d;
	char ref[256];
	struct err e;
	int before = count_entries(tmproot);

	snprintf(ref, sizeof(ref), "oci:%s/never", tmproot);
	assert_int_equal(oci_writer_new(ref, &w, &e), 0);
	assert_int_equal(oci_writer_add_blob_bytes(w, "x", 1, OCI_MT_LAYER, &d, &e), 0);
	oci_descriptor_cleanup(&d);
	assert_int_equal(oci_writer_finish(w, NULL, &e), ERR_INVALID); /* no image */
	oci_writer_free(w);
	assert_int_equal(count_entries(tmproot), before);
	snprintf(ref, sizeof(ref), "oci-archive:%s/never.tar", tmproot);
	assert_int_equal(oci_writer_new(ref, &w, &e), 0);
	oci_writer_free(w);
	assert_int_equal(count_entries(tmproot), before);
}

static void test_writer_archive(void **state)
{
	char ref[256], path[256], r1[DIGEST_STR_LEN + 1], r2[DIGEST_STR_LEN + 1];
	char *a, *b;
	size_t la, lb, n;
	struct err e;

	setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
	snprintf(ref, sizeof(ref), "oci-archive:%s/a.tar:v1", tmproot);
	if (write_image(ref, "amd64", r1, &e) != 0)
		fail_msg("%s", e.msg);
	snprintf(ref, sizeof(ref), "oci-archive:%s/b.tar:v1", tmproot);
	assert_int_equal(write_image(ref, "amd64", r2, &e), 0);
	unsetenv("SOURCE_DATE_EPOCH");
	assert_string_equal(r1, r2);
	snprintf(path, sizeof(path), "%s/a.tar", tmproot);
	a = slurp(path, &la);
	snprintf(path, sizeof(path), "%s/b.tar", tmproot);
	b = slurp(path, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	free(a);
	free(b);
	if (load_all(ref, NULL, &n, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(n, 1);
	setenv("SOURCE_DATE_EPOCH", "soon", 1);
	snprintf(ref, sizeof(ref), "oci-archive:%s/c.tar", tmproot);
	assert_int_equal(write_image(ref, "amd64", r1, &e), ERR_PARSE);
	unsetenv("SOURCE_DATE_EPOCH");
	snprintf(path, sizeof(path), "%s/c.tar", tmproot);
	assert_int_equal(access(path, F_OK), -1);
}

/* Adds a member to a tar being written: a regular file (data) or a symlink (target). */
static void tar_member(struct archive *a, const char *name, const char *data, size_t len, const char *target)
{
	struct archive_entry *ent = archive_entry_new();

	archive_entry_set_pathname(ent, name);
	if (target != NULL) {
		archive_entry_set_filetype(ent, AE_IFLNK);
		archive_entry_set_symlink(ent, target);
		archive_entry_set_perm(ent, 0777);
	} else {
		archive_entry_set_filetype(ent, AE_IFREG);
		archive_entry_set_perm(ent, 0644);
		archive_entry_set_size(ent, (la_int64_t)len);
	}
	assert_int_equal(archive_write_header(a, ent), ARCHIVE_OK);
	if (target == NULL)
		assert_int_equal(archive_write_data(a, data, len), (la_ssize_t)len);
	archive_entry_free(ent);
}

#define LONG_LAYER                                                                                                     \
	"long/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"     \
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx/layer.tar"

/* A `docker save` archive: manifest.json, config, layer behind a symlink (as podman writes it), a layer under a
 * name long enough to need a pax header; gzip-compressed as a whole when gz. */
static void make_legacy_gz(const char *path, const char *layer_name, bool duplicate, bool gz)
{
	static char layer[1024]; /* an empty tar; a gzip layer when layer_name ends in ".gz" */
	char cfg[512], man[512], dg[DIGEST_STR_LEN + 1];
	struct archive *a = archive_write_new();
	struct err e;

	memset(layer, 0, sizeof(layer));
	assert_int_equal(sha256_digest_str(layer, sizeof(layer), dg, &e), 0);
	if (strstr(layer_name, ".gz") != NULL)
		memcpy(layer, "\x1f\x8b\x08\x00 not really deflate", 24);
	snprintf(cfg, sizeof(cfg),
	    "{\"architecture\":\"arm64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
	    "\"diff_ids\":[\"%s\"]}}",
	    dg);
	snprintf(man, sizeof(man), "[{\"Config\":\"c.json\",\"RepoTags\":[\"localhost/app:1\"],\"Layers\":[\"%s\"]}]",
	    layer_name);
	archive_write_set_format_pax_restricted(a);
	if (gz)
		archive_write_add_filter_gzip(a);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	tar_member(a, LONG_LAYER, layer, sizeof(layer), NULL);
	tar_member(a, "abc.tar", layer, sizeof(layer), NULL);
	tar_member(a, "abc.tar.gz", layer, sizeof(layer), NULL);
	tar_member(a, "c.json", cfg, strlen(cfg), NULL);
	tar_member(a, "d/layer.tar", NULL, 0, "../abc.tar");
	tar_member(a, "up/layer.tar", NULL, 0, "../../etc/passwd");
	tar_member(a, "manifest.json", man, strlen(man), NULL);
	if (duplicate)
		tar_member(a, "./c.json", cfg, strlen(cfg), NULL);
	archive_write_close(a);
	archive_write_free(a);
}

static void make_legacy(const char *path, const char *layer_name, bool duplicate)
{
	make_legacy_gz(path, layer_name, duplicate, false);
}

static void test_docker_archive_legacy(void **state)
{
	char path[256], ref[300];
	struct err e;
	size_t n;

	snprintf(path, sizeof(path), "%s/legacy.tar", tmproot);
	make_legacy(path, "d/layer.tar", false);
	snprintf(ref, sizeof(ref), "docker-archive:%s", path);
	if (load_all(ref, NULL, &n, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(n, 1);
	snprintf(ref, sizeof(ref), "docker-archive:%s:app:1", path);
	assert_int_equal(load_all(ref, "linux/arm64", &n, &e), 0);
	assert_int_equal(load_all(ref, "linux/amd64", &n, &e), ERR_NOT_FOUND);
	snprintf(ref, sizeof(ref), "docker-archive:%s:other:1", path);
	assert_int_equal(load_all(ref, NULL, &n, &e), ERR_NOT_FOUND);
	assert_non_null(strstr(e.msg, "RepoTag"));
	/* A member behind a pax header is read at the right offset; a compressed archive is read by rescanning. */
	make_legacy(path, LONG_LAYER, false);
	snprintf(ref, sizeof(ref), "docker-archive:%s", path);
	if (load_all(ref, NULL, &n, &e) != 0)
		fail_msg("%s", e.msg);
	make_legacy_gz(path, "d/layer.tar", false, true);
	if (load_all(ref, NULL, &n, &e) != 0)
		fail_msg("%s", e.msg);
	make_legacy_gz(path, LONG_LAYER, false, true);
	if (load_all(ref, NULL, &n, &e) != 0)
		fail_msg("%s", e.msg);
	/* go-containerregistry's tarball format: compressed layers, hashed when the archive is opened. */
	make_legacy(path, "abc.tar.gz", false);
	snprintf(ref, sizeof(ref), "docker-archive:%s", path);
	{
		struct oci_store *s;
		struct oci_image **imgs;

		assert_int_equal(oci_store_open(ref, &s, &e), 0);
		assert_int_equal(oci_store_images(s, NULL, &imgs, &n, &e), 0);
		assert_string_equal(imgs[0]->layers[0].media_type, DOCKER_MT_LAYER_GZIP);
		assert_string_not_equal(imgs[0]->layers[0].digest, imgs[0]->diff_ids[0]);
		oci_images_free(imgs, n);
		oci_store_free(s);
	}
	assert_int_equal(load_all(ref, NULL, &n, &e), 0);
	/* A layer behind a symlink that leaves the archive. */
	make_legacy(path, "up/layer.tar", false);
	snprintf(ref, sizeof(ref), "docker-archive:%s", path);
	assert_int_equal(load_all(ref, NULL, &n, &e), ERR_ESCAPE);
	make_legacy(path, "../x.tar", false);
	assert_int_equal(load_all(ref, NULL, &n, &e), ERR_ESCAPE);
	/* Two members with one name: ambiguous. */
	make_legacy(path, "d/layer.tar", true);
	assert_int_equal(load_all(ref, NULL, &n, &e), ERR_INVALID);
	assert_non_null(strstr(e.msg, "two members"));
}

/* Tars fixture layout dir as a Docker 25+ `docker save` (OCI layout in the tar), leaving out blob skip. */
static void tar_layout(const char *out, const char *dir, const char *skip)
{
	struct archive *a = archive_write_new();
	struct dirent **names = NULL;
	char p[1024], m[600];
	size_t len;
	char *data;
	int n, i;

	archive_write_set_format_pax_restricted(a);
	assert_int_equal(archive_write_open_filename(a, out), ARCHIVE_OK);
	snprintf(p, sizeof(p), "%s/index.json", dir);
	data = slurp(p, &len);
	tar_member(a, "index.json", data, len, NULL);
	free(data);
	tar_member(a, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30, NULL);
	snprintf(p, sizeof(p), "%s/blobs/sha256", dir);
	n = scandir(p, &names, NULL, alphasort);
	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.' && strcmp(names[i]->d_name, skip) != 0) {
			snprintf(p, sizeof(p), "%s/blobs/sha256/%s", dir, names[i]->d_name);
			snprintf(m, sizeof(m), "blobs/sha256/%s", names[i]->d_name);
			data = slurp(p, &len);
			tar_member(a, m, data, len, NULL);
			free(data);
		}
		free(names[i]);
	}
	free(names);
	archive_write_close(a);
	archive_write_free(a);
}

static void test_docker_archive_oci(void **state)
{
	/* The arm64 manifest of fixture ok-nested-index (make-fixtures.sh is deterministic). */
	static const char arm64[] = "7f364b499fd1ac69a348f36eb1800996743ddae4d2769ed04be602b297cc04f6";
	char dir[512], path[256], ref[300];
	struct err e;
	size_t n;

	snprintf(dir, sizeof(dir), "%s/ok-nested-index/layout", fixture_dir());
	snprintf(path, sizeof(path), "%s/docker25.tar", tmproot);
	tar_layout(path, dir, "");
	snprintf(ref, sizeof(ref), "docker-archive:%s", path);
	if (load_all(ref, NULL, &n, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(n, 2);
	/* Only the local platform saved (containerd image store): the others are skipped, not an error. */
	tar_layout(path, dir, arm64);
	assert_int_equal(load_all(ref, NULL, &n, &e), 0);
	assert_int_equal(n, 1);
	/* In an oci-archive the same gap is an incomplete image. */
	snprintf(ref, sizeof(ref), "oci-archive:%s", path);
	assert_int_equal(load_all(ref, NULL, &n, &e), ERR_NOT_FOUND);
	assert_non_null(strstr(e.msg, arm64));
}

/* Every jansson allocation of a read and of a write fails once in turn: each call either succeeds or returns an
 * error, never crashes, and leaks nothing (the sanitizer build checks); a failed write leaves no destination. */
static void test_alloc_failures(void **state)
{
	char ref[1200], dst[300], path[256];
	struct oci_writer *w;
	struct oci_descriptor ld, root;
	struct err e;
	json_t *cfg;
	size_t n;
	long k;
	int r, done = 0;

	snprintf(ref, sizeof(ref), "oci:%s/ok-nested-index/layout", fixture_dir());
	for (k = 0; k < 5000 && !done; k++) {
		failalloc_arm_latched(k);
		r = load_all(ref, NULL, &n, &e);
		failalloc_disarm();
		if (r == 0) {
			assert_int_equal(n, 2);
			done = failalloc_untouched(); /* succeeded without an injected failure */
		}
	}
	assert_true(done);
	cfg = json_pack("{s:s, s:s, s:{s:s, s:[]}}", "architecture", "amd64", "os", "linux", "rootfs", "type", "layers",
	    "diff_ids");
	assert_non_null(cfg);
	snprintf(path, sizeof(path), "%s/out", tmproot);
	snprintf(dst, sizeof(dst), "oci:%s:v1", path);
	for (done = 0, k = 0; k < 5000 && !done; k++) {
		failalloc_arm_latched(k);
		r = oci_writer_new(dst, &w, &e);
		if (r == 0) {
			memset(&ld, 0, sizeof(ld));
			if ((r = oci_writer_add_image(w, cfg, NULL, 0, NULL, NULL, NULL, &e)) == 0)
				r = oci_writer_finish(w, &root, &e);
			if (r == 0)
				oci_descriptor_cleanup(&root);
			oci_writer_free(w);
		}
		failalloc_disarm();
		if (r == 0) {
			done = failalloc_untouched();
			nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		} else {
			assert_int_equal(access(path, F_OK), -1);
		}
		assert_int_equal(count_entries(tmproot), 0);
	}
	assert_true(done);
	json_decref(cfg);
}

int main(void)
{
	const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_transport_parse),
		cmocka_unit_test(test_platform_match),
		cmocka_unit_test(test_media_types),
		cmocka_unit_test(test_caps),
		cmocka_unit_test_setup_teardown(test_writer_layout, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_writer_abandoned, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_fifo_blob, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_writer_extra_entry, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_index_fanout, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_writer_archive, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_docker_archive_legacy, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_docker_archive_oci, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_alloc_failures, setup_tmp, teardown_tmp),
	};

	return casedirs_run("oci", fixture_dir(), run_case, fixed, sizeof(fixed) / sizeof(fixed[0]));
}
