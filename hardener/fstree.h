/* fstree — the in-memory index of a root filesystem that the hardening engine works on.
 * A backend fills it in one pass (fsdir: a live directory; the image view: merged OCI layers), the steps of the
 * profile read it and mark changes on it, and the backend then commits the marked changes (unlinkat/fchmodat on a
 * directory; a new layer for an image). Dry-run is simply "do not commit". No step ever touches the backend
 * directly except to read a file's content through fs_backend_read(). */
#ifndef HARDLINE_FSTREE_H
#define HARDLINE_FSTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "lib/str.h"

enum fs_type { FS_REG, FS_DIR, FS_SYMLINK, FS_HARDLINK, FS_CHR, FS_BLK, FS_FIFO, FS_SOCK };

#define FS_HEAD_LEN 128 /* leading bytes of an executable kept in the index (ELF magic, "#!" lines) */

/* Change marks, set by fstree_mark_* and read by a backend's commit. */
enum {
	FS_CH_DELETE = 1u << 0,	 /* remove (a directory: with everything under it) */
	FS_CH_MODE = 1u << 1,	 /* new permission bits in mode */
	FS_CH_OWNER = 1u << 2,	 /* new uid/gid */
	FS_CH_CONTENT = 1u << 3, /* new content in content/content_len (a regular file) */
	FS_CH_CREATE = 1u << 4,	 /* did not exist before: create it (a regular file or a directory) */
};

/* In the tree a node and its path are one allocation, and only executables carry a head (most entries of an image
 * are not executables; 128 bytes inline per node were most of the index's memory). */
struct fs_node {
	char *path; /* "/" or "/usr/bin/ls": absolute in the root, no "." or ".." or "//" (in the tree: in the node) */
	enum fs_type type;
	uint32_t mode; /* permission bits including 07000 */
	uint32_t uid, gid;
	uint64_t size;
	int64_t mtime;
	uint32_t dev_major, dev_minor;
	char *link; /* symlink: the target as stored; hardlink: the path of the node it links to (owned) */
	/* The first head_len (<= FS_HEAD_LEN) bytes of the content. In a template: borrowed, any length. In the tree:
	 * owned, kept only for an executable regular file or hard link (any of 0111 set when stored); else NULL, 0. */
	unsigned char *head;
	uint32_t head_len;
	unsigned changes; /* FS_CH_* */
	char *content;	  /* new content when FS_CH_CONTENT (owned) */
	size_t content_len;
	uint64_t cookie; /* backend-private (e.g. the layer that holds the bytes) */
};

struct fstree;

/* A new empty tree; NULL on allocation failure. fstree_free(NULL) is a no-op. */
struct fstree *fstree_new(void);
void fstree_free(struct fstree *t);

/* Normalizes p into out[size] as an absolute path without ".", ".." (clamped at "/"), repeated or trailing '/'.
 * "usr//bin/./x/" -> "/usr/bin/x". Returns 0 or ERR_TOO_LARGE. */
int fs_path_normalize(const char *p, char *out, size_t size);

/* Adds (or replaces) the node at tmpl->path, copying tmpl, its path, link and (as fstree_set_head does) head. The
 * stored node is returned in *out (borrowed, valid until it is removed or the tree freed; may be NULL). Replacing
 * keeps no trace of the old node. The path must already be normalized. Errors: ERR_NOMEM, ERR_INVALID (path not
 * normalized). */
int fstree_put(struct fstree *t, const struct fs_node *tmpl, struct fs_node **out, struct err *e);

/* Replaces n's head with the first FS_HEAD_LEN bytes of data[len] (copied; data may be n->head) when n is an
 * executable regular file or hard link; any other node is left without a head (NULL, 0). ERR_NOMEM. */
int fstree_set_head(struct fs_node *n, const void *data, size_t len, struct err *e);

/* The node at a normalized path, or NULL. Nodes marked FS_CH_DELETE are still returned (check n->changes). */
struct fs_node *fstree_get(const struct fstree *t, const char *path);

/* Removes the node at path and, for a directory, everything under it, from the index itself (not a change mark:
 * used by backends while loading, e.g. for whiteouts). Returns the number of nodes removed. */
size_t fstree_remove(struct fstree *t, const char *path);

size_t fstree_count(const struct fstree *t);

/* All nodes in tree order: parents before children, and the descendants of a directory contiguous right after it
 * (paths compared with '/' sorting before every other byte). The array is owned by the tree and valid until the
 * next put or remove. */
struct fs_node *const *fstree_sorted(struct fstree *t, size_t *n);

/* Index in the sorted array of the first node after dir's subtree; with fstree_sorted, [i+1, end) are the
 * descendants of the node at index i. */
size_t fstree_subtree_end(struct fstree *t, size_t i);

/* Marks. fstree_mark_delete marks a node and, for a directory, every node under it. The others set the new value
 * and the mark; setting the value a node already has marks nothing and returns false. */
void fstree_mark_delete(struct fstree *t, struct fs_node *n);
bool fstree_mark_mode(struct fs_node *n, uint32_t mode);
bool fstree_mark_owner(struct fs_node *n, uint32_t uid, uint32_t gid);
/* Replaces the content (data is copied). ERR_NOMEM. */
int fstree_mark_content(struct fs_node *n, const void *data, size_t len, struct err *e);

/* Resolves path inside the root the way the kernel would inside a chroot: symlinks in every component (and the last
 * one too when follow_last), absolute targets relative to the root, ".." stopping at "/"; at most 40 links.
 * Writes the resolved normalized path to out[size]. Returns 0, ERR_NOT_FOUND when a component is missing
 * (out then holds the path resolved so far), ERR_INVALID for a loop or a non-directory in the middle. */
int fstree_resolve(const struct fstree *t, const char *path, bool follow_last, char *out, size_t size, struct err *e);

/* The node the name n (a node of t) finally leads to: a symlink resolved as fstree_resolve does, then hard links
 * followed (at most 40). Borrowed from t; NULL when the name leads nowhere. The caller checks the type and the marks
 * (a chain longer than 40 ends on a hard link). */
struct fs_node *fstree_final(const struct fstree *t, const struct fs_node *n);

/* Resolves each of names[0..n) as fstree_resolve does (the last component followed too) and writes those that are
 * directories of t into dirs[0..max), each real directory once (/bin -> usr/bin and /usr/bin are one), in the
 * order given. Names that do not resolve to a directory are skipped. Returns how many dirs were written. */
size_t fstree_resolve_dirs(const struct fstree *t, char *const *names, size_t n, char (*dirs)[4096], size_t max);

/* A backend: where the tree came from and where its changes go. */
struct fs_backend;
struct fs_backend_ops {
	const char *name;
	/* Reads at most cap bytes of n's original content into out (appending). ERR_TOO_LARGE when larger. */
	int (*read)(struct fs_backend *b, const struct fs_node *n, size_t cap, struct strbuf *out, struct err *e);
	/* Applies every mark in t. */
	int (*commit)(struct fs_backend *b, struct fstree *t, struct err *e);
	void (*free)(struct fs_backend *b);
};
struct fs_backend {
	const struct fs_backend_ops *ops;
};

/* Reads n's current content: the new content when it was changed, otherwise the backend's; follows a hardlink node
 * to its target. Appends to out; ERR_TOO_LARGE over cap, ERR_INVALID when n is not a regular file. */
int fs_backend_read(struct fs_backend *b, struct fstree *t, const struct fs_node *n, size_t cap, struct strbuf *out,
    struct err *e);

#endif
