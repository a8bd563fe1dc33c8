/* oci — the OCI data model: descriptors, media types, platforms, and strict parsing of index, manifest and config
 * documents with caps. Stores (oci_store.c) and the writer (oci_writer.c) build on these. */
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/oci.h"

void oci_descriptor_cleanup(struct oci_descriptor *d)
{
	if (d == NULL)
		return;
	free(d->media_type);
	free(d->platform_os);
	free(d->platform_arch);
	free(d->platform_variant);
	json_decref(d->annotations);
	memset(d, 0, sizeof(*d));
}

/* strdup of s, or NULL for NULL; *ok becomes false on allocation failure. */
static char *dup_opt(const char *s, bool *ok)
{
	char *c;

	if (s == NULL)
		return NULL;
	if ((c = strdup(s)) == NULL)
		*ok = false;
	return c;
}

int oci_descriptor_copy(struct oci_descriptor *dst, const struct oci_descriptor *src, struct err *e)
{
	struct oci_descriptor d;
	bool ok = true;

	memset(dst, 0, sizeof(*dst));
	memset(&d, 0, sizeof(d));
	d.media_type = dup_opt(src->media_type, &ok);
	memcpy(d.digest, src->digest, sizeof(d.digest));
	d.size = src->size;
	d.platform_os = dup_opt(src->platform_os, &ok);
	d.platform_arch = dup_opt(src->platform_arch, &ok);
	d.platform_variant = dup_opt(src->platform_variant, &ok);
	if (src->annotations != NULL && (d.annotations = json_deep_copy(src->annotations)) == NULL)
		ok = false;
	if (!ok) {
		oci_descriptor_cleanup(&d);
		return err_set(e, ERR_NOMEM, "out of memory copying a descriptor");
	}
	*dst = d; /* transferred */
	return 0;
}

int oci_descriptor_parse(const json_t *obj, const char *where, struct oci_descriptor *out, struct err *e)
{
	struct oci_descriptor d;
	const char *mt = NULL, *dg = NULL, *os = NULL, *arch = NULL, *variant = NULL, *key;
	json_t *plat = NULL, *ann = NULL, *v;
	int64_t size = 0;
	char sub[256];
	bool ok = true;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&d, 0, sizeof(d));
	if (!json_is_object(obj))
		return err_set(e, ERR_INVALID, "%s: a descriptor must be an object; the image is malformed", where);
	if ((r = json_get_str(obj, "mediaType", &mt, where, e)) != 0) {
		if (r == ERR_NOT_FOUND)
			r = err_set(e, ERR_INVALID, "%s: descriptor has no mediaType; the image is malformed", where);
		return r;
	}
	if ((r = json_get_str(obj, "digest", &dg, where, e)) != 0) {
		if (r == ERR_NOT_FOUND)
			r = err_set(e, ERR_INVALID, "%s: descriptor has no digest; the image is malformed", where);
		return r;
	}
	if ((r = digest_validate(dg, e)) != 0)
		return err_prefix(e, "%s", where);
	v = json_object_get(obj, "size");
	if (v == NULL)
		return err_set(e, ERR_INVALID, "%s: descriptor has no size; the image is malformed", where);
	if (!json_is_integer(v) || (size = json_integer_value(v)) < 0)
		return err_set(e, ERR_INVALID, "%s: size must be a non-negative integer; the image is malformed",
		    where);
	if (json_object_get(obj, "urls") != NULL)
		return err_set(e, ERR_UNSUPPORTED,
		    "%s: blob %s has external urls (a foreign layer); hardline does not "
		    "fetch foreign layers, pull the image with them included",
		    where, dg);
	r = json_get_obj(obj, "platform", &plat, where, e);
	if (r != 0 && r != ERR_NOT_FOUND)
		return r;
	if (plat != NULL) {
		(void)str_fmt(sub, sizeof(sub), "%s.platform", where);
		if ((r = json_get_str(plat, "os", &os, sub, e)) != 0 ||
		    (r = json_get_str(plat, "architecture", &arch, sub, e)) != 0) {
			if (r == ERR_NOT_FOUND)
				r = err_set(e, ERR_INVALID, "%s needs os and architecture; the image is malformed",
				    sub);
			return r;
		}
		r = json_get_str(plat, "variant", &variant, sub, e);
		if (r != 0 && r != ERR_NOT_FOUND)
			return r;
	}
	r = json_get_obj(obj, "annotations", &ann, where, e);
	if (r != 0 && r != ERR_NOT_FOUND)
		return r;
	if (ann != NULL) {
		json_object_foreach(ann, key, v)
		{
			if (!json_is_string(v))
				return err_set(e, ERR_INVALID,
				    "%s.annotations values must be strings; the image is "
				    "malformed",
				    where);
		}
	}
	d.media_type = dup_opt(mt, &ok);
	memcpy(d.digest, dg, DIGEST_STR_LEN + 1);
	d.size = (uint64_t)size;
	d.platform_os = dup_opt(os, &ok);
	d.platform_arch = dup_opt(arch, &ok);
	d.platform_variant = dup_opt(variant, &ok);
	if (ann != NULL)
		d.annotations = json_incref(ann);
	if (!ok) {
		oci_descriptor_cleanup(&d);
		return err_set(e, ERR_NOMEM, "%s: out of memory", where);
	}
	*out = d; /* transferred */
	return 0;
}

