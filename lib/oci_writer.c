/* oci_writer — writing an output image: blobs are streamed and hashed into a layout built beside the destination,
 * manifests and config are serialized deterministically, and finish puts the result in place with one rename
 * (oci:DIR) or writes a reproducible tar of the layout (oci-archive:FILE). An unfinished writer leaves nothing,
 * nor does one killed by SIGTERM, SIGINT or SIGHUP: its temporaries are registered with lib/cleanup. */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fileio.h"
#include "lib/json.h"
#include "lib/oci.h"
#include "lib/transport.h"

#define OCI_LAYOUT_JSON "{\"imageLayoutVersion\":\"1.0.0\"}"

enum wmode { W_NEW_DIR, W_EXISTING_DIR, W_ARCHIVE };

struct oci_writer {
	struct transport_ref ref;
	char label[PATH_MAX + 300];
	enum wmode mode;
	char layout[PATH_MAX]; /* the layout being written: a temp dir, or DST itself (W_EXISTING_DIR) */
	bool layout_is_temp;
	char tmp_tar[PATH_MAX]; /* W_ARCHIVE: the tar being written, "" when none */
	struct oci_descriptor *images;
	size_t n_images;
	json_t *extras; /* index.json entries added by oci_writer_add_index_entry, or NULL */
	bool finished;
};

struct oci_blob_out {
	struct oci_writer *w;
	int fd;
	char tmp[PATH_MAX];
	struct sha256 h;
	uint64_t n;
	const char *verified; /* copy_blob: the digest the source reader verifies; the bytes are not hashed again */
};

/* Removes a temporary file made with cleanup_mkstemp and unregisters it. */
static void tmp_remove(const char *path)
{
	(void)unlink(path);
	cleanup_forget(path);
}

/* Creates blobs/ and blobs/sha256/ in the layout being built (existing ones are fine). Errors name the path. */
static int mkdirs_layout(struct oci_writer *w, struct err *e)
{
	char p[PATH_MAX];

	if (str_fmt(p, sizeof(p), "%s/blobs", w->layout) != 0)
		return err_set(e, ERR_TOO_LARGE, "%s: path too long", w->label);
	if (mkdir(p, 0755) != 0 && errno != EEXIST)
		return err_errno(e, errno, "%s: mkdir %s", w->label, p);
	if (str_fmt(p, sizeof(p), "%s/blobs/sha256", w->layout) != 0)
		return err_set(e, ERR_TOO_LARGE, "%s: path too long", w->label);
	if (mkdir(p, 0755) != 0 && errno != EEXIST)
		return err_errno(e, errno, "%s: mkdir %s", w->label, p);
	return 0;
}

