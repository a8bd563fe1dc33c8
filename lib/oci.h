/* oci — OCI images as hardline reads and writes them: descriptors, index/manifest/config parsing with caps,
 * blob stores over the transports of transport.h (a layout directory, an oci-archive or docker-archive tar), a blob
 * reader that verifies size and digest as it reads, and a writer that builds an OCI layout (or oci-archive) beside
 * its destination and renames it into place, byte-for-byte reproducibly. Docker media types are accepted on input
 * and converted to their OCI equivalents on output. Implementation: oci.c (model), oci_store.c (reading),
 * oci_writer.c (writing). */
#ifndef HARDLINE_OCI_H
#define HARDLINE_OCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "lib/digest.h"
#include "lib/err.h"
#include "lib/str.h"

/* Media types. */
#define OCI_MT_LAYOUT_HEADER "application/vnd.oci.layout.header.v1+json"
#define OCI_MT_INDEX "application/vnd.oci.image.index.v1+json"
#define OCI_MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define OCI_MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define OCI_MT_LAYER "application/vnd.oci.image.layer.v1.tar"
#define OCI_MT_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define OCI_MT_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define DOCKER_MT_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define DOCKER_MT_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define DOCKER_MT_CONFIG "application/vnd.docker.container.image.v1+json"
#define DOCKER_MT_LAYER "application/vnd.docker.image.rootfs.diff.tar"
#define DOCKER_MT_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define DOCKER_MT_LAYER_FOREIGN "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

#define OCI_ANN_REF_NAME "org.opencontainers.image.ref.name"

/* Caps on untrusted image metadata. */
#define OCI_JSON_MAX (4u << 20) /* index, manifest, config, docker manifest.json */
#define OCI_MAX_ENTRIES 10000	/* layers per manifest, manifests per index */
#define OCI_MAX_NESTING 4	/* index -> index -> ... -> manifest */

/* A content descriptor. Strings are owned by the descriptor (oci_descriptor_cleanup frees them). */
struct oci_descriptor {
	char *media_type;
	char digest[DIGEST_STR_LEN + 1]; /* "sha256:<hex>", validated */
	uint64_t size;
	char *platform_os; /* NULL when the descriptor has no platform */
	char *platform_arch;
	char *platform_variant; /* NULL when none */
	json_t *annotations;	/* an object or NULL (one reference owned) */
};

/* Frees the strings and annotations; the struct is zeroed and may be reused. NULL-safe. */
void oci_descriptor_cleanup(struct oci_descriptor *d);
/* Deep copy of src into *dst (cleared first). ERR_NOMEM. */
int oci_descriptor_copy(struct oci_descriptor *dst, const struct oci_descriptor *src, struct err *e);
/* Parses one descriptor object (mediaType, digest, size required; platform, annotations optional; urls refused:
 * foreign layers are not fetched). where names it in messages ("manifest sha256:… layers[3]"). ERR_PARSE/ERR_INVALID/
 * ERR_UNSUPPORTED (digest algorithm). *out is cleared first and set only on success. */
int oci_descriptor_parse(const json_t *obj, const char *where, struct oci_descriptor *out, struct err *e);
/* A new JSON object {"mediaType","digest","size"[,"platform"][,"annotations"]} in that order; NULL on ENOMEM. */
json_t *oci_descriptor_to_json(const struct oci_descriptor *d);

/* "linux/amd64" or "linux/arm64/v8" into buf; "unknown" parts for a descriptor without platform. */
void oci_platform_fmt(const struct oci_descriptor *d, char *buf, size_t size);
/* Whether d matches a filter "os/arch[/variant]" (variant compared only when the filter has one; "arm64" also
 * matches variant "v8"). A NULL filter matches everything. */
bool oci_platform_match(const struct oci_descriptor *d, const char *filter);

/* Media type classification. */
enum oci_compression { OCI_COMP_NONE = 0, OCI_COMP_GZIP, OCI_COMP_ZSTD };
bool oci_mt_is_index(const char *mt);	 /* OCI index or Docker manifest list */
bool oci_mt_is_manifest(const char *mt); /* OCI or Docker v2 schema 2 manifest */
bool oci_mt_is_config(const char *mt);	 /* OCI or Docker container config */
/* Layer media types we can read: sets *comp; ERR_UNSUPPORTED naming the type otherwise (foreign, non-distributable
 * and unknown types). */
int oci_mt_layer(const char *mt, enum oci_compression *comp, struct err *e);
/* The OCI equivalent of a Docker media type (the same string for an OCI one); NULL when there is none. Static. */
const char *oci_mt_to_oci(const char *mt);

/* One platform's image: its manifest, config, layers and diff_ids, all verified against their digests when loaded.
 * manifest and config are kept as parsed JSON so that unknown fields round-trip. */
