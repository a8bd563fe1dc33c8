/* oci_store_dir — the store backend for an OCI layout directory ("oci:DIR"). Files are opened component by
 * component with openat(O_NOFOLLOW) from a descriptor of the layout root, so no symlink inside the layout can lead
 * a read outside it. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/oci_backend.h"
#include "lib/str.h"

struct dir_backend {
	struct oci_backend b;
	int rootfd;
};

struct dir_raw {
	struct oci_raw raw;
	int fd;
	char name[128];
};

bool oci_backend_name_ok(const char *name)
{
	const char *p = name, *slash;
	size_t len;

	if (name[0] == '\0' || name[0] == '/' || strlen(name) > 4096)
		return false;
	for (;;) {
		slash = strchr(p, '/');
		len = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (slash == NULL)
			return true;
		p = slash + 1;
	}
}

/* Opens name under rootfd without following any symlink; sets *fd. Errors name label and name. */
static int open_beneath(int rootfd, const char *label, const char *name, int *fd, struct err *e)
{
	char comp[256];
	const char *p = name, *slash;
	int dfd = rootfd, nfd, r;
	size_t len;

	*fd = -1;
	if (!oci_backend_name_ok(name))
		return err_set(e, ERR_ESCAPE,
		    "%s: file name \"%.100s\" is not a plain relative path; the image is "
		    "malformed",
		    label, name);
	for (;;) {
		slash = strchr(p, '/');
		len = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (len >= sizeof(comp)) {
			r = err_set(e, ERR_TOO_LARGE,
			    "%s: file name \"%.100s\" has a component that is too "
			    "long",
			    label, name);
			goto out;
		}
		memcpy(comp, p, len);
		comp[len] = '\0';
		/* O_NONBLOCK: a FIFO planted as a blob must not hang the open (it is then refused as not regular) */
		nfd = openat(dfd, comp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (slash != NULL ? O_DIRECTORY : O_NONBLOCK));
		if (nfd < 0) {
			if (errno == ENOENT)
				r = err_set(e, ERR_NOT_FOUND, "%s: %s does not exist; the layout is incomplete", label,
				    name);
			else if (errno == ELOOP || errno == ENOTDIR)
				r = err_set(e, ERR_ESCAPE,
				    "%s: %s is reached through a symlink or a "
				    "non-directory; the layout is malformed",
				    label, name);
			else
				r = err_errno(e, errno, "%s: open %s", label, name);
			goto out;
		}
		if (dfd != rootfd)
			close(dfd);
		dfd = nfd;
		if (slash == NULL)
			break;
		p = slash + 1;
	}
	*fd = dfd;
	dfd = rootfd;
	r = 0;
out:
	if (dfd != rootfd)
		close(dfd);
	return r;
}

static ssize_t dir_read(struct oci_raw *raw, void *buf, size_t n, struct err *e)
{
	struct dir_raw *d = (struct dir_raw *)raw;
	ssize_t k;

	do
		k = read(d->fd, buf, n);
	while (k < 0 && errno == EINTR);
	if (k < 0)
		return err_errno(e, errno, "read %s", d->name);
	return k;
}

static void dir_close(struct oci_raw *raw)
{
	struct dir_raw *d = (struct dir_raw *)raw;

	close(d->fd);
	free(d);
}

static int dir_open(struct oci_backend *b, const char *name, struct oci_raw **out, struct err *e)
{
	struct dir_backend *db = (struct dir_backend *)b;
	struct dir_raw *d;
	struct stat st;
	int fd, r;

	*out = NULL;
	if ((r = open_beneath(db->rootfd, b->label, name, &fd, e)) != 0)
		return r;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(e, ERR_INVALID, "%s: %s is not a regular file; the layout is malformed", b->label, name);
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		close(fd);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	d->raw.read = dir_read;
	d->raw.close = dir_close;
	d->fd = fd;
	(void)str_copy(d->name, sizeof(d->name), name);
	*out = &d->raw;
	return 0;
}

static int dir_size(struct oci_backend *b, const char *name, uint64_t *size, struct err *e)
{
	struct dir_backend *db = (struct dir_backend *)b;
	struct stat st;
	int fd, r;

	if ((r = open_beneath(db->rootfd, b->label, name, &fd, e)) != 0)
		return r;
	r = fstat(fd, &st);
	close(fd);
	if (r != 0 || !S_ISREG(st.st_mode))
		return err_set(e, ERR_INVALID, "%s: %s is not a regular file; the layout is malformed", b->label, name);
	*size = (uint64_t)st.st_size;
	return 0;
}

static void dir_free(struct oci_backend *b)
{
	struct dir_backend *db = (struct dir_backend *)b;

	if (db == NULL)
		return;
	if (db->rootfd >= 0)
		close(db->rootfd);
	free((char *)db->b.label);
	free(db);
}

int oci_backend_dir_open(const char *path, const char *label, struct oci_backend **out, struct err *e)
{
	struct dir_backend *db;

	*out = NULL;
	if ((db = calloc(1, sizeof(*db))) == NULL || (db->b.label = strdup(label)) == NULL) {
		free(db);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	db->b.open = dir_open;
	db->b.size = dir_size;
	db->b.free = dir_free;
	db->rootfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (db->rootfd < 0) {
		int r = errno == ENOENT ? err_set(e, ERR_NOT_FOUND, "%s: directory %s does not exist", label, path)
					: err_errno(e, errno, "%s: open directory %s", label, path);
		dir_free(&db->b);
		return r;
	}
	*out = &db->b;
	return 0;
}