int oci_writer_new(const char *dst_ref, struct oci_writer **out, struct err *e)
{
	struct oci_writer *w;
	struct stat st;
	char p[PATH_MAX];
	DIR *d;
	struct dirent *de;
	bool empty = true;
	int r;

	*out = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	if ((r = transport_parse(dst_ref, true, &w->ref, e)) != 0)
		goto out;
	/* "out/" names the directory "out": the temporaries go beside it, not inside. */
	for (size_t len = strlen(w->ref.path); len > 1 && w->ref.path[len - 1] == '/'; len--)
		w->ref.path[len - 1] = '\0';
	(void)transport_fmt(&w->ref, w->label, sizeof(w->label));
	if (w->ref.kind == TRANSPORT_OCI_ARCHIVE) {
		w->mode = W_ARCHIVE;
		if (stat(w->ref.path, &st) == 0 && S_ISDIR(st.st_mode)) {
			r = err_set(e, ERR_EXISTS, "%s: %s is a directory; name a file for oci-archive or use oci:%s",
			    w->label, w->ref.path, w->ref.path);
			goto out;
		}
	} else if (stat(w->ref.path, &st) != 0) {
		if (errno != ENOENT) {
			r = err_errno(e, errno, "%s: stat %s", w->label, w->ref.path);
			goto out;
		}
		w->mode = W_NEW_DIR;
	} else if (!S_ISDIR(st.st_mode)) {
		r = err_set(e, ERR_EXISTS,
		    "%s: %s exists and is not a directory; remove it or choose another "
		    "destination",
		    w->label, w->ref.path);
		goto out;
	} else {
		(void)str_fmt(p, sizeof(p), "%s/oci-layout", w->ref.path);
		if (access(p, F_OK) == 0) {
			w->mode = W_EXISTING_DIR;
		} else {
			if ((d = opendir(w->ref.path)) == NULL) {
				r = err_errno(e, errno, "%s: open %s", w->label, w->ref.path);
				goto out;
			}
			while ((de = readdir(d)) != NULL)
				if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
					empty = false;
			closedir(d);
			if (!empty) {
				r = err_set(e, ERR_EXISTS,
				    "%s: %s is a non-empty directory that is not an OCI layout; "
				    "refusing to overwrite it, choose another destination",
				    w->label, w->ref.path);
				goto out;
			}
			w->mode = W_NEW_DIR;
		}
	}
	if (w->mode == W_EXISTING_DIR) {
		if ((r = str_copy(w->layout, sizeof(w->layout), w->ref.path)) != 0) {
			r = err_set(e, ERR_TOO_LARGE, "%s: path too long", w->label);
			goto out;
		}
	} else {
		/* Beside the destination, so that the final rename stays on one filesystem. */
		if (str_fmt(w->layout, sizeof(w->layout), "%s.tmp-XXXXXX", w->ref.path) != 0) {
			r = err_set(e, ERR_TOO_LARGE, "%s: path too long", w->label);
			goto out;
		}
		/* registered: SIGTERM/SIGINT/SIGHUP remove it (lib/cleanup) */
		if ((r = cleanup_mkdtemp(w->layout, e)) != 0) {
			err_prefix(e, "%s: create a temporary directory beside %s", w->label, w->ref.path);
			w->layout[0] = '\0';
			goto out;
		}
		(void)chmod(w->layout, 0755);
		w->layout_is_temp = true;
	}
	if ((r = mkdirs_layout(w, e)) != 0)
		goto out;
	*out = w;
	w = NULL; /* transferred */
	r = 0;
out:
	oci_writer_free(w);
	return r;
}

void oci_writer_free(struct oci_writer *w)
{
	size_t i;

	if (w == NULL)
		return;
	if (w->layout_is_temp && w->layout[0] != '\0') {
		fileio_remove_tree(w->layout);
		cleanup_forget(w->layout);
	}
	if (w->tmp_tar[0] != '\0')
		tmp_remove(w->tmp_tar);
	for (i = 0; i < w->n_images; i++)
		oci_descriptor_cleanup(&w->images[i]);
	free(w->images);
	json_decref(w->extras);
	free(w);
}

