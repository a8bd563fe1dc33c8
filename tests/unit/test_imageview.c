/* Tests of hardener/imageview: OCI layouts built in the test from layer fixtures (opaque directory, file deleted then
 * re-added, hard link to a lower-layer file whose target goes away, symlink chains and usrmerge links across layers,
 * gzip/zstd/uncompressed/empty layers, history with empty_layer), the merged view, and both commit modes read back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hardener/imageview.h"
#include "lib/oci.h"
#include "lib/tarlayer.h"

/* One fixture entry: type 'f' file (data), 'd' dir, 'l' symlink (link), 'h' hardlink (link), 'w' whiteout. */
struct fx {
	const char *path;
	char type;
	const char *data;
	uint32_t mode;
};

struct layer_fx {
	enum tarlayer_compression comp;
	const struct fx *ents;
	size_t n;
};

static char tmpdir[64];

static int mem_sink(void *arg, const void *buf, size_t n, struct err *e)
{
	return sb_append(arg, buf, n) == 0 ? 0 : err_set(e, ERR_NOMEM, "sink full");
}

/* Writes one fixture layer; returns its blob bytes in sb and the diff_id. */
static void make_layer(const struct layer_fx *l, struct strbuf *sb, char diff[DIGEST_STR_LEN + 1])
{
	struct tarlayer_writer *w;
	char dig[DIGEST_STR_LEN + 1];
	uint64_t size;
	struct err e;
	size_t i;

	sb_init(sb, 16u << 20);
	assert_int_equal(tarlayer_writer_new(l->comp, 1000, mem_sink, sb, &w, &e), 0);
	for (i = 0; i < l->n; i++) {
		const struct fx *f = &l->ents[i];
		struct tarlayer_entry ent;

		if (f->type == 'w') {
			assert_int_equal(tarlayer_write_whiteout(w, f->path, &e), 0);
			continue;
		}
		memset(&ent, 0, sizeof(ent));
		ent.path = f->path;
		ent.mode = f->mode ? f->mode : (f->type == 'd' ? 0755 : 0644);
		ent.mtime = 500;
		switch (f->type) {
		case 'd':
			ent.type = TL_DIR;
			break;
		case 'l':
			ent.type = TL_SYMLINK;
			ent.link = f->data;
			break;
		case 'h':
			ent.type = TL_HARDLINK;
			ent.link = f->data;
			break;
		default:
			ent.type = TL_REG;
			ent.size = f->data ? strlen(f->data) : 0;
			break;
		}
		assert_int_equal(tarlayer_write_entry(w, &ent, &e), 0);
		if (ent.type == TL_REG && ent.size > 0)
			assert_int_equal(tarlayer_write_data(w, f->data, ent.size, &e), 0);
	}
	assert_int_equal(tarlayer_writer_finish(w, diff, dig, &size, &e), 0);
	tarlayer_writer_free(w);
}

/* Builds an OCI layout DIR (tag "t") from layers; history gets an empty_layer entry after the first layer. */
static void make_image(const char *dir, const struct layer_fx *layers, size_t n)
{
	struct oci_writer *w;
	struct oci_descriptor *descs = calloc(n, sizeof(*descs));
	json_t *cfg, *diffs = json_array(), *hist = json_array();
	char ref[128];
	struct err e;
	size_t i;

	snprintf(ref, sizeof(ref), "oci:%s:t", dir);
	if (oci_writer_new(ref, &w, &e) != 0)
		fail_msg("%s", e.msg);
	for (i = 0; i < n; i++) {
		struct strbuf sb;
		char diff[DIGEST_STR_LEN + 1];

		make_layer(&layers[i], &sb, diff);
		assert_int_equal(oci_writer_add_blob_bytes(w, sb.data, sb.len, tarlayer_media_type(layers[i].comp),
				     &descs[i], &e),
		    0);
		sb_cleanup(&sb);
		json_array_append_new(diffs, json_string(diff));
		json_array_append_new(hist,
		    json_pack("{s:s, s:s}", "created", "2024-01-01T00:00:00Z", "created_by", "layer"));
		if (i == 0)
			json_array_append_new(hist, json_pack("{s:s, s:b}", "created_by", "ENV x=y", "empty_layer", 1));
	}
	cfg = json_pack("{s:s, s:s, s:s, s:{s:s}, s:{s:s, s:o}, s:o}", "created", "2024-01-01T00:00:00Z",
	    "architecture", "amd64", "os", "linux", "config", "User", "root", "rootfs", "type", "layers", "diff_ids",
	    diffs, "history", hist);
	assert_non_null(cfg);
	if (oci_writer_add_image(w, cfg, descs, n, NULL, NULL, NULL, &e) != 0 || oci_writer_finish(w, NULL, &e) != 0)
		fail_msg("%s", e.msg);
	oci_writer_free(w);
	json_decref(cfg);
	for (i = 0; i < n; i++)
		oci_descriptor_cleanup(&descs[i]);
	free(descs);
}

