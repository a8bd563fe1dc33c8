/* Tests of lib/tarlayer: hostile layer streams built in memory with libarchive (escapes, bare whiteouts, huge pax
 * headers, truncated gzip, decompression bombs) and the reproducible writer (round trip, digests, gzip header). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>

#include "lib/tarlayer.h"

struct mem {
	unsigned char *p;
	size_t len, pos, alloc;
};

static ssize_t mem_src(void *arg, void *buf, size_t n, struct err *e)
{
	struct mem *m = arg;
	size_t k = m->len - m->pos < n ? m->len - m->pos : n;

	if (k > 7)
		k = 7 + (k - 7) / 2; /* short reads on purpose */
	memcpy(buf, m->p + m->pos, k);
	m->pos += k;
	return (ssize_t)k;
}

static int mem_sink(void *arg, const void *buf, size_t n, struct err *e)
{
	struct mem *m = arg;

	if (m->len + n > m->alloc) {
		m->alloc = (m->len + n) * 2;
		m->p = realloc(m->p, m->alloc);
		assert_non_null(m->p);
	}
	memcpy(m->p + m->len, buf, n);
	m->len += n;
	return 0;
}

/* One entry of a test tar: type 'f' file, 'd' dir, 'l' symlink, 'h' hardlink. */
struct tent {
	const char *name;
	char type;
	const char *data_or_link;
	size_t zeros; /* for 'f': this many zero bytes instead of data */
	size_t xattr; /* bytes of an xattr value (a big pax record) */
};

/* Builds a tar of ents into m (gzip when gz). */
static void build(struct mem *m, const struct tent *ents, size_t n, bool gz)
{
	struct archive *a = archive_write_new();
	struct archive_entry *ae = archive_entry_new();
	size_t cap = 8u << 20, used = 0, i;
	static char zeros[65536];

	memset(m, 0, sizeof(*m));
	m->p = malloc(cap);
	assert_non_null(m->p);
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	if (gz)
		assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, m->p, cap, &used), ARCHIVE_OK);
	for (i = 0; i < n; i++) {
		const struct tent *t = &ents[i];

		archive_entry_clear(ae);
		archive_entry_set_pathname(ae, t->name);
		archive_entry_set_perm(ae, 0755);
		if (t->xattr > 0) {
			char *v = malloc(t->xattr);

			memset(v, 'x', t->xattr);
			archive_entry_xattr_add_entry(ae, "user.big", v, t->xattr);
			free(v);
		}
		switch (t->type) {
		case 'd':
			archive_entry_set_filetype(ae, AE_IFDIR);
			break;
		case 'l':
			archive_entry_set_filetype(ae, AE_IFLNK);
			archive_entry_set_symlink(ae, t->data_or_link);
			break;
		case 'h':
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_hardlink(ae, t->data_or_link);
			break;
		default:
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_size(ae,
			    t->zeros ? (la_int64_t)t->zeros
				     : (la_int64_t)(t->data_or_link ? strlen(t->data_or_link) : 0));
		}
		assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
		if (t->type == 'f' && t->zeros) {
			size_t left = t->zeros;

			while (left > 0) {
				size_t k = left < sizeof(zeros) ? left : sizeof(zeros);

				assert_int_equal(archive_write_data(a, zeros, k), (la_ssize_t)k);
				left -= k;
			}
		} else if (t->type == 'f' && t->data_or_link) {
			archive_write_data(a, t->data_or_link, strlen(t->data_or_link));
		}
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	archive_entry_free(ae);
	m->len = used;
}

/* Reads every entry of m; returns the first error (0 when all were read). */
static int read_all(struct mem *m, const struct tarlayer_limits *lim, struct err *e, size_t *count)
{
	struct tarlayer_limits def;
	struct tarlayer_reader *r = NULL;
	const struct tarlayer_entry *ent;
	char buf[4096];
	int rc;

	tarlayer_limits_default(&def);
	m->pos = 0;
	*count = 0;
	if ((rc = tarlayer_reader_open("layer sha256:test", mem_src, m, lim ? lim : &def, &r, e)) != 0)
		return rc;
	while ((rc = tarlayer_next(r, &ent, e)) == 1) {
		ssize_t k;

		(*count)++;
		while ((k = tarlayer_read_data(r, buf, sizeof(buf), e)) > 0)
			;
		if (k < 0) {
			rc = (int)k;
			break;
		}
	}
	tarlayer_reader_free(r);
	return rc;
}

