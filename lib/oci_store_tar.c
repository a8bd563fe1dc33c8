/* oci_store_tar — the store backend for tar archives ("oci-archive:FILE", "docker-archive:FILE").
 * The archive is indexed once with libarchive (names, types, sizes, link targets and where each member's data
 * starts). In an uncompressed tar (what oci-archive and docker save produce) a member is then read with pread() at
 * its offset: nothing is extracted to disk and opening a blob costs nothing. A gzip, zstd or xz compressed archive
 * (or a sparse member) is read by opening the archive again and skipping to the member: it works, only slower. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/oci_backend.h"
#include "lib/str.h"

#define TAR_MAX_MEMBERS 100000
#define TAR_MAX_LINK_HOPS 16
#define TAR_NAME_MAX 4096

enum member_type { M_REG, M_DIR, M_SYMLINK, M_HARDLINK, M_OTHER };

struct member {
	char *name;   /* cleaned: relative, no ".", "..", "//" or trailing '/' */
	char *target; /* symlink target as stored; hardlink target cleaned; else NULL */
	enum member_type type;
	uint64_t size;
	int64_t offset; /* where the data starts in the file, or -1 when it cannot be read directly */
};

struct tar_backend {
	struct oci_backend b;
	char *path;
	int fd; /* the archive, for direct reads */
	struct member *m;
	size_t n;
};

struct tar_raw {
	struct oci_raw raw;
	struct archive *a; /* NULL for a direct read */
	int fd;		   /* direct read: the backend's descriptor (borrowed) */
	int64_t pos;
	uint64_t left;
	char name[128];
};

/* Cleans a relative path into out[size]: drops empty and "." components and a leading "./"; ".." pops a component.
 * Returns 0, ERR_ESCAPE when the path is absolute or ".." leaves the root, ERR_TOO_LARGE, or ERR_NOT_FOUND for an
 * empty result (the root itself). */
static int path_clean(const char *in, char *out, size_t size)
{
	const char *p = in, *slash;
	size_t len, o = 0;

	if (in[0] == '/')
		return ERR_ESCAPE;
	while (*p != '\0') {
		slash = strchr(p, '/');
		len = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (o == 0)
				return ERR_ESCAPE;
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--; /* the separator */
		} else if (len > 0 && !(len == 1 && p[0] == '.')) {
			if (o + (o > 0) + len >= size)
				return ERR_TOO_LARGE;
			if (o > 0)
				out[o++] = '/';
			memcpy(out + o, p, len);
			o += len;
		}
		if (slash == NULL)
			break;
		p = slash + 1;
	}
	if (o == 0)
		return ERR_NOT_FOUND;
	out[o] = '\0';
	return 0;
}

static int member_cmp(const void *a, const void *b)
{
	return strcmp(((const struct member *)a)->name, ((const struct member *)b)->name);
}

static struct member *find(struct tar_backend *tb, const char *name)
{
	struct member key = { .name = (char *)name };

	if (tb->n == 0)
		return NULL;
	return bsearch(&key, tb->m, tb->n, sizeof(*tb->m), member_cmp);
}