struct oci_image {
	struct oci_descriptor manifest_desc; /* with the platform of the index entry (or of the config) */
	json_t *manifest;		     /* owned */
	struct oci_descriptor config_desc;
	json_t *config;		       /* owned; "history" and "rootfs" live here */
	struct oci_descriptor *layers; /* n_layers entries, media types as in the input */
	size_t n_layers;
	char (*diff_ids)[DIGEST_STR_LEN + 1]; /* n_layers entries: config rootfs.diff_ids, validated */
	char *ref_name;			      /* the tag that selected it, or NULL */
};

void oci_image_free(struct oci_image *img);

/* Parses and checks an image index / manifest / config given as bytes (the caller has verified their digest).
 * Index: schemaVersion 2, manifests ≤ OCI_MAX_ENTRIES, every entry a valid descriptor. Manifest: schemaVersion 2,
 * config and layers descriptors, layers ≤ OCI_MAX_ENTRIES. Config: rootfs.type "layers", diff_ids valid digests.
 * label names the blob in messages. On success *out is a new reference. */
int oci_index_parse(const char *buf, size_t len, const char *label, json_t **out, struct err *e);
int oci_manifest_parse(const char *buf, size_t len, const char *label, json_t **out, struct err *e);
int oci_config_parse(const char *buf, size_t len, const char *label, json_t **out, struct err *e);

/* Serializes deterministically (compact, members in insertion order: build objects in a fixed order) into *out
 * (cleared first). ERR_NOMEM / ERR_TOO_LARGE over OCI_JSON_MAX. */
int oci_json_dump(const json_t *v, struct strbuf *out, struct err *e);

/* ---- reading: stores ---- */

/* A source of blobs and images, opened from a transport reference string. Layout directories are read with
 * openat(O_NOFOLLOW) under the layout root. Tar archives are indexed once with libarchive (member names, types,
 * sizes, data offsets; symlinked and hardlinked members resolved inside the archive) and a blob of an uncompressed
 * tar is read with pread() at its offset, so nothing is extracted to disk; gzip/zstd/xz-compressed archives work
 * too, by re-reading the archive up to the member. */
struct oci_store;

/* Opens ref ("oci:DIR[:TAG]", "oci-archive:FILE[:TAG]", "docker-archive:FILE[:TAG]"). *out is a new store
 * (oci_store_free). Errors name the path: ERR_NOT_FOUND, ERR_IO, ERR_PARSE, ERR_USAGE (bad reference). */
int oci_store_open(const char *ref, struct oci_store **out, struct err *e);
void oci_store_free(struct oci_store *s);

/* Resolves the reference's tag (or the only image when no tag is given) through index → nested indexes →
 * manifests, keeping the manifests for platforms matching platform ("os/arch[/variant]", NULL = all; attestation
 * and other non-image manifests with platform "unknown/unknown" are skipped). Every index, manifest and config is
 * read verified. Caps: 10000 descriptors walked and 64 MiB of indexes and manifests per call (ERR_TOO_LARGE).
 * Tags match org.opencontainers.image.ref.name (or Docker's io.containerd.image.name; "busybox:1" also matches
 * ".../busybox:1"); without a tag, cosign "sha256-<hex>.att/.sig/.sbom" entries are not counted. Legacy
 * docker-archive: the manifest is synthesized from manifest.json (an uncompressed layer has digest = diff_id; a
 * gzip/zstd one is hashed at open) and tags match RepoTags; a Docker 25+ archive (OCI layout inside) skips the
 * platforms whose manifests it does not contain. *out is a new array of *n new images (oci_images_free); none
 * matching the platform is ERR_NOT_FOUND. A tag matching nothing, or no tag with several images, is ERR_NOT_FOUND /
 * ERR_INVALID naming the tags. */
int oci_store_images(struct oci_store *s, const char *platform, struct oci_image ***out, size_t *n, struct err *e);
void oci_images_free(struct oci_image **imgs, size_t n);

/* The descriptor the reference resolved to (an index or a manifest) after oci_store_images; the "input image
 * digest" of an attestation. Borrowed from the store; NULL before oci_store_images. For a legacy docker-archive this
 * is the synthesized manifest. */
const struct oci_descriptor *oci_store_root(const struct oci_store *s);

/* ---- reading: verified blobs ---- */

struct oci_reader;

/* Opens the blob of d for reading. ERR_NOT_FOUND naming the digest when the store does not have it. */
int oci_blob_open(struct oci_store *s, const struct oci_descriptor *d, struct oci_reader **out, struct err *e);
/* Reads up to n bytes into buf. Returns the count (> 0), 0 at EOF once size and digest are verified, or a negative
 * ERR_*: ERR_VERIFY "blob sha256:…: content does not match its digest; the image is corrupt" (also for more or fewer
 * bytes than the descriptor's size), ERR_IO. After an error the reader is finished (keep returning the error). */
ssize_t oci_reader_read(struct oci_reader *r, void *buf, size_t n, struct err *e);
/* Reads and hashes what is left and verifies: call it when a consumer (a tar or gzip reader) may stop before EOF,
 * so that no blob goes unverified. Returns 0 or the error as oci_reader_read. */
