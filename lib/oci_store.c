/* oci_store — reading images: opens a transport reference on its backend, resolves index → nested indexes →
 * manifests → config and layers (or synthesizes the manifest of a legacy docker-archive), and reads every blob
 * through a reader that verifies size and digest. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/json.h"
#include "lib/log.h"
#include "lib/oci.h"
#include "lib/oci_backend.h"
#include "lib/transport.h"

#define LEGACY_NAME_MAX 512
#define META_TOTAL_MAX (64u << 20) /* all indexes and manifests of one oci_store_images call */

/* A digest served from a file other than blobs/sha256/<hex> (legacy docker-archive layers and configs). */
struct alias {
	char digest[DIGEST_STR_LEN + 1];
	char name[LEGACY_NAME_MAX];
};

struct oci_store {
	struct transport_ref ref;
	char label[PATH_MAX + 300];
	struct oci_backend *b;
	struct alias *aliases;
	size_t n_aliases;
	struct oci_descriptor root;
	bool have_root;
};

struct oci_reader {
	struct oci_raw *raw;
	struct sha256 h;
	uint64_t got, want;
	char digest[DIGEST_STR_LEN + 1];
	int state;	/* 0 reading, 1 verified EOF, < 0 the error */
	struct err err; /* the error, repeated to later calls */
};

int oci_store_open(const char *refstr, struct oci_store **out, struct err *e)
{
	struct oci_store *s;
	struct stat st;
	int r;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	if ((r = transport_parse(refstr, false, &s->ref, e)) != 0)
		goto out;
	(void)transport_fmt(&s->ref, s->label, sizeof(s->label));
	if (stat(s->ref.path, &st) != 0) {
		r = errno == ENOENT ? err_set(e, ERR_NOT_FOUND, "%s: %s does not exist", s->label, s->ref.path)
				    : err_errno(e, errno, "%s: stat %s", s->label, s->ref.path);
		goto out;
	}
	if (s->ref.kind == TRANSPORT_OCI)
		r = oci_backend_dir_open(s->ref.path, s->label, &s->b, e);
	else if (S_ISDIR(st.st_mode))
		r = err_set(e, ERR_INVALID, "%s: %s is a directory, not an archive; use oci:%s", s->label, s->ref.path,
		    s->ref.path);
	else
		r = oci_backend_tar_open(s->ref.path, s->label, &s->b, e);
	if (r != 0)
		goto out;
	*out = s;
	s = NULL; /* transferred */
	r = 0;
out:
	oci_store_free(s);
	return r;
}

void oci_store_free(struct oci_store *s)
{
	if (s == NULL)
		return;
	if (s->b != NULL)
		s->b->free(s->b);
	free(s->aliases);
	oci_descriptor_cleanup(&s->root);
	free(s);
}

const struct oci_descriptor *oci_store_root(const struct oci_store *s)
{
	return s->have_root ? &s->root : NULL;
}

/* ---- verified reading ---- */

/* The backend file name holding digest. */
static void blob_name(const struct oci_store *s, const char *digest, char *name, size_t size)
{
	size_t i;

	for (i = 0; i < s->n_aliases; i++) {
		if (strcmp(s->aliases[i].digest, digest) == 0) {
			(void)str_copy(name, size, s->aliases[i].name);
			return;
		}
	}
	(void)str_fmt(name, size, "blobs/sha256/%s", digest + 7);
}