json_t *oci_descriptor_to_json(const struct oci_descriptor *d)
{
	json_t *o, *p = NULL;
	int bad = 0;

	if ((o = json_object()) == NULL)
		return NULL;
	bad |= json_object_set_new(o, "mediaType", json_string(d->media_type != NULL ? d->media_type : ""));
	bad |= json_object_set_new(o, "digest", json_string(d->digest));
	bad |= json_object_set_new(o, "size", json_integer((json_int_t)d->size));
	if (d->platform_os != NULL && d->platform_arch != NULL) {
		if ((p = json_object()) == NULL) {
			json_decref(o);
			return NULL;
		}
		bad |= json_object_set_new(p, "architecture", json_string(d->platform_arch));
		bad |= json_object_set_new(p, "os", json_string(d->platform_os));
		if (d->platform_variant != NULL)
			bad |= json_object_set_new(p, "variant", json_string(d->platform_variant));
		bad |= json_object_set_new(o, "platform", p);
	}
	if (d->annotations != NULL && json_object_size(d->annotations) > 0)
		bad |= json_object_set(o, "annotations", d->annotations);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

void oci_platform_fmt(const struct oci_descriptor *d, char *buf, size_t size)
{
	const char *os = d->platform_os != NULL ? d->platform_os : "unknown";
	const char *arch = d->platform_arch != NULL ? d->platform_arch : "unknown";

	if (d->platform_variant != NULL)
		(void)str_fmt(buf, size, "%.64s/%.64s/%.64s", os, arch, d->platform_variant);
	else
		(void)str_fmt(buf, size, "%.64s/%.64s", os, arch);
}

bool oci_platform_match(const struct oci_descriptor *d, const char *filter)
{
	char f[200], *arch, *variant;
	const char *dv;

	if (filter == NULL)
		return true;
	if (d->platform_os == NULL || d->platform_arch == NULL)
		return false;
	if (str_copy(f, sizeof(f), filter) != 0 || (arch = strchr(f, '/')) == NULL)
		return false;
	*arch++ = '\0';
	if ((variant = strchr(arch, '/')) != NULL)
		*variant++ = '\0';
	if (strcmp(f, d->platform_os) != 0 || strcmp(arch, d->platform_arch) != 0)
		return false;
	if (variant == NULL)
		return true;
	dv = d->platform_variant;
	if (dv == NULL && strcmp(d->platform_arch, "arm64") == 0)
		dv = "v8"; /* arm64 without a variant is v8 */
	return dv != NULL && strcmp(variant, dv) == 0;
}

bool oci_mt_is_index(const char *mt)
{
	return mt != NULL && (strcmp(mt, OCI_MT_INDEX) == 0 || strcmp(mt, DOCKER_MT_LIST) == 0);
}

bool oci_mt_is_manifest(const char *mt)
{
	return mt != NULL && (strcmp(mt, OCI_MT_MANIFEST) == 0 || strcmp(mt, DOCKER_MT_MANIFEST) == 0);
}

bool oci_mt_is_config(const char *mt)
{
	return mt != NULL && (strcmp(mt, OCI_MT_CONFIG) == 0 || strcmp(mt, DOCKER_MT_CONFIG) == 0);
}

int oci_mt_layer(const char *mt, enum oci_compression *comp, struct err *e)
{
	*comp = OCI_COMP_NONE;
	if (strcmp(mt, OCI_MT_LAYER) == 0 || strcmp(mt, DOCKER_MT_LAYER) == 0)
		return 0;
	if (strcmp(mt, OCI_MT_LAYER_GZIP) == 0 || strcmp(mt, DOCKER_MT_LAYER_GZIP) == 0) {
		*comp = OCI_COMP_GZIP;
		return 0;
	}
	if (strcmp(mt, OCI_MT_LAYER_ZSTD) == 0) {
		*comp = OCI_COMP_ZSTD;
		return 0;
	}
	return err_set(e, ERR_UNSUPPORTED,
	    "layer media type \"%.100s\" is not supported (foreign, non-distributable "
	    "or unknown); use an image with OCI or Docker tar, tar+gzip or tar+zstd layers",
	    mt);
}

const char *oci_mt_to_oci(const char *mt)
{
	static const char *const map[][2] = {
		{ OCI_MT_INDEX, OCI_MT_INDEX },
		{ DOCKER_MT_LIST, OCI_MT_INDEX },
		{ OCI_MT_MANIFEST, OCI_MT_MANIFEST },
		{ DOCKER_MT_MANIFEST, OCI_MT_MANIFEST },
		{ OCI_MT_CONFIG, OCI_MT_CONFIG },
		{ DOCKER_MT_CONFIG, OCI_MT_CONFIG },
		{ OCI_MT_LAYER, OCI_MT_LAYER },
		{ DOCKER_MT_LAYER, OCI_MT_LAYER },
		{ OCI_MT_LAYER_GZIP, OCI_MT_LAYER_GZIP },
		{ DOCKER_MT_LAYER_GZIP, OCI_MT_LAYER_GZIP },
		{ OCI_MT_LAYER_ZSTD, OCI_MT_LAYER_ZSTD },
	};
	size_t i;

	if (mt == NULL)
		return NULL;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(mt, map[i][0]) == 0)
			return map[i][1];
	return NULL;
}