int oci_reader_finish(struct oci_reader *r, struct err *e);
void oci_reader_free(struct oci_reader *r);

/* Reads a whole small blob (verified) into sb (cleared first, capped at cap; ERR_TOO_LARGE naming the blob when
 * d->size > cap). */
int oci_blob_read_all(struct oci_store *s, const struct oci_descriptor *d, size_t cap, struct strbuf *sb,
    struct err *e);

/* ---- writing ---- */

/* Writes one output reference ("oci:DIR[:TAG]" or "oci-archive:FILE[:TAG]").
 * oci:DIR that does not exist: the layout is built in DIR.tmp-XXXXXX beside it and renamed to DIR at finish.
 * oci:DIR that is an existing OCI layout: blobs are added to it (content-addressed, harmless; a failed write may
 * leave unreferenced blobs, never a changed index) and index.json is replaced atomically at finish, keeping every
 * other entry and replacing only the entry with the same tag (skopeo's behaviour; without a tag the image is
 * appended unless the same untagged image is there). Two writers into one layout at once may lose an entry: there
 * is no lock. A non-layout, non-empty DIR is refused (ERR_EXISTS).
 * oci-archive:FILE: the layout is built in a private temp dir beside FILE, written as a deterministic tar (sorted
 * entries, mtime SOURCE_DATE_EPOCH or 0, uid/gid 0, no user/group names) to FILE.tmp-XXXXXX and renamed to FILE.
 * (An existing FILE is replaced; the build needs about twice the image's size in free space beside FILE.)
 * A writer freed without oci_writer_finish removes everything it created: a failure leaves no partial DST. */
struct oci_writer;

int oci_writer_new(const char *dst_ref, struct oci_writer **out, struct err *e);
/* Removes temporary files of an unfinished writer. NULL-safe. */
void oci_writer_free(struct oci_writer *w);

/* Streaming blob: write bytes, then commit under its digest (hashed while written). */
struct oci_blob_out;
int oci_writer_blob_begin(struct oci_writer *w, struct oci_blob_out **out, struct err *e);
int oci_blob_out_write(struct oci_blob_out *b, const void *p, size_t n, struct err *e);
/* Finishes the blob: fills *desc (cleared first) with media_type, digest and size, and frees b in every case. */
int oci_blob_out_commit(struct oci_blob_out *b, const char *media_type, struct oci_descriptor *desc, struct err *e);
/* Drops an uncommitted blob. NULL-safe. */
void oci_blob_out_abort(struct oci_blob_out *b);

/* Adds p[n] as a blob; fills *desc. */
int oci_writer_add_blob_bytes(struct oci_writer *w, const void *p, size_t n, const char *media_type,
    struct oci_descriptor *desc, struct err *e);
/* Copies the blob of d from s, verified as it is read; *desc gets d with its media type converted to OCI. */
int oci_writer_copy_blob(struct oci_writer *w, struct oci_store *s, const struct oci_descriptor *d,
    struct oci_descriptor *desc, struct err *e);

/* Adds one platform's image: serializes config (as given, deterministically) as an OCI config blob, builds an OCI
 * manifest {schemaVersion, mediaType, config, layers[, annotations]} over the given layer descriptors (already
 * added to w; media types converted to OCI) and adds it; the manifest's platform is copied from platform_from (may
 * be NULL: taken from config os/architecture/variant). It is recorded for the index written by finish; *manifest
 * (may be NULL) receives its descriptor. annotations (may be NULL) is borrowed. */
int oci_writer_add_image(struct oci_writer *w, const json_t *config, const struct oci_descriptor *layers,
    size_t n_layers, const json_t *annotations, const struct oci_descriptor *platform_from,
    struct oci_descriptor *manifest, struct err *e);

/* Convenience: copies img unchanged in content (config bytes re-serialized, layers copied verified), i.e.
 * oci_writer_copy_blob for each layer then oci_writer_add_image. */
int oci_writer_copy_image(struct oci_writer *w, struct oci_store *s, const struct oci_image *img,
    struct oci_descriptor *manifest, struct err *e);

/* Lists d (a blob already added to w, e.g. an attestation manifest carrying its annotations) in index.json beside
 * the image, as given. It replaces an existing entry with the same ref.name annotation (or, without one, the same
 * digest): "sha256-<hex>.att" entries are not counted as images by oci_store_images without a tag. With such
 * entries finish may be called with no image at all (adding to an existing layout). d is copied. */
int oci_writer_add_index_entry(struct oci_writer *w, const struct oci_descriptor *d, struct err *e);

/* Writes oci-layout and index.json and puts the result in place. One recorded image: index.json lists its
 * manifest (with platform and, when DST has a tag, the ref.name annotation). Several: they go into a nested OCI
 * index blob which index.json lists (as `skopeo copy --all` does). *root (may be NULL) receives the descriptor of
 * what DST's tag now names (zeroed when only index entries were added). The writer must still be freed. */
int oci_writer_finish(struct oci_writer *w, struct oci_descriptor *root, struct err *e);

#endif