static void expect_error(const struct tent *ents, size_t n, bool gz, const struct tarlayer_limits *lim, int code,
    const char *needle)
{
	struct mem m;
	struct err e;
	size_t count;
	int rc;

	build(&m, ents, n, gz);
	err_clear(&e);
	rc = read_all(&m, lim, &e, &count);
	if (rc != code || strstr(e.msg, needle) == NULL || strstr(e.msg, "layer sha256:test") == NULL)
		fail_msg("want %d with \"%s\", got %d: %s", code, needle, rc, e.msg);
	free(m.p);
}

static void test_normalize(void **state)
{
	char out[32];
	struct err e;

	assert_int_equal(tarlayer_path_normalize("./usr//bin/./ls", out, sizeof(out), &e), 0);
	assert_string_equal(out, "/usr/bin/ls");
	assert_int_equal(tarlayer_path_normalize("etc/", out, sizeof(out), &e), 0);
	assert_string_equal(out, "/etc");
	assert_int_equal(tarlayer_path_normalize("./", out, sizeof(out), &e), 0);
	assert_string_equal(out, "/");
	assert_int_equal(tarlayer_path_normalize("a/../b", out, sizeof(out), &e), ERR_ESCAPE);
	assert_int_equal(tarlayer_path_normalize("/etc/x", out, sizeof(out), &e), ERR_ESCAPE);
	assert_int_equal(tarlayer_path_normalize("", out, sizeof(out), &e), ERR_INVALID);
	assert_int_equal(tarlayer_path_normalize("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", out, sizeof(out), &e),
	    ERR_TOO_LARGE);
}

static void test_hostile(void **state)
{
	struct tarlayer_limits lim;
	const struct tent dotdot[] = { { "ok", 'f', "x", 0, 0 }, { "../x", 'f', "x", 0, 0 } };
	const struct tent abs[] = { { "/etc/x", 'f', "x", 0, 0 } };
	const struct tent bare[] = { { "etc/.wh.", 'f', NULL, 0, 0 } };
	const struct tent hlesc[] = { { "a", 'h', "../../etc/shadow", 0, 0 } };
	const struct tent bigpax[] = { { "big", 'f', "x", 0, 300u << 10 } };
	const struct tent bomb[] = { { "bomb", 'f', NULL, 4u << 20, 0 } };
	const struct tent many[] = { { "a", 'f', NULL, 0, 0 }, { "b", 'f', NULL, 0, 0 }, { "c", 'f', NULL, 0, 0 } };
	const struct tent longp[] = {
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
		  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
		    'f', NULL, 0, 0 }
	};

	expect_error(dotdot, 2, true, NULL, ERR_ESCAPE, "\"../x\"");
	expect_error(abs, 1, false, NULL, ERR_ESCAPE, "/etc/x");
	expect_error(bare, 1, true, NULL, ERR_INVALID, "whiteout without a name");
	expect_error(hlesc, 1, false, NULL, ERR_ESCAPE, "hard link target");
	expect_error(bigpax, 1, true, NULL, ERR_TOO_LARGE, "pax records");
	tarlayer_limits_default(&lim);
	lim.max_expanded = 1u << 20;
	expect_error(bomb, 1, true, &lim, ERR_TOO_LARGE, "decompression bomb");
	tarlayer_limits_default(&lim);
	lim.max_entries = 2;
	expect_error(many, 3, false, &lim, ERR_TOO_LARGE, "more than 2 entries");
	tarlayer_limits_default(&lim);
	lim.max_path = 64;
	expect_error(longp, 1, false, &lim, ERR_TOO_LARGE, "longer than 64");
}

static void test_truncated_gzip(void **state)
{
	const struct tent ents[] = { { "a", 'f', NULL, 200000, 0 }, { "b", 'f', "hello", 0, 0 } };
	struct mem m;
	struct err e;
	size_t count;
	int rc;

	build(&m, ents, 2, true);
	m.len /= 2;
	rc = read_all(&m, NULL, &e, &count);
	assert_int_equal(rc, ERR_PARSE);
	assert_non_null(strstr(e.msg, "layer sha256:test"));
	assert_non_null(strstr(e.msg, "truncated"));
	m.len = 5; /* not even a gzip header */
	rc = read_all(&m, NULL, &e, &count);
	assert_true(rc < 0);
	free(m.p);
}

