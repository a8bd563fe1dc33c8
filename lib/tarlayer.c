/* tarlayer — layer tar streams in and out through libarchive (it handles gzip/zstd and the tar dialects far better
 * than a hand-written parser would). Reading validates every entry under the caps of struct tarlayer_limits;
 * writing chains a plain tar writer (whose bytes give the diff_id) into a "raw" compressing writer (whose bytes
 * give the blob digest), so both digests come out of one pass. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "lib/tarlayer.h"

#define TL_READ_BUF (64u << 10)
#define TL_GZIP_LEVEL "6"
#define TL_ZSTD_LEVEL "3"

struct tarlayer_reader {
	struct archive *raw; /* decompresses the source (format "raw": one entry, the whole tar stream) */
	struct archive *a;   /* reads the tar from raw's output (filter "none") */
	char *label;
	tarlayer_src_fn src;
	void *arg;
	struct tarlayer_limits lim;
	unsigned char *buf;
	struct err src_err;
	bool src_failed, src_eof, raw_eof, done;
	uint64_t expanded; /* uncompressed bytes taken from raw */
	bool check;	   /* hash the uncompressed stream and compare it with want at the end */
	struct sha256 diff;
	char want[DIGEST_STR_LEN + 1];
	char *want_what;
	char *path, *link, *prev; /* each lim.max_path + 2 bytes */
	struct tarlayer_entry ent;
	uint64_t nentries;
	uint64_t next_header_at; /* expected expanded offset of the next header */
};

void tarlayer_limits_default(struct tarlayer_limits *l)
{
	l->max_expanded = TARLAYER_DEFAULT_MAX_EXPANDED;
	l->max_entries = TARLAYER_DEFAULT_MAX_ENTRIES;
	l->max_path = TARLAYER_DEFAULT_MAX_PATH;
	l->max_header = TARLAYER_DEFAULT_MAX_HEADER;
}

/* An escaped copy of an untrusted name for a message. */
static const char *esc(char *buf, size_t size, const char *s)
{
	return str_escape(buf, size, s, strlen(s), 200);
}

int tarlayer_path_normalize(const char *name, char *out, size_t size, struct err *e)
{
	const char *p = name, *seg;
	size_t o = 0, len;
	char eb[256];

	if (size < 2)
		return err_set(e, ERR_TOO_LARGE, "path buffer too small");
	if (name[0] == '/')
		return err_set(e, ERR_ESCAPE, "entry \"%s\" is an absolute path", esc(eb, sizeof(eb), name));
	out[o++] = '/';
	while (*p != '\0') {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		seg = p;
		while (*p != '\0' && *p != '/')
			p++;
		len = (size_t)(p - seg);
		if (len == 1 && seg[0] == '.')
			continue;
		if (len == 2 && seg[0] == '.' && seg[1] == '.')
			return err_set(e, ERR_ESCAPE, "entry \"%s\" has a \"..\" component", esc(eb, sizeof(eb), name));
		if (o > 1) {
			if (o + 1 >= size)
				goto toolong;
			out[o++] = '/';
		}
		if (len >= size - o)
			goto toolong;
		memcpy(out + o, seg, len);
		o += len;
	}
	out[o] = '\0';
	if (o == 1 && strcmp(name, ".") != 0 && strcmp(name, "./") != 0)
		return err_set(e, ERR_INVALID, "entry \"%s\" has an empty name", esc(eb, sizeof(eb), name));
	return 0;
toolong:
	return err_set(e, ERR_TOO_LARGE, "entry \"%s\" has a path longer than %zu bytes", esc(eb, sizeof(eb), name),
	    size - 2);
}

