/* tarlayer — reading and writing the tar streams of image layers (libarchive underneath).
 * The reader decompresses gzip, zstd or plain tar as a stream fed by the caller (a verified blob reader), validates
 * and normalizes every entry (paths, links, whiteouts) under hard caps; the writer emits a reproducible tar layer
 * and computes, in the same pass, the diff_id (sha256 of the tar) and the blob digest (sha256 of the compressed). */
#ifndef HARDLINE_TARLAYER_H
#define HARDLINE_TARLAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/digest.h"
#include "lib/err.h"

/* Caps on untrusted layer streams. */
struct tarlayer_limits {
	uint64_t max_expanded; /* uncompressed tar bytes of one layer (decompression bombs) */
	uint64_t max_entries;  /* entries in one layer */
	size_t max_path;       /* bytes of an entry path or link target */
	size_t max_header;     /* bytes of one entry's headers with their extensions (pax records, GNU long names) */
};

#define TARLAYER_DEFAULT_MAX_EXPANDED (8ull << 30)
#define TARLAYER_DEFAULT_MAX_ENTRIES 1000000ull
#define TARLAYER_DEFAULT_MAX_PATH 4096
#define TARLAYER_DEFAULT_MAX_HEADER (256u << 10)

/* Fills l with the defaults above. */
void tarlayer_limits_default(struct tarlayer_limits *l);

enum tarlayer_type { TL_REG, TL_DIR, TL_SYMLINK, TL_HARDLINK, TL_CHR, TL_BLK, TL_FIFO };
enum tarlayer_wh {
	TL_WH_NONE = 0,
	TL_WH_FILE,   /* ".wh.NAME": path is the deleted path (the whiteout name resolved) */
	TL_WH_OPAQUE, /* ".wh..wh..opq": path is the directory whose lower contents are hidden */
};

/* One validated entry. path is absolute and normalized ("/etc/passwd"); link is the hardlink target (normalized
 * the same way) or the symlink target as stored; NULL otherwise. Strings are owned by the reader and valid until
 * the next tarlayer_next. */
struct tarlayer_entry {
	const char *path;
	const char *link;
	enum tarlayer_type type;
	enum tarlayer_wh whiteout;
	uint32_t mode; /* permission bits including 07000 */
	uint32_t uid, gid;
	uint64_t size; /* bytes of data (regular files) */
	int64_t mtime;
	uint32_t dev_major, dev_minor;
};

/* The compressed bytes of a layer: returns bytes read into buf[n] (0 at the end) or a negative ERR_* with e
 * filled (e.g. a digest mismatch found at the end of the blob). */
typedef ssize_t (*tarlayer_src_fn)(void *arg, void *buf, size_t n, struct err *e);

struct tarlayer_reader;

/* Opens a reader on src. label names the layer in every message ("layer sha256:1f2e..."; copied). Compression is
 * detected (gzip, zstd or none); formats are tar/pax/GNU tar only. *out is freed with tarlayer_reader_free.
 * Errors: ERR_NOMEM, ERR_PARSE. */
int tarlayer_reader_open(const char *label, tarlayer_src_fn src, void *arg, const struct tarlayer_limits *lim,
    struct tarlayer_reader **out, struct err *e);

/* tarlayer_reader_open that also checks the layer's diff_id: the sha256 of the whole uncompressed stream (trailing
 * bytes after the tar's end included) must equal diff_id, else the end of the layer (tarlayer_next returning 0) is
 * ERR_VERIFY "<label>: uncompressed content is <got> but <what> says <diff_id>; the image is corrupt". what names
 * where diff_id comes from ("the config's rootfs.diff_ids[0]"); both are copied. A reader not read to its end
 * checks nothing. Costs one SHA-256 over the uncompressed bytes. */
int tarlayer_reader_open_checked(const char *label, const char *diff_id, const char *what, tarlayer_src_fn src,
    void *arg, const struct tarlayer_limits *lim, struct tarlayer_reader **out, struct err *e);

/* Reads the next entry header. Returns 1 with *ent set (borrowed, valid until the next call), 0 at the end of the
 * layer (after the whole source was read, so that a verifying source has checked its digest), or a negative code:
 * ERR_ESCAPE (absolute path, ".." component, hard link leaving the root), ERR_INVALID (NUL, bare ".wh.", unknown
 * entry type), ERR_TOO_LARGE (a cap), ERR_PARSE (corrupt or truncated stream), or the source's error. Every message
 * names the layer and the entry. The data of the previous entry, if not read, is skipped. */
int tarlayer_next(struct tarlayer_reader *r, const struct tarlayer_entry **ent, struct err *e);

/* Reads the current entry's data: bytes read (0 at its end) or a negative code. */
ssize_t tarlayer_read_data(struct tarlayer_reader *r, void *buf, size_t n, struct err *e);

/* Uncompressed bytes consumed so far (for progress). */
uint64_t tarlayer_reader_expanded(const struct tarlayer_reader *r);

void tarlayer_reader_free(struct tarlayer_reader *r);

/* Normalizes a tar entry name into out[size] as "/a/b": strips "./" and trailing '/', refuses an absolute name, a
 * ".." component, an empty name (other than "." and "./", which give "/") and names over size.
 * Returns 0, ERR_ESCAPE, ERR_INVALID or ERR_TOO_LARGE (e names the entry, not the layer). */
int tarlayer_path_normalize(const char *name, char *out, size_t size, struct err *e);

/* Output compression. */
enum tarlayer_compression { TL_GZIP, TL_ZSTD, TL_NONE };

/* "gzip", "zstd" or "none". ERR_USAGE otherwise. */
int tarlayer_compression_parse(const char *s, enum tarlayer_compression *out, struct err *e);
/* The OCI layer media type for c. */
const char *tarlayer_media_type(enum tarlayer_compression c);

/* Where the written (compressed) bytes go: 0 or a negative code. */
typedef int (*tarlayer_sink_fn)(void *arg, const void *buf, size_t n, struct err *e);

struct tarlayer_writer;

/* A reproducible layer writer: pax (restricted) tar, numeric owners with empty user and group names, no atime or
 * ctime, mtimes clamped to at most max_mtime, gzip level 6 without header timestamp or name, zstd level 3.
 * The caller writes entries in tree order (sorted). Errors: ERR_NOMEM, ERR_INTERNAL. */
int tarlayer_writer_new(enum tarlayer_compression c, int64_t max_mtime, tarlayer_sink_fn sink, void *arg,
    struct tarlayer_writer **out, struct err *e);

/* Writes one entry header (path absolute as in struct tarlayer_entry; whiteout is ignored, see below); regular
 * files are then followed by exactly size bytes through tarlayer_write_data. */
int tarlayer_write_entry(struct tarlayer_writer *w, const struct tarlayer_entry *ent, struct err *e);
int tarlayer_write_data(struct tarlayer_writer *w, const void *buf, size_t n, struct err *e);
/* Writes the whiteout ".wh.NAME" that deletes path in lower layers. */
int tarlayer_write_whiteout(struct tarlayer_writer *w, const char *path, struct err *e);

/* Ends the archive and flushes the compressor; fills diff_id (sha256 of the tar), digest (sha256 of the bytes
 * given to the sink) and *size (their count). */
int tarlayer_writer_finish(struct tarlayer_writer *w, char diff_id[DIGEST_STR_LEN + 1], char digest[DIGEST_STR_LEN + 1],
    uint64_t *size, struct err *e);

void tarlayer_writer_free(struct tarlayer_writer *w);

#endif
