/* imageview — the image backend (see imageview.h). A node's cookie says where its bytes are: the layer index in the
 * low 32 bits and, for a hard link turned into a file, an alternative source path; commit collects the contents it
 * needs by streaming each source layer once into an unlinked spool file, then writes the new layer in tree order
 * so that the output is reproducible and memory stays flat whatever the image size. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hardener/imageview.h"
#include "lib/log.h"
#include "lib/str.h"

#define CK_LAYER(c) ((uint32_t)((c)&0xffffu))	       /* the layer holding the bytes */
#define CK_ALT(c) ((size_t)(((c) >> 16) & 0xffffffu))  /* alt source path index + 1, 0 = none */
#define CK_SLOT(c) ((size_t)(((c) >> 40) & 0x3fffffu)) /* spool slot + 1, 0 = none */
#define CK_SLOT_BITS(c) ((c) & (0x3fffffull << 40))
#define CK_EMIT (1ull << 62)   /* commit: goes into the new layer */
#define CK_TARGET (1ull << 63) /* some hard link points at this node */
#define CK_MAKE(layer, alt) ((uint64_t)(layer) | ((uint64_t)(alt) << 16))
#define MAX_LAYERS 0xffffu
#define MAX_ALT 0xffffffu
#define MAX_SLOTS 0x3fffffu

#define SPOOL_FILE_MAX (16u << 20) /* executables up to this size are spooled while loading */
#define SPOOL_TOTAL_MAX (2ull << 30)

#define CACHE_FILE_MAX (64u << 10) /* /etc files up to this size are kept in memory */
#define CACHE_TOTAL_MAX (4u << 20)
#define COPY_BUF (64u << 10)

/* Where the load pass spooled an executable's bytes (the steps and the facts read executables in no useful order,
 * and reading one again from a big layer would cost a pass over the layer each time). */
struct slot {
	uint64_t off, len;
};

struct cached {
	char *path;
	uint32_t layer;
	char *data;
	size_t len;
};

struct imageview {
	struct fs_backend base; /* first: the ops see a struct fs_backend * */
	struct oci_store *store;
	const struct oci_image *img;
	struct imageview_opts opts;
	char **alt;
	size_t nalt, alt_alloc;
	struct cached *cache;
	size_t ncache, cache_alloc, cache_bytes;
	size_t nhardlinks;
	struct imageview_output out;
	bool have_out;
	struct oci_descriptor manifest;
	bool have_manifest;
	uint64_t layer_entries;
	struct oci_reader *cur_br; /* the read cursor (see view_read) */
	struct tarlayer_reader *cur_r;
	uint32_t cur_layer;
	FILE *spool; /* load-time spool of executables (unlinked temp file) */
	uint64_t spool_len;
	struct slot *slots;
	size_t nslots, slots_alloc;
};

/* ---- streaming a layer ---- */

static ssize_t blob_src(void *arg, void *buf, size_t n, struct err *e)
{
	return oci_reader_read(arg, buf, n, e);
}

/* Called for each entry of a streamed layer; returns 0 to go on, 1 to stop early, negative on error. */
typedef int (*entry_fn)(struct imageview *v, uint32_t li, const struct tarlayer_entry *ent, struct tarlayer_reader *r,
    const char *label, void *arg, struct err *e);

/* Streams layer li through fn. check: also verify the config's diff_id of the layer (the load pass does, once per
 * run; later passes are covered by the blob digest). */
static int layer_stream(struct imageview *v, uint32_t li, entry_fn fn, void *arg, bool check, struct err *e)
{
	const struct oci_descriptor *d = &v->img->layers[li];
	struct oci_reader *br = NULL;
	struct tarlayer_reader *r = NULL;
	const struct tarlayer_entry *ent;
	char label[DIGEST_STR_LEN + 32], what[64];
	enum oci_compression comp;
	uint64_t last = 0;
	int rc;

	str_fmt(label, sizeof(label), "layer %s", d->digest);
	str_fmt(what, sizeof(what), "the config's rootfs.diff_ids[%u]", li);
	if ((rc = oci_mt_layer(d->media_type, &comp, e)) != 0) {
		err_prefix(e, "%s", label);
		goto out;
	}
	if ((rc = oci_blob_open(v->store, d, &br, e)) != 0 ||
	    (rc = tarlayer_reader_open_checked(label, check ? v->img->diff_ids[li] : NULL, what, blob_src, br,
		 &v->opts.limits, &r, e)) != 0)
		goto out;
	while ((rc = tarlayer_next(r, &ent, e)) == 1) {
		if ((rc = fn(v, li, ent, r, label, arg, e)) < 0)
			goto out;
		if (rc == 1)
			break;
		if (v->opts.progress && tarlayer_reader_expanded(r) - last > (16u << 20)) {
			last = tarlayer_reader_expanded(r);
			fprintf(stderr, "\rhardline: layer %u of %zu: %llu MiB ", li + 1, v->img->n_layers,
			    (unsigned long long)(last >> 20));
		}
	}
	if (rc < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0 && rc != ERR_VERIFY && br != NULL) {
		struct err e2;

		/* a corrupt blob often shows first as a broken tar or gzip stream: say what it really is */
		err_clear(&e2);
		if (oci_reader_finish(br, &e2) == ERR_VERIFY)
			rc = err_set(e, ERR_VERIFY, "%s: %s", label, e2.msg);
	}
	tarlayer_reader_free(r);
	oci_reader_free(br);
	return rc;
}

/* ---- the merged view ---- */

static const char *node_src(const struct imageview *v, const struct fs_node *n)
{
	size_t a = CK_ALT(n->cookie);

	return a > 0 && a <= v->nalt ? v->alt[a - 1] : n->path;
}