/* Reads all of m through a reader checking diff_id; returns the first error. */
static int read_checked(struct mem *m, const char *diff_id, struct err *e)
{
	struct tarlayer_limits lim;
	struct tarlayer_reader *r = NULL;
	const struct tarlayer_entry *ent;
	int rc;

	tarlayer_limits_default(&lim);
	m->pos = 0;
	err_clear(e);
	if ((rc = tarlayer_reader_open_checked("layer sha256:test", diff_id, "the config's rootfs.diff_ids[3]", mem_src,
		 m, &lim, &r, e)) != 0)
		return rc;
	while ((rc = tarlayer_next(r, &ent, e)) == 1)
		;
	tarlayer_reader_free(r);
	return rc;
}

/* The diff_id is the sha256 of the whole uncompressed stream, for gzip and plain layers alike. */
static void test_diff_id(void **state)
{
	const struct tent ents[] = { { "a", 'f', NULL, 100000, 0 }, { "b", 'f', "hello", 0, 0 } };
	const char *wrong = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
	char plain_id[DIGEST_STR_LEN + 1], longer_id[DIGEST_STR_LEN + 1];
	struct mem plain, gz;
	struct err e;

	build(&plain, ents, 2, false);
	build(&gz, ents, 2, true);
	assert_int_equal(sha256_digest_str(plain.p, plain.len, plain_id, &e), 0);
	assert_int_equal(read_checked(&plain, plain_id, &e), 0);
	assert_int_equal(read_checked(&gz, plain_id, &e), 0);
	assert_int_equal(read_checked(&gz, wrong, &e), ERR_VERIFY);
	assert_non_null(strstr(e.msg, "layer sha256:test: uncompressed content is "));
	assert_non_null(strstr(e.msg, plain_id));
	assert_non_null(strstr(e.msg, "but the config's rootfs.diff_ids[3] says sha256:0000"));
	assert_non_null(strstr(e.msg, "the image is corrupt"));
	assert_int_equal(read_checked(&plain, wrong, &e), ERR_VERIFY);
	/* bytes after the end-of-archive blocks are part of the stream the diff_id covers */
	plain.p = realloc(plain.p, plain.len + 1024);
	assert_non_null(plain.p);
	memset(plain.p + plain.len, 0, 1024);
	plain.len += 1024;
	assert_int_equal(sha256_digest_str(plain.p, plain.len, longer_id, &e), 0);
	assert_int_equal(read_checked(&plain, plain_id, &e), ERR_VERIFY);
	assert_int_equal(read_checked(&plain, longer_id, &e), 0);
	free(plain.p);
	free(gz.p);
}

static void test_whiteouts(void **state)
{
	const struct tent ents[] = { { "etc/.wh..wh..opq", 'f', NULL, 0, 0 }, { "etc/.wh.passwd", 'f', NULL, 0, 0 },
		{ ".wh.bin", 'f', NULL, 0, 0 }, { "etc/x", 'h', "./bin/y", 0, 0 }, { "l", 'l', "/etc/../x", 0, 0 } };
	struct tarlayer_limits lim;
	struct tarlayer_reader *r;
	const struct tarlayer_entry *ent;
	struct mem m;
	struct err e;

	tarlayer_limits_default(&lim);
	build(&m, ents, 5, false);
	assert_int_equal(tarlayer_reader_open("layer x", mem_src, &m, &lim, &r, &e), 0);
	assert_int_equal(tarlayer_next(r, &ent, &e), 1);
	assert_int_equal(ent->whiteout, TL_WH_OPAQUE);
	assert_string_equal(ent->path, "/etc");
	assert_int_equal(tarlayer_next(r, &ent, &e), 1);
	assert_int_equal(ent->whiteout, TL_WH_FILE);
	assert_string_equal(ent->path, "/etc/passwd");
	assert_int_equal(tarlayer_next(r, &ent, &e), 1);
	assert_int_equal(ent->whiteout, TL_WH_FILE);
	assert_string_equal(ent->path, "/bin");
	assert_int_equal(tarlayer_next(r, &ent, &e), 1);
	assert_int_equal(ent->type, TL_HARDLINK);
	assert_string_equal(ent->link, "/bin/y");
	assert_int_equal(tarlayer_next(r, &ent, &e), 1);
	assert_int_equal(ent->type, TL_SYMLINK);
	assert_string_equal(ent->link, "/etc/../x");
	assert_int_equal(tarlayer_next(r, &ent, &e), 0);
	assert_int_equal(m.pos, m.len); /* the whole source was consumed */
	tarlayer_reader_free(r);
	free(m.p);
}