int oci_writer_add_index_entry(struct oci_writer *w, const struct oci_descriptor *d, struct err *e)
{
	json_t *j;

	if (w->extras == NULL && (w->extras = json_array()) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	if (json_array_size(w->extras) >= OCI_MAX_ENTRIES)
		return err_set(e, ERR_TOO_LARGE, "%s: more than %d index entries", w->label, OCI_MAX_ENTRIES);
	if ((j = oci_descriptor_to_json(d)) == NULL || json_array_append_new(w->extras, j) != 0)
		return err_set(e, ERR_NOMEM, "out of memory");
	return 0;
}

/* The ref.name annotation of an index entry, or NULL. */
static const char *entry_ref(const json_t *v)
{
	return json_string_value(json_object_get(json_object_get(v, "annotations"), OCI_ANN_REF_NAME));
}

/* Whether the extra entry x replaces the existing entry v: same ref.name, or both untagged with one digest. */
static bool extra_replaces(const json_t *x, const json_t *v)
{
	const char *tx = entry_ref(x), *tv = entry_ref(v);

	if (tx != NULL)
		return tv != NULL && strcmp(tx, tv) == 0;
	return tv == NULL && json_equal(json_object_get(x, "digest"), json_object_get(v, "digest"));
}

int oci_writer_blob_begin(struct oci_writer *w, struct oci_blob_out **out, struct err *e)
{
	struct oci_blob_out *b;
	int r;

	*out = NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	b->w = w;
	b->fd = -1;
	if (str_fmt(b->tmp, sizeof(b->tmp), "%s/blobs/sha256/.tmp-XXXXXX", w->layout) != 0) {
		free(b);
		return err_set(e, ERR_TOO_LARGE, "%s: path too long", w->label);
	}
	if ((b->fd = cleanup_mkstemp(b->tmp, O_CLOEXEC, e)) < 0) {
		r = b->fd;
		err_prefix(e, "%s: create a blob file in %s", w->label, w->layout);
		free(b);
		return r;
	}
	if ((r = sha256_init(&b->h, e)) != 0) {
		close(b->fd);
		tmp_remove(b->tmp);
		free(b);
		return r;
	}
	*out = b;
	return 0;
}

int oci_blob_out_write(struct oci_blob_out *b, const void *p, size_t n, struct err *e)
{
	if (b->verified == NULL)
		sha256_update(&b->h, p, n);
	b->n += n;
	if (fileio_write_all(b->fd, p, n) != 0)
		return err_errno(e, errno, "%s: write %s", b->w->label, b->tmp);
	return 0;
}

void oci_blob_out_abort(struct oci_blob_out *b)
{
	if (b == NULL)
		return;
	sha256_cleanup(&b->h);
	if (b->fd >= 0)
		close(b->fd);
	tmp_remove(b->tmp);
	free(b);
}

int oci_blob_out_commit(struct oci_blob_out *b, const char *media_type, struct oci_descriptor *desc, struct err *e)
{
	struct oci_writer *w = b->w;
	char final[PATH_MAX], dg[DIGEST_STR_LEN + 1];
	int r;

	memset(desc, 0, sizeof(*desc));
	if (fchmod(b->fd, 0644) != 0 || fsync(b->fd) != 0) {
		r = err_errno(e, errno, "%s: finish %s", w->label, b->tmp);
		goto out;
	}
	if (b->verified != NULL)
		str_copy(dg, sizeof(dg), b->verified);
	else
		sha256_final(&b->h, NULL, dg);
	if (str_fmt(final, sizeof(final), "%s/blobs/sha256/%s", w->layout, dg + 7) != 0) {
		r = err_set(e, ERR_TOO_LARGE, "%s: path too long", w->label);
		goto out;
	}
	if (rename(b->tmp, final) != 0) {
		r = err_errno(e, errno, "%s: rename %s to %s", w->label, b->tmp, final);
		goto out;
	}
	cleanup_forget(b->tmp);
	b->tmp[0] = '\0';
	if ((desc->media_type = strdup(media_type)) == NULL) {
		r = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	memcpy(desc->digest, dg, sizeof(dg));
	desc->size = b->n;
	r = 0;
out:
	if (b->tmp[0] != '\0')
		tmp_remove(b->tmp);
	sha256_cleanup(&b->h);
	close(b->fd);
	free(b);
	return r;
}

int oci_writer_add_blob_bytes(struct oci_writer *w, const void *p, size_t n, const char *media_type,
    struct oci_descriptor *desc, struct err *e)
{
	struct oci_blob_out *b;
	int r;

	memset(desc, 0, sizeof(*desc));
	if ((r = oci_writer_blob_begin(w, &b, e)) != 0)
		return r;
	if ((r = oci_blob_out_write(b, p, n, e)) != 0) {
		oci_blob_out_abort(b);
		return r;
	}
	return oci_blob_out_commit(b, media_type, desc, e);
}

int oci_writer_copy_blob(struct oci_writer *w, struct oci_store *s, const struct oci_descriptor *d,
    struct oci_descriptor *desc, struct err *e)
{
	struct oci_reader *rd = NULL;
	struct oci_blob_out *b = NULL;
	const char *mt;
	char buf[65536];
	ssize_t k;
	int r;

	memset(desc, 0, sizeof(*desc));
	mt = oci_mt_to_oci(d->media_type);
	if ((r = oci_blob_open(s, d, &rd, e)) != 0 || (r = oci_writer_blob_begin(w, &b, e)) != 0)
		goto out;
	/* The reader hashes what it returns and fails at the end unless that is d->digest, and the loop writes exactly
	 * those bytes: a second hash on the write side would only repeat the first. */
	b->verified = d->digest;
	while ((k = oci_reader_read(rd, buf, sizeof(buf), e)) > 0)
		if ((r = oci_blob_out_write(b, buf, (size_t)k, e)) != 0)
			goto out;
	if (k < 0) {
		r = (int)k;
		goto out;
	}
	r = oci_blob_out_commit(b, mt != NULL ? mt : d->media_type, desc, e);
	b = NULL; /* freed by commit */
	if (r == 0 && strcmp(desc->digest, d->digest) != 0)
		r = err_set(e, ERR_INTERNAL, "%s: copied blob %s was written as %s", w->label, d->digest, desc->digest);
out:
	oci_blob_out_abort(b);
	oci_reader_free(rd);
	if (r != 0)
		oci_descriptor_cleanup(desc);
	return r;
}

/* {"mediaType","digest","size"[,"annotations"]} of a layer or config descriptor, media type converted to OCI. */
static json_t *content_desc_json(const struct oci_descriptor *d, struct err *e)
{
	struct oci_descriptor c = *d;
	const char *mt = oci_mt_to_oci(d->media_type);
	json_t *o;

	if (mt == NULL) {
		err_set(e, ERR_UNSUPPORTED, "blob %s: media type \"%.100s\" has no OCI equivalent", d->digest,
		    d->media_type != NULL ? d->media_type : "");
		return NULL;
	}
	c.media_type = (char *)mt;
	c.platform_os = c.platform_arch = c.platform_variant = NULL;
	if ((o = oci_descriptor_to_json(&c)) == NULL)
		err_set(e, ERR_NOMEM, "out of memory");
	return o;
}

/* Remembers a copy of the image descriptor d for index.json; ERR_TOO_LARGE past OCI_MAX_ENTRIES, ERR_NOMEM. */
static int record_image(struct oci_writer *w, const struct oci_descriptor *d, struct err *e)
{
	struct oci_descriptor *g;

	if (w->n_images == OCI_MAX_ENTRIES)
		return err_set(e, ERR_TOO_LARGE, "%s: more than %d images", w->label, OCI_MAX_ENTRIES);
	if ((g = realloc(w->images, (w->n_images + 1) * sizeof(*g))) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	w->images = g;
	if (oci_descriptor_copy(&g[w->n_images], d, e) != 0)
		return ERR_NOMEM;
	w->n_images++;
	return 0;
}

int oci_writer_add_image(struct oci_writer *w, const json_t *config, const struct oci_descriptor *layers,
    size_t n_layers, const json_t *annotations, const struct oci_descriptor *platform_from,
    struct oci_descriptor *manifest, struct err *e)
{
	struct oci_descriptor cfg, man;
	struct strbuf sb;
	json_t *m = NULL, *arr = NULL, *v;
	const char *os, *arch, *variant;
	size_t i;
	int r;

	memset(&cfg, 0, sizeof(cfg));
	memset(&man, 0, sizeof(man));
	if (manifest != NULL)
		memset(manifest, 0, sizeof(*manifest));
	sb_init(&sb, OCI_JSON_MAX);
	if ((r = oci_json_dump(config, &sb, e)) != 0 ||
	    (r = oci_writer_add_blob_bytes(w, sb.data, sb.len, OCI_MT_CONFIG, &cfg, e)) != 0)
		goto out;
	sb_cleanup(&sb);
	if ((m = json_object()) == NULL || (arr = json_array()) == NULL ||
	    json_object_set_new(m, "schemaVersion", json_integer(2)) != 0 ||
	    json_object_set_new(m, "mediaType", json_string(OCI_MT_MANIFEST)) != 0) {
		r = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((v = content_desc_json(&cfg, e)) == NULL || json_object_set_new(m, "config", v) != 0) {
		r = v == NULL ? ERR_UNSUPPORTED : err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n_layers; i++) {
		if ((v = content_desc_json(&layers[i], e)) == NULL) {
			r = e != NULL && e->code != 0 ? e->code : ERR_NOMEM;
			goto out;
		}
		if (json_array_append_new(arr, v) != 0) {
			r = err_set(e, ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	if (json_object_set(m, "layers", arr) != 0 ||
	    (annotations != NULL && json_object_size(annotations) > 0 &&
		json_object_set_new(m, "annotations", json_deep_copy(annotations)) != 0)) {
		r = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = oci_json_dump(m, &sb, e)) != 0 ||
	    (r = oci_writer_add_blob_bytes(w, sb.data, sb.len, OCI_MT_MANIFEST, &man, e)) != 0)
		goto out;
	if (platform_from != NULL && platform_from->platform_os != NULL) {
		os = platform_from->platform_os;
		arch = platform_from->platform_arch;
		variant = platform_from->platform_variant;
	} else {
		os = json_string_value(json_object_get(config, "os"));
		arch = json_string_value(json_object_get(config, "architecture"));
		variant = json_string_value(json_object_get(config, "variant"));
	}
	if (os != NULL && arch != NULL) {
		if ((man.platform_os = strdup(os)) == NULL || (man.platform_arch = strdup(arch)) == NULL ||
		    (variant != NULL && (man.platform_variant = strdup(variant)) == NULL)) {
			r = err_set(e, ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	if ((r = record_image(w, &man, e)) != 0)
		goto out;
	if (manifest != NULL) {
		*manifest = man;
		memset(&man, 0, sizeof(man)); /* transferred */
	}
	r = 0;
out:
	oci_descriptor_cleanup(&cfg);
	oci_descriptor_cleanup(&man);
	json_decref(m);
	json_decref(arr);
	sb_cleanup(&sb);
	return r;
}

int oci_writer_copy_image(struct oci_writer *w, struct oci_store *s, const struct oci_image *img,
    struct oci_descriptor *manifest, struct err *e)
{
	struct oci_descriptor *ls = NULL;
	size_t i, n = 0;
	int r;

	if (manifest != NULL)
		memset(manifest, 0, sizeof(*manifest));
	if (img->n_layers > 0 && (ls = calloc(img->n_layers, sizeof(*ls))) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (n = 0; n < img->n_layers; n++)
		if ((r = oci_writer_copy_blob(w, s, &img->layers[n], &ls[n], e)) != 0)
			goto out;
	r = oci_writer_add_image(w, img->config, ls, img->n_layers, json_object_get(img->manifest, "annotations"),
	    &img->manifest_desc, manifest, e);
out:
	for (i = 0; i < n; i++)
		oci_descriptor_cleanup(&ls[i]);
	free(ls);
	return r;
}

/* Writes p[n] to layout/name atomically (fileio_write_atomic: a hidden temp file, fsync, rename). */
static int write_file_atomic(struct oci_writer *w, const char *name, const char *p, size_t n, struct err *e)
{
	char final[PATH_MAX];

	if (str_fmt(final, sizeof(final), "%s/%s", w->layout, name) != 0)
		return err_set(e, ERR_TOO_LARGE, "%s: path too long", w->label);
	return fileio_write_atomic(final, p, n, 0644, w->label, e);
}

/* Builds index.json from top (may be NULL) and the extra entries: for an existing layout its entries are kept
 * except those they replace (the same tag; the same untagged digest). */
static int build_index_json(struct oci_writer *w, json_t *top, json_t **out, struct err *e)
{
	json_t *idx = NULL, *old = NULL, *arr = NULL, *oldarr, *v;
	char p[PATH_MAX];
	const char *t;
	size_t i, j;
	int r;

	*out = NULL;
	if ((idx = json_object()) == NULL || (arr = json_array()) == NULL ||
	    json_object_set_new(idx, "schemaVersion", json_integer(2)) != 0 ||
	    json_object_set_new(idx, "mediaType", json_string(OCI_MT_INDEX)) != 0) {
		r = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	if (w->mode == W_EXISTING_DIR) {
		(void)str_fmt(p, sizeof(p), "%s/index.json", w->layout);
		r = json_load_file_capped(p, OCI_JSON_MAX, &old, e);
		if (r != 0 && r != ERR_NOT_FOUND)
			goto out;
		oldarr = json_object_get(old, "manifests");
		json_array_foreach(oldarr, i, v)
		{
			t = entry_ref(v);
			if (top != NULL && w->ref.tag[0] != '\0' && t != NULL && strcmp(t, w->ref.tag) == 0)
				continue; /* the tag moves to the new image */
			if (top != NULL && w->ref.tag[0] == '\0' && t == NULL &&
			    json_equal(json_object_get(v, "digest"), json_object_get(top, "digest")))
				continue; /* the same untagged image written again */
			for (j = 0; j < json_array_size(w->extras); j++)
				if (extra_replaces(json_array_get(w->extras, j), v))
					break;
			if (j < json_array_size(w->extras))
				continue; /* replaced by an extra entry */
			if (json_array_append(arr, v) != 0) {
				r = err_set(e, ERR_NOMEM, "out of memory");
				goto out;
			}
		}
	}
	if ((top != NULL && json_array_append(arr, top) != 0) ||
	    (w->extras != NULL && json_array_extend(arr, w->extras) != 0) ||
	    json_object_set(idx, "manifests", arr) != 0) {
		r = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	*out = idx;
	idx = NULL; /* transferred */
	r = 0;
out:
	json_decref(idx);
	json_decref(arr);
	json_decref(old);
	return r;
}

/* Adds one tar entry: a directory (src NULL, dir true) or the file src as name. */
static int tar_add(struct oci_writer *w, struct archive *a, const char *name, const char *src, bool dir, time_t mtime,
    struct err *e)
{
	struct archive_entry *ent = NULL;
	char buf[65536];
	struct stat st;
	ssize_t k;
	int fd = -1, r;

	if ((ent = archive_entry_new()) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	archive_entry_set_pathname(ent, name);
	archive_entry_set_mtime(ent, mtime, 0);
	archive_entry_set_uid(ent, 0);
	archive_entry_set_gid(ent, 0);
	if (dir) {
		archive_entry_set_filetype(ent, AE_IFDIR);
		archive_entry_set_perm(ent, 0755);
		archive_entry_set_size(ent, 0);
	} else {
		if ((fd = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0 || fstat(fd, &st) != 0) {
			r = err_errno(e, errno, "%s: open %s", w->label, src);
			goto out;
		}
		archive_entry_set_filetype(ent, AE_IFREG);
		archive_entry_set_perm(ent, 0644);
		archive_entry_set_size(ent, st.st_size);
	}
	if (archive_write_header(a, ent) != ARCHIVE_OK) {
		r = err_set(e, ERR_IO, "%s: write tar header %s: %.200s", w->label, name, archive_error_string(a));
		goto out;
	}
	while (fd >= 0 && (k = read(fd, buf, sizeof(buf))) != 0) {
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = err_errno(e, errno, "%s: read %s", w->label, src);
			goto out;
		}
		if (archive_write_data(a, buf, (size_t)k) != k) {
			r = err_set(e, ERR_IO, "%s: write tar %s: %.200s", w->label, name, archive_error_string(a));
			goto out;
		}
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	archive_entry_free(ent);
	return r;
}

/* Writes the layout as a reproducible tar to a temp file beside DST and renames it to DST. */
static int write_archive(struct oci_writer *w, struct err *e)
{
	struct archive *a = NULL;
	char **names = NULL, p[PATH_MAX], n[PATH_MAX];
	size_t nn = 0, alloc = 0, i;
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	uint64_t mtime = 0;
	struct dirent *de;
	DIR *d = NULL;
	char **g;
	int fd = -1, r;

	if (sde != NULL && sde[0] != '\0' &&
	    (r = str_to_u64(sde, 0, 077777777777ull, &mtime, "SOURCE_DATE_EPOCH", e)) != 0)
		return r;
	(void)str_fmt(p, sizeof(p), "%s/blobs/sha256", w->layout);
	if ((d = opendir(p)) == NULL) {
		r = err_errno(e, errno, "%s: open %s", w->label, p);
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (nn == alloc) {
			alloc = alloc ? alloc * 2 : 16;
			if ((g = realloc(names, alloc * sizeof(*g))) == NULL) {
				r = err_set(e, ERR_NOMEM, "out of memory");
				goto out;
			}
			names = g;
		}
		if ((names[nn] = strdup(de->d_name)) == NULL) {
			r = err_set(e, ERR_NOMEM, "out of memory");
			goto out;
		}
		nn++;
	}
	if (nn > 0)
		qsort(names, nn, sizeof(*names), str_cmp_ptrs);
	if (str_fmt(w->tmp_tar, sizeof(w->tmp_tar), "%s.tmp-XXXXXX", w->ref.path) != 0) {
		r = err_set(e, ERR_TOO_LARGE, "%s: path too long", w->label);
		w->tmp_tar[0] = '\0';
		goto out;
	}
	if ((fd = cleanup_mkstemp(w->tmp_tar, O_CLOEXEC, e)) < 0) {
		r = fd;
		err_prefix(e, "%s: create a temporary file beside %s", w->label, w->ref.path);
		w->tmp_tar[0] = '\0';
		goto out;
	}
	if ((a = archive_write_new()) == NULL || archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK || archive_write_open_fd(a, fd) != ARCHIVE_OK) {
		r = err_set(e, ERR_IO, "%s: start the tar: %.200s", w->label,
		    a != NULL ? archive_error_string(a) : "no memory");
		goto out;
	}
	if ((r = tar_add(w, a, "blobs/", NULL, true, (time_t)mtime, e)) != 0 ||
	    (r = tar_add(w, a, "blobs/sha256/", NULL, true, (time_t)mtime, e)) != 0)
		goto out;
	for (i = 0; i < nn; i++) {
		(void)str_fmt(p, sizeof(p), "%s/blobs/sha256/%s", w->layout, names[i]);
		(void)str_fmt(n, sizeof(n), "blobs/sha256/%s", names[i]);
		if ((r = tar_add(w, a, n, p, false, (time_t)mtime, e)) != 0)
			goto out;
	}
	(void)str_fmt(p, sizeof(p), "%s/index.json", w->layout);
	if ((r = tar_add(w, a, "index.json", p, false, (time_t)mtime, e)) != 0)
		goto out;
	(void)str_fmt(p, sizeof(p), "%s/oci-layout", w->layout);
	if ((r = tar_add(w, a, "oci-layout", p, false, (time_t)mtime, e)) != 0)
		goto out;
	if (archive_write_close(a) != ARCHIVE_OK) {
		r = err_set(e, ERR_IO, "%s: finish the tar: %.200s", w->label, archive_error_string(a));
		goto out;
	}
	if (fchmod(fd, 0644) != 0 || fsync(fd) != 0 || rename(w->tmp_tar, w->ref.path) != 0) {
		r = err_errno(e, errno, "%s: put %s in place", w->label, w->ref.path);
		goto out;
	}
	cleanup_forget(w->tmp_tar);
	w->tmp_tar[0] = '\0';
	r = 0;
out:
	if (a != NULL)
		archive_write_free(a);
	if (fd >= 0)
		close(fd);
	if (d != NULL)
		closedir(d);
	for (i = 0; i < nn; i++)
		free(names[i]);
	free(names);
	return r;
}

int oci_writer_finish(struct oci_writer *w, struct oci_descriptor *root, struct err *e)
{
	struct oci_descriptor top;
	struct strbuf sb;
	json_t *idx = NULL, *arr = NULL, *tj = NULL, *v;
	size_t i;
	int r;

	memset(&top, 0, sizeof(top));
	if (root != NULL)
		memset(root, 0, sizeof(*root));
	sb_init(&sb, OCI_JSON_MAX);
	if (w->finished)
		return err_set(e, ERR_INTERNAL, "%s: finished twice", w->label);
	if (w->n_images == 0 && json_array_size(w->extras) == 0)
		return err_set(e, ERR_INVALID, "%s: no image to write", w->label);
	if (w->n_images == 0) {
		/* only extra entries (an attestation added to a layout) */
	} else if (w->n_images == 1) {
		if ((r = oci_descriptor_copy(&top, &w->images[0], e)) != 0)
			goto out;
	} else {
		/* A nested index of every platform, as `skopeo copy --all` writes it. */
		if ((idx = json_object()) == NULL || (arr = json_array()) == NULL ||
		    json_object_set_new(idx, "schemaVersion", json_integer(2)) != 0 ||
		    json_object_set_new(idx, "mediaType", json_string(OCI_MT_INDEX)) != 0) {
			r = err_set(e, ERR_NOMEM, "out of memory");
			goto out;
		}
		for (i = 0; i < w->n_images; i++) {
			if ((v = oci_descriptor_to_json(&w->images[i])) == NULL || json_array_append_new(arr, v) != 0) {
				r = err_set(e, ERR_NOMEM, "out of memory");
				goto out;
			}
		}
		if (json_object_set(idx, "manifests", arr) != 0) {
			r = err_set(e, ERR_NOMEM, "out of memory");
			goto out;
		}
		if ((r = oci_json_dump(idx, &sb, e)) != 0 ||
		    (r = oci_writer_add_blob_bytes(w, sb.data, sb.len, OCI_MT_INDEX, &top, e)) != 0)
			goto out;
		json_decref(idx);
		idx = NULL;
		sb_cleanup(&sb);
	}
	if (w->ref.tag[0] != '\0' && w->n_images > 0) {
		json_decref(top.annotations);
		if ((top.annotations = json_object()) == NULL ||
		    json_object_set_new(top.annotations, OCI_ANN_REF_NAME, json_string(w->ref.tag)) != 0) {
			r = err_set(e, ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	if (w->n_images > 0 && (tj = oci_descriptor_to_json(&top)) == NULL) {
		r = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = build_index_json(w, tj, &idx, e)) != 0 || (r = oci_json_dump(idx, &sb, e)) != 0)
		goto out;
	if ((r = write_file_atomic(w, "oci-layout", OCI_LAYOUT_JSON, strlen(OCI_LAYOUT_JSON), e)) != 0 ||
	    (r = write_file_atomic(w, "index.json", sb.data, sb.len, e)) != 0)
		goto out;
	if (w->mode == W_NEW_DIR) {
		if (rename(w->layout, w->ref.path) != 0) {
			r = err_errno(e, errno, "%s: rename %s to %s", w->label, w->layout, w->ref.path);
			goto out;
		}
		cleanup_forget(w->layout);
		w->layout_is_temp = false;
	} else if (w->mode == W_ARCHIVE) {
		if ((r = write_archive(w, e)) != 0)
			goto out;
	}
	w->finished = true;
	if (root != NULL) {
		*root = top;
		memset(&top, 0, sizeof(top)); /* transferred */
	}
	r = 0;
out:
	oci_descriptor_cleanup(&top);
	json_decref(idx);
	json_decref(arr);
	json_decref(tj);
	sb_cleanup(&sb);
	return r;
}