struct opened {
	struct oci_store *store;
	struct oci_image **imgs;
	size_t nimg;
	struct fs_backend *b;
	struct fstree *t;
};

static int open_image(const char *dir, struct opened *o, struct err *e)
{
	struct imageview_opts vo;
	char ref[128];
	int rc;

	memset(o, 0, sizeof(*o));
	tarlayer_limits_default(&vo.limits);
	vo.progress = false;
	snprintf(ref, sizeof(ref), "oci:%s:t", dir);
	if ((rc = oci_store_open(ref, &o->store, e)) != 0 ||
	    (rc = oci_store_images(o->store, NULL, &o->imgs, &o->nimg, e)) != 0)
		return rc;
	assert_int_equal(o->nimg, 1);
	return imageview_open(o->store, o->imgs[0], &vo, &o->b, &o->t, e);
}

static void close_image(struct opened *o)
{
	if (o->b != NULL)
		o->b->ops->free(o->b);
	fstree_free(o->t);
	oci_images_free(o->imgs, o->nimg);
	oci_store_free(o->store);
}

static const char *read_str(struct opened *o, const char *path, struct strbuf *sb)
{
	struct fs_node *n = fstree_get(o->t, path);
	struct err e;

	assert_non_null(n);
	sb_cleanup(sb);
	sb_init(sb, 1u << 20);
	if (fs_backend_read(o->b, o->t, n, 1u << 20, sb, &e) != 0)
		fail_msg("read %s: %s", path, e.msg);
	return sb->len ? sb->data : "";
}

static const struct fx l0[] = {
	{ "/bin", 'd', NULL, 0 },
	{ "/bin/busybox", 'f', "\177ELF busybox", 04755 },
	{ "/bin/sh", 'l', "busybox", 0 },
	{ "/etc", 'd', NULL, 0 },
	{ "/etc/old", 'd', NULL, 0 },
	{ "/etc/old/a", 'f', "a", 0 },
	{ "/etc/old/sub", 'd', NULL, 0 },
	{ "/etc/old/sub/b", 'f', "b", 0 },
	{ "/etc/passwd", 'f', "root:x:0:0::/:/bin/sh\n", 0 },
	{ "/lib", 'l', "usr/lib", 0 },
	{ "/data", 'd', NULL, 0 },
	{ "/data/file1", 'f', "old", 0 },
	{ "/usr", 'd', NULL, 0 },
	{ "/usr/lib", 'd', NULL, 0 },
	{ "/usr/lib/libc.so", 'f', "libc", 0 },
	{ "/x", 'd', NULL, 0 },
	{ "/x/target", 'f', "shared bytes", 0 },
	{ "/z", 'd', NULL, 0 },
	{ "/z/target", 'f', "group bytes", 0 },
	{ "/a", 'd', NULL, 0 },
	{ "/a/link", 'h', "/z/target", 0 },
	{ "/m", 'd', NULL, 0 },
	{ "/m/target", 'f', "kept bytes", 0 },
	{ "/b", 'd', NULL, 0 },
	{ "/b/link", 'h', "/m/target", 0 },
};
static const struct fx l1[] = {
	{ "/bin/ash", 'l', "sh", 0 },
	{ "/etc/old", 'd', NULL, 0 },
	{ "/etc/old/.wh..wh..opq", 'f', NULL, 0 },
	{ "/etc/old/c", 'f', "c", 0 },
	{ "/data/file1", 'w', NULL, 0 },
	{ "/y", 'd', NULL, 0 },
	{ "/y/link", 'h', "/x/target", 0 },
};
static const struct fx l2[] = {
	{ "/data/file1", 'f', "new", 0 },
	{ "/x/target", 'w', NULL, 0 },
};

