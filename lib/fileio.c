/* fileio — capped whole-file reads and atomic whole-file writes (fileio.h): one loop of each instead of one per
 * module. */
#define _GNU_SOURCE /* mkostemp */
#include "lib/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fileio_read_fd(int fd, struct strbuf *sb, const char *label, struct err *e)
{
	char chunk[16384];
	ssize_t n;
	int r;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_errno(e, errno, "%s: cannot read", label);
		if (n == 0)
			return 0;
		if ((r = sb_append(sb, chunk, (size_t)n)) != 0) {
			if (r == ERR_TOO_LARGE)
				return err_set(e, r, "%s: larger than the limit of %zu bytes", label, sb->cap);
			return err_set(e, r, "%s: out of memory", label);
		}
	}
}

int fileio_read_capped(const char *path, struct strbuf *sb, const char *label, struct err *e)
{
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return err_set(e, ERR_NOT_FOUND, "%s: no such file", label);
		return err_errno(e, errno, "%s: cannot open", label);
	}
	r = fileio_read_fd(fd, sb, label, e);
	close(fd);
	return r;
}

int fileio_read_secret_fd(int fd, size_t max, unsigned char **out, size_t *len, const char *label, struct err *e)
{
	unsigned char *buf;
	size_t got = 0;
	ssize_t n;
	int r;

	*out = NULL;
	*len = 0;
	if (max == SIZE_MAX || (buf = malloc(max + 1)) == NULL)
		return err_set(e, ERR_NOMEM, "%s: out of memory", label);
	for (;;) {
		n = read(fd, buf + got, max + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = err_errno(e, errno, "%s: cannot read", label);
			goto fail;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > max) {
			r = err_set(e, ERR_TOO_LARGE, "%s: larger than the limit of %zu bytes", label, max);
			goto fail;
		}
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
fail:
	explicit_bzero(buf, max + 1);
	free(buf);
	return r;
}

int fileio_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t k;

	while (n > 0) {
		k = write(fd, c, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		if (k == 0) { /* no progress on a non-empty write: give up rather than spin */
			errno = EIO;
			return -1;
		}
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

int fileio_write_atomic(const char *path, const void *data, size_t len, mode_t mode, const char *label, struct err *e)
{
	const char *base = strrchr(path, '/');
	char tmp[PATH_MAX];
	int fd, r;

	base = base != NULL ? base + 1 : path;
	if (str_fmt(tmp, sizeof(tmp), "%.*s.%s.tmp-XXXXXX", (int)(base - path), path, base) != 0)
		return err_set(e, ERR_TOO_LARGE, "%s: path too long", label);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return err_errno(e, errno, "%s: cannot create %s", label, tmp);
	if (fileio_write_all(fd, data, len) != 0 || fchmod(fd, mode) != 0 || fsync(fd) != 0) {
		r = err_errno(e, errno, "%s: cannot write %s", label, tmp);
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		r = err_errno(e, errno, "%s: cannot write %s", label, tmp);
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		r = err_errno(e, errno, "%s: cannot rename %s to %s", label, tmp, path);
		goto fail;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	(void)unlink(tmp);
	return r;
}

/* nftw callback of fileio_remove_tree: one entry (a directory after its contents); never stops the walk. */
static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		(void)rmdir(path);
	else
		(void)unlink(path);
	return 0;
}

void fileio_remove_tree(const char *path)
{
	(void)nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