static int alt_add(struct imageview *v, const char *path, size_t *idx, struct err *e)
{
	if (v->nalt >= MAX_ALT)
		return err_set(e, ERR_TOO_LARGE, "too many hard links to re-materialize");
	if (v->nalt == v->alt_alloc) {
		size_t na = v->alt_alloc ? v->alt_alloc * 2 : 16;
		char **p = realloc(v->alt, na * sizeof(*p));

		if (p == NULL)
			return err_set(e, ERR_NOMEM, "out of memory");
		v->alt = p;
		v->alt_alloc = na;
	}
	if ((v->alt[v->nalt] = strdup(path)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	*idx = ++v->nalt;
	return 0;
}

static bool under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strcmp(prefix, "/") == 0)
		return true;
	return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Before prefix (a node or a subtree) goes away: every hard link outside it that points inside it becomes a regular
 * file reading the old target's bytes. */
static int detach_links(struct imageview *v, struct fstree *t, const char *prefix, struct err *e)
{
	struct fs_node *const *all;
	size_t n, i, alt = 0;
	int rc;

	if (v->nhardlinks == 0)
		return 0;
	all = fstree_sorted(t, &n);
	for (i = 0; i < n; i++) {
		struct fs_node *l = all[i], *target;

		if (l->type != FS_HARDLINK || !under(l->link, prefix) || under(l->path, prefix))
			continue;
		if ((target = fstree_get(t, l->link)) == NULL || target->type != FS_REG)
			return err_set(e, ERR_INTERNAL, "hard link %.200s lost its target %.200s", l->path, l->link);
		if ((rc = alt_add(v, node_src(v, target), &alt, e)) != 0)
			return rc;
		l->type = FS_REG;
		free(l->link);
		l->link = NULL;
		l->size = target->size;
		if ((rc = fstree_set_head(l, target->head, target->head_len, e)) != 0)
			return rc;
		l->cookie =
		    CK_MAKE(CK_LAYER(target->cookie), alt) | CK_SLOT_BITS(target->cookie) | (l->cookie & CK_TARGET);
		v->nhardlinks--;
	}
	return 0;
}

static int remove_path(struct imageview *v, struct fstree *t, const char *path, struct err *e)
{
	struct fs_node *n = fstree_get(t, path);
	int rc;

	if (n == NULL)
		return 0;
	if ((n->type == FS_DIR || (n->cookie & CK_TARGET)) && (rc = detach_links(v, t, path, e)) != 0)
		return rc;
	fstree_remove(t, path);
	return 0;
}

/* ".wh..wh..opq" in layer li: removes what lower layers put under dir, keeping what li itself added. */
static int opaque_clear(struct imageview *v, struct fstree *t, const char *dir, uint32_t li, struct err *e)
{
	struct fs_node *const *all;
	char **doomed = NULL;
	size_t n, i, j, start = SIZE_MAX, end, nd = 0;
	int rc = 0;

	all = fstree_sorted(t, &n);
	for (i = 0; i < n; i++)
		if (strcmp(all[i]->path, dir) == 0) {
			start = i;
			break;
		}
	if (start == SIZE_MAX)
		return 0;
	end = fstree_subtree_end(t, start);
	if ((doomed = calloc(end - start + 1, sizeof(*doomed))) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (i = start + 1; i < end; i++) {
		bool keep = false;
		size_t sub;

		if (CK_LAYER(all[i]->cookie) >= li)
			continue;
		if (all[i]->type == FS_DIR) {
			sub = fstree_subtree_end(t, i);
			for (j = i + 1; j < sub && !keep; j++)
				keep = CK_LAYER(all[j]->cookie) >= li;
			if (keep)
				continue;
			doomed[nd++] = all[i]->path;
			i = sub - 1;
		} else {
			doomed[nd++] = all[i]->path;
		}
	}
	for (i = 0; i < nd; i++)
		if ((doomed[i] = strdup(doomed[i])) == NULL) {
			rc = err_set(e, ERR_NOMEM, "out of memory");
			nd = i;
			goto out;
		}
	for (i = 0; i < nd && rc == 0; i++)
		rc = remove_path(v, t, doomed[i], e);
out:
	for (i = 0; i < nd; i++)
		free(doomed[i]);
	free(doomed);
	return rc;
}

/* Makes sure every ancestor of path is a directory: missing ones are created (0755 root), a symlink or a file in the
 * way is refused. */
static int ensure_parents(struct fstree *t, const char *path, uint32_t li, const char *label, struct err *e)
{
	char buf[TARLAYER_DEFAULT_MAX_PATH + 2], eb[256];
	size_t i;

	if (str_copy(buf, sizeof(buf), path) != 0)
		return err_set(e, ERR_TOO_LARGE, "%s: entry path too long", label);
	for (i = 1; buf[i] != '\0'; i++) {
		struct fs_node *p, tmpl;
		int rc;

		if (buf[i] != '/')
			continue;
		buf[i] = '\0';
		p = fstree_get(t, buf);
		if (p == NULL) {
			memset(&tmpl, 0, sizeof(tmpl));
			tmpl.path = buf;
			tmpl.type = FS_DIR;
			tmpl.mode = 0755;
			tmpl.cookie = CK_MAKE(li, 0);
			if ((rc = fstree_put(t, &tmpl, NULL, e)) != 0)
				return rc;
		} else if (p->type == FS_SYMLINK) {
			str_escape(eb, sizeof(eb), path, strlen(path), 200);
			return err_set(e, ERR_ESCAPE,
			    "%s: entry \"%s\" lies beneath the symlink %.200s, which could "
			    "lead outside the image root; the image is malformed or hostile",
			    label, eb, buf);
		} else if (p->type != FS_DIR) {
			str_escape(eb, sizeof(eb), path, strlen(path), 200);
			return err_set(e, ERR_INVALID,
			    "%s: entry \"%s\" lies beneath %.200s, which is not a "
			    "directory; the image is malformed",
			    label, eb, buf);
		}
		buf[i] = '/';
	}
	return 0;
}

static int cache_put(struct imageview *v, const char *path, uint32_t li, const char *data, size_t len)
{
	size_t i;
	char *copy;

	for (i = 0; i < v->ncache; i++)
		if (strcmp(v->cache[i].path, path) == 0)
			break;
	if (i == v->ncache) {
		if (v->cache_bytes + len > CACHE_TOTAL_MAX)
			return 0;
		if (v->ncache == v->cache_alloc) {
			size_t na = v->cache_alloc ? v->cache_alloc * 2 : 16;
			struct cached *p = realloc(v->cache, na * sizeof(*p));

			if (p == NULL)
				return 0;
			v->cache = p;
			v->cache_alloc = na;
		}
		if ((v->cache[i].path = strdup(path)) == NULL)
			return 0;
		v->cache[i].data = NULL;
		v->cache[i].len = 0;
		v->ncache++;
	}
	if ((copy = malloc(len ? len : 1)) == NULL)
		return 0;
	memcpy(copy, data, len);
	v->cache_bytes = v->cache_bytes - v->cache[i].len + len;
	free(v->cache[i].data);
	v->cache[i].data = copy;
	v->cache[i].len = len;
	v->cache[i].layer = li;
	return 0;
}

static const struct cached *cache_get(const struct imageview *v, const char *path, uint32_t li)
{
	size_t i;

	for (i = 0; i < v->ncache; i++)
		if (v->cache[i].layer == li && strcmp(v->cache[i].path, path) == 0)
			return &v->cache[i];
	return NULL;
}

static const enum fs_type type_map[] = {
	[TL_REG] = FS_REG,
	[TL_DIR] = FS_DIR,
	[TL_SYMLINK] = FS_SYMLINK,
	[TL_HARDLINK] = FS_HARDLINK,
	[TL_CHR] = FS_CHR,
	[TL_BLK] = FS_BLK,
	[TL_FIFO] = FS_FIFO,
};

/* An unlinked temporary file in $TMPDIR (or /tmp). */
static int spool_create(FILE **out, struct err *e)
{
	const char *dir = getenv("TMPDIR") && getenv("TMPDIR")[0] ? getenv("TMPDIR") : "/tmp";
	char path[4096];
	int fd;

	*out = NULL;
	if (str_fmt(path, sizeof(path), "%s/hardline-spool-XXXXXX", dir) != 0)
		return err_set(e, ERR_TOO_LARGE, "TMPDIR path too long");
	if ((fd = mkostemp(path, O_CLOEXEC)) < 0)
		return err_errno(e, errno, "creating a spool file in %s (set TMPDIR to a writable directory)", dir);
	unlink(path);
	if ((*out = fdopen(fd, "w+")) == NULL) {
		close(fd);
		return err_errno(e, errno, "creating a spool file in %s", dir);
	}
	return 0;
}

/* Whether the load pass spools this file: an ELF executable of reasonable size while the budget lasts. */
static bool spool_wanted(const struct imageview *v, const struct tarlayer_entry *ent, const struct fs_node *n)
{
	return (ent->mode & 0111) && ent->size <= SPOOL_FILE_MAX && n->head_len >= 4 &&
	    memcmp(n->head, "\177ELF", 4) == 0 && v->spool_len + ent->size <= SPOOL_TOTAL_MAX && v->nslots < MAX_SLOTS;
}

/* Copies the already read head and the rest of the entry's data into the spool; records the slot in n. */
static int spool_put(struct imageview *v, const struct tarlayer_entry *ent, struct tarlayer_reader *r,
    struct fs_node *n, const char *head, size_t head_len, struct err *e)
{
	char buf[COPY_BUF];
	uint64_t len = head_len;
	ssize_t k;
	int rc;

	if (v->spool == NULL && (rc = spool_create(&v->spool, e)) != 0)
		return rc;
	if (v->nslots == v->slots_alloc) {
		size_t na = v->slots_alloc ? v->slots_alloc * 2 : 256;
		struct slot *p = realloc(v->slots, na * sizeof(*p));

		if (p == NULL)
			return err_set(e, ERR_NOMEM, "out of memory");
		v->slots = p;
		v->slots_alloc = na;
	}
	if (fseeko(v->spool, (off_t)v->spool_len, SEEK_SET) != 0 || fwrite(head, 1, head_len, v->spool) != head_len)
		return err_errno(e, errno, "writing the spool file");
	while ((k = tarlayer_read_data(r, buf, sizeof(buf), e)) > 0) {
		if (fwrite(buf, 1, (size_t)k, v->spool) != (size_t)k)
			return err_errno(e, errno, "writing the spool file");
		len += (uint64_t)k;
	}
	if (k < 0)
		return (int)k;
	v->slots[v->nslots].off = v->spool_len;
	v->slots[v->nslots].len = len;
	v->nslots++;
	v->spool_len += len;
	n->cookie = (n->cookie & ~(0x3fffffull << 40)) | ((uint64_t)v->nslots << 40);
	return 0;
}

/* Reads an entry's first bytes into n->head (kept for executables only); small /etc files go to the memory cache,
 * executables to the spool. */
static int read_head(struct imageview *v, uint32_t li, const struct tarlayer_entry *ent, struct tarlayer_reader *r,
    struct fs_node *n, struct err *e)
{
	char *buf = NULL;
	size_t want, got = 0;
	ssize_t k;
	bool capture = ent->size <= CACHE_FILE_MAX && str_has_prefix(ent->path, "/etc/");
	int rc = 0;

	want = capture ? ent->size : (ent->size < FS_HEAD_LEN ? ent->size : FS_HEAD_LEN);
	if (want == 0)
		return 0;
	if ((buf = malloc(want)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	while (got < want && (k = tarlayer_read_data(r, buf + got, want - got, e)) > 0)
		got += (size_t)k;
	if (got < want) {
		free(buf);
		return e->code ? e->code : err_set(e, ERR_PARSE, "entry %.200s: data shorter than its size", ent->path);
	}
	if ((rc = fstree_set_head(n, buf, got, e)) != 0) {
		free(buf);
		return rc;
	}
	if (capture)
		cache_put(v, ent->path, li, buf, got);
	else if (spool_wanted(v, ent, n))
		rc = spool_put(v, ent, r, n, buf, got, e);
	free(buf);
	return rc;
}

static int apply_entry(struct imageview *v, uint32_t li, const struct tarlayer_entry *ent, struct tarlayer_reader *r,
    const char *label, void *arg, struct err *e)
{
	struct fstree *t = arg;
	struct fs_node *old, *target, tmpl, *n;
	char eb[256];
	int rc;

	err_clear(e);
	if (ent->whiteout == TL_WH_FILE) {
		old = fstree_get(t, ent->path);
		if (old != NULL && CK_LAYER(old->cookie) < li)
			return remove_path(v, t, ent->path, e);
		return 0;
	}
	if (ent->whiteout == TL_WH_OPAQUE) {
		if (strcmp(ent->path, "/") != 0 && (rc = ensure_parents(t, ent->path, li, label, e)) != 0)
			return rc;
		return opaque_clear(v, t, ent->path, li, e);
	}
	old = fstree_get(t, ent->path);
	if (strcmp(ent->path, "/") == 0) {
		old->mode = ent->mode;
		old->uid = ent->uid;
		old->gid = ent->gid;
		old->mtime = ent->mtime;
		return 0;
	}
	if ((rc = ensure_parents(t, ent->path, li, label, e)) != 0)
		return rc;
	if (old != NULL && old->type == FS_DIR && ent->type == TL_DIR) {
		old->mode = ent->mode;
		old->uid = ent->uid;
		old->gid = ent->gid;
		old->mtime = ent->mtime;
		old->cookie = CK_MAKE(li, 0) | (old->cookie & CK_TARGET);
		return 0;
	}
	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.path = (char *)ent->path;
	tmpl.type = type_map[ent->type];
	tmpl.mode = ent->mode;
	tmpl.uid = ent->uid;
	tmpl.gid = ent->gid;
	tmpl.size = ent->size;
	tmpl.mtime = ent->mtime;
	tmpl.dev_major = ent->dev_major;
	tmpl.dev_minor = ent->dev_minor;
	tmpl.cookie = CK_MAKE(li, 0);
	if (ent->type == TL_SYMLINK)
		tmpl.link = (char *)ent->link;
	if (ent->type == TL_HARDLINK) {
		target = fstree_get(t, ent->link);
		if (target != NULL && target->type == FS_HARDLINK)
			target = fstree_get(t, target->link);
		if (target == NULL || target->type != FS_REG || strcmp(target->path, ent->path) == 0) {
			str_escape(eb, sizeof(eb), ent->path, strlen(ent->path), 200);
			return err_set(e, ERR_INVALID,
			    "%s: entry \"%s\": hard link to %.200s, which is not a regular "
			    "file of this or a lower layer; the image is malformed",
			    label, eb, ent->link);
		}
		target->cookie |= CK_TARGET;
		tmpl.link = target->path;
		tmpl.size = target->size;
		tmpl.head = target->head; /* borrowed: fstree_put copies it */
		tmpl.head_len = target->head_len;
	}
	if (old != NULL && (rc = remove_path(v, t, ent->path, e)) != 0)
		return rc;
	if ((rc = fstree_put(t, &tmpl, &n, e)) != 0)
		return rc;
	if (ent->type == TL_HARDLINK)
		v->nhardlinks++;
	if (ent->type == TL_REG)
		return read_head(v, li, ent, r, n, e);
	return 0;
}

/* ---- the read op ---- */

/* The read cursor: the layer stream of the last read stays open, so that reads in tree order (how the steps and the
 * facts ask, and how builders write tars) cost one pass over a layer instead of one pass per file. A read of an entry
 * the cursor has passed starts the layer again. */
static void cursor_close(struct imageview *v)
{
	tarlayer_reader_free(v->cur_r);
	oci_reader_free(v->cur_br);
	v->cur_r = NULL;
	v->cur_br = NULL;
}

static int cursor_open(struct imageview *v, uint32_t li, struct err *e)
{
	const struct oci_descriptor *d = &v->img->layers[li];
	char label[DIGEST_STR_LEN + 32];
	int rc;

	cursor_close(v);
	str_fmt(label, sizeof(label), "layer %s", d->digest);
	if ((rc = oci_blob_open(v->store, d, &v->cur_br, e)) != 0 ||
	    (rc = tarlayer_reader_open(label, blob_src, v->cur_br, &v->opts.limits, &v->cur_r, e)) != 0) {
		cursor_close(v);
		return rc;
	}
	v->cur_layer = li;
	return 0;
}

static int slot_read(struct imageview *v, const struct slot *sl, const struct fs_node *n, size_t cap,
    struct strbuf *out, struct err *e)
{
	char buf[COPY_BUF];
	uint64_t left;

	if (sl->len > cap)
		return err_set(e, ERR_TOO_LARGE, "%.200s is larger than %zu bytes", n->path, cap);
	if (fseeko(v->spool, (off_t)sl->off, SEEK_SET) != 0)
		return err_errno(e, errno, "reading the spool file");
	for (left = sl->len; left > 0;) {
		size_t k = left < sizeof(buf) ? (size_t)left : sizeof(buf);

		if (fread(buf, 1, k, v->spool) != k)
			return err_errno(e, errno ? errno : EIO, "reading the spool file");
		if (sb_append(out, buf, k) != 0)
			return err_set(e, ERR_TOO_LARGE, "%.200s is larger than %zu bytes", n->path, cap);
		left -= k;
	}
	return 0;
}

static int view_read(struct fs_backend *b, const struct fs_node *n, size_t cap, struct strbuf *out, struct err *e)
{
	struct imageview *v = (struct imageview *)b;
	const char *src = node_src(v, n);
	uint32_t li = CK_LAYER(n->cookie);
	const struct tarlayer_entry *ent;
	const struct cached *c;
	bool restarted = false;
	char buf[COPY_BUF];
	ssize_t k;
	int rc;

	if ((c = cache_get(v, src, li)) != NULL) {
		if (c->len > cap)
			return err_set(e, ERR_TOO_LARGE, "%.200s is larger than %zu bytes", n->path, cap);
		return sb_append(out, c->data, c->len) == 0 ? 0 : err_set(e, ERR_NOMEM, "out of memory");
	}
	if (CK_SLOT(n->cookie) > 0 && CK_SLOT(n->cookie) <= v->nslots)
		return slot_read(v, &v->slots[CK_SLOT(n->cookie) - 1], n, cap, out, e);
	if (li >= v->img->n_layers)
		return err_set(e, ERR_INTERNAL, "%.200s: no layer holds its bytes", n->path);
	if (v->cur_r == NULL || v->cur_layer != li) {
		if ((rc = cursor_open(v, li, e)) != 0)
			return rc;
		restarted = true;
	}
	for (;;) {
		if ((rc = tarlayer_next(v->cur_r, &ent, e)) < 0)
			goto fail;
		if (rc == 0) {
			if (restarted) {
				rc = err_set(e, ERR_INTERNAL, "layer %s: %.200s vanished on the second read",
				    v->img->layers[li].digest, src);
				goto fail;
			}
			if ((rc = cursor_open(v, li, e)) != 0)
				return rc;
			restarted = true;
			continue;
		}
		if (ent->whiteout == TL_WH_NONE && ent->type == TL_REG && strcmp(ent->path, src) == 0)
			break;
	}
	if (ent->size > cap)
		return err_set(e, ERR_TOO_LARGE, "%.200s is larger than %zu bytes", n->path, cap);
	while ((k = tarlayer_read_data(v->cur_r, buf, sizeof(buf), e)) > 0)
		if (sb_append(out, buf, (size_t)k) != 0) {
			rc = err_set(e, ERR_TOO_LARGE, "%.200s is larger than %zu bytes", n->path, cap);
			goto fail;
		}
	if (k < 0) {
		rc = (int)k;
		goto fail;
	}
	return 0;
fail:
	cursor_close(v);
	return rc;
}

/* ---- commit: collecting contents ---- */

struct need { /* 32 bytes: one per file a squashed layer copies */
	const char *src;
	uint64_t off, len;
	uint32_t layer;
	bool got;
};

static int need_cmp(const void *a, const void *b)
{
	const struct need *x = a, *y = b;

	if (x->layer != y->layer)
		return x->layer < y->layer ? -1 : 1;
	return strcmp(x->src, y->src);
}

struct spool_ctx {
	struct need *needs;
	size_t n;
	FILE *spool;
	uint64_t off;
};

static int spool_entry(struct imageview *v, uint32_t li, const struct tarlayer_entry *ent, struct tarlayer_reader *r,
    const char *label, void *arg, struct err *e)
{
	struct spool_ctx *s = arg;
	struct need key = { ent->path, 0, 0, li, false }, *hit;
	char buf[COPY_BUF];
	ssize_t k;
	uint64_t len = 0;

	if (ent->whiteout != TL_WH_NONE || ent->type != TL_REG)
		return 0;
	if ((hit = bsearch(&key, s->needs, s->n, sizeof(*s->needs), need_cmp)) == NULL || hit->got)
		return 0;
	while ((k = tarlayer_read_data(r, buf, sizeof(buf), e)) > 0) {
		if (fwrite(buf, 1, (size_t)k, s->spool) != (size_t)k)
			return err_errno(e, errno, "writing the spool file");
		len += (uint64_t)k;
	}
	if (k < 0)
		return (int)k;
	hit->off = s->off;
	hit->len = len;
	hit->got = true;
	s->off += len;
	return 0;
}

/* ---- commit: writing the layer ---- */

struct group {
	const char *target;	 /* path of the hard link target (the content holder) */
	struct fs_node *primary; /* the first emitted member in tree order: written as the regular file */
};

struct commit_ctx {
	struct imageview *v;
	struct fstree *t;
	struct fs_node *const *all;
	size_t n;
	struct need *needs;
	size_t nneeds;
	struct group *groups;
	size_t ngroups;
	FILE *spool;
	struct tarlayer_writer *w;
	struct oci_blob_out *blob;
};

static bool is_deleted(const struct fs_node *n)
{
	return n != NULL && (n->changes & FS_CH_DELETE);
}

/* The node whose bytes n has: its target for a hard link. */
static struct fs_node *content_node(struct commit_ctx *c, struct fs_node *n)
{
	return n->type == FS_HARDLINK ? fstree_get(c->t, n->link) : n;
}

static struct group *group_find(struct commit_ctx *c, const char *target)
{
	size_t i;

	for (i = 0; i < c->ngroups; i++)
		if (strcmp(c->groups[i].target, target) == 0)
			return &c->groups[i];
	return NULL;
}

/* Whether deleted node n needs its own whiteout in the new layer: not when it was created by this run, nor when
 * its parent's whiteout already covers it. */
static bool writes_whiteout(struct commit_ctx *c, const struct fs_node *n)
{
	char buf[TARLAYER_DEFAULT_MAX_PATH + 2], *slash;
	const struct fs_node *parent;

	if (!is_deleted(n) || (n->changes & FS_CH_CREATE) || str_copy(buf, sizeof(buf), n->path) != 0)
		return false;
	slash = strrchr(buf, '/');
	if (slash == buf)
		return true;
	*slash = '\0';
	parent = fstree_get(c->t, buf);
	return !(is_deleted(parent) && !(parent->changes & FS_CH_CREATE));
}

/* Decides which nodes go into the new layer (CK_EMIT) and the primary of every hard link group. */
static int plan(struct commit_ctx *c, bool squash, struct err *e)
{
	size_t i, cap;

	for (i = 0; i < c->n; i++) {
		struct fs_node *n = c->all[i];

		n->cookie &= ~CK_EMIT;
		if (strcmp(n->path, "/") == 0 || is_deleted(n))
			continue;
		if (squash || (n->changes & (FS_CH_MODE | FS_CH_OWNER | FS_CH_CONTENT | FS_CH_CREATE)))
			n->cookie |= CK_EMIT;
	}
	/* a hard link whose target changed or went away is written too */
	for (i = 0; i < c->n; i++) {
		struct fs_node *n = c->all[i], *target;

		if (n->type != FS_HARDLINK || is_deleted(n) || (n->cookie & CK_EMIT))
			continue;
		target = fstree_get(c->t, n->link);
		if (target == NULL || is_deleted(target) || (target->cookie & CK_EMIT))
			n->cookie |= CK_EMIT;
	}
	/* the parents of what is written are written too, with their current metadata */
	for (i = c->n; i-- > 0;) {
		struct fs_node *n = c->all[i], *p;
		char buf[TARLAYER_DEFAULT_MAX_PATH + 2], *slash;

		if (!(n->cookie & CK_EMIT) && (squash || !writes_whiteout(c, n)))
			continue;
		if (str_copy(buf, sizeof(buf), n->path) != 0)
			continue;
		while ((slash = strrchr(buf, '/')) != NULL && slash != buf) {
			*slash = '\0';
			if ((p = fstree_get(c->t, buf)) == NULL || (p->cookie & CK_EMIT))
				break;
			p->cookie |= CK_EMIT;
		}
	}
	for (i = 0, cap = 0; i < c->n; i++) /* sized by the members written, not by the image (memory per entry) */
		if ((c->all[i]->cookie & CK_EMIT) &&
		    (c->all[i]->type == FS_HARDLINK || (c->all[i]->type == FS_REG && (c->all[i]->cookie & CK_TARGET))))
			cap++;
	if ((c->groups = calloc(cap ? cap : 1, sizeof(*c->groups))) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (i = 0; i < c->n; i++) {
		struct fs_node *n = c->all[i];
		const char *target;

		if (!(n->cookie & CK_EMIT))
			continue;
		if (n->type == FS_HARDLINK)
			target = n->link;
		else if (n->type == FS_REG && (n->cookie & CK_TARGET))
			target = n->path;
		else
			continue;
		if (group_find(c, target) == NULL) {
			c->groups[c->ngroups].target = target;
			c->groups[c->ngroups].primary = n;
			c->ngroups++;
		}
	}
	return 0;
}

/* Lists the layer contents the plan needs and spools them. */
static int collect(struct commit_ctx *c, struct err *e)
{
	struct spool_ctx s;
	size_t i, j, cap;
	int rc;

	for (i = 0, cap = 0; i < c->n; i++) /* sized by the files written, not by the image (memory per entry) */
		if ((c->all[i]->cookie & CK_EMIT) && (c->all[i]->type == FS_REG || c->all[i]->type == FS_HARDLINK))
			cap++;
	if ((c->needs = calloc(cap ? cap : 1, sizeof(*c->needs))) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (i = 0; i < c->n; i++) {
		struct fs_node *n = c->all[i], *cn;
		struct group *g;

		if (!(n->cookie & CK_EMIT) || (n->type != FS_REG && n->type != FS_HARDLINK))
			continue;
		cn = content_node(c, n);
		if (cn == NULL)
			return err_set(e, ERR_INTERNAL, "hard link %.200s lost its target", n->path);
		g = group_find(c, cn->path);
		if (g != NULL && g->primary != n)
			continue; /* written as a link to the primary */
		if (cn->changes & (FS_CH_CONTENT | FS_CH_CREATE))
			continue; /* new bytes are in the node */
		if (CK_SLOT(cn->cookie) > 0)
			continue; /* spooled while loading */
		if (cn->size == 0)
			continue; /* nothing to read (write_file writes the entry alone) */
		c->needs[c->nneeds].layer = CK_LAYER(cn->cookie);
		c->needs[c->nneeds].src = node_src(c->v, cn);
		c->nneeds++;
	}
	if (c->nneeds == 0)
		return 0;
	qsort(c->needs, c->nneeds, sizeof(*c->needs), need_cmp);
	for (i = 1, j = 0; i < c->nneeds; i++) /* drop duplicates */
		if (need_cmp(&c->needs[i], &c->needs[j]) != 0)
			c->needs[++j] = c->needs[i];
	c->nneeds = j + 1;
	if ((c->spool = tmpfile()) == NULL)
		return err_errno(e, errno, "creating a spool file in %s", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	memset(&s, 0, sizeof(s));
	s.needs = c->needs;
	s.n = c->nneeds;
	s.spool = c->spool;
	for (i = 0; i < c->nneeds; i++) {
		if (i > 0 && c->needs[i].layer == c->needs[i - 1].layer)
			continue;
		if (c->v->opts.progress)
			fprintf(stderr, "\rhardline: collecting contents from layer %u of %zu ", c->needs[i].layer + 1,
			    c->v->img->n_layers);
		if ((rc = layer_stream(c->v, c->needs[i].layer, spool_entry, &s, false, e)) != 0)
			return rc;
	}
	for (i = 0; i < c->nneeds; i++)
		if (!c->needs[i].got)
			return err_set(e, ERR_INTERNAL, "layer %s: %.200s vanished on the second read",
			    c->v->img->layers[c->needs[i].layer].digest, c->needs[i].src);
	if (fflush(c->spool) != 0)
		return err_errno(e, errno, "writing the spool file");
	return 0;
}

static int sink_blob(void *arg, const void *buf, size_t n, struct err *e)
{
	return oci_blob_out_write(arg, buf, n, e);
}

static const enum tarlayer_type tl_map[] = {
	[FS_REG] = TL_REG,
	[FS_DIR] = TL_DIR,
	[FS_SYMLINK] = TL_SYMLINK,
	[FS_HARDLINK] = TL_HARDLINK,
	[FS_CHR] = TL_CHR,
	[FS_BLK] = TL_BLK,
	[FS_FIFO] = TL_FIFO,
	[FS_SOCK] = TL_FIFO,
};

/* Writes n as a regular file with the bytes of its content node cn. */
static int write_file(struct commit_ctx *c, struct tarlayer_entry *ent, struct fs_node *cn, struct err *e)
{
	struct need key = { NULL, 0, 0, 0, false }, *hit;
	struct slot sl;
	FILE *spool;
	char buf[COPY_BUF];
	uint64_t left;
	int rc;

	ent->type = TL_REG;
	ent->link = NULL;
	if (cn->changes & (FS_CH_CONTENT | FS_CH_CREATE)) {
		ent->size = cn->content ? cn->content_len : 0;
		if ((rc = tarlayer_write_entry(c->w, ent, e)) != 0)
			return rc;
		return cn->content ? tarlayer_write_data(c->w, cn->content, cn->content_len, e) : 0;
	}
	if (CK_SLOT(cn->cookie) > 0 && CK_SLOT(cn->cookie) <= c->v->nslots) {
		sl = c->v->slots[CK_SLOT(cn->cookie) - 1];
		spool = c->v->spool;
	} else if (cn->size == 0) { /* not collected: an empty file */
		ent->size = 0;
		return tarlayer_write_entry(c->w, ent, e);
	} else {
		key.layer = CK_LAYER(cn->cookie);
		key.src = node_src(c->v, cn);
		if ((hit = bsearch(&key, c->needs, c->nneeds, sizeof(*c->needs), need_cmp)) == NULL)
			return err_set(e, ERR_INTERNAL, "no spooled content for %.200s", ent->path);
		sl.off = hit->off;
		sl.len = hit->len;
		spool = c->spool;
	}
	ent->size = sl.len;
	if ((rc = tarlayer_write_entry(c->w, ent, e)) != 0)
		return rc;
	if (fseeko(spool, (off_t)sl.off, SEEK_SET) != 0)
		return err_errno(e, errno, "reading the spool file");
	for (left = sl.len; left > 0;) {
		size_t k = left < sizeof(buf) ? (size_t)left : sizeof(buf);

		if (fread(buf, 1, k, spool) != k)
			return err_errno(e, errno ? errno : EIO, "reading the spool file");
		if ((rc = tarlayer_write_data(c->w, buf, k, e)) != 0)
			return rc;
		left -= k;
	}
	return 0;
}

static int write_entries(struct commit_ctx *c, bool squash, struct err *e)
{
	size_t i;
	int rc;

	for (i = 0; i < c->n; i++) {
		struct fs_node *n = c->all[i], *cn;
		struct tarlayer_entry ent;
		struct group *g;

		if (is_deleted(n)) {
			if (squash || !writes_whiteout(c, n))
				continue;
			if ((rc = tarlayer_write_whiteout(c->w, n->path, e)) != 0)
				return rc;
			c->v->layer_entries++;
			continue;
		}
		if (!(n->cookie & CK_EMIT))
			continue;
		memset(&ent, 0, sizeof(ent));
		ent.path = n->path;
		ent.type = tl_map[n->type];
		ent.mode = n->mode;
		ent.uid = n->uid;
		ent.gid = n->gid;
		ent.mtime = n->mtime;
		ent.dev_major = n->dev_major;
		ent.dev_minor = n->dev_minor;
		ent.link = n->link;
		c->v->layer_entries++;
		if (n->type == FS_REG || n->type == FS_HARDLINK) {
			if ((cn = content_node(c, n)) == NULL)
				return err_set(e, ERR_INTERNAL, "hard link %.200s lost its target", n->path);
			g = group_find(c, cn->path);
			if (g != NULL && !is_deleted(cn)) {
				/* one inode: every name of the group carries the target's metadata */
				ent.mode = cn->mode;
				ent.uid = cn->uid;
				ent.gid = cn->gid;
			}
			if (g != NULL && g->primary != n) {
				ent.type = TL_HARDLINK;
				ent.link = g->primary->path;
				ent.size = 0;
				if ((rc = tarlayer_write_entry(c->w, &ent, e)) != 0)
					return rc;
				continue;
			}
			if ((rc = write_file(c, &ent, cn, e)) != 0)
				return rc;
			continue;
		}
		if (n->type == FS_SOCK) {
			c->v->layer_entries--;
			continue; /* sockets are not kept in layers */
		}
		if ((rc = tarlayer_write_entry(c->w, &ent, e)) != 0)
			return rc;
	}
	return 0;
}

/* ---- commit: config and manifest ---- */

static int history_count_layers(const json_t *hist)
{
	size_t i;
	json_t *h;
	int n = 0;

	json_array_foreach(hist, i, h)
	{
		if (!json_is_true(json_object_get(h, "empty_layer")))
			n++;
	}
	return n;
}

static json_t *history_entry(const struct imageview_output *o, const char *created, bool empty)
{
	char by[160];
	json_t *h = json_object();

	str_fmt(by, sizeof(by), "hardline harden (policy %s)", o->policy_digest ? o->policy_digest : "none");
	if (h == NULL)
		return NULL;
	if (created != NULL)
		json_object_set_new(h, "created", json_string(created));
	json_object_set_new(h, "created_by", json_string(by));
	json_object_set_new(h, "comment",
	    json_string(o->squash ? "hardened and squashed into one layer" : "hardened: whiteouts and changed files"));
	if (empty)
		json_object_set_new(h, "empty_layer", json_true());
	return h;
}

/* The new config: User, labels, created, diff_ids and history. */
static int make_config(struct imageview *v, const char *diff_id, json_t **out, struct err *e)
{
	const struct imageview_output *o = &v->out;
	json_t *cfg, *cc, *labels, *rootfs, *diffs, *hist, *nh;
	const char *created = o->created;
	char cbuf[64];
	size_t i;
	int have;

	*out = NULL;
	if ((cfg = json_deep_copy(v->img->config)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	if (created == NULL && json_is_string(json_object_get(cfg, "created")) &&
	    str_copy(cbuf, sizeof(cbuf), json_string_value(json_object_get(cfg, "created"))) == 0)
		created = cbuf;
	if (created != NULL)
		json_object_set_new(cfg, "created", json_string(created));
	if (!json_is_object(cc = json_object_get(cfg, "config"))) {
		cc = json_object();
		json_object_set_new(cfg, "config", cc);
	}
	if (o->user != NULL)
		json_object_set_new(cc, "User", json_string(o->user));
	if (!json_is_object(labels = json_object_get(cc, "Labels"))) {
		labels = json_object();
		json_object_set_new(cc, "Labels", labels);
	}
	json_object_set_new(labels, "dev.hardline.version", json_string(o->version ? o->version : "unknown"));
	if (o->policy_digest != NULL)
		json_object_set_new(labels, "dev.hardline.policy.digest", json_string(o->policy_digest));
	rootfs = json_object();
	diffs = json_array();
	if (!o->squash)
		for (i = 0; i < v->img->n_layers; i++)
			json_array_append_new(diffs, json_string(v->img->diff_ids[i]));
	if (diff_id != NULL)
		json_array_append_new(diffs, json_string(diff_id));
	json_object_set_new(rootfs, "type", json_string("layers"));
	json_object_set_new(rootfs, "diff_ids", diffs);
	json_object_set_new(cfg, "rootfs", rootfs);
	if (!json_is_array(hist = json_object_get(cfg, "history"))) {
		hist = json_array();
		json_object_set_new(cfg, "history", hist);
	}
	if (o->squash) {
		json_t *h;

		json_array_foreach(hist, i, h)
		{
			if (json_is_object(h))
				json_object_set_new(h, "empty_layer", json_true());
		}
	} else {
		/* one non-empty history entry per input layer, so that ours lines up with its diff_id */
		for (have = history_count_layers(hist); have < (int)v->img->n_layers; have++) {
			json_t *pad = json_object();

			if (created != NULL)
				json_object_set_new(pad, "created", json_string(created));
			json_object_set_new(pad, "comment",
			    json_string("added by hardline: the input had no history "
					"entry for this layer"));
			json_array_append_new(hist, pad);
		}
	}
	if ((nh = history_entry(o, created, diff_id == NULL)) == NULL) {
		json_decref(cfg);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	json_array_append_new(hist, nh);
	*out = cfg;
	return 0;
}

static int view_commit(struct fs_backend *b, struct fstree *t, struct err *e)
{
	struct imageview *v = (struct imageview *)b;
	struct commit_ctx c;
	struct oci_descriptor *layers = NULL, newl;
	char diff_id[DIGEST_STR_LEN + 1], dig[DIGEST_STR_LEN + 1];
	json_t *cfg = NULL;
	uint64_t size;
	size_t i, nl = 0;
	int rc;

	memset(&c, 0, sizeof(c));
	memset(&newl, 0, sizeof(newl));
	if (!v->have_out)
		return err_set(e, ERR_INTERNAL, "image backend: commit without an output");
	cursor_close(v);
	c.v = v;
	c.t = t;
	c.all = fstree_sorted(t, &c.n);
	v->layer_entries = 0;
	if ((rc = plan(&c, v->out.squash, e)) != 0 || (rc = collect(&c, e)) != 0)
		goto out;
	if ((rc = oci_writer_blob_begin(v->out.writer, &c.blob, e)) != 0 ||
	    (rc = tarlayer_writer_new(v->out.compression, v->out.max_mtime, sink_blob, c.blob, &c.w, e)) != 0 ||
	    (rc = write_entries(&c, v->out.squash, e)) != 0 ||
	    (rc = tarlayer_writer_finish(c.w, diff_id, dig, &size, e)) != 0)
		goto out;
	if ((layers = calloc(v->img->n_layers + 1, sizeof(*layers))) == NULL) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	if (!v->out.squash)
		for (i = 0; i < v->img->n_layers; i++) {
			if (v->opts.progress)
				fprintf(stderr, "\rhardline: copying layer %zu of %zu ", i + 1, v->img->n_layers);
			if ((rc = oci_writer_copy_blob(v->out.writer, v->store, &v->img->layers[i], &layers[nl], e)) !=
			    0)
				goto out;
			nl++;
		}
	if (v->layer_entries > 0 || v->out.squash) {
		rc = oci_blob_out_commit(c.blob, tarlayer_media_type(v->out.compression), &layers[nl], e);
		c.blob = NULL;
		if (rc != 0)
			goto out;
		nl++;
	}
	if ((rc = make_config(v, v->layer_entries > 0 || v->out.squash ? diff_id : NULL, &cfg, e)) != 0)
		goto out;
	oci_descriptor_cleanup(&v->manifest);
	if ((rc = oci_writer_add_image(v->out.writer, cfg, layers, nl, NULL, &v->img->manifest_desc, &v->manifest,
		 e)) != 0)
		goto out;
	v->have_manifest = true;
	if (v->opts.progress)
		fprintf(stderr, "\r\033[K");
	rc = 0;
out:
	for (i = 0; i < c.n; i++)
		c.all[i]->cookie &= ~CK_EMIT;
	if (layers != NULL)
		for (i = 0; i < nl; i++)
			oci_descriptor_cleanup(&layers[i]);
	free(layers);
	json_decref(cfg);
	tarlayer_writer_free(c.w);
	oci_blob_out_abort(c.blob);
	if (c.spool != NULL)
		fclose(c.spool);
	free(c.needs);
	free(c.groups);
	return rc;
}

/* ---- lifecycle ---- */

static void view_free(struct fs_backend *b)
{
	struct imageview *v = (struct imageview *)b;
	size_t i;

	if (v == NULL)
		return;
	cursor_close(v);
	if (v->spool != NULL)
		fclose(v->spool);
	free(v->slots);
	for (i = 0; i < v->nalt; i++)
		free(v->alt[i]);
	free(v->alt);
	for (i = 0; i < v->ncache; i++) {
		free(v->cache[i].path);
		free(v->cache[i].data);
	}
	free(v->cache);
	oci_descriptor_cleanup(&v->manifest);
	free(v);
}

static const struct fs_backend_ops imageview_ops = {
	.name = "image",
	.read = view_read,
	.commit = view_commit,
	.free = view_free,
};

int imageview_open(struct oci_store *s, const struct oci_image *img, const struct imageview_opts *o,
    struct fs_backend **out, struct fstree **tree, struct err *e)
{
	struct imageview *v = NULL;
	struct fstree *t = NULL;
	struct fs_node root;
	size_t i;
	int rc = ERR_NOMEM;

	*out = NULL;
	*tree = NULL;
	if (img->n_layers > MAX_LAYERS)
		return err_set(e, ERR_TOO_LARGE, "image has %zu layers; at most %u are supported", img->n_layers,
		    MAX_LAYERS);
	if ((v = calloc(1, sizeof(*v))) == NULL || (t = fstree_new()) == NULL) {
		err_set(e, rc, "out of memory opening the image");
		goto out;
	}
	v->base.ops = &imageview_ops;
	v->store = s;
	v->img = img;
	v->opts = *o;
	memset(&root, 0, sizeof(root));
	root.path = "/";
	root.type = FS_DIR;
	root.mode = 0755;
	if ((rc = fstree_put(t, &root, NULL, e)) != 0)
		goto out;
	for (i = 0; i < img->n_layers; i++) {
		if (v->opts.progress)
			fprintf(stderr, "\rhardline: layer %zu of %zu ", i + 1, img->n_layers);
		if ((rc = layer_stream(v, (uint32_t)i, apply_entry, t, true, e)) != 0)
			goto out;
	}
	if (v->opts.progress)
		fprintf(stderr, "\r\033[K");
	*out = &v->base;
	v = NULL; /* transferred */
	*tree = t;
	t = NULL; /* transferred */
	rc = 0;
out:
	if (v != NULL)
		view_free(&v->base);
	fstree_free(t);
	return rc;
}

void imageview_set_output(struct fs_backend *b, const struct imageview_output *o)
{
	struct imageview *v = (struct imageview *)b;

	v->out = *o;
	v->have_out = true;
}

const struct oci_descriptor *imageview_manifest(const struct fs_backend *b)
{
	const struct imageview *v = (const struct imageview *)b;

	return v->have_manifest ? &v->manifest : NULL;
}

uint64_t imageview_layer_entries(const struct fs_backend *b)
{
	return ((const struct imageview *)b)->layer_entries;
}

int imageview_parse_time(const char *s, int64_t *out, struct err *e)
{
	struct tm tm;
	const char *p;
	int64_t t, off = 0;

	memset(&tm, 0, sizeof(tm));
	if ((p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		goto bad;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
		int hh = (p[1] - '0') * 10 + (p[2] - '0'), mm = (p[4] - '0') * 10 + (p[5] - '0');

		off = (int64_t)(hh * 3600 + mm * 60) * (*p == '+' ? 1 : -1);
		p += 6;
	} else {
		goto bad;
	}
	if (*p != '\0')
		goto bad;
	t = (int64_t)timegm(&tm);
	*out = t - off;
	return 0;
bad:
	return err_set(e, ERR_PARSE, "time \"%.60s\" is not RFC 3339", s);
}

void imageview_fmt_time(int64_t t, char buf[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		str_copy(buf, 32, "1970-01-01T00:00:00Z");
}
