/* fileio — capped whole-file reads (fileio.h): one read loop instead of one per module. */
#include "lib/fileio.h"

#include <errno.h>
#include <fcntl.h>
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