void oci_image_free(struct oci_image *img)
{
	size_t i;

	if (img == NULL)
		return;
	oci_descriptor_cleanup(&img->manifest_desc);
	json_decref(img->manifest);
	oci_descriptor_cleanup(&img->config_desc);
	json_decref(img->config);
	for (i = 0; i < img->n_layers; i++)
		oci_descriptor_cleanup(&img->layers[i]);
	free(img->layers);
	free(img->diff_ids);
	free(img->ref_name);
	free(img);
}

void oci_images_free(struct oci_image **imgs, size_t n)
{
	size_t i;

	if (imgs == NULL)
		return;
	for (i = 0; i < n; i++)
		oci_image_free(imgs[i]);
	free(imgs);
}

/* Checks schemaVersion == 2 and, when mediaType is present, that accept(mediaType) holds. */
static int check_header(const json_t *doc, const char *label, const char *kind, bool (*accept)(const char *),
    struct err *e)
{
	const char *mt = NULL;
	int64_t sv = 0;
	int r;

	if (!json_is_object(doc))
		return err_set(e, ERR_INVALID, "%s: the %s must be a JSON object; the image is malformed", label, kind);
	if ((r = json_get_int(doc, "schemaVersion", INT64_MIN, INT64_MAX, &sv, label, e)) != 0) {
		if (r == ERR_NOT_FOUND)
			r = err_set(e, ERR_INVALID, "%s: the %s has no schemaVersion; the image is malformed", label,
			    kind);
		return r;
	}
	if (sv != 2)
		return err_set(e, ERR_UNSUPPORTED,
		    "%s: unknown schemaVersion %lld of the %s (only 2 is supported); "
		    "convert the image with skopeo copy",
		    label, (long long)sv, kind);
	r = json_get_str(doc, "mediaType", &mt, label, e);
	if (r != 0 && r != ERR_NOT_FOUND)
		return r;
	if (mt != NULL && !accept(mt))
		return err_set(e, ERR_UNSUPPORTED, "%s: media type \"%.100s\" is not an image %s", label, mt, kind);
	return 0;
}

/* Parses buf[len] strictly (at most OCI_JSON_MAX) into *doc (a new reference) and checks its header as check_header
 * does; on error *doc is NULL. */
static int parse_with_header(const char *buf, size_t len, const char *label, const char *kind,
    bool (*accept)(const char *), json_t **doc, struct err *e)
{
	int r;

	if ((r = json_parse_buf(buf, len, OCI_JSON_MAX, label, doc, e)) != 0)
		return r;
	if ((r = check_header(*doc, label, kind, accept, e)) != 0) {
		json_decref(*doc);
		*doc = NULL;
	}
	return r;
}

/* Gets the array member key of doc with at most OCI_MAX_ENTRIES entries, required. */
static int get_capped_array(const json_t *doc, const char *key, const char *label, json_t **out, struct err *e)
{
	int r;

	*out = NULL;
	if ((r = json_get_arr(doc, key, out, label, e)) != 0) {
		if (r == ERR_NOT_FOUND)
			r = err_set(e, ERR_INVALID, "%s: %s is missing or null; the image is malformed", label, key);
		return r;
	}
	if (json_array_size(*out) > OCI_MAX_ENTRIES)
		return err_set(e, ERR_TOO_LARGE, "%s: %zu %s, more than the limit of %d", label, json_array_size(*out),
		    key, OCI_MAX_ENTRIES);
	return 0;
}