/* Feeds raw (the decompressor) with the compressed bytes of the source. */
static la_ssize_t reader_cb(struct archive *a, void *cd, const void **buf)
{
	struct tarlayer_reader *r = cd;
	ssize_t n;

	*buf = r->buf;
	if (r->src_eof)
		return 0;
	n = r->src(r->arg, r->buf, TL_READ_BUF, &r->src_err);
	if (n < 0) {
		r->src_failed = true;
		archive_set_error(a, EIO, "%s", r->src_err.msg);
		return -1;
	}
	if (n == 0)
		r->src_eof = true;
	return n;
}

/* The next block of the uncompressed stream from raw into *buf (borrowed until the next call): its size, 0 at the
 * end, or -1 with the error set on a (the tar reader; its message carries raw's or the source's). Every block is
 * hashed when checking and counted against max_expanded, so that trailing bytes after the tar's end count too. */
static la_ssize_t tar_cb(struct archive *a, void *cd, const void **buf)
{
	struct tarlayer_reader *r = cd;
	size_t n = 0;
	la_int64_t off;
	int rc;

	*buf = NULL;
	if (r->raw_eof)
		return 0;
	do
		rc = archive_read_data_block(r->raw, buf, &n, &off);
	while (rc == ARCHIVE_OK && n == 0);
	if (rc == ARCHIVE_EOF) {
		r->raw_eof = true;
		return 0;
	}
	if (rc < ARCHIVE_WARN) {
		archive_set_error(a, EIO, "%s",
		    archive_error_string(r->raw) ? archive_error_string(r->raw) : "decompression failed");
		return -1;
	}
	if (n > r->lim.max_expanded - r->expanded) {
		r->src_failed = true;
		err_set(&r->src_err, ERR_TOO_LARGE,
		    "the layer expands past the cap of %llu bytes (--max-expanded); "
		    "refusing a possible decompression bomb",
		    (unsigned long long)r->lim.max_expanded);
		archive_set_error(a, EFBIG, "%s", r->src_err.msg);
		return -1;
	}
	r->expanded += n;
	if (r->check)
		sha256_update(&r->diff, *buf, n);
	return (la_ssize_t)n;
}

int tarlayer_reader_open(const char *label, tarlayer_src_fn src, void *arg, const struct tarlayer_limits *lim,
    struct tarlayer_reader **out, struct err *e)
{
	return tarlayer_reader_open_checked(label, NULL, NULL, src, arg, lim, out, e);
}