int oci_blob_open(struct oci_store *s, const struct oci_descriptor *d, struct oci_reader **out, struct err *e)
{
	struct oci_reader *rd;
	char name[LEGACY_NAME_MAX];
	int r;

	*out = NULL;
	if ((r = digest_validate(d->digest, e)) != 0)
		return err_prefix(e, "%s", s->label);
	if ((rd = calloc(1, sizeof(*rd))) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	blob_name(s, d->digest, name, sizeof(name));
	if ((r = s->b->open(s->b, name, &rd->raw, e)) != 0) {
		if (r == ERR_NOT_FOUND)
			err_set(e, ERR_NOT_FOUND, "%s: blob %s is missing (%s); the image is incomplete", s->label,
			    d->digest, name);
		free(rd);
		return r;
	}
	if ((r = sha256_init(&rd->h, e)) != 0) {
		rd->raw->close(rd->raw);
		free(rd);
		return r;
	}
	rd->want = d->size;
	memcpy(rd->digest, d->digest, sizeof(rd->digest));
	*out = rd;
	return 0;
}

/* Records an error in the reader and returns it. */
static int reader_fail(struct oci_reader *rd, int code, struct err *e)
{
	rd->state = code;
	rd->err = *e;
	sha256_cleanup(&rd->h);
	return code;
}

ssize_t oci_reader_read(struct oci_reader *rd, void *buf, size_t n, struct err *e)
{
	char got[DIGEST_STR_LEN + 1];
	struct err local;
	ssize_t k;

	if (e == NULL)
		e = &local; /* the reader keeps its error even when the caller does not want it */

	if (rd->state == 1)
		return 0;
	if (rd->state < 0) {
		*e = rd->err;
		return rd->state;
	}
	if (n == 0)
		return 0;
	k = rd->raw->read(rd->raw, buf, n, e);
	if (k < 0) {
		err_prefix(e, "blob %s", rd->digest);
		return reader_fail(rd, (int)k, e);
	}
	if (k > 0) {
		if ((uint64_t)k > rd->want - rd->got) {
			err_set(e, ERR_VERIFY,
			    "blob %s: content is longer than its declared size %llu; the image is "
			    "corrupt",
			    rd->digest, (unsigned long long)rd->want);
			return reader_fail(rd, ERR_VERIFY, e);
		}
		rd->got += (uint64_t)k;
		sha256_update(&rd->h, buf, (size_t)k);
		return k;
	}
	if (rd->got != rd->want) {
		err_set(e, ERR_VERIFY,
		    "blob %s: content is %llu bytes but its descriptor says %llu; the image is "
		    "corrupt",
		    rd->digest, (unsigned long long)rd->got, (unsigned long long)rd->want);
		return reader_fail(rd, ERR_VERIFY, e);
	}
	sha256_final(&rd->h, NULL, got);
	if (strcmp(got, rd->digest) != 0) {
		err_set(e, ERR_VERIFY,
		    "blob %s: content does not match its digest (it hashes to %s); the image is "
		    "corrupt",
		    rd->digest, got);
		rd->state = ERR_VERIFY;
		rd->err = *e;
		return ERR_VERIFY;
	}
	rd->state = 1;
	return 0;
}

int oci_reader_finish(struct oci_reader *rd, struct err *e)
{
	char buf[16384];
	ssize_t k;

	while ((k = oci_reader_read(rd, buf, sizeof(buf), e)) > 0)
		;
	return (int)k;
}

void oci_reader_free(struct oci_reader *rd)
{
	if (rd == NULL)
		return;
	if (rd->state == 0)
		sha256_cleanup(&rd->h);
	if (rd->raw != NULL)
		rd->raw->close(rd->raw);
	free(rd);
}

int oci_blob_read_all(struct oci_store *s, const struct oci_descriptor *d, size_t cap, struct strbuf *sb, struct err *e)
{
	struct oci_reader *rd = NULL;
	char buf[16384];
	ssize_t k;
	int r;

	sb_init(sb, cap);
	if (d->size > cap)
		return err_set(e, ERR_TOO_LARGE, "%s: blob %s is %llu bytes, over the limit of %zu for a %s", s->label,
		    d->digest, (unsigned long long)d->size, cap, d->media_type != NULL ? d->media_type : "blob");
	if ((r = oci_blob_open(s, d, &rd, e)) != 0)
		return r;
	while ((k = oci_reader_read(rd, buf, sizeof(buf), e)) > 0) {
		if ((r = sb_append(sb, buf, (size_t)k)) != 0) {
			err_set(e, r, "blob %s: out of memory", d->digest);
			goto out;
		}
	}
	r = (int)k;
out:
	oci_reader_free(rd);
	if (r != 0)
		sb_cleanup(sb);
	return r;
}

/* Reads a whole non-blob file (index.json, manifest.json, oci-layout) of at most OCI_JSON_MAX bytes. */
static int read_file(struct oci_store *s, const char *name, struct strbuf *sb, struct err *e)
{
	struct oci_raw *raw = NULL;
	char buf[16384];
	ssize_t k;
	int r;

	sb_init(sb, OCI_JSON_MAX);
	if ((r = s->b->open(s->b, name, &raw, e)) != 0)
		return r;
	while ((k = raw->read(raw, buf, sizeof(buf), e)) > 0) {
		if ((r = sb_append(sb, buf, (size_t)k)) != 0) {
			err_set(e, r, "%s: %s is larger than %u bytes", s->label, name, OCI_JSON_MAX);
			goto out;
		}
	}
	r = (int)k;
out:
	raw->close(raw);
	if (r != 0)
		sb_cleanup(sb);
	return r;
}

/* ---- resolving images ---- */

struct image_list {
	struct oci_image **v;
	size_t n, alloc;
	const char *platform;
	const char *ref_name;
	size_t visited; /* descriptors walked: caps indexes that list each other many times over */
	uint64_t meta;	/* bytes of indexes and manifests read, capped at META_TOTAL_MAX */
};

static int list_add(struct image_list *l, struct oci_image *img, struct err *e)
{
	struct oci_image **g;

	if (l->n == OCI_MAX_ENTRIES)
		return err_set(e, ERR_TOO_LARGE, "more than %d images", OCI_MAX_ENTRIES);
	if (l->n == l->alloc) {
		l->alloc = l->alloc ? l->alloc * 2 : 4;
		if ((g = realloc(l->v, l->alloc * sizeof(*g))) == NULL)
			return err_set(e, ERR_NOMEM, "out of memory");
		l->v = g;
	}
	l->v[l->n++] = img;
	return 0;
}

/* Sets d's platform from config os/architecture/variant when d has none. */
static int platform_from_config(struct oci_descriptor *d, const json_t *config, struct err *e)
{
	const char *os = json_string_value(json_object_get(config, "os"));
	const char *arch = json_string_value(json_object_get(config, "architecture"));
	const char *variant = json_string_value(json_object_get(config, "variant"));

	if (d->platform_os != NULL || os == NULL || arch == NULL)
		return 0;
	if ((d->platform_os = strdup(os)) == NULL || (d->platform_arch = strdup(arch)) == NULL ||
	    (variant != NULL && (d->platform_variant = strdup(variant)) == NULL))
		return err_set(e, ERR_NOMEM, "out of memory");
	return 0;
}

/* Fills img's config, layers and diff_ids from img->manifest (parsed), reading the config verified. */
static int image_load_parts(struct oci_store *s, struct oci_image *img, struct err *e)
{
	struct strbuf sb;
	enum oci_compression comp;
	json_t *layers, *ids, *v;
	char where[256];
	size_t i;
	int r;

	sb_init(&sb, OCI_JSON_MAX);
	(void)str_fmt(where, sizeof(where), "%s: manifest %s config", s->label, img->manifest_desc.digest);
	if ((r = oci_descriptor_parse(json_object_get(img->manifest, "config"), where, &img->config_desc, e)) != 0)
		goto out;
	if (!oci_mt_is_config(img->config_desc.media_type)) {
		r = err_set(e, ERR_UNSUPPORTED,
		    "%s: manifest %s has config media type \"%.100s\"; it is not a "
		    "container image",
		    s->label, img->manifest_desc.digest, img->config_desc.media_type);
		goto out;
	}
	if ((r = oci_blob_read_all(s, &img->config_desc, OCI_JSON_MAX, &sb, e)) != 0)
		goto out;
	(void)str_fmt(where, sizeof(where), "%s: config %s", s->label, img->config_desc.digest);
	if ((r = oci_config_parse(sb.data, sb.len, where, &img->config, e)) != 0)
		goto out;
	layers = json_object_get(img->manifest, "layers");
	ids = json_object_get(json_object_get(img->config, "rootfs"), "diff_ids");
	if (json_array_size(layers) != json_array_size(ids)) {
		r = err_set(e, ERR_INVALID,
		    "%s: manifest %s has %zu layers but its config has %zu diff_ids; the "
		    "image is malformed",
		    s->label, img->manifest_desc.digest, json_array_size(layers), json_array_size(ids));
		goto out;
	}
	if (json_array_size(layers) > 0) {
		img->layers = calloc(json_array_size(layers), sizeof(*img->layers));
		img->diff_ids = calloc(json_array_size(layers), sizeof(*img->diff_ids));
		if (img->layers == NULL || img->diff_ids == NULL) {
			r = err_set(e, ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	json_array_foreach(layers, i, v)
	{
		(void)str_fmt(where, sizeof(where), "%s: manifest %s layers[%zu]", s->label, img->manifest_desc.digest,
		    i);
		if ((r = oci_descriptor_parse(v, where, &img->layers[i], e)) != 0)
			goto out;
		img->n_layers = i + 1;
		if ((r = oci_mt_layer(img->layers[i].media_type, &comp, e)) != 0) {
			err_prefix(e, "%s", where);
			goto out;
		}
		(void)str_copy(img->diff_ids[i], sizeof(img->diff_ids[i]), json_string_value(json_array_get(ids, i)));
	}
	r = platform_from_config(&img->manifest_desc, img->config, e);
out:
	sb_cleanup(&sb);
	return r;
}

/* Whether the store has the blob of digest at all (a missing one is not an error here). */
static bool blob_present(struct oci_store *s, const char *digest)
{
	char name[LEGACY_NAME_MAX];
	uint64_t size;
	struct err e;

	blob_name(s, digest, name, sizeof(name));
	return s->b->size(s->b, name, &size, &e) != ERR_NOT_FOUND;
}

/* Charges reading d against the budget of metadata bytes of one listing. */
static int meta_charge(const struct oci_store *s, struct image_list *l, const struct oci_descriptor *d, struct err *e)
{
	if (d->size > META_TOTAL_MAX || l->meta > META_TOTAL_MAX - d->size)
		return err_set(e, ERR_TOO_LARGE,
		    "%s: its indexes and manifests add up to more than %u MiB; the image "
		    "is malformed",
		    s->label, META_TOTAL_MAX >> 20);
	l->meta += d->size;
	return 0;
}

/* Walks descriptor d: an index is read and each entry walked; a manifest is loaded when its platform matches.
 * top: d is what the reference named (a non-image there is an error; below an index it is skipped). */
static int walk(struct oci_store *s, const struct oci_descriptor *d, int depth, bool top, struct image_list *l,
    struct err *e)
{
	struct oci_descriptor child;
	struct oci_image *img = NULL;
	struct strbuf sb;
	json_t *doc = NULL, *arr, *v;
	char label[256], plat[200];
	size_t i;
	int r;

	sb_init(&sb, OCI_JSON_MAX);
	memset(&child, 0, sizeof(child));
	if (depth > OCI_MAX_NESTING)
		return err_set(e, ERR_TOO_LARGE, "%s: indexes nested deeper than %d levels", s->label, OCI_MAX_NESTING);
	if (++l->visited > OCI_MAX_ENTRIES)
		return err_set(e, ERR_TOO_LARGE,
		    "%s: its indexes list more than %d descriptors in all; the image is "
		    "malformed",
		    s->label, OCI_MAX_ENTRIES);
	if (oci_mt_is_index(d->media_type)) {
		if ((r = meta_charge(s, l, d, e)) != 0 || (r = oci_blob_read_all(s, d, OCI_JSON_MAX, &sb, e)) != 0)
			goto out;
		(void)str_fmt(label, sizeof(label), "%s: index %s", s->label, d->digest);
		if ((r = oci_index_parse(sb.data, sb.len, label, &doc, e)) != 0)
			goto out;
		arr = json_object_get(doc, "manifests");
		json_array_foreach(arr, i, v)
		{
			(void)str_fmt(label, sizeof(label), "%s: index %s manifests[%zu]", s->label, d->digest, i);
			if ((r = oci_descriptor_parse(v, label, &child, e)) != 0)
				goto out;
			if (s->ref.kind == TRANSPORT_DOCKER_ARCHIVE && !blob_present(s, child.digest)) {
				/* docker save with the containerd store lists every platform but saves only its own */
				oci_platform_fmt(&child, plat, sizeof(plat));
				log_debug("%s: platform %s (%s) is not in the archive; skipped", s->label, plat,
				    child.digest);
			} else if ((r = walk(s, &child, depth + 1, false, l, e)) != 0) {
				goto out;
			}
			oci_descriptor_cleanup(&child);
		}
		r = 0;
		goto out;
	}
	if (!oci_mt_is_manifest(d->media_type)) {
		if (top) {
			r = err_set(e, ERR_UNSUPPORTED,
			    "%s: %s has media type \"%.100s\", not an image manifest or "
			    "index",
			    s->label, d->digest, d->media_type);
			goto out;
		}
		log_debug("%s: skipping %s of media type %.100s", s->label, d->digest, d->media_type);
		r = 0;
		goto out;
	}
	oci_platform_fmt(d, plat, sizeof(plat));
	if (!top && strcmp(plat, "unknown/unknown") == 0) {
		r = 0; /* attestation manifests of BuildKit */
		goto out;
	}
	if (d->platform_os != NULL && !oci_platform_match(d, l->platform)) {
		r = 0;
		goto out;
	}
	if ((img = calloc(1, sizeof(*img))) == NULL) {
		r = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = oci_descriptor_copy(&img->manifest_desc, d, e)) != 0 || (r = meta_charge(s, l, d, e)) != 0 ||
	    (r = oci_blob_read_all(s, d, OCI_JSON_MAX, &sb, e)) != 0)
		goto out;
	(void)str_fmt(label, sizeof(label), "%s: manifest %s", s->label, d->digest);
	if ((r = oci_manifest_parse(sb.data, sb.len, label, &img->manifest, e)) != 0 ||
	    (r = image_load_parts(s, img, e)) != 0)
		goto out;
	if (d->platform_os == NULL && l->platform != NULL && !oci_platform_match(&img->manifest_desc, l->platform)) {
		r = 0;
		goto out;
	}
	if (l->ref_name != NULL && (img->ref_name = strdup(l->ref_name)) == NULL) {
		r = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = list_add(l, img, e)) != 0)
		goto out;
	img = NULL; /* transferred */
	r = 0;
out:
	oci_image_free(img);
	oci_descriptor_cleanup(&child);
	json_decref(doc);
	sb_cleanup(&sb);
	return r;
}

/* The tag an index.json entry carries, or NULL. */
static const char *entry_tag(const json_t *entry)
{
	const json_t *ann = json_object_get(entry, "annotations");
	const char *t = json_string_value(json_object_get(ann, OCI_ANN_REF_NAME));

	return t != NULL ? t : json_string_value(json_object_get(ann, "io.containerd.image.name"));
}

/* Whether an index.json entry is named by tag. Docker writes ref.name = "latest" and io.containerd.image.name =
 * "docker.io/library/x:latest"; both are accepted, and so is a full name ending in "/tag". */
static bool entry_matches(const json_t *entry, const char *tag)
{
	const json_t *ann = json_object_get(entry, "annotations");
	const char *keys[] = { OCI_ANN_REF_NAME, "io.containerd.image.name" };
	const char *t;
	size_t i, tl, ql = strlen(tag);

	for (i = 0; i < 2; i++) {
		if ((t = json_string_value(json_object_get(ann, keys[i]))) == NULL)
			continue;
		tl = strlen(t);
		if (strcmp(t, tag) == 0 || (tl > ql && t[tl - ql - 1] == '/' && strcmp(t + tl - ql, tag) == 0))
			return true;
	}
	return false;
}

/* Whether an index.json entry is a cosign-style attestation, signature or SBOM ("sha256-<hex>.att"): such entries
 * are not images, so a reference without a tag does not count them. */
static bool is_cosign_entry(const json_t *entry)
{
	const char *t = json_string_value(json_object_get(json_object_get(entry, "annotations"), OCI_ANN_REF_NAME));
	const char *x;
	size_t i;

	if (t == NULL || !str_has_prefix(t, "sha256-"))
		return false;
	for (i = 0; i < DIGEST_HEX_LEN; i++)
		if (!((t[7 + i] >= '0' && t[7 + i] <= '9') || (t[7 + i] >= 'a' && t[7 + i] <= 'f')))
			return false;
	x = t + 7 + DIGEST_HEX_LEN;
	return strcmp(x, ".att") == 0 || strcmp(x, ".sig") == 0 || strcmp(x, ".sbom") == 0;
}

/* Lists the tags of an index.json into buf for messages. */
static void list_tags(const json_t *arr, char *buf, size_t size)
{
	struct strbuf sb;
	const char *t;
	json_t *v;
	size_t i;

	sb_init(&sb, size > 1 ? size - 1 : 0);
	json_array_foreach(arr, i, v)
	{
		if ((t = entry_tag(v)) != NULL && sb_printf(&sb, "%s\"%.100s\"", sb.len ? ", " : "", t) != 0)
			break;
	}
	(void)str_copy(buf, size, sb.len ? sb.data : "none");
	sb_cleanup(&sb);
}

/* The OCI layout path: index.json selects the root by tag. */
static int images_layout(struct oci_store *s, struct strbuf *idx, struct image_list *l, struct err *e)
{
	struct oci_descriptor root;
	json_t *doc = NULL, *arr, *v, *sel = NULL, *first = NULL;
	char label[PATH_MAX + 320], tags[512];
	const char *t0 = NULL, *t;
	size_t i, matches = 0, candidates = 0;
	bool several = false;
	int r;

	memset(&root, 0, sizeof(root));
	(void)str_fmt(label, sizeof(label), "%s: index.json", s->label);
	if ((r = oci_index_parse(idx->data, idx->len, label, &doc, e)) != 0)
		goto out;
	arr = json_object_get(doc, "manifests");
	list_tags(arr, tags, sizeof(tags));
	json_array_foreach(arr, i, v)
	{
		if (s->ref.tag[0] != '\0') {
			if (entry_matches(v, s->ref.tag)) {
				sel = v;
				matches++;
			}
		} else if (!is_cosign_entry(v)) {
			t = entry_tag(v);
			if (candidates++ == 0) {
				t0 = t;
				first = v;
			} else if (t != NULL && (t0 == NULL || strcmp(t, t0) != 0)) {
				several = true;
			}
		}
	}
	if (s->ref.tag[0] != '\0' && matches == 0) {
		r = err_set(e, ERR_NOT_FOUND, "%s: no image is tagged \"%s\" (tags: %s)", s->label, s->ref.tag, tags);
		goto out;
	}
	if (matches > 1) {
		r = err_set(e, ERR_INVALID, "%s: %zu entries of index.json are tagged \"%s\"; the layout is ambiguous",
		    s->label, matches, s->ref.tag);
		goto out;
	}
	if (s->ref.tag[0] == '\0' && candidates == 1)
		sel = first;
	if (sel != NULL) {
		if ((r = oci_descriptor_parse(sel, label, &root, e)) != 0)
			goto out;
		l->ref_name = s->ref.tag[0] != '\0' ? s->ref.tag : entry_tag(sel);
		if ((r = walk(s, &root, 0, true, l, e)) != 0)
			goto out;
	} else {
		if (candidates == 0 || several) {
			r = err_set(e, candidates == 0 ? ERR_NOT_FOUND : ERR_INVALID,
			    "%s: the layout holds %zu images; name one as %s:%s:TAG (tags: %s)", s->label, candidates,
			    transport_name(s->ref.kind), s->ref.path, tags);
			goto out;
		}
		/* Several platform manifests listed directly in index.json: index.json is the root. */
		root.media_type = strdup(OCI_MT_INDEX);
		if (root.media_type == NULL || (r = sha256_digest_str(idx->data, idx->len, root.digest, e)) != 0) {
			r = err_set(e, ERR_NOMEM, "out of memory");
			goto out;
		}
		root.size = idx->len;
		l->ref_name = t0;
		json_array_foreach(arr, i, v)
		{
			struct oci_descriptor c;

			if (is_cosign_entry(v))
				continue;
			if ((r = oci_descriptor_parse(v, label, &c, e)) != 0)
				goto out;
			r = walk(s, &c, 1, false, l, e);
			oci_descriptor_cleanup(&c);
			if (r != 0)
				goto out;
		}
	}
	/* ref_name points into doc: copy it into the images before doc goes away (done in walk via strdup). */
	s->root = root;
	memset(&root, 0, sizeof(root)); /* transferred */
	s->have_root = true;
	r = 0;
out:
	l->ref_name = NULL;
	oci_descriptor_cleanup(&root);
	json_decref(doc);
	return r;
}

/* Whether a RepoTags entry names tag: equal, or ending in "/tag" ("localhost/busybox:1" for "busybox:1"). */
static bool repotag_matches(const char *rt, const char *tag)
{
	size_t rl = strlen(rt), tl = strlen(tag);

	return strcmp(rt, tag) == 0 || (rl > tl && rt[rl - tl - 1] == '/' && strcmp(rt + rl - tl, tag) == 0);
}

static int add_alias(struct oci_store *s, const char *digest, const char *name, const char *what, struct err *e)
{
	struct alias *g;

	if (!oci_backend_name_ok(name) || strlen(name) >= LEGACY_NAME_MAX)
		return err_set(e, ERR_ESCAPE,
		    "%s: manifest.json names %s \"%.100s\", not a plain relative path; the "
		    "archive is malformed",
		    s->label, what, name);
	if ((g = realloc(s->aliases, (s->n_aliases + 1) * sizeof(*g))) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	s->aliases = g;
	(void)str_copy(g[s->n_aliases].digest, sizeof(g->digest), digest);
	(void)str_copy(g[s->n_aliases].name, sizeof(g->name), name);
	s->n_aliases++;
	return 0;
}

/* Describes the legacy layer member name in *d (media_type static): an uncompressed tar, as docker and podman save
 * it, has digest = its diff_id; a compressed one, as go-containerregistry's tarball format writes it, is hashed
 * here to get its digest (the diff_id is then checked by whoever decompresses it). */
static int legacy_layer(struct oci_store *s, const char *name, const char *diff_id, struct oci_descriptor *d,
    struct err *e)
{
	struct oci_raw *raw = NULL;
	unsigned char buf[65536];
	struct sha256 h;
	bool hashing = false;
	size_t got = 0;
	ssize_t k = 1;
	int r;

	if ((r = s->b->open(s->b, name, &raw, e)) != 0)
		return r;
	while (got < 4 && (k = raw->read(raw, buf + got, sizeof(buf) - got, e)) > 0)
		got += (size_t)k;
	if (k < 0) {
		r = (int)k;
		goto out;
	}
	if (got >= 4 && buf[0] == 0x1f && buf[1] == 0x8b)
		d->media_type = (char *)DOCKER_MT_LAYER_GZIP;
	else if (got >= 4 && buf[0] == 0x28 && buf[1] == 0xb5 && buf[2] == 0x2f && buf[3] == 0xfd)
		d->media_type = (char *)OCI_MT_LAYER_ZSTD;
	else {
		d->media_type = (char *)DOCKER_MT_LAYER;
		(void)str_copy(d->digest, sizeof(d->digest), diff_id);
		r = s->b->size(s->b, name, &d->size, e);
		goto out;
	}
	if ((r = sha256_init(&h, e)) != 0)
		goto out;
	hashing = true;
	d->size = got;
	sha256_update(&h, buf, got);
	while ((k = raw->read(raw, buf, sizeof(buf), e)) > 0) {
		sha256_update(&h, buf, (size_t)k);
		d->size += (uint64_t)k;
	}
	if (k < 0) {
		r = (int)k;
		goto out;
	}
	sha256_final(&h, NULL, d->digest);
	hashing = false;
	r = 0;
out:
	if (hashing)
		sha256_cleanup(&h);
	raw->close(raw);
	return r;
}

/* A legacy docker-archive: manifest.json [{"Config","RepoTags","Layers"}]; the manifest is synthesized. */
static int images_legacy(struct oci_store *s, struct strbuf *mj, struct image_list *l, struct err *e)
{
	struct oci_image *img = NULL;
	struct oci_descriptor cfg;
	struct strbuf sb;
	json_t *doc = NULL, *ent = NULL, *v, *tags, *layers, *man = NULL, *larr = NULL, *ld;
	const char *cfgname = NULL, *sel_tag = NULL;
	char label[PATH_MAX + 320], name[LEGACY_NAME_MAX];
	size_t i, j;
	int r;

	memset(&cfg, 0, sizeof(cfg));
	sb_init(&sb, OCI_JSON_MAX);
	(void)str_fmt(label, sizeof(label), "%s: manifest.json", s->label);
	if ((r = json_parse_buf(mj->data, mj->len, OCI_JSON_MAX, label, &doc, e)) != 0)
		goto out;
	if (!json_is_array(doc) || json_array_size(doc) == 0 || json_array_size(doc) > OCI_MAX_ENTRIES) {
		r = err_set(e, ERR_INVALID, "%s must be a non-empty array of at most %d images", label,
		    OCI_MAX_ENTRIES);
		goto out;
	}
	json_array_foreach(doc, i, v)
	{
		tags = json_object_get(v, "RepoTags");
		if (s->ref.tag[0] == '\0') {
			if (json_array_size(doc) > 1) {
				r = err_set(e, ERR_INVALID,
				    "%s: the archive holds %zu images; name one as "
				    "docker-archive:%s:TAG",
				    s->label, json_array_size(doc), s->ref.path);
				goto out;
			}
			ent = v;
			sel_tag = json_string_value(json_array_get(tags, 0));
			break;
		}
		for (j = 0; j < json_array_size(tags); j++) {
			const char *t = json_string_value(json_array_get(tags, j));

			if (t != NULL && repotag_matches(t, s->ref.tag)) {
				ent = v;
				sel_tag = t;
			}
		}
		if (ent != NULL)
			break;
	}
	if (ent == NULL) {
		r = err_set(e, ERR_NOT_FOUND, "%s: no image in manifest.json has RepoTag \"%s\"", s->label, s->ref.tag);
		goto out;
	}
	if (!json_is_object(ent) || (r = json_get_str(ent, "Config", &cfgname, label, e)) != 0 ||
	    (r = json_get_arr(ent, "Layers", &layers, label, e)) != 0) {
		r = err_set(e, ERR_INVALID, "%s: an entry needs Config (a string) and Layers (an array)", label);
		goto out;
	}
	if (json_array_size(layers) > OCI_MAX_ENTRIES) {
		r = err_set(e, ERR_TOO_LARGE, "%s: %zu layers, more than the limit of %d", label,
		    json_array_size(layers), OCI_MAX_ENTRIES);
		goto out;
	}
	/* The config: its digest is computed here, since manifest.json names only a file. */
	if (!oci_backend_name_ok(cfgname) || strlen(cfgname) >= LEGACY_NAME_MAX) {
		r = err_set(e, ERR_ESCAPE, "%s: Config \"%.100s\" is not a plain relative path", label, cfgname);
		goto out;
	}
	{
		struct oci_raw *raw = NULL;
		char buf[16384];
		ssize_t k;

		if ((r = s->b->open(s->b, cfgname, &raw, e)) != 0)
			goto out;
		while ((k = raw->read(raw, buf, sizeof(buf), e)) > 0)
			if ((r = sb_append(&sb, buf, (size_t)k)) != 0)
				break;
		raw->close(raw);
		if (k < 0 || r != 0) {
			r = k < 0 ? (int)k
				  : err_set(e, r, "%s: config %.100s is larger than %u bytes", s->label, cfgname,
					OCI_JSON_MAX);
			goto out;
		}
	}
	if ((img = calloc(1, sizeof(*img))) == NULL || (cfg.media_type = strdup(DOCKER_MT_CONFIG)) == NULL) {
		r = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = sha256_digest_str(sb.data, sb.len, cfg.digest, e)) != 0)
		goto out;
	cfg.size = sb.len;
	if ((r = add_alias(s, cfg.digest, cfgname, "Config", e)) != 0)
		goto out;
	(void)str_fmt(label, sizeof(label), "%s: config %s", s->label, cfgname);
	if ((r = oci_config_parse(sb.data, sb.len, label, &img->config, e)) != 0)
		goto out;
	v = json_object_get(json_object_get(img->config, "rootfs"), "diff_ids");
	if (json_array_size(v) != json_array_size(layers)) {
		r = err_set(e, ERR_INVALID,
		    "%s: manifest.json lists %zu layers but the config has %zu diff_ids; the "
		    "archive is malformed",
		    s->label, json_array_size(layers), json_array_size(v));
		goto out;
	}
	/* The synthesized manifest: uncompressed layers whose digest is their diff_id. */
	if ((man = json_object()) == NULL || (larr = json_array()) == NULL ||
	    json_object_set_new(man, "schemaVersion", json_integer(2)) != 0 ||
	    json_object_set_new(man, "mediaType", json_string(DOCKER_MT_MANIFEST)) != 0 ||
	    json_object_set_new(man, "config", oci_descriptor_to_json(&cfg)) != 0) {
		r = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < json_array_size(layers); i++) {
		const char *lname = json_string_value(json_array_get(layers, i));
		const char *diff = json_string_value(json_array_get(v, i));
		struct oci_descriptor d;

		if (lname == NULL) {
			r = err_set(e, ERR_INVALID, "%s: manifest.json Layers[%zu] must be a string", s->label, i);
			goto out;
		}
		if (!oci_backend_name_ok(lname) || strlen(lname) >= LEGACY_NAME_MAX) {
			r = err_set(e, ERR_ESCAPE,
			    "%s: manifest.json names layer \"%.100s\", not a plain relative "
			    "path; the archive is malformed",
			    s->label, lname);
			goto out;
		}
		(void)str_copy(name, sizeof(name), lname);
		memset(&d, 0, sizeof(d));
		if ((r = legacy_layer(s, name, diff, &d, e)) != 0 ||
		    (r = add_alias(s, d.digest, name, "layer", e)) != 0)
			goto out;
		ld = oci_descriptor_to_json(&d);
		if (ld == NULL || json_array_append_new(larr, ld) != 0) {
			r = err_set(e, ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	if (json_object_set(man, "layers", larr) != 0) {
		r = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	img->manifest = man;
	man = NULL; /* transferred */
	sb_cleanup(&sb);
	if ((r = oci_json_dump(img->manifest, &sb, e)) != 0)
		goto out;
	if ((img->manifest_desc.media_type = strdup(DOCKER_MT_MANIFEST)) == NULL ||
	    (sel_tag != NULL && (img->ref_name = strdup(sel_tag)) == NULL)) {
		r = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = sha256_digest_str(sb.data, sb.len, img->manifest_desc.digest, e)) != 0)
		goto out;
	img->manifest_desc.size = sb.len;
	/* The config blob is verified by reading it again through the store, like any other. */
	json_decref(img->config);
	img->config = NULL;
	if ((r = image_load_parts(s, img, e)) != 0)
		goto out;
	if (!oci_platform_match(&img->manifest_desc, l->platform)) {
		r = 0;
		goto out;
	}
	if ((r = oci_descriptor_copy(&s->root, &img->manifest_desc, e)) != 0)
		goto out;
	s->have_root = true;
	if ((r = list_add(l, img, e)) != 0)
		goto out;
	img = NULL; /* transferred */
	r = 0;
out:
	oci_image_free(img);
	oci_descriptor_cleanup(&cfg);
	json_decref(larr);
	json_decref(man);
	json_decref(doc);
	sb_cleanup(&sb);
	return r;
}

int oci_store_images(struct oci_store *s, const char *platform, struct oci_image ***out, size_t *n, struct err *e)
{
	struct image_list l;
	struct strbuf idx, mj, lay;
	json_t *ld = NULL;
	const char *ver = NULL;
	char label[PATH_MAX + 320];
	size_t i;
	int r;

	*out = NULL;
	*n = 0;
	memset(&l, 0, sizeof(l));
	l.platform = platform;
	sb_init(&idx, OCI_JSON_MAX);
	sb_init(&mj, OCI_JSON_MAX);
	sb_init(&lay, OCI_JSON_MAX);
	oci_descriptor_cleanup(&s->root);
	s->have_root = false;
	r = read_file(s, "index.json", &idx, e);
	if (r == ERR_NOT_FOUND && s->ref.kind == TRANSPORT_DOCKER_ARCHIVE) {
		if ((r = read_file(s, "manifest.json", &mj, e)) != 0) {
			if (r == ERR_NOT_FOUND)
				err_set(e, ERR_NOT_FOUND,
				    "%s: neither index.json nor manifest.json is in the archive; "
				    "it is not an image saved by docker or podman",
				    s->label);
			goto out;
		}
		if ((r = images_legacy(s, &mj, &l, e)) != 0)
			goto out;
	} else if (r != 0) {
		if (r == ERR_NOT_FOUND)
			err_set(e, ERR_NOT_FOUND, "%s: index.json is missing; it is not an OCI image layout", s->label);
		goto out;
	} else {
		if (s->ref.kind != TRANSPORT_DOCKER_ARCHIVE) {
			(void)str_fmt(label, sizeof(label), "%s: oci-layout", s->label);
			if ((r = read_file(s, "oci-layout", &lay, e)) != 0 ||
			    (r = json_parse_buf(lay.data, lay.len, 4096, label, &ld, e)) != 0 ||
			    (r = json_get_str(ld, "imageLayoutVersion", &ver, label, e)) != 0) {
				if (r == ERR_NOT_FOUND)
					err_set(e, ERR_NOT_FOUND,
					    "%s: oci-layout (with imageLayoutVersion) is "
					    "missing; it is not an OCI image layout",
					    s->label);
				goto out;
			}
			if (!str_has_prefix(ver, "1.")) {
				r = err_set(e, ERR_UNSUPPORTED,
				    "%s: image layout version \"%.20s\" is not supported "
				    "(1.x is)",
				    s->label, ver);
				goto out;
			}
		}
		if ((r = images_layout(s, &idx, &l, e)) != 0)
			goto out;
	}
	if (l.n == 0) {
		r = err_set(e, ERR_NOT_FOUND, "%s: no image for platform %s", s->label,
		    platform != NULL ? platform : "any");
		goto out;
	}
	*out = l.v;
	*n = l.n;
	l.v = NULL; /* transferred */
	l.n = 0;
	r = 0;
out:
	for (i = 0; i < l.n; i++)
		oci_image_free(l.v[i]);
	free(l.v);
	json_decref(ld);
	sb_cleanup(&idx);
	sb_cleanup(&mj);
	sb_cleanup(&lay);
	return r;
}