/* A new archive reader of tb->path positioned before the first header. */
static int archive_start(struct tar_backend *tb, struct archive **out, struct err *e)
{
	struct archive *a;

	*out = NULL;
	if ((a = archive_read_new()) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	/* Only in-process decompressors: "all" would include filters that run external programs (lrzip, lzop). */
	archive_read_support_format_tar(a);
	archive_read_support_filter_none(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_xz(a);
	if (archive_read_open_filename(a, tb->path, 64 * 1024) != ARCHIVE_OK) {
		int r = err_set(e, ERR_IO, "%s: cannot open the archive: %.200s", tb->b.label, archive_error_string(a));
		archive_read_free(a);
		return r;
	}
	*out = a;
	return 0;
}

/* Reads every header once into tb->m (sorted by name). Unsafe names are left out of the index: they can never be
 * named by an image, so they can never be read. */
static int tar_index(struct tar_backend *tb, struct err *e)
{
	struct archive *a = NULL;
	struct archive_entry *ent;
	struct member *m, *grown;
	char clean[TAR_NAME_MAX];
	const char *name, *lnk;
	size_t alloc = 0, i;
	int r, ar;

	if ((r = archive_start(tb, &a, e)) != 0)
		return r;
	while ((ar = archive_read_next_header(a, &ent)) == ARCHIVE_OK || ar == ARCHIVE_WARN) {
		name = archive_entry_pathname(ent);
		if (name == NULL || path_clean(name, clean, sizeof(clean)) != 0)
			continue;
		if (tb->n == TAR_MAX_MEMBERS) {
			r = err_set(e, ERR_TOO_LARGE, "%s: more than %d members; this is not an image archive",
			    tb->b.label, TAR_MAX_MEMBERS);
			goto out;
		}
		if (tb->n == alloc) {
			alloc = alloc ? alloc * 2 : 64;
			if ((grown = realloc(tb->m, alloc * sizeof(*grown))) == NULL) {
				r = err_set(e, ERR_NOMEM, "out of memory");
				goto out;
			}
			tb->m = grown;
		}
		m = &tb->m[tb->n];
		memset(m, 0, sizeof(*m));
		if ((m->name = strdup(clean)) == NULL) {
			r = err_set(e, ERR_NOMEM, "out of memory");
			goto out;
		}
		tb->n++;
		m->size = archive_entry_size(ent) > 0 ? (uint64_t)archive_entry_size(ent) : 0;
		/* Right after the header the format has consumed exactly the header blocks (with any pax or GNU
		 * long-name records), so in an uncompressed stream the data starts here. */
		m->offset = -1;
		if (archive_filter_code(a, 0) == ARCHIVE_FILTER_NONE && archive_entry_sparse_count(ent) == 0)
			m->offset = archive_filter_bytes(a, 0);
		if ((lnk = archive_entry_hardlink(ent)) != NULL) {
			m->type = M_HARDLINK;
			if (path_clean(lnk, clean, sizeof(clean)) == 0 && (m->target = strdup(clean)) == NULL) {
				r = err_set(e, ERR_NOMEM, "out of memory");
				goto out;
			}
		} else if (archive_entry_filetype(ent) == AE_IFLNK) {
			m->type = M_SYMLINK;
			lnk = archive_entry_symlink(ent);
			if (lnk != NULL && (m->target = strdup(lnk)) == NULL) {
				r = err_set(e, ERR_NOMEM, "out of memory");
				goto out;
			}
		} else if (archive_entry_filetype(ent) == AE_IFREG) {
			m->type = M_REG;
		} else if (archive_entry_filetype(ent) == AE_IFDIR) {
			m->type = M_DIR;
		} else {
			m->type = M_OTHER;
		}
	}
	if (ar != ARCHIVE_EOF) {
		r = err_set(e, ERR_PARSE, "%s: the archive is not a readable tar: %.200s; check the file", tb->b.label,
		    archive_error_string(a));
		goto out;
	}
	if (tb->n > 0)
		qsort(tb->m, tb->n, sizeof(*tb->m), member_cmp);
	for (i = 1; i < tb->n; i++) {
		if (strcmp(tb->m[i - 1].name, tb->m[i].name) == 0 && tb->m[i].type != M_DIR) {
			r = err_set(e, ERR_INVALID,
			    "%s: two members are named \"%.200s\"; the archive is ambiguous, "
			    "re-create it",
			    tb->b.label, tb->m[i].name);
			goto out;
		}
	}
	r = 0;
out:
	archive_read_free(a);
	return r;
}

/* Follows symlink and hardlink members from name to a regular member; *out is borrowed from the index. */
static int resolve(struct tar_backend *tb, const char *name, struct member **out, struct err *e)
{
	char cur[TAR_NAME_MAX], next[TAR_NAME_MAX * 2 + 2];
	struct member *m;
	char *slash;
	int hops, r;

	*out = NULL;
	if (str_copy(cur, sizeof(cur), name) != 0)
		return err_set(e, ERR_TOO_LARGE, "%s: member name too long", tb->b.label);
	for (hops = 0; hops < TAR_MAX_LINK_HOPS; hops++) {
		if ((m = find(tb, cur)) == NULL)
			return err_set(e, ERR_NOT_FOUND,
			    "%s: the archive has no member %.200s; the image is "
			    "incomplete",
			    tb->b.label, cur);
		switch (m->type) {
		case M_REG:
			*out = m;
			return 0;
		case M_HARDLINK:
			if (m->target == NULL)
				return err_set(e, ERR_ESCAPE, "%s: hardlink %.200s points outside the archive",
				    tb->b.label, cur);
			(void)str_copy(cur, sizeof(cur), m->target);
			break;
		case M_SYMLINK:
			if (m->target == NULL)
				return err_set(e, ERR_INVALID, "%s: symlink %.200s has no target", tb->b.label, cur);
			if ((slash = strrchr(cur, '/')) != NULL)
				slash[1] = '\0';
			else
				cur[0] = '\0';
			if (str_fmt(next, sizeof(next), "%s%s", cur, m->target) != 0)
				return err_set(e, ERR_TOO_LARGE, "%s: symlink target too long", tb->b.label);
			if ((r = path_clean(next, cur, sizeof(cur))) != 0)
				return err_set(e, ERR_ESCAPE,
				    "%s: symlink %.200s points outside the archive; "
				    "the image is malformed",
				    tb->b.label, m->name);
			break;
		default:
			return err_set(e, ERR_INVALID, "%s: member %.200s is not a regular file", tb->b.label, cur);
		}
	}
	return err_set(e, ERR_INVALID, "%s: member %.200s: too many levels of links", tb->b.label, name);
}

static ssize_t tar_read(struct oci_raw *raw, void *buf, size_t n, struct err *e)
{
	struct tar_raw *t = (struct tar_raw *)raw;
	la_ssize_t k;
	ssize_t d;

	if (t->a == NULL) {
		if (n > t->left)
			n = (size_t)t->left;
		if (n == 0)
			return 0;
		do
			d = pread(t->fd, buf, n, t->pos);
		while (d < 0 && errno == EINTR);
		if (d < 0)
			return err_errno(e, errno, "read %s from the archive", t->name);
		if (d == 0)
			return err_set(e, ERR_IO,
			    "read %s from the archive: the file is shorter than its index; was it "
			    "changed while being read?",
			    t->name);
		t->pos += d;
		t->left -= (uint64_t)d;
		return d;
	}
	k = archive_read_data(t->a, buf, n);
	if (k < 0)
		return err_set(e, ERR_IO, "read %s from the archive: %.200s", t->name, archive_error_string(t->a));
	return (ssize_t)k;
}

static void tar_close(struct oci_raw *raw)
{
	struct tar_raw *t = (struct tar_raw *)raw;

	if (t->a != NULL)
		archive_read_free(t->a);
	free(t);
}

static int tar_open(struct oci_backend *b, const char *name, struct oci_raw **out, struct err *e)
{
	struct tar_backend *tb = (struct tar_backend *)b;
	struct archive_entry *ent;
	struct tar_raw *t = NULL;
	struct member *m;
	char clean[TAR_NAME_MAX];
	const char *pn;
	int r, ar;

	*out = NULL;
	if ((r = resolve(tb, name, &m, e)) != 0)
		return r;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	t->raw.read = tar_read;
	t->raw.close = tar_close;
	(void)str_copy(t->name, sizeof(t->name), name);
	if (m->offset >= 0 && tb->fd >= 0) {
		t->fd = tb->fd;
		t->pos = m->offset;
		t->left = m->size;
		*out = &t->raw;
		return 0;
	}
	if ((r = archive_start(tb, &t->a, e)) != 0)
		goto out;
	while ((ar = archive_read_next_header(t->a, &ent)) == ARCHIVE_OK || ar == ARCHIVE_WARN) {
		pn = archive_entry_pathname(ent);
		if (pn != NULL && path_clean(pn, clean, sizeof(clean)) == 0 && strcmp(clean, m->name) == 0 &&
		    archive_entry_hardlink(ent) == NULL && archive_entry_filetype(ent) == AE_IFREG) {
			*out = &t->raw;
			t = NULL; /* transferred */
			r = 0;
			goto out;
		}
	}
	r = err_set(e, ERR_IO, "%s: member %.200s vanished from the archive; was it changed while being read?",
	    b->label, m->name);
out:
	if (t != NULL) {
		archive_read_free(t->a);
		free(t);
	}
	return r;
}

static int tar_size(struct oci_backend *b, const char *name, uint64_t *size, struct err *e)
{
	struct member *m;
	int r;

	if ((r = resolve((struct tar_backend *)b, name, &m, e)) != 0)
		return r;
	*size = m->size;
	return 0;
}

static void tar_free(struct oci_backend *b)
{
	struct tar_backend *tb = (struct tar_backend *)b;
	size_t i;

	if (tb == NULL)
		return;
	for (i = 0; i < tb->n; i++) {
		free(tb->m[i].name);
		free(tb->m[i].target);
	}
	free(tb->m);
	if (tb->fd >= 0)
		close(tb->fd);
	free(tb->path);
	free((char *)tb->b.label);
	free(tb);
}

int oci_backend_tar_open(const char *path, const char *label, struct oci_backend **out, struct err *e)
{
	struct tar_backend *tb;
	int r;

	*out = NULL;
	if ((tb = calloc(1, sizeof(*tb))) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	tb->b.open = tar_open;
	tb->b.size = tar_size;
	tb->b.free = tar_free;
	tb->fd = -1;
	if ((tb->b.label = strdup(label)) == NULL || (tb->path = strdup(path)) == NULL) {
		tar_free(&tb->b);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	if ((r = tar_index(tb, e)) != 0) {
		tar_free(&tb->b);
		return r;
	}
	/* Opened after indexing: a file replaced in between is caught by the digests of what is read from it. */
	if ((tb->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		r = err_errno(e, errno, "%s: open %s", label, path);
		tar_free(&tb->b);
		return r;
	}
	*out = &tb->b;
	return 0;
}
