/* oci_backend — private interface between the store logic (oci_store.c) and its backends: a layout directory
 * (oci_store_dir.c) and a tar archive (oci_store_tar.c). A backend serves files by their slash-separated name
 * relative to the layout (or archive) root, e.g. "index.json" or "blobs/sha256/<hex>"; it knows nothing of digests. */
#ifndef HARDLINE_OCI_BACKEND_H
#define HARDLINE_OCI_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/err.h"

/* An open file of a backend: a plain byte stream. */
struct oci_raw {
	/* Reads up to n bytes; returns the count, 0 at end of file, or a negative ERR_* with e set. */
	ssize_t (*read)(struct oci_raw *raw, void *buf, size_t n, struct err *e);
	void (*close)(struct oci_raw *raw); /* frees raw */
};

struct oci_backend {
	/* Opens the file name. ERR_NOT_FOUND (message naming name) when it is absent. */
	int (*open)(struct oci_backend *b, const char *name, struct oci_raw **out, struct err *e);
	/* Sets *size of the regular file name; ERR_NOT_FOUND when absent. */
	int (*size)(struct oci_backend *b, const char *name, uint64_t *size, struct err *e);
	void (*free)(struct oci_backend *b);
	const char *label; /* "oci:DIR", "oci-archive:FILE" for messages; owned by the backend */
};

/* Whether name is a safe relative member name: non-empty components, no "." or "..", no leading '/', at most
 * 4096 bytes. */
bool oci_backend_name_ok(const char *name);

/* The directory backend: path is an OCI layout root (opened once; files opened with openat and O_NOFOLLOW on every
 * component). label is copied. */
int oci_backend_dir_open(const char *path, const char *label, struct oci_backend **out, struct err *e);

/* The tar backend: path is a tar (any compression libarchive reads). The members are indexed once; symlink and
 * hardlink members are resolved inside the archive on open. label is copied. */
int oci_backend_tar_open(const char *path, const char *label, struct oci_backend **out, struct err *e);

#endif
