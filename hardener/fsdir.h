/* fsdir — the live-directory backend: indexes a root filesystem directory in one pass and applies the marked changes
 * to it in place. Nothing beneath the root is trusted: every operation is relative to a directory fd reached from the
 * root fd one component at a time with O_NOFOLLOW, so that no symlink, however placed, can make it read or change a
 * byte outside the root. */
#ifndef HARDLINE_FSDIR_H
#define HARDLINE_FSDIR_H

#include <jansson.h>

#include "hardener/fstree.h"
#include "lib/err.h"

/* Opens dir (given by the user and trusted: a symlink naming it is followed) and indexes everything beneath it.
 *  - Paths in the tree are relative to dir ("/etc/passwd"). Symlinks are recorded, never followed.
 *  - Mount points (an entry whose device or statx mount id differs from dir's) are recorded but not descended: in a
 *    container build / is the overlay and /proc, /sys, /dev, /etc/hosts are mounts that are not the image's. The
 *    commit skips changes to them (and deletes of directories holding them) with a warning, not an error.
 *  - A regular file hard-linked to a name outside dir is copied to a new inode before its mode or owner changes.
 *  - Regular files: the first FS_HEAD_LEN bytes are kept in head[] (opened O_NOFOLLOW|O_NONBLOCK, then checked to be
 *    the same regular file); fifos, devices and sockets are never opened. Hardlinked files stay FS_REG.
 *  - Unreadable directories, mount points and directories deeper than the depth cap are not fatal: they are listed
 *    by fsdir_walk_notes() and logged as warnings.
 * On success *out (free with out->ops->free) and *tree (fstree_free) are the caller's. Errors: ERR_NOT_FOUND (no such
 * dir), ERR_INVALID (not a directory), ERR_IO (cannot be opened), ERR_NOMEM. */
int fsdir_open(const char *dir, struct fs_backend **out, struct fstree **tree, struct err *e);

/* What the walk did not index, as [{"path": ..., "reason": ...}] (a new reference; NULL on allocation failure). */
json_t *fsdir_walk_notes(const struct fs_backend *b);

#endif