/* Validates every element of arr as a descriptor. */
static int check_descriptors(json_t *arr, const char *label, const char *key, struct err *e)
{
	struct oci_descriptor d;
	char where[256];
	size_t i;
	json_t *v;
	int r;

	json_array_foreach(arr, i, v)
	{
		(void)str_fmt(where, sizeof(where), "%s %s[%zu]", label, key, i);
		if ((r = oci_descriptor_parse(v, where, &d, e)) != 0)
			return r;
		oci_descriptor_cleanup(&d);
	}
	return 0;
}

int oci_index_parse(const char *buf, size_t len, const char *label, json_t **out, struct err *e)
{
	json_t *doc = NULL, *arr;
	int r;

	*out = NULL;
	if ((r = parse_with_header(buf, len, label, "index", oci_mt_is_index, &doc, e)) != 0 ||
	    (r = get_capped_array(doc, "manifests", label, &arr, e)) != 0 ||
	    (r = check_descriptors(arr, label, "manifests", e)) != 0)
		goto out;
	*out = doc;
	doc = NULL; /* transferred */
	r = 0;
out:
	json_decref(doc);
	return r;
}

int oci_manifest_parse(const char *buf, size_t len, const char *label, json_t **out, struct err *e)
{
	struct oci_descriptor d;
	json_t *doc = NULL, *arr, *cfg;
	char where[256];
	int r;

	*out = NULL;
	if ((r = parse_with_header(buf, len, label, "manifest", oci_mt_is_manifest, &doc, e)) != 0)
		goto out;
	if ((cfg = json_object_get(doc, "config")) == NULL) {
		r = err_set(e, ERR_INVALID, "%s: the manifest has no config; the image is malformed", label);
		goto out;
	}
	(void)str_fmt(where, sizeof(where), "%s config", label);
	if ((r = oci_descriptor_parse(cfg, where, &d, e)) != 0)
		goto out;
	oci_descriptor_cleanup(&d);
	if ((r = get_capped_array(doc, "layers", label, &arr, e)) != 0 ||
	    (r = check_descriptors(arr, label, "layers", e)) != 0)
		goto out;
	*out = doc;
	doc = NULL; /* transferred */
	r = 0;
out:
	json_decref(doc);
	return r;
}

int oci_config_parse(const char *buf, size_t len, const char *label, json_t **out, struct err *e)
{
	json_t *doc = NULL, *rootfs = NULL, *ids, *v, *hist = NULL;
	const char *type = NULL;
	char where[256];
	size_t i;
	int r;

	*out = NULL;
	(void)str_fmt(where, sizeof(where), "%s rootfs", label);
	if ((r = json_parse_buf(buf, len, OCI_JSON_MAX, label, &doc, e)) != 0)
		goto out;
	if (!json_is_object(doc)) {
		r = err_set(e, ERR_INVALID, "%s: the config must be a JSON object; the image is malformed", label);
		goto out;
	}
	if ((r = json_get_obj(doc, "rootfs", &rootfs, label, e)) != 0 ||
	    (r = json_get_str(rootfs, "type", &type, where, e)) != 0) {
		if (r == ERR_NOT_FOUND)
			r = err_set(e, ERR_INVALID, "%s: the config has no rootfs.type; the image is malformed", label);
		goto out;
	}
	if (strcmp(type, "layers") != 0) {
		r = err_set(e, ERR_UNSUPPORTED, "%s: rootfs.type \"%.40s\" is not \"layers\"", label, type);
		goto out;
	}
	if ((r = get_capped_array(rootfs, "diff_ids", where, &ids, e)) != 0)
		goto out;
	json_array_foreach(ids, i, v)
	{
		if (!json_is_string(v)) {
			r = err_set(e, ERR_INVALID, "%s: rootfs.diff_ids[%zu] must be a string", label, i);
			goto out;
		}
		if ((r = digest_validate(json_string_value(v), e)) != 0) {
			err_prefix(e, "%s: rootfs.diff_ids[%zu]", label, i);
			goto out;
		}
	}
	r = json_get_arr(doc, "history", &hist, label, e);
	if (r != 0 && r != ERR_NOT_FOUND)
		goto out;
	*out = doc;
	doc = NULL; /* transferred */
	r = 0;
out:
	json_decref(doc);
	return r;
}

int oci_json_dump(const json_t *v, struct strbuf *out, struct err *e)
{
	char *s;
	size_t n;
	int r;

	sb_init(out, OCI_JSON_MAX);
	if ((s = json_dumps(v, JSON_COMPACT)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory serializing JSON");
	n = strlen(s);
	if ((r = sb_append(out, s, n)) != 0)
		r = err_set(e, r, "serialized JSON of %zu bytes is over the limit of %u", n, OCI_JSON_MAX);
	free(s);
	return r;
}