int tarlayer_reader_open_checked(const char *label, const char *diff_id, const char *what, tarlayer_src_fn src,
    void *arg, const struct tarlayer_limits *lim, struct tarlayer_reader **out, struct err *e)
{
	struct archive_entry *ae;
	struct tarlayer_reader *r;
	int rc = ERR_NOMEM;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory opening %s", label);
	r->src = src;
	r->arg = arg;
	r->lim = *lim;
	if ((r->label = strdup(label)) == NULL || (r->buf = malloc(TL_READ_BUF)) == NULL ||
	    (r->path = malloc(lim->max_path + 2)) == NULL || (r->link = malloc(lim->max_path + 2)) == NULL ||
	    (r->prev = calloc(1, lim->max_path + 2)) == NULL || (r->a = archive_read_new()) == NULL ||
	    (r->raw = archive_read_new()) == NULL || (what != NULL && (r->want_what = strdup(what)) == NULL)) {
		err_set(e, ERR_NOMEM, "out of memory opening %s", label);
		goto out;
	}
	if (diff_id != NULL) {
		if ((rc = sha256_init(&r->diff, e)) != 0)
			goto out;
		r->check = true;
		(void)str_copy(r->want, sizeof(r->want), diff_id);
	}
	if (archive_read_support_filter_gzip(r->raw) != ARCHIVE_OK ||
	    archive_read_support_filter_zstd(r->raw) != ARCHIVE_OK ||
	    archive_read_support_filter_none(r->raw) != ARCHIVE_OK ||
	    archive_read_support_format_raw(r->raw) != ARCHIVE_OK ||
	    archive_read_support_filter_none(r->a) != ARCHIVE_OK ||
	    archive_read_support_format_tar(r->a) != ARCHIVE_OK ||
	    archive_read_support_format_gnutar(r->a) != ARCHIVE_OK) {
		err_set(e, ERR_INTERNAL, "%s: libarchive lacks gzip/zstd/tar support: %s", label,
		    archive_error_string(r->raw));
		rc = ERR_INTERNAL;
		goto out;
	}
	if (archive_read_open(r->raw, r, NULL, reader_cb, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(r->raw, &ae) < ARCHIVE_WARN ||
	    archive_read_open(r->a, r, NULL, tar_cb, NULL) != ARCHIVE_OK) {
		if (r->src_failed) {
			rc = r->src_err.code;
			err_set(e, rc, "%s: %s", label, r->src_err.msg);
		} else {
			rc = ERR_PARSE;
			const char *why =
			    archive_error_string(r->a) ? archive_error_string(r->a) : archive_error_string(r->raw);

			err_set(e, rc, "%s: not a tar layer (gzip, zstd or uncompressed): %s", label,
			    why ? why : "unrecognized data");
		}
		goto out;
	}
	*out = r;
	r = NULL; /* transferred */
	rc = 0;
out:
	tarlayer_reader_free(r);
	return rc;
}

/* The error for a failed libarchive call: the source's own error when it failed, a parse error otherwise. */
static int reader_fail(struct tarlayer_reader *r, const char *what, struct err *e)
{
	char eb[256];

	if (r->src_failed)
		return err_set(e, r->src_err.code, "%s: %s", r->label, r->src_err.msg);
	return err_set(e, ERR_PARSE, "%s: %s \"%s\": %s; the layer is corrupt or truncated", r->label, what,
	    esc(eb, sizeof(eb), r->prev), archive_error_string(r->a) ? archive_error_string(r->a) : "read error");
}

/* Reads what is left of the uncompressed stream after the end of the archive (it counts in the diff_id), then of
 * the source so that a verifying source checks its digest, then compares the diff_id when checking. */
static int reader_drain(struct tarlayer_reader *r, struct err *e)
{
	const void *p;
	char got[DIGEST_STR_LEN + 1];
	ssize_t n;

	while (!r->raw_eof)
		if (tar_cb(r->a, r, &p) < 0)
			return reader_fail(r, "data after the end of the archive, after entry", e);
	while (!r->src_eof) {
		n = r->src(r->arg, r->buf, TL_READ_BUF, &r->src_err);
		if (n < 0)
			return err_set(e, r->src_err.code, "%s: %s", r->label, r->src_err.msg);
		if (n == 0)
			r->src_eof = true;
	}
	if (!r->check)
		return 0;
	r->check = false;
	sha256_final(&r->diff, NULL, got);
	if (strcmp(got, r->want) != 0)
		return err_set(e, ERR_VERIFY, "%s: uncompressed content is %s but %s says %s; the image is corrupt",
		    r->label, got, r->want_what ? r->want_what : "the expected diff_id", r->want);
	return 0;
}

/* Classifies the whiteout forms of r->path (already normalized) and rewrites r->path to the path it names. */
static int reader_whiteout(struct tarlayer_reader *r, struct err *e)
{
	char *base = strrchr(r->path, '/') + 1, eb[256];

	r->ent.whiteout = TL_WH_NONE;
	if (strncmp(base, ".wh.", 4) != 0)
		return 0;
	if (strcmp(base, ".wh..wh..opq") == 0) {
		r->ent.whiteout = TL_WH_OPAQUE;
		if (base - 1 == r->path)
			base[0] = '\0'; /* "/" */
		else
			base[-1] = '\0';
		return 0;
	}
	if (strncmp(base, ".wh..wh.", 8) == 0)
		return err_set(e, ERR_INVALID,
		    "%s: entry \"%s\": unsupported AUFS metadata; rebuild the image with a "
		    "current builder",
		    r->label, esc(eb, sizeof(eb), r->path));
	if (base[4] == '\0' || strcmp(base + 4, ".") == 0 || strcmp(base + 4, "..") == 0)
		return err_set(e, ERR_INVALID,
		    "%s: entry \"%s\": whiteout without a name; the image is malformed, "
		    "rebuild it",
		    r->label, esc(eb, sizeof(eb), r->path));
	memmove(base, base + 4, strlen(base + 4) + 1);
	r->ent.whiteout = TL_WH_FILE;
	return 0;
}

static int reader_entry(struct tarlayer_reader *r, struct archive_entry *ae, struct err *e)
{
	const char *name = archive_entry_pathname(ae), *hl, *sl;
	char eb[256];
	int64_t id;
	int rc;

	memset(&r->ent, 0, sizeof(r->ent));
	if (name == NULL)
		return err_set(e, ERR_INVALID,
		    "%s: after entry \"%s\": an entry name is not valid in the current "
		    "locale",
		    r->label, esc(eb, sizeof(eb), r->prev));
	if ((rc = tarlayer_path_normalize(name, r->path, r->lim.max_path + 2, e)) != 0)
		return err_prefix(e, "%s", r->label);
	str_copy(r->prev, r->lim.max_path + 2, r->path);
	r->ent.path = r->path;
	if ((rc = reader_whiteout(r, e)) != 0)
		return rc;
	hl = archive_entry_hardlink(ae);
	sl = archive_entry_symlink(ae);
	if (hl != NULL) {
		if ((rc = tarlayer_path_normalize(hl, r->link, r->lim.max_path + 2, e)) != 0)
			return err_prefix(e, "%s: entry \"%s\": hard link target", r->label,
			    esc(eb, sizeof(eb), r->path));
		if (strcmp(r->link, "/") == 0)
			return err_set(e, ERR_INVALID, "%s: entry \"%s\": hard link to the root directory", r->label,
			    esc(eb, sizeof(eb), r->path));
		r->ent.type = TL_HARDLINK;
		r->ent.link = r->link;
	} else {
		switch (archive_entry_filetype(ae)) {
		case AE_IFREG:
			r->ent.type = TL_REG;
			break;
		case AE_IFDIR:
			r->ent.type = TL_DIR;
			break;
		case AE_IFCHR:
			r->ent.type = TL_CHR;
			break;
		case AE_IFBLK:
			r->ent.type = TL_BLK;
			break;
		case AE_IFIFO:
			r->ent.type = TL_FIFO;
			break;
		case AE_IFLNK:
			if (sl == NULL)
				return err_set(e, ERR_INVALID, "%s: entry \"%s\": symlink without a target", r->label,
				    esc(eb, sizeof(eb), r->path));
			if (strlen(sl) > r->lim.max_path)
				return err_set(e, ERR_TOO_LARGE,
				    "%s: entry \"%s\": symlink target longer than %zu bytes", r->label,
				    esc(eb, sizeof(eb), r->path), r->lim.max_path);
			str_copy(r->link, r->lim.max_path + 2, sl);
			r->ent.type = TL_SYMLINK;
			r->ent.link = r->link;
			break;
		default:
			return err_set(e, ERR_INVALID, "%s: entry \"%s\": unsupported entry type 0%o", r->label,
			    esc(eb, sizeof(eb), r->path), (unsigned)archive_entry_filetype(ae));
		}
	}
	if (r->ent.whiteout == TL_WH_NONE && r->ent.type != TL_DIR && strcmp(r->path, "/") == 0)
		return err_set(e, ERR_INVALID, "%s: entry \"%s\": the root must be a directory", r->label,
		    esc(eb, sizeof(eb), name));
	r->ent.mode = (uint32_t)archive_entry_perm(ae) & 07777;
	id = archive_entry_uid(ae);
	if (id < 0 || id > UINT32_MAX)
		return err_set(e, ERR_INVALID, "%s: entry \"%s\": uid %lld out of range", r->label,
		    esc(eb, sizeof(eb), r->path), (long long)id);
	r->ent.uid = (uint32_t)id;
	id = archive_entry_gid(ae);
	if (id < 0 || id > UINT32_MAX)
		return err_set(e, ERR_INVALID, "%s: entry \"%s\": gid %lld out of range", r->label,
		    esc(eb, sizeof(eb), r->path), (long long)id);
	r->ent.gid = (uint32_t)id;
	r->ent.size = r->ent.type == TL_REG && archive_entry_size(ae) > 0 ? (uint64_t)archive_entry_size(ae) : 0;
	r->ent.mtime = archive_entry_mtime(ae);
	r->ent.dev_major = (uint32_t)archive_entry_rdevmajor(ae);
	r->ent.dev_minor = (uint32_t)archive_entry_rdevminor(ae);
	return 0;
}

int tarlayer_next(struct tarlayer_reader *r, const struct tarlayer_entry **ent, struct err *e)
{
	struct archive_entry *ae;
	uint64_t pos, hdr;
	int64_t sz;
	const char *name;
	char eb[256];
	int rc;

	*ent = NULL;
	if (r->done)
		return 0;
	rc = archive_read_next_header(r->a, &ae);
	if (rc == ARCHIVE_EOF) {
		if ((rc = reader_drain(r, e)) != 0)
			return rc;
		r->done = true;
		return 0;
	}
	if (rc < ARCHIVE_WARN)
		return reader_fail(r, "entry after", e);
	name = archive_entry_pathname(ae) ? archive_entry_pathname(ae) : "?";
	if (++r->nentries > r->lim.max_entries)
		return err_set(e, ERR_TOO_LARGE,
		    "%s: more than %llu entries (at \"%s\"); the image is hostile or "
		    "needs a higher cap",
		    r->label, (unsigned long long)r->lim.max_entries, esc(eb, sizeof(eb), name));
	if (strlen(name) > r->lim.max_path)
		return err_set(e, ERR_TOO_LARGE, "%s: entry \"%s\": path longer than %zu bytes", r->label,
		    esc(eb, sizeof(eb), name), r->lim.max_path);
	pos = (uint64_t)archive_filter_bytes(r->a, 0);
	hdr = pos > r->next_header_at ? pos - r->next_header_at : 0;
	if (hdr > r->lim.max_header)
		return err_set(e, ERR_TOO_LARGE,
		    "%s: entry \"%s\": headers of %llu bytes (pax records or long "
		    "names) exceed the cap of %zu bytes",
		    r->label, esc(eb, sizeof(eb), name), (unsigned long long)hdr, r->lim.max_header);
	sz = archive_entry_size_is_set(ae) && archive_entry_size(ae) > 0 ? archive_entry_size(ae) : 0;
	if (pos > r->lim.max_expanded || (uint64_t)sz > r->lim.max_expanded - pos)
		return err_set(e, ERR_TOO_LARGE,
		    "%s: entry \"%s\": the layer expands past the cap of %llu bytes "
		    "(--max-expanded); refusing a possible decompression bomb",
		    r->label, esc(eb, sizeof(eb), name), (unsigned long long)r->lim.max_expanded);
	r->next_header_at = pos + (((uint64_t)sz + 511) & ~(uint64_t)511);
	if ((rc = reader_entry(r, ae, e)) != 0)
		return rc;
	*ent = &r->ent;
	return 1;
}

ssize_t tarlayer_read_data(struct tarlayer_reader *r, void *buf, size_t n, struct err *e)
{
	la_ssize_t got = archive_read_data(r->a, buf, n);

	if (got < 0)
		return reader_fail(r, "data of entry", e);
	return got;
}

uint64_t tarlayer_reader_expanded(const struct tarlayer_reader *r)
{
	return r->expanded;
}

void tarlayer_reader_free(struct tarlayer_reader *r)
{
	if (r == NULL)
		return;
	if (r->a != NULL)
		archive_read_free(r->a);
	if (r->raw != NULL)
		archive_read_free(r->raw);
	sha256_cleanup(&r->diff);
	free(r->want_what);
	free(r->label);
	free(r->buf);
	free(r->path);
	free(r->link);
	free(r->prev);
	free(r);
}

int tarlayer_compression_parse(const char *s, enum tarlayer_compression *out, struct err *e)
{
	if (strcmp(s, "gzip") == 0)
		*out = TL_GZIP;
	else if (strcmp(s, "zstd") == 0)
		*out = TL_ZSTD;
	else if (strcmp(s, "none") == 0)
		*out = TL_NONE;
	else
		return err_set(e, ERR_USAGE, "unknown compression \"%.40s\"; use gzip, zstd or none", s);
	return 0;
}

const char *tarlayer_media_type(enum tarlayer_compression c)
{
	switch (c) {
	case TL_GZIP:
		return "application/vnd.oci.image.layer.v1.tar+gzip";
	case TL_ZSTD:
		return "application/vnd.oci.image.layer.v1.tar+zstd";
	case TL_NONE:
		break;
	}
	return "application/vnd.oci.image.layer.v1.tar";
}

struct tarlayer_writer {
	struct archive *tar;
	struct archive *raw; /* NULL for TL_NONE */
	struct archive_entry *ae;
	struct sha256 diff, blob;
	uint64_t size;
	tarlayer_sink_fn sink;
	void *arg;
	struct err err;
	bool failed;
	int64_t max_mtime;
	struct strbuf name;
};

static la_ssize_t writer_out_cb(struct archive *a, void *cd, const void *buf, size_t n)
{
	struct tarlayer_writer *w = cd;

	if (w->failed)
		return -1;
	sha256_update(&w->blob, buf, n);
	w->size += n;
	if (w->sink(w->arg, buf, n, &w->err) != 0) {
		w->failed = true;
		return -1;
	}
	return (la_ssize_t)n;
}

static la_ssize_t writer_tar_cb(struct archive *a, void *cd, const void *buf, size_t n)
{
	struct tarlayer_writer *w = cd;

	if (w->failed)
		return -1;
	sha256_update(&w->diff, buf, n);
	if (w->raw == NULL)
		return writer_out_cb(a, cd, buf, n);
	if (archive_write_data(w->raw, buf, n) != (la_ssize_t)n) {
		if (!w->failed) {
			err_set(&w->err, ERR_INTERNAL, "compressing the layer: %s", archive_error_string(w->raw));
			w->failed = true;
		}
		return -1;
	}
	return (la_ssize_t)n;
}

/* The error of a failed archive_write call on w. */
static int writer_fail(struct tarlayer_writer *w, struct archive *a, struct err *e)
{
	if (w->failed)
		return err_set(e, w->err.code ? w->err.code : ERR_IO, "writing the layer: %s", w->err.msg);
	w->failed = true;
	return err_set(e, ERR_INTERNAL, "writing the layer: %s", archive_error_string(a));
}

int tarlayer_writer_new(enum tarlayer_compression c, int64_t max_mtime, tarlayer_sink_fn sink, void *arg,
    struct tarlayer_writer **out, struct err *e)
{
	struct tarlayer_writer *w;
	struct archive_entry *re = NULL;
	int rc = ERR_NOMEM, ok;

	*out = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory creating a layer writer");
	w->sink = sink;
	w->arg = arg;
	w->max_mtime = max_mtime;
	sb_init(&w->name, 1u << 16);
	if ((rc = sha256_init(&w->diff, e)) != 0 || (rc = sha256_init(&w->blob, e)) != 0)
		goto out;
	rc = ERR_NOMEM;
	if ((w->tar = archive_write_new()) == NULL || (w->ae = archive_entry_new()) == NULL) {
		err_set(e, rc, "out of memory creating a layer writer");
		goto out;
	}
	rc = ERR_INTERNAL;
	if (c != TL_NONE) {
		if ((w->raw = archive_write_new()) == NULL || (re = archive_entry_new()) == NULL) {
			err_set(e, ERR_NOMEM, "out of memory creating a layer writer");
			rc = ERR_NOMEM;
			goto out;
		}
		ok = archive_write_set_format_raw(w->raw) == ARCHIVE_OK;
		if (c == TL_GZIP)
			ok = ok && archive_write_add_filter_gzip(w->raw) == ARCHIVE_OK &&
			    archive_write_set_filter_option(w->raw, "gzip", "compression-level", TL_GZIP_LEVEL) ==
				ARCHIVE_OK &&
			    archive_write_set_filter_option(w->raw, "gzip", "timestamp", NULL) == ARCHIVE_OK;
		else
			ok = ok && archive_write_add_filter_zstd(w->raw) == ARCHIVE_OK &&
			    archive_write_set_filter_option(w->raw, "zstd", "compression-level", TL_ZSTD_LEVEL) ==
				ARCHIVE_OK;
		ok = ok && archive_write_set_bytes_per_block(w->raw, 0) == ARCHIVE_OK &&
		    archive_write_open(w->raw, w, NULL, writer_out_cb, NULL) == ARCHIVE_OK;
		if (ok) {
			archive_entry_set_pathname(re, "layer.tar");
			archive_entry_set_filetype(re, AE_IFREG);
			archive_entry_set_perm(re, 0644);
			ok = archive_write_header(w->raw, re) == ARCHIVE_OK;
		}
		if (!ok) {
			err_set(e, rc, "setting up %s compression: %s", c == TL_GZIP ? "gzip" : "zstd",
			    archive_error_string(w->raw));
			goto out;
		}
	}
	if (archive_write_set_format_pax_restricted(w->tar) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(w->tar, 10240) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(w->tar, 1) != ARCHIVE_OK ||
	    archive_write_open(w->tar, w, NULL, writer_tar_cb, NULL) != ARCHIVE_OK) {
		err_set(e, rc, "setting up the tar writer: %s", archive_error_string(w->tar));
		goto out;
	}
	*out = w;
	w = NULL; /* transferred */
	rc = 0;
out:
	if (re != NULL)
		archive_entry_free(re);
	tarlayer_writer_free(w);
	return rc;
}

/* Sets w->name to the archive name of an absolute path ("/etc/x" -> "etc/x"). */
static int writer_name(struct tarlayer_writer *w, const char *path, const char *prefix, struct err *e)
{
	const char *slash = strrchr(path, '/');

	w->name.len = 0;
	if (slash == NULL || path[0] != '/' || path[1] == '\0')
		return err_set(e, ERR_INVALID, "cannot write entry \"%.200s\": not an absolute path", path);
	if (sb_append(&w->name, path + 1, (size_t)(slash - path)) != 0 || sb_puts(&w->name, prefix) != 0 ||
	    sb_puts(&w->name, slash + 1) != 0)
		return err_set(e, ERR_TOO_LARGE, "entry \"%.200s\": path too long", path);
	return 0;
}

int tarlayer_write_entry(struct tarlayer_writer *w, const struct tarlayer_entry *ent, struct err *e)
{
	struct archive_entry *ae = w->ae;
	unsigned ft = AE_IFREG;
	int rc;

	if (w->failed)
		return err_set(e, ERR_INTERNAL, "layer writer already failed");
	if ((rc = writer_name(w, ent->path, "", e)) != 0)
		return rc;
	archive_entry_clear(ae);
	archive_entry_set_pathname(ae, w->name.data);
	switch (ent->type) {
	case TL_REG:
	case TL_HARDLINK:
		ft = AE_IFREG;
		break;
	case TL_DIR:
		ft = AE_IFDIR;
		break;
	case TL_SYMLINK:
		ft = AE_IFLNK;
		break;
	case TL_CHR:
		ft = AE_IFCHR;
		break;
	case TL_BLK:
		ft = AE_IFBLK;
		break;
	case TL_FIFO:
		ft = AE_IFIFO;
		break;
	}
	archive_entry_set_filetype(ae, ft);
	archive_entry_set_perm(ae, ent->mode & 07777);
	archive_entry_set_uid(ae, ent->uid);
	archive_entry_set_gid(ae, ent->gid);
	archive_entry_set_mtime(ae, ent->mtime < w->max_mtime ? ent->mtime : w->max_mtime, 0);
	archive_entry_set_size(ae, ent->type == TL_REG ? (la_int64_t)ent->size : 0);
	if (ent->type == TL_SYMLINK)
		archive_entry_set_symlink(ae, ent->link);
	if (ent->type == TL_HARDLINK) {
		if (ent->link == NULL || ent->link[0] != '/' || ent->link[1] == '\0')
			return err_set(e, ERR_INVALID, "entry \"%.200s\": bad hard link target", ent->path);
		archive_entry_set_hardlink(ae, ent->link + 1);
	}
	if (ent->type == TL_CHR || ent->type == TL_BLK) {
		archive_entry_set_rdevmajor(ae, ent->dev_major);
		archive_entry_set_rdevminor(ae, ent->dev_minor);
	}
	if (archive_write_header(w->tar, ae) != ARCHIVE_OK)
		return writer_fail(w, w->tar, e);
	return 0;
}

int tarlayer_write_data(struct tarlayer_writer *w, const void *buf, size_t n, struct err *e)
{
	if (n > 0 && archive_write_data(w->tar, buf, n) != (la_ssize_t)n)
		return writer_fail(w, w->tar, e);
	return 0;
}

int tarlayer_write_whiteout(struct tarlayer_writer *w, const char *path, struct err *e)
{
	struct archive_entry *ae = w->ae;
	int rc;

	if ((rc = writer_name(w, path, ".wh.", e)) != 0)
		return rc;
	archive_entry_clear(ae);
	archive_entry_set_pathname(ae, w->name.data);
	archive_entry_set_filetype(ae, AE_IFREG);
	archive_entry_set_perm(ae, 0);
	archive_entry_set_size(ae, 0);
	/* the clamp time when there is one (INT64_MAX means none): fixed either way */
	archive_entry_set_mtime(ae, w->max_mtime > 0 && w->max_mtime < ((int64_t)1 << 40) ? w->max_mtime : 0, 0);
	if (archive_write_header(w->tar, ae) != ARCHIVE_OK)
		return writer_fail(w, w->tar, e);
	return 0;
}

int tarlayer_writer_finish(struct tarlayer_writer *w, char diff_id[DIGEST_STR_LEN + 1], char digest[DIGEST_STR_LEN + 1],
    uint64_t *size, struct err *e)
{
	if (archive_write_close(w->tar) != ARCHIVE_OK)
		return writer_fail(w, w->tar, e);
	if (w->raw != NULL && archive_write_close(w->raw) != ARCHIVE_OK)
		return writer_fail(w, w->raw, e);
	if (w->failed)
		return writer_fail(w, w->tar, e);
	sha256_final(&w->diff, NULL, diff_id);
	sha256_final(&w->blob, NULL, digest);
	*size = w->size;
	return 0;
}

void tarlayer_writer_free(struct tarlayer_writer *w)
{
	if (w == NULL)
		return;
	if (w->tar != NULL)
		archive_write_free(w->tar);
	if (w->raw != NULL)
		archive_write_free(w->raw);
	if (w->ae != NULL)
		archive_entry_free(w->ae);
	sha256_cleanup(&w->diff);
	sha256_cleanup(&w->blob);
	sb_cleanup(&w->name);
	free(w);
}