static const struct layer_fx layers[] = {
	{ TL_GZIP, l0, sizeof(l0) / sizeof(l0[0]) }, { TL_ZSTD, l1, sizeof(l1) / sizeof(l1[0]) },
	{ TL_NONE, l2, sizeof(l2) / sizeof(l2[0]) }, { TL_GZIP, NULL, 0 }, /* an empty layer */
};

static void check_merged(struct opened *o, bool squashed)
{
	struct strbuf sb;
	char out[256];
	struct err e;
	struct fs_node *n;

	sb_init(&sb, 1u << 20);
	assert_null(fstree_get(o->t, "/etc/old/a")); /* hidden by the opaque marker */
	assert_null(fstree_get(o->t, "/etc/old/sub"));
	assert_non_null(fstree_get(o->t, "/etc/old/c"));
	assert_string_equal(read_str(o, "/data/file1", &sb), "new"); /* deleted, then re-added */
	assert_null(fstree_get(o->t, "/x/target"));
	n = fstree_get(o->t, "/y/link"); /* its target went away: now a file */
	assert_int_equal(n->type, FS_REG);
	assert_string_equal(read_str(o, "/y/link", &sb), "shared bytes");
	assert_string_equal(read_str(o, "/a/link", &sb), "group bytes");
	assert_string_equal(read_str(o, "/z/target", &sb), "group bytes");
	assert_int_equal(fstree_resolve(o->t, "/bin/ash", true, out, sizeof(out), &e), 0);
	assert_string_equal(out, "/bin/busybox");
	assert_int_equal(fstree_resolve(o->t, "/lib/libc.so", true, out, sizeof(out), &e), 0);
	assert_string_equal(out, "/usr/lib/libc.so");
	n = fstree_get(o->t, "/bin/busybox");
	assert_int_equal(n->head_len, 12);
	assert_memory_equal(n->head, "\177ELF", 4);
	if (!squashed)
		assert_int_equal(n->mode, 04755);
	sb_cleanup(&sb);
}

static void test_merged_view(void **state)
{
	char dir[128];
	struct opened o;
	struct err e;

	snprintf(dir, sizeof(dir), "%s/merged", tmpdir);
	make_image(dir, layers, 4);
	if (open_image(dir, &o, &e) != 0)
		fail_msg("%s", e.msg);
	check_merged(&o, false);
	close_image(&o);
}

/* Applies a few marks and commits into out (squash or not); returns the entries written. */
static uint64_t harden_into(const char *in, const char *out, bool squash)
{
	struct imageview_output io;
	struct oci_writer *w;
	struct opened o;
	struct err e;
	char ref[160];
	uint64_t n;

	if (open_image(in, &o, &e) != 0)
		fail_msg("%s", e.msg);
	fstree_mark_delete(o.t, fstree_get(o.t, "/bin/sh"));
	fstree_mark_delete(o.t, fstree_get(o.t, "/etc/old"));
	fstree_mark_mode(fstree_get(o.t, "/bin/busybox"), 0755);
	fstree_mark_delete(o.t, fstree_get(o.t, "/z/target")); /* a hard link target goes, its link stays */
	fstree_mark_mode(fstree_get(o.t, "/m/target"), 0600);  /* a target changes: its link follows */
	assert_int_equal(fstree_mark_content(fstree_get(o.t, "/etc/passwd"), "root:x:0:0::/:/sbin/nologin\n", 28, &e),
	    0);
	snprintf(ref, sizeof(ref), "oci:%s:t", out);
	assert_int_equal(oci_writer_new(ref, &w, &e), 0);
	memset(&io, 0, sizeof(io));
	io.writer = w;
	io.compression = TL_GZIP;
	io.squash = squash;
	io.max_mtime = 100;
	io.created = "2024-02-02T00:00:00Z";
	io.user = "1000:1000";
	io.version = "test";
	io.policy_digest = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
	imageview_set_output(o.b, &io);
	if (o.b->ops->commit(o.b, o.t, &e) != 0 || oci_writer_finish(w, NULL, &e) != 0)
		fail_msg("%s", e.msg);
	n = imageview_layer_entries(o.b);
	oci_writer_free(w);
	close_image(&o);
	return n;
}

