/* imageview — the image backend: the merged view of an OCI image's layers as an fstree, built by streaming every
 * layer once (whiteouts, opaque directories, hard links across layers, nothing extracted to disk), and the commit
 * that turns the marked changes into a new top layer (or one squashed layer), a new config and manifest. */
#ifndef HARDLINE_IMAGEVIEW_H
#define HARDLINE_IMAGEVIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "hardener/fstree.h"
#include "lib/err.h"
#include "lib/oci.h"
#include "lib/tarlayer.h"

struct imageview_opts {
	struct tarlayer_limits limits; /* caps applied to every layer */
	bool progress;		       /* "layer n of m" lines on stderr (callers set it only on a terminal) */
};

/* Builds the merged view of img (from store s; both borrowed and must outlive the backend). Layers are applied in
 * order: ".wh.NAME" removes NAME of lower layers, ".wh..wh..opq" hides a directory's lower contents, a file replaces a
 * directory and vice versa, a hard link becomes an FS_HARDLINK node whose link is the target's path (a hard link
 * whose target is later replaced or removed becomes a regular file reading the old target's bytes). An entry beneath a
 * symlink is refused (ERR_ESCAPE). Every error names the layer digest and the entry. Small files under /etc are kept
 * in memory; other contents are read again from their layer on demand. On success *out (free with (*out)->ops->free)
 * and *tree (fstree_free) are the caller's. */
int imageview_open(struct oci_store *s, const struct oci_image *img, const struct imageview_opts *o,
    struct fs_backend **out, struct fstree **tree, struct err *e);

/* Where and how commit writes. All strings are borrowed until commit returns. */
struct imageview_output {
	struct oci_writer *writer; /* the output layout */
	enum tarlayer_compression compression;
	bool squash;		   /* one layer with only what remains, instead of the input's plus one */
	int64_t max_mtime;	   /* entry mtimes are clamped to this (SOURCE_DATE_EPOCH or the input's) */
	const char *created;	   /* RFC 3339 time for config "created" and the history entry */
	const char *user;	   /* config User, e.g. "1000:1000" (NULL: unchanged) */
	const char *version;	   /* label dev.hardline.version */
	const char *policy_digest; /* label dev.hardline.policy.digest, and in the history entry */
};

/* Sets what the backend's commit op produces. Must be called before commit. */
void imageview_set_output(struct fs_backend *b, const struct imageview_output *o);

/* After a successful commit: the descriptor of the manifest written (borrowed from the backend). NULL before. */
const struct oci_descriptor *imageview_manifest(const struct fs_backend *b);

/* Entries written in the new layer (0 when nothing changed: no layer was added, only an empty_layer history entry). */
uint64_t imageview_layer_entries(const struct fs_backend *b);

/* Parses an RFC 3339 UTC time ("2024-05-01T12:00:00Z", fractions and numeric offsets accepted) to seconds since the
 * epoch. Returns 0 or ERR_PARSE. */
int imageview_parse_time(const char *s, int64_t *out, struct err *e);

/* Formats t as "YYYY-MM-DDTHH:MM:SSZ" into buf[32]. */
void imageview_fmt_time(int64_t t, char buf[32]);

#endif