/* Writes a small layer with compression c into m; returns diff_id and digest. */
static void write_layer(enum tarlayer_compression c, struct mem *m, char *diff, char *dig)
{
	struct tarlayer_writer *w;
	struct tarlayer_entry ent;
	struct err e;
	uint64_t size;

	memset(m, 0, sizeof(*m));
	assert_int_equal(tarlayer_writer_new(c, 1000, mem_sink, m, &w, &e), 0);
	memset(&ent, 0, sizeof(ent));
	ent.path = "/etc";
	ent.type = TL_DIR;
	ent.mode = 0755;
	ent.mtime = 5000; /* clamped to 1000 */
	assert_int_equal(tarlayer_write_entry(w, &ent, &e), 0);
	assert_int_equal(tarlayer_write_whiteout(w, "/etc/shadow", &e), 0);
	ent.path = "/etc/passwd";
	ent.type = TL_REG;
	ent.mode = 0644;
	ent.uid = 1000;
	ent.size = 5;
	ent.mtime = 10;
	assert_int_equal(tarlayer_write_entry(w, &ent, &e), 0);
	assert_int_equal(tarlayer_write_data(w, "root\n", 5, &e), 0);
	ent.path = "/sh";
	ent.type = TL_SYMLINK;
	ent.link = "/bin/busybox";
	ent.size = 0;
	assert_int_equal(tarlayer_write_entry(w, &ent, &e), 0);
	assert_int_equal(tarlayer_writer_finish(w, diff, dig, &size, &e), 0);
	assert_int_equal(size, m->len);
	tarlayer_writer_free(w);
}

static void test_writer_roundtrip(void **state)
{
	enum tarlayer_compression cs[] = { TL_GZIP, TL_ZSTD, TL_NONE };
	size_t i;

	for (i = 0; i < 3; i++) {
		struct mem a, b;
		char d1[DIGEST_STR_LEN + 1], g1[DIGEST_STR_LEN + 1], d2[DIGEST_STR_LEN + 1], g2[DIGEST_STR_LEN + 1];
		char check[DIGEST_STR_LEN + 1];
		struct tarlayer_limits lim;
		struct tarlayer_reader *r;
		const struct tarlayer_entry *ent;
		struct err e;
		char buf[16];

		write_layer(cs[i], &a, d1, g1);
		write_layer(cs[i], &b, d2, g2);
		assert_int_equal(a.len, b.len);
		assert_memory_equal(a.p, b.p, a.len); /* reproducible */
		assert_string_equal(d1, d2);
		assert_int_equal(sha256_digest_str(a.p, a.len, check, &e), 0);
		assert_string_equal(check, g1);
		if (cs[i] == TL_NONE)
			assert_string_equal(d1, g1);
		if (cs[i] == TL_GZIP) {
			assert_int_equal(a.p[0], 0x1f);
			assert_int_equal(a.p[4] | a.p[5] | a.p[6] | a.p[7], 0); /* no gzip mtime */
		}
		tarlayer_limits_default(&lim);
		assert_int_equal(tarlayer_reader_open("layer out", mem_src, &a, &lim, &r, &e), 0);
		assert_int_equal(tarlayer_next(r, &ent, &e), 1);
		assert_string_equal(ent->path, "/etc");
		assert_int_equal(ent->mtime, 1000);
		assert_int_equal(tarlayer_next(r, &ent, &e), 1);
		assert_int_equal(ent->whiteout, TL_WH_FILE);
		assert_string_equal(ent->path, "/etc/shadow");
		assert_int_equal(tarlayer_next(r, &ent, &e), 1);
		assert_string_equal(ent->path, "/etc/passwd");
		assert_int_equal(ent->uid, 1000);
		assert_int_equal(ent->mtime, 10);
		assert_int_equal(tarlayer_read_data(r, buf, sizeof(buf), &e), 5);
		assert_memory_equal(buf, "root\n", 5);
		assert_int_equal(tarlayer_next(r, &ent, &e), 1);
		assert_string_equal(ent->link, "/bin/busybox");
		assert_int_equal(tarlayer_next(r, &ent, &e), 0);
		tarlayer_reader_free(r);
		free(a.p);
		free(b.p);
	}
}

static void test_compression_parse(void **state)
{
	enum tarlayer_compression c;
	struct err e;

	assert_int_equal(tarlayer_compression_parse("zstd", &c, &e), 0);
	assert_int_equal(c, TL_ZSTD);
	assert_int_equal(tarlayer_compression_parse("xz", &c, &e), ERR_USAGE);
	assert_string_equal(tarlayer_media_type(TL_GZIP), "application/vnd.oci.image.layer.v1.tar+gzip");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_truncated_gzip),
		cmocka_unit_test(test_diff_id),
		cmocka_unit_test(test_whiteouts),
		cmocka_unit_test(test_writer_roundtrip),
		cmocka_unit_test(test_compression_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