static void check_hardened(const char *dir, bool squash)
{
	struct opened o;
	struct strbuf sb;
	struct err e;
	json_t *cfg, *h;
	size_t i, nonempty = 0;

	if (open_image(dir, &o, &e) != 0)
		fail_msg("%s", e.msg);
	sb_init(&sb, 1u << 20);
	assert_null(fstree_get(o.t, "/bin/sh"));
	assert_null(fstree_get(o.t, "/etc/old"));
	assert_null(fstree_get(o.t, "/etc/old/c"));
	assert_int_equal(fstree_get(o.t, "/bin/busybox")->mode, 0755);
	assert_string_equal(read_str(&o, "/etc/passwd", &sb), "root:x:0:0::/:/sbin/nologin\n");
	assert_string_equal(read_str(&o, "/y/link", &sb), "shared bytes");
	assert_string_equal(read_str(&o, "/a/link", &sb), "group bytes");
	assert_null(fstree_get(o.t, "/z/target"));
	assert_int_equal(fstree_get(o.t, "/a/link")->type, FS_REG);
	assert_string_equal(read_str(&o, "/m/target", &sb), "kept bytes");
	assert_string_equal(read_str(&o, "/b/link", &sb), "kept bytes");
	assert_int_equal(fstree_get(o.t, "/m/target")->mode, 0600);
	if (squash) { /* the link sorts first, so it holds the bytes and the old target links to it */
		assert_int_equal(fstree_get(o.t, "/b/link")->type, FS_REG);
		assert_int_equal(fstree_get(o.t, "/m/target")->type, FS_HARDLINK);
		assert_string_equal(fstree_get(o.t, "/m/target")->link, "/b/link");
	}
	assert_string_equal(read_str(&o, "/data/file1", &sb), "new");
	assert_int_equal(o.imgs[0]->n_layers, squash ? 1 : 5);
	cfg = o.imgs[0]->config;
	assert_string_equal(json_string_value(json_object_get(json_object_get(cfg, "config"), "User")), "1000:1000");
	assert_string_equal(json_string_value(json_object_get(cfg, "created")), "2024-02-02T00:00:00Z");
	json_array_foreach(json_object_get(cfg, "history"), i, h)
	{
		if (!json_is_true(json_object_get(h, "empty_layer")))
			nonempty++;
	}
	assert_int_equal(nonempty, o.imgs[0]->n_layers);
	sb_cleanup(&sb);
	close_image(&o);
}

static ssize_t blob_src(void *arg, void *buf, size_t n, struct err *e)
{
	return oci_reader_read(arg, buf, n, e);
}

/* The whiteouts in the last layer of dir. */
static size_t count_whiteouts(const char *dir, const char *want)
{
	struct opened o;
	struct oci_reader *r;
	struct tarlayer_reader *tr;
	struct tarlayer_limits lim;
	const struct tarlayer_entry *ent;
	struct err e;
	size_t n = 0;
	bool seen = false;
	char ref[128];

	snprintf(ref, sizeof(ref), "oci:%s:t", dir);
	memset(&o, 0, sizeof(o));
	assert_int_equal(oci_store_open(ref, &o.store, &e), 0);
	assert_int_equal(oci_store_images(o.store, NULL, &o.imgs, &o.nimg, &e), 0);
	tarlayer_limits_default(&lim);
	assert_int_equal(oci_blob_open(o.store, &o.imgs[0]->layers[o.imgs[0]->n_layers - 1], &r, &e), 0);
	assert_int_equal(tarlayer_reader_open("last", blob_src, r, &lim, &tr, &e), 0);
	while (tarlayer_next(tr, &ent, &e) == 1)
		if (ent->whiteout == TL_WH_FILE) {
			n++;
			seen = seen || strcmp(ent->path, want) == 0;
		}
	assert_true(n == 0 || seen);
	tarlayer_reader_free(tr);
	oci_reader_free(r);
	close_image(&o);
	return n;
}

static void test_commit_top_layer(void **state)
{
	char in[128], out[128], out2[128];

	snprintf(in, sizeof(in), "%s/in1", tmpdir);
	snprintf(out, sizeof(out), "%s/out1", tmpdir);
	snprintf(out2, sizeof(out2), "%s/out1b", tmpdir);
	make_image(in, layers, 4);
	assert_true(harden_into(in, out, false) > 0);
	check_hardened(out, false);
	/* /bin/sh, /etc/old and /z/target: one whiteout each, none for what was under /etc/old */
	assert_int_equal(count_whiteouts(out, "/etc/old"), 3);
	/* reproducible */
	harden_into(in, out2, false);
	{
		char cmd[400];

		snprintf(cmd, sizeof(cmd), "diff -r %s/blobs %s/blobs >/dev/null", out, out2);
		assert_int_equal(system(cmd), 0);
	}
}

