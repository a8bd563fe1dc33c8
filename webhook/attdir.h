/* attdir — the directory attestation source: every DSSE envelope file of a directory (a mounted ConfigMap, Secret or
 * volume), held in memory and indexed by the subject digests its Statement claims. The claims are NOT trusted: the
 * index only says which envelopes to verify for a digest. Re-read when the directory's listing changes (names,
 * inodes, sizes, mtimes — which covers the Kubernetes "..data" swap); readers keep the snapshot they took. */
#ifndef HARDLINE_WEBHOOK_ATTDIR_H
#define HARDLINE_WEBHOOK_ATTDIR_H

#include <stddef.h>
#include <stdint.h>

#include "lib/digest.h"
#include "lib/err.h"

#define ATTDIR_MAX_FILES 10000		      /* files indexed per directory; more are skipped with a log line */
#define ATTDIR_MAX_TOTAL (256u * 1024 * 1024) /* bytes of envelopes held per directory */

/* One envelope indexed under one subject digest. */
struct attdir_entry {
	char digest[DIGEST_STR_LEN + 1]; /* a subject digest the Statement claims (unverified) */
	const char *file;		 /* file name inside the directory */
	const char *buf;		 /* the envelope bytes, NUL-terminated */
	size_t len;
};

struct attdir;	    /* the source: path, current snapshot, change detection */
struct attdir_snap; /* an immutable, reference-counted index */

/* Makes the source for directory path (copied) and reads it now. A missing or unreadable directory is not an error
 * (an empty index, logged; it is read again once it appears). Files that are not envelopes, too large (over
 * DSSE_ENVELOPE_MAX), not regular, hidden (".name", "..data") or without a Statement are skipped with a log line.
 * *out is new (attdir_free it). ERR_NOMEM, ERR_TOO_LARGE for a path over PATH_MAX. */
int attdir_new(const char *path, struct attdir **out, struct err *e);

/* Frees d; NULL is fine. Snapshots still held stay valid. */
void attdir_free(struct attdir *d);

/* Re-reads the directory when its listing changed since the last read. Returns 1 when a new index is in force, 0
 * when nothing changed, or a negative code (the old index stays). Call from one thread (the watcher). */
int attdir_poll(struct attdir *d, struct err *e);

/* The index in force, with one reference (thread-safe); release it with attdir_release. */
struct attdir_snap *attdir_acquire(struct attdir *d);
void attdir_release(struct attdir_snap *s);

/* The entries indexed under digest ("sha256:<hex>"): *first points at n consecutive entries (borrowed from s).
 * Returns n (0 when none). */
size_t attdir_find(const struct attdir_snap *s, const char *digest, const struct attdir_entry **first);

/* Number of envelope files in the snapshot. */
size_t attdir_snap_files(const struct attdir_snap *s);

/* The directory path (borrowed, lives as long as d). */
const char *attdir_path(const struct attdir *d);

#endif
