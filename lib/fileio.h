/* fileio — whole-file reads with a hard cap (policies, JSON documents, DSSE envelopes: EINTR retried, over the cap is
 * ERR_TOO_LARGE, a missing file is ERR_NOT_FOUND) and atomic whole-file writes (reports, OCI layout metadata). */
#ifndef HARDLINE_FILEIO_H
#define HARDLINE_FILEIO_H

#include <sys/types.h>

#include "lib/err.h"
#include "lib/str.h"

/* Appends everything readable from fd until end of file to sb; sb's cap (sb_init) bounds it. fd stays open and
 * belongs to the caller. label names the source in messages. Returns 0, or with e filled:
 * ERR_TOO_LARGE "LABEL: larger than the limit of N bytes", ERR_NOMEM "LABEL: out of memory",
 * ERR_IO "LABEL: cannot read: <reason>". On error sb holds what was read so far (the caller cleans it up). */
int fileio_read_fd(int fd, struct strbuf *sb, const char *label, struct err *e);

/* Opens path (O_CLOEXEC, read only) and reads it whole into sb as fileio_read_fd does; label names it in messages
 * (often the path itself). Besides fileio_read_fd's errors: ERR_NOT_FOUND "LABEL: no such file" and ERR_IO "LABEL:
 * cannot open: <reason>". Callers that want a hint in those messages test the code and err_set their own. */
int fileio_read_capped(const char *path, struct strbuf *sb, const char *label, struct err *e);

/* Reads everything from the open fd (the caller's; it stays open) into a new buffer of exactly max + 1 bytes, so that
 * a secret (a private key, a TLS key) is never copied by a growing buffer; *out is NUL-terminated, *len excludes the
 * NUL; the caller wipes (explicit_bzero) and frees it. On error nothing is returned and what was read is wiped.
 * Errors: ERR_TOO_LARGE "LABEL: larger than the limit of MAX bytes", ERR_NOMEM, ERR_IO "LABEL: cannot read: <reason>".
 * *out and *len are cleared on entry. */
int fileio_read_secret_fd(int fd, size_t max, unsigned char **out, size_t *len, const char *label, struct err *e);

/* Writes all of p[n] to fd, retrying short writes and EINTR. Returns 0, or -1 with errno set (EIO when write made no
 * progress) (the caller names the
 * file in its message, e.g. err_errno(e, errno, "write %s", path)). */
int fileio_write_all(int fd, const void *p, size_t n);

/* Replaces path with data[len] atomically: writes a hidden sibling temp file ".NAME.tmp-XXXXXX" in path's directory,
 * sets mode, fsyncs and renames it over path, so readers see the old file or the whole new one, never a part. The
 * temp file is removed on any error. label names the file in messages. Returns 0, ERR_TOO_LARGE (path too long) or
 * ERR_IO "LABEL: cannot create/write/rename TMP: <reason>". */
int fileio_write_atomic(const char *path, const void *data, size_t len, mode_t mode, const char *label, struct err *e);

/* Removes the directory tree at path, contents first, never following a symbolic link (a link is removed, not its
 * target). Best effort, for cleaning up what the caller created: entries that cannot be removed are left. */
void fileio_remove_tree(const char *path);

#endif