static void test_commit_squash(void **state)
{
	char in[128], out[128];

	snprintf(in, sizeof(in), "%s/in2", tmpdir);
	snprintf(out, sizeof(out), "%s/out2", tmpdir);
	make_image(in, layers, 4);
	harden_into(in, out, true);
	check_hardened(out, true);
	assert_int_equal(count_whiteouts(out, ""), 0);
}

static void test_unchanged_adds_no_layer(void **state)
{
	struct imageview_output io;
	struct oci_writer *w;
	struct opened o;
	struct err e;
	char in[128], out[128], ref[160];
	json_t *hist;

	snprintf(in, sizeof(in), "%s/in3", tmpdir);
	snprintf(out, sizeof(out), "%s/out3", tmpdir);
	make_image(in, layers, 2);
	assert_int_equal(open_image(in, &o, &e), 0);
	snprintf(ref, sizeof(ref), "oci:%s:t", out);
	assert_int_equal(oci_writer_new(ref, &w, &e), 0);
	memset(&io, 0, sizeof(io));
	io.writer = w;
	io.max_mtime = INT64_MAX;
	imageview_set_output(o.b, &io);
	assert_int_equal(o.b->ops->commit(o.b, o.t, &e), 0);
	assert_int_equal(oci_writer_finish(w, NULL, &e), 0);
	assert_int_equal(imageview_layer_entries(o.b), 0);
	oci_writer_free(w);
	close_image(&o);
	assert_int_equal(open_image(out, &o, &e), 0);
	assert_int_equal(o.imgs[0]->n_layers, 2);
	hist = json_object_get(o.imgs[0]->config, "history");
	assert_true(json_is_true(json_object_get(json_array_get(hist, json_array_size(hist) - 1), "empty_layer")));
	close_image(&o);
}

static void test_hostile(void **state)
{
	static const struct fx h0[] = { { "/etc", 'l', "/../../../tmp", 0 } };
	static const struct fx h1[] = { { "/etc/passwd", 'f', "x", 0 } };
	static const struct fx h2[] = { { "/a", 'h', "/nonexistent", 0 } };
	const struct layer_fx esc[] = { { TL_GZIP, h0, 1 }, { TL_GZIP, h1, 1 } };
	const struct layer_fx dangling[] = { { TL_NONE, h2, 1 } };
	char dir[128];
	struct opened o;
	struct err e;

	snprintf(dir, sizeof(dir), "%s/esc", tmpdir);
	make_image(dir, esc, 2);
	assert_int_equal(open_image(dir, &o, &e), ERR_ESCAPE);
	assert_non_null(strstr(e.msg, "layer sha256:"));
	assert_non_null(strstr(e.msg, "/etc/passwd"));
	close_image(&o);
	snprintf(dir, sizeof(dir), "%s/dangling", tmpdir);
	make_image(dir, dangling, 1);
	assert_int_equal(open_image(dir, &o, &e), ERR_INVALID);
	assert_non_null(strstr(e.msg, "hard link"));
	close_image(&o);
}

static void test_time(void **state)
{
	int64_t t;
	char buf[32];
	struct err e;

	assert_int_equal(imageview_parse_time("2023-11-14T22:13:20Z", &t, &e), 0);
	assert_int_equal(t, 1700000000);
	assert_int_equal(imageview_parse_time("2023-11-14T23:13:20.123456+01:00", &t, &e), 0);
	assert_int_equal(t, 1700000000);
	assert_int_equal(imageview_parse_time("yesterday", &t, &e), ERR_PARSE);
	imageview_fmt_time(1700000000, buf);
	assert_string_equal(buf, "2023-11-14T22:13:20Z");
}

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/hl-imageview.XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_merged_view),
		cmocka_unit_test(test_commit_top_layer),
		cmocka_unit_test(test_commit_squash),
		cmocka_unit_test(test_unchanged_adds_no_layer),
		cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
