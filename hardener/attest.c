/* attest — measure + sign + store hardening attestations, and find + verify them (see attest.h). The .att manifest
 * layout is att_store.c; the crypto and the Statement are lib/dsse + lib/intoto; images come from lib/oci stores
 * (a registry image is first copied, verified, into a private temporary layout). */
#define _GNU_SOURCE /* mkostemp */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hardener/attest.h"
#include "hardener/facts.h"
#include "hardener/imageview.h"
#include "hardener/report.h"
#include "lib/cleanup.h"
#include "lib/dsse.h"
#include "lib/fileio.h"
#include "lib/imageref.h"
#include "lib/intoto.h"
#include "lib/json.h"
#include "lib/keys.h"
#include "lib/log.h"
#include "lib/oci.h"
#include "lib/registry.h"
#include "lib/str.h"
#include "lib/tarlayer.h"
#include "lib/transport.h"

#ifndef HARDLINE_VERSION
#define HARDLINE_VERSION "0.1.0"
#endif

#define ATTEST_MAX_ENVELOPES 64 /* attestations examined per manifest digest */

/* One image manifest to attest or verify. */
struct target {
	char digest[DIGEST_STR_LEN + 1];
	char platform[128];
	json_t *facts;				/* owned; NULL until measured */
	char policy_digest[DIGEST_STR_LEN + 1]; /* "" when unknown */
	char profile[128];			/* "" when unknown */
};

/* The selected platforms of an image, opened. */
struct source {
	char ref[PATH_MAX + 300];   /* as given (the subject name) */
	struct transport_ref tref;  /* the local reference (for docker://: the private layout) */
	char local[PATH_MAX + 300]; /* the oci:/oci-archive: reference read */
	struct oci_store *store;
	struct oci_image **imgs;
	size_t nimg;
	struct attest_remote *remote; /* docker:// images; NULL otherwise */
};

/* ---- registry images (docker://) ---- */

#define REMOTE_BUDGET_MS 60000	      /* per manifest or small blob */
#define REMOTE_LAYER_BUDGET_MS 600000 /* per layer */
#define REMOTE_LAYER_MAX (8ull << 30) /* bytes of one compressed layer */
#define REMOTE_MAX_PLATFORMS 64

/* A registry image copied, verified, into a private temporary layout (so that the oci store reads it as any
 * other), and the client that pushes attestations next to it. */
struct attest_remote {
	struct registry_client *c;
	struct imageref ref;		      /* with the digest resolved */
	char name[IMAGEREF_NAME_MAX * 2 + 2]; /* REGISTRY/REPO: the subject name */
	char layout[PATH_MAX];		      /* the private layout, removed by attest_remote_free */
};

/* A blob being downloaded into the layout: written to a temp file, renamed when the client has verified it. */
struct blob_sink {
	int fd;
	struct strbuf *mem; /* or collected in memory (manifests) */
};

/* registry_sink_fn: appends p[n] to the memory buffer or the file of arg (a struct blob_sink). */
static int sink_write(void *arg, const void *p, size_t n, struct err *e)
{
	struct blob_sink *bs = arg;

	if (bs->mem != NULL)
		return sb_append(bs->mem, p, n) != 0 ? err_set(e, ERR_TOO_LARGE, "blob larger than expected") : 0;
	if (fileio_write_all(bs->fd, p, n) != 0)
		return err_errno(e, errno, "write a downloaded blob");
	return 0;
}

/* Writes p[n] to layout/rel (a new file). */
static int layout_write(const char *layout, const char *rel, const void *p, size_t n, struct err *e)
{
	char path[PATH_MAX + 100];
	int fd, r = 0;

	(void)str_fmt(path, sizeof(path), "%s/%s", layout, rel);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0)
		return err_errno(e, errno, "create %s", path);
	if (fileio_write_all(fd, p, n) != 0)
		r = err_errno(e, errno, "write a downloaded blob");
	close(fd);
	return r;
}

/* Downloads blob digest of rm's repository into the layout (verified by the client), at most max bytes. */
static int remote_blob_to_layout(struct attest_remote *rm, const char *digest, uint64_t max, int64_t budget,
    struct err *e)
{
	char tmp[PATH_MAX + 100], final[PATH_MAX + 100];
	struct blob_sink bs = { -1, NULL };
	struct stat st;
	int r;

	if (digest_validate(digest, e) != 0)
		return e->code;
	(void)str_fmt(final, sizeof(final), "%s/blobs/sha256/%s", rm->layout, digest + 7);
	if (stat(final, &st) == 0)
		return 0;
	(void)str_fmt(tmp, sizeof(tmp), "%s/blobs/.dl-XXXXXX", rm->layout);
	if ((bs.fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return err_errno(e, errno, "create %s", tmp);
	r = registry_blob_get(rm->c, &rm->ref, digest, max, sink_write, &bs, registry_now_ms() + budget, e);
	if (close(bs.fd) != 0 && r == 0)
		r = err_errno(e, errno, "write %s", tmp);
	if (r == 0 && rename(tmp, final) != 0)
		r = err_errno(e, errno, "rename %s", tmp);
	if (r != 0)
		(void)unlink(tmp);
	return r;
}

/* Downloads manifest digest (and its config, and its layers when fetch_layers) into the layout. *manifest is the
 * parsed manifest or index (a new reference), media_type[128] (may be NULL) its Content-Type. */
static int remote_manifest_to_layout(struct attest_remote *rm, const char *digest, bool fetch_layers, json_t **manifest,
    char *media_type, struct err *e)
{
	struct registry_manifest m;
	struct imageref byd = rm->ref;
	char rel[DIGEST_STR_LEN + 20], where[400];
	json_t *doc = NULL, *v;
	const char *d;
	size_t i;
	int r;

	memset(&m, 0, sizeof(m));
	*manifest = NULL;
	(void)str_copy(byd.digest, sizeof(byd.digest), digest);
	byd.tag[0] = '\0';
	if ((r = registry_manifest_get(rm->c, &byd, registry_now_ms() + REMOTE_BUDGET_MS, &m, e)) != 0)
		goto out;
	(void)str_fmt(rel, sizeof(rel), "blobs/sha256/%s", m.digest + 7);
	if ((r = layout_write(rm->layout, rel, m.data, m.len, e)) != 0)
		goto out;
	(void)str_fmt(where, sizeof(where), "%s@%s", rm->name, m.digest);
	if (oci_mt_is_index(m.media_type)) {
		r = oci_index_parse(m.data, m.len, where, &doc, e);
	} else {
		if ((r = oci_manifest_parse(m.data, m.len, where, &doc, e)) != 0)
			goto out;
		d = json_string_value(json_object_get(json_object_get(doc, "config"), "digest"));
		if ((r = remote_blob_to_layout(rm, d != NULL ? d : "", OCI_JSON_MAX, REMOTE_BUDGET_MS, e)) != 0)
			goto out;
		json_array_foreach(fetch_layers ? json_object_get(doc, "layers") : NULL, i, v)
		{
			d = json_string_value(json_object_get(v, "digest"));
			if ((r = remote_blob_to_layout(rm, d != NULL ? d : "", REMOTE_LAYER_MAX, REMOTE_LAYER_BUDGET_MS,
				 e)) != 0)
				goto out;
		}
	}
	if (r != 0)
		goto out;
	if (media_type != NULL)
		(void)str_copy(media_type, 128, m.media_type);
	*manifest = doc;
	doc = NULL; /* transferred */
	r = 0;
out:
	json_decref(doc);
	registry_manifest_cleanup(&m);
	return r;
}

/* Removes the private layout and frees the client; accepts NULL. */
static void attest_remote_free(struct attest_remote *rm)
{
	if (rm == NULL)
		return;
	if (rm->layout[0] != '\0') {
		fileio_remove_tree(rm->layout);
		cleanup_forget(rm->layout);
	}
	registry_client_free(rm->c);
	free(rm);
}

/* A client for ref's registry: plain http for loopback registries (test and local ones), https otherwise. */
static int remote_client(const struct imageref *ref, struct registry_client **c, struct err *e)
{
	struct registry_opts ro;

	memset(&ro, 0, sizeof(ro));
	ro.insecure_http = imageref_host_is_loopback(ref->registry);
	ro.user_agent = "hardline/" HARDLINE_VERSION;
	return registry_client_new(&ro, c, e);
}

/* Opens ref ("REGISTRY/REPO[:TAG][@sha256:…]", a tag resolved to its digest) into a new private layout holding its
 * manifest (or index and the manifests of the platforms matching platform), their configs and, when fetch_layers,
 * their layers, every blob verified by the client; index.json names the top manifest. *out is new
 * (attest_remote_free). Errors: ERR_USAGE for a bad reference, the registry client's, ERR_IO. */
static int attest_remote_open(const char *ref, const char *platform, bool fetch_layers, struct attest_remote **out,
    struct err *e)
{
	struct attest_remote *rm;
	json_t *doc = NULL, *sub = NULL, *idx = NULL, *v;
	struct oci_descriptor d;
	struct strbuf sb;
	const char *tmpdir = getenv("TMPDIR");
	char where[400], top_mt[128];
	size_t i;
	int r;

	*out = NULL;
	memset(&d, 0, sizeof(d));
	sb_init(&sb, OCI_JSON_MAX);
	if ((rm = calloc(1, sizeof(*rm))) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	if ((r = imageref_parse(ref, &rm->ref, e)) != 0) {
		err_prefix(e, "docker://%.200s", ref);
		r = ERR_USAGE;
		goto out;
	}
	(void)str_fmt(rm->name, sizeof(rm->name), "%s/%s", rm->ref.registry, rm->ref.repository);
	if ((r = remote_client(&rm->ref, &rm->c, e)) != 0)
		goto out;
	if (rm->ref.digest[0] == '\0' &&
	    (r = registry_manifest_resolve(rm->c, &rm->ref, registry_now_ms() + REMOTE_BUDGET_MS, rm->ref.digest, e)) !=
		0)
		goto out;
	/* Registered with lib/cleanup, so that a SIGTERM during attest or verify leaves nothing in the temp dir. */
	if (str_fmt(rm->layout, sizeof(rm->layout), "%s/hardline-att.XXXXXX",
		tmpdir != NULL && tmpdir[0] != '\0' ? tmpdir : "/tmp") != 0) {
		r = err_set(e, ERR_TOO_LARGE, "TMPDIR is too long for the registry image's temporary directory");
		rm->layout[0] = '\0';
		goto out;
	}
	if ((r = cleanup_mkdtemp(rm->layout, e)) != 0) {
		err_prefix(e, "create a temporary directory for the registry image");
		rm->layout[0] = '\0';
		goto out;
	}
	(void)str_fmt(where, sizeof(where), "%s/blobs", rm->layout);
	if (mkdir(where, 0755) != 0) {
		r = err_errno(e, errno, "create %s", where);
		goto out;
	}
	(void)str_fmt(where, sizeof(where), "%s/blobs/sha256", rm->layout);
	if (mkdir(where, 0755) != 0) {
		r = err_errno(e, errno, "create %s", where);
		goto out;
	}
	if ((r = layout_write(rm->layout, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30, e)) != 0 ||
	    (r = remote_manifest_to_layout(rm, rm->ref.digest, fetch_layers, &doc, top_mt, e)) != 0)
		goto out;
	if (json_object_get(doc, "manifests") != NULL) {
		json_array_foreach(json_object_get(doc, "manifests"), i, v)
		{
			(void)str_fmt(where, sizeof(where), "%s@%s manifests[%zu]", rm->name, rm->ref.digest, i);
			oci_descriptor_cleanup(&d);
			if ((r = oci_descriptor_parse(v, where, &d, e)) != 0)
				goto out;
			if (i >= REMOTE_MAX_PLATFORMS || !oci_mt_is_manifest(d.media_type) ||
			    !oci_platform_match(&d, platform) ||
			    (d.platform_os != NULL && strcmp(d.platform_os, "unknown") == 0))
				continue;
			if ((r = remote_manifest_to_layout(rm, d.digest, fetch_layers, &sub, NULL, e)) != 0)
				goto out;
			json_decref(sub);
			sub = NULL;
		}
	}
	/* index.json naming what the reference named: the store resolves it like a local image */
	(void)str_fmt(where, sizeof(where), "%s/blobs/sha256/%s", rm->layout, rm->ref.digest + 7);
	{
		struct stat st;

		if (stat(where, &st) != 0) {
			r = err_errno(e, errno, "stat %s", where);
			goto out;
		}
		idx = json_pack("{s:i, s:s, s:[{s:s, s:s, s:I}]}", "schemaVersion", 2, "mediaType", OCI_MT_INDEX,
		    "manifests", "mediaType",
		    top_mt[0] != '\0'				    ? top_mt
			: json_object_get(doc, "manifests") != NULL ? OCI_MT_INDEX
								    : OCI_MT_MANIFEST,
		    "digest", rm->ref.digest, "size", (json_int_t)st.st_size);
	}
	if (idx == NULL) {
		r = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = oci_json_dump(idx, &sb, e)) != 0 ||
	    (r = layout_write(rm->layout, "index.json", sb.data, sb.len, e)) != 0)
		goto out;
	*out = rm;
	rm = NULL; /* transferred */
	r = 0;
out:
	attest_remote_free(rm);
	oci_descriptor_cleanup(&d);
	json_decref(doc);
	json_decref(sub);
	json_decref(idx);
	sb_cleanup(&sb);
	return r;
}

/* The private layout directory and the subject name "REGISTRY/REPO"; both live as long as rm. */
static const char *attest_remote_layout(const struct attest_remote *rm)
{
	return rm->layout;
}

static const char *attest_remote_name(const struct attest_remote *rm)
{
	return rm->name;
}

/* The bytes of ref's sha256-<hex>.att manifest for digest into *m; ERR_NOT_FOUND when there is none. */
static int remote_att_get(struct registry_client *c, const struct imageref *repo, const char *digest,
    struct registry_manifest *m, struct err *e)
{
	struct imageref tagged = *repo;

	tagged.digest[0] = '\0';
	if (att_tag(digest, tagged.tag, e) != 0)
		return e->code;
	return registry_manifest_get(c, &tagged, registry_now_ms() + REMOTE_BUDGET_MS, m, e);
}

/* Adds env[len] to the sha256-<hex>.att manifest of digest in rm's repository, or, when rm is NULL, in push_to
 * ("docker://REGISTRY/REPO", which must hold the manifest digest already: checked with HEAD). GET the old manifest
 * (none is fine), upload the envelope and config blobs, PUT the merged manifest under the tag. *added: false when
 * the envelope was there. Errors: ERR_USAGE (bad push_to), ERR_NOT_FOUND (image not there), the client's. */
static int attest_remote_push(struct attest_remote *rm, const char *push_to, const char *digest, const char *env,
    size_t len, bool *added, struct err *e)
{
	struct registry_client *own = NULL, *c;
	struct registry_manifest old;
	struct att_manifest am;
	struct imageref repo, tagged;
	char envd[DIGEST_STR_LEN + 1], have[DIGEST_STR_LEN + 1], label[400];
	int64_t dl;
	int r;

	memset(&old, 0, sizeof(old));
	memset(&am, 0, sizeof(am));
	*added = false;
	if (rm != NULL) {
		repo = rm->ref;
		c = rm->c;
	} else {
		if ((r = imageref_parse(push_to + 9, &repo, e)) != 0) {
			err_prefix(e, "--push-to %.200s", push_to);
			return ERR_USAGE;
		}
		if (repo.tag[0] != '\0' || repo.digest[0] != '\0')
			return err_set(e, ERR_USAGE,
			    "--push-to %.200s: name the repository only (docker://REGISTRY/REPO), "
			    "the digest is the image's",
			    push_to);
		if ((r = remote_client(&repo, &own, e)) != 0)
			return r;
		c = own;
		/* the attestation is only useful where the image is: it must be there with the same digest */
		(void)str_copy(repo.digest, sizeof(repo.digest), digest);
		r = registry_manifest_resolve(c, &repo, registry_now_ms() + REMOTE_BUDGET_MS, have, e);
		if (r == ERR_NOT_FOUND) {
			r = err_set(e, ERR_NOT_FOUND,
			    "%s/%s has no manifest %s: push the image there first (e.g. skopeo "
			    "copy oci:DIR:TAG docker://%s/%s:TAG, which keeps the digest), then attest",
			    repo.registry, repo.repository, digest, repo.registry, repo.repository);
			goto out;
		}
		if (r != 0)
			goto out;
	}
	repo.digest[0] = '\0';
	repo.tag[0] = '\0';
	(void)str_fmt(label, sizeof(label), "%s/%s:sha256-%.64s.att", repo.registry, repo.repository, digest + 7);
	dl = registry_now_ms() + REMOTE_BUDGET_MS;
	r = remote_att_get(c, &repo, digest, &old, e);
	if (r != 0 && r != ERR_NOT_FOUND)
		goto out;
	err_clear(e);
	if ((r = registry_blob_push(c, &repo, env, len, dl, envd, e)) != 0 ||
	    (r = att_manifest_merge(old.data, old.len, label, envd, len, HARDLINE_PREDICATE_TYPE, &am, e)) != 0 ||
	    (r = registry_blob_push(c, &repo, am.config.data, am.config.len, dl, NULL, e)) != 0)
		goto out;
	tagged = repo;
	if ((r = att_tag(digest, tagged.tag, e)) != 0 ||
	    (r = registry_manifest_put(c, &tagged, OCI_MT_MANIFEST, am.manifest.data, am.manifest.len, dl, NULL, e)) !=
		0)
		goto out;
	*added = am.added;
	r = 0;
out:
	registry_manifest_cleanup(&old);
	att_manifest_cleanup(&am);
	registry_client_free(own);
	return r;
}

struct found_list;
static int found_add(struct found_list *l, char *buf, size_t len, const char *where, const char *why, struct err *e);
static int found_add_read(struct found_list *l, int read_r, struct strbuf *sb, const char *where, const char *why,
    struct err *e);

/* The envelopes of the registry's sha256-<hex>.att manifest for digest (none: nothing added). A layer that cannot
 * be fetched or is over the envelope cap is recorded with why; a malformed manifest is an error. */
static int attest_remote_envelopes(struct attest_remote *rm, const char *digest, struct found_list *l, struct err *e)
{
	struct registry_manifest m;
	struct att_layer *ls = NULL;
	struct blob_sink bs = { -1, NULL };
	struct strbuf sb;
	struct err e2;
	char where[500];
	size_t i, n = 0;
	int r;

	memset(&m, 0, sizeof(m));
	sb_init(&sb, DSSE_ENVELOPE_MAX);
	bs.mem = &sb;
	r = remote_att_get(rm->c, &rm->ref, digest, &m, e);
	if (r == ERR_NOT_FOUND) {
		err_clear(e);
		r = 0;
		goto out;
	}
	(void)str_fmt(where, sizeof(where), "%s:sha256-%.64s.att", rm->name, digest + 7);
	if (r != 0) {
		if (r == ERR_PARSE || r == ERR_INVALID)
			err_prefix(e, "the registry %s answered a malformed attestation manifest", rm->ref.registry);
		goto out;
	}
	if ((r = att_manifest_layers(m.data, m.len, where, &ls, &n, e)) != 0) {
		err_prefix(e, "the registry %s answered a malformed attestation manifest", rm->ref.registry);
		goto out;
	}
	for (i = 0; i < n; i++) {
		(void)str_fmt(where, sizeof(where), "%s:sha256-%.12s….att layer %s", rm->name, digest + 7,
		    ls[i].digest);
		sb_cleanup(&sb);
		err_clear(&e2);
		if (ls[i].size > DSSE_ENVELOPE_MAX)
			r = err_set(&e2, ERR_TOO_LARGE, "envelope of %llu bytes, over the limit of %u",
			    (unsigned long long)ls[i].size, DSSE_ENVELOPE_MAX);
		else
			r = registry_blob_get(rm->c, &rm->ref, ls[i].digest, DSSE_ENVELOPE_MAX, sink_write, &bs,
			    registry_now_ms() + REMOTE_BUDGET_MS, &e2);
		if ((r = found_add_read(l, r, &sb, where, e2.msg, e)) != 0)
			goto out;
	}
	r = 0;
out:
	free(ls);
	sb_cleanup(&sb);
	registry_manifest_cleanup(&m);
	return r;
}

/* Frees what source_open opened; s is zeroed. */
static void source_cleanup(struct source *s)
{
	oci_images_free(s->imgs, s->nimg);
	oci_store_free(s->store);
	attest_remote_free(s->remote);
	memset(s, 0, sizeof(*s));
}

/* Opens image (oci:, oci-archive:, docker://) and resolves its platforms. fetch_layers: a registry image's layers
 * are needed (attest measures them; verify only needs manifests). */
static int source_open(const char *image, const char *platform, bool fetch_layers, struct source *s, struct err *e)
{
	int r;

	memset(s, 0, sizeof(*s));
	if (str_copy(s->ref, sizeof(s->ref), image) != 0)
		return err_set(e, ERR_USAGE, "image reference too long");
	if (str_has_prefix(image, "docker://")) {
		if ((r = attest_remote_open(image + 9, platform, fetch_layers, &s->remote, e)) != 0)
			return r;
		if (str_fmt(s->local, sizeof(s->local), "oci:%s", attest_remote_layout(s->remote)) != 0)
			return err_set(e, ERR_TOO_LARGE, "temporary layout path too long");
	} else {
		if ((r = transport_parse(image, false, &s->tref, e)) != 0)
			return r;
		if (s->tref.kind == TRANSPORT_DOCKER_ARCHIVE)
			return err_set(e, ERR_USAGE,
			    "%.200s: a docker-archive has no manifest digest that a registry "
			    "would keep; convert it first (hardline image-copy docker-archive:F oci:DIR) or attest the "
			    "image where it runs from (oci:, oci-archive:, docker://)",
			    image);
		(void)str_copy(s->local, sizeof(s->local), image);
	}
	if ((r = oci_store_open(s->local, &s->store, e)) != 0 ||
	    (r = oci_store_images(s->store, platform, &s->imgs, &s->nimg, e)) != 0)
		return r;
	return 0;
}

/* A label of img's config, or NULL. Borrowed. */
static const char *image_label(const struct oci_image *img, const char *name)
{
	return json_string_value(
	    json_object_get(json_object_get(json_object_get(img->config, "config"), "Labels"), name));
}

/* Fills t from img: digest, platform, policy labels (overridden by in), facts (in's, else measured). */
static int target_measure(struct source *s, const struct oci_image *img, const struct attest_input *in,
    struct target *t, struct err *e)
{
	struct imageview_opts vo;
	struct fs_backend *b = NULL;
	struct fstree *tree = NULL;
	const char *pd, *pr;
	int r;

	memset(t, 0, sizeof(*t));
	memcpy(t->digest, img->manifest_desc.digest, sizeof(t->digest));
	oci_platform_fmt(&img->manifest_desc, t->platform, sizeof(t->platform));
	pd = in != NULL && in->policy_digest != NULL ? in->policy_digest : image_label(img, ATTEST_POLICY_LABEL);
	pr = in != NULL && in->profile != NULL ? in->profile : image_label(img, ATTEST_PROFILE_LABEL);
	if (pd != NULL && digest_validate(pd, NULL) == 0)
		(void)str_copy(t->policy_digest, sizeof(t->policy_digest), pd);
	if (pr != NULL)
		str_escape(t->profile, sizeof(t->profile), pr, strlen(pr), 100);
	if (in != NULL && in->facts != NULL) {
		t->facts = json_incref(in->facts);
		return 0;
	}
	tarlayer_limits_default(&vo.limits);
	vo.progress = false;
	if ((r = imageview_open(s->store, img, &vo, &b, &tree, e)) != 0 ||
	    (r = facts_compute(tree, b, &t->facts, e)) != 0)
		goto out;
	r = 0;
out:
	if (b != NULL)
		b->ops->free(b);
	fstree_free(tree);
	return r;
}

/* SOURCE_DATE_EPOCH when set, else now. */
static int attest_time(int64_t *t, struct err *e)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");

	if (sde != NULL && sde[0] != '\0') {
		if (str_to_i64(sde, 0, 253402300799LL, t, "SOURCE_DATE_EPOCH", e) != 0)
			return err_prefix(e, "SOURCE_DATE_EPOCH must be seconds since 1970");
		return 0;
	}
	*t = (int64_t)time(NULL);
	return 0;
}

/* Signs the hardening Statement about t into a new envelope JSON string *env (free() it) of *len bytes. */
static int target_sign(const struct target *t, const char *name, const struct attest_input *in, const struct key *k,
    char **env, size_t *len, struct err *e)
{
	/* The predicate builder wants a policy; when the image does not say which, the member is dropped again. */
	static const char no_policy[] = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
	struct dsse_envelope *de = NULL;
	json_t *pred = NULL, *st = NULL;
	char *payload = NULL;
	size_t plen = 0;
	int64_t now;
	int r;

	*env = NULL;
	*len = 0;
	if ((r = attest_time(&now, e)) != 0)
		goto out;
	if ((r = intoto_predicate_hardening_new(HARDLINE_VERSION, in != NULL ? in->input_digest : NULL,
		 t->policy_digest[0] != '\0' ? t->policy_digest : no_policy,
		 t->profile[0] != '\0' ? t->profile : "unknown", in != NULL ? in->steps : NULL, t->facts, now, &pred,
		 e)) != 0)
		goto out;
	if (t->policy_digest[0] == '\0')
		json_object_del(pred, "policy");
	r = intoto_statement_new(name, t->digest, HARDLINE_PREDICATE_TYPE, pred, &st, e);
	pred = NULL; /* transferred (stolen, also on error) */
	if (r != 0)
		goto out;
	if ((payload = json_dump_canonical(st, &plen)) == NULL) {
		r = err_set(e, ERR_NOMEM, "out of memory serializing the Statement");
		goto out;
	}
	if ((r = dsse_sign(INTOTO_PAYLOAD_TYPE, payload, plen, k, &de, e)) != 0 || (r = dsse_fmt(de, env, len, e)) != 0)
		goto out;
	r = 0;
out:
	dsse_envelope_free(de);
	free(payload);
	json_decref(pred);
	json_decref(st);
	return r;
}

/* Adds env[len] to the sha256-<hex>.att manifest of digest in the layout dir (an existing OCI layout): the old
 * manifest, when index.json names one, is read verified and merged (att_manifest_merge); blobs are added and
 * index.json replaced atomically by the OCI writer. *added tells whether the envelope was new. */
static int layout_store(const char *dir, const char *digest, const char *env, size_t len, bool *added, struct err *e)
{
	char tag[ATT_TAG_LEN + 1], ref[PATH_MAX + 16], path[PATH_MAX + 16], where[PATH_MAX + 100];
	struct oci_descriptor envd, cfgd, mand, old;
	struct att_manifest am;
	struct oci_store *st = NULL;
	struct oci_writer *w = NULL;
	struct strbuf oldb;
	json_t *idx = NULL, *v;
	const char *t;
	size_t i;
	int r;

	memset(&envd, 0, sizeof(envd));
	memset(&cfgd, 0, sizeof(cfgd));
	memset(&mand, 0, sizeof(mand));
	memset(&old, 0, sizeof(old));
	memset(&am, 0, sizeof(am));
	sb_init(&oldb, ATT_MANIFEST_MAX);
	*added = false;
	if ((r = att_tag(digest, tag, e)) != 0)
		goto out;
	if (str_fmt(path, sizeof(path), "%s/index.json", dir) != 0 || str_fmt(ref, sizeof(ref), "oci:%s", dir) != 0) {
		r = err_set(e, ERR_TOO_LARGE, "%.200s: path too long", dir);
		goto out;
	}
	(void)str_fmt(where, sizeof(where), "oci:%.200s %s", dir, tag);
	if ((r = json_load_file_capped(path, OCI_JSON_MAX, &idx, e)) != 0)
		goto out;
	json_array_foreach(json_object_get(idx, "manifests"), i, v)
	{
		t = json_string_value(json_object_get(json_object_get(v, "annotations"), OCI_ANN_REF_NAME));
		if (t == NULL || strcmp(t, tag) != 0)
			continue;
		if ((r = oci_descriptor_parse(v, where, &old, e)) != 0 || (r = oci_store_open(ref, &st, e)) != 0 ||
		    (r = oci_blob_read_all(st, &old, ATT_MANIFEST_MAX, &oldb, e)) != 0)
			goto out;
		break;
	}
	if ((r = oci_writer_new(ref, &w, e)) != 0 ||
	    (r = oci_writer_add_blob_bytes(w, env, len, ATT_MT_DSSE, &envd, e)) != 0 ||
	    (r = att_manifest_merge(oldb.len > 0 ? oldb.data : NULL, oldb.len, where, envd.digest, envd.size,
		 HARDLINE_PREDICATE_TYPE, &am, e)) != 0 ||
	    (r = oci_writer_add_blob_bytes(w, am.config.data, am.config.len, OCI_MT_CONFIG, &cfgd, e)) != 0 ||
	    (r = oci_writer_add_blob_bytes(w, am.manifest.data, am.manifest.len, OCI_MT_MANIFEST, &mand, e)) != 0)
		goto out;
	if ((mand.annotations = json_pack("{s:s}", OCI_ANN_REF_NAME, tag)) == NULL) {
		r = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = oci_writer_add_index_entry(w, &mand, e)) != 0 || (r = oci_writer_finish(w, NULL, e)) != 0)
		goto out;
	*added = am.added;
	r = 0;
out:
	oci_writer_free(w);
	oci_store_free(st);
	oci_descriptor_cleanup(&envd);
	oci_descriptor_cleanup(&cfgd);
	oci_descriptor_cleanup(&mand);
	oci_descriptor_cleanup(&old);
	att_manifest_cleanup(&am);
	sb_cleanup(&oldb);
	json_decref(idx);
	return r;
}

/* Whether the file path (at most 16 MiB read; absent: false) already holds env[len] as a whole line. */
static bool file_has_line(const char *path, const char *env, size_t len)
{
	struct strbuf sb;
	struct err ignored;
	const char *p, *end;
	bool found = false;

	sb_init(&sb, (size_t)DSSE_ENVELOPE_MAX * 4);
	/* over the cap or unreadable: what was read is searched */
	if (fileio_read_capped(path, &sb, path, &ignored) == ERR_NOT_FOUND)
		return false;
	for (p = sb.data, end = sb.data + sb.len; p != NULL && p < end && !found;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t k = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

		found = k == len && memcmp(p, env, len) == 0;
		p = nl != NULL ? nl + 1 : NULL;
	}
	sb_cleanup(&sb);
	return found;
}

/* Appends env[len] and a newline to path (created 0644). */
static int file_append(const char *path, bool truncate, const char *env, size_t len, struct err *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : O_APPEND), 0644);
	int r = 0;

	if (fd < 0)
		return err_errno(e, errno, "create %s", path);
	if (fileio_write_all(fd, env, len) != 0 || fileio_write_all(fd, "\n", 1) != 0)
		r = err_errno(e, errno, "write %s", path);
	if (close(fd) != 0 && r == 0)
		r = err_errno(e, errno, "write %s", path);
	return r;
}

int attest_image(const char *image, const struct attest_opts *o, const struct attest_input *in, FILE *out,
    struct err *e)
{
	struct source s;
	struct target t;
	struct key *k = NULL;
	char *env = NULL, sidecar[PATH_MAX + 16];
	const char *outfile = o->out_file;
	size_t len, i, done = 0;
	bool added, first_write = true;
	int r;

	memset(&t, 0, sizeof(t));
	memset(&s, 0, sizeof(s));
	if (o->push && !str_has_prefix(image, "docker://") && o->push_to == NULL)
		return err_set(e, ERR_USAGE,
		    "--push of %.200s needs --push-to docker://REGISTRY/REPO (where the image "
		    "was pushed)",
		    image);
	if (o->push_to != NULL && !str_has_prefix(o->push_to, "docker://"))
		return err_set(e, ERR_USAGE, "--push-to \"%.200s\" must be docker://REGISTRY/REPO", o->push_to);
	if ((r = key_load_private(o->key_path, key_passphrase_from_env(), &k, e)) != 0)
		goto out;
	if ((r = source_open(image, o->platform, in == NULL || in->facts == NULL, &s, e)) != 0)
		goto out;
	if (in != NULL && in->facts != NULL && s.nimg != 1 && o->only_digest == NULL) {
		r = err_set(e, ERR_INVALID, "%.200s holds %zu platforms; hardened facts are of one", image, s.nimg);
		goto out;
	}
	if (outfile == NULL && s.remote == NULL && s.tref.kind == TRANSPORT_OCI_ARCHIVE) {
		if (str_fmt(sidecar, sizeof(sidecar), "%s" ATTEST_SIDECAR_SUFFIX, s.tref.path) != 0) {
			r = err_set(e, ERR_TOO_LARGE, "%.200s: path too long", s.tref.path);
			goto out;
		}
		outfile = sidecar;
		first_write = false; /* the sidecar collects attestations like a .att manifest */
	}
	for (i = 0; i < s.nimg; i++) {
		if (o->only_digest != NULL && strcmp(o->only_digest, s.imgs[i]->manifest_desc.digest) != 0)
			continue;
		if (!o->quiet && s.nimg > 1)
			log_info("attesting %s", s.imgs[i]->manifest_desc.digest);
		if ((r = target_measure(&s, s.imgs[i], in, &t, e)) != 0 ||
		    (r = target_sign(&t, s.remote != NULL ? attest_remote_name(s.remote) : image, in, k, &env, &len,
			 e)) != 0)
			goto out;
		if (outfile != NULL) {
			added = first_write || !file_has_line(outfile, env, len);
			if (added && (r = file_append(outfile, first_write, env, len, e)) != 0)
				goto out;
			first_write = false;
			if (out != NULL)
				fprintf(out, "%s %s%s\n", t.digest, outfile, added ? "" : " (already there)");
		}
		if (s.remote == NULL && s.tref.kind == TRANSPORT_OCI) {
			if ((r = layout_store(s.tref.path, t.digest, env, len, &added, e)) != 0)
				goto out;
			if (out != NULL)
				fprintf(out, "%s oci:%s:sha256-%s.att%s\n", t.digest, s.tref.path, t.digest + 7,
				    added ? "" : " (already there)");
		}
		if (o->push) {
			if ((r = attest_remote_push(s.remote, o->push_to, t.digest, env, len, &added, e)) != 0)
				goto out;
			if (out != NULL)
				fprintf(out, "%s %s:sha256-%s.att%s\n", t.digest,
				    s.remote != NULL ? attest_remote_name(s.remote) : o->push_to + 9, t.digest + 7,
				    added ? "" : " (already there)");
		}
		free(env);
		env = NULL;
		json_decref(t.facts);
		memset(&t, 0, sizeof(t));
		done++;
	}
	r = done > 0 ? 0
		     : err_set(e, ERR_NOT_FOUND, "%.200s has no manifest %s to attest", image,
			   o->only_digest != NULL ? o->only_digest : "");
out:
	free(env);
	json_decref(t.facts);
	key_free(k);
	source_cleanup(&s);
	return r;
}

/* ---- verification ---- */

/* One envelope found for a digest, with where it came from. */
struct found {
	char *buf; /* NULL when it could not be read (why says it) */
	size_t len;
	char where[300];
	char why[ERR_MSG_MAX];
};

struct found_list {
	struct found *v;
	size_t n;
};

static void found_list_cleanup(struct found_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].buf);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Appends one entry; buf (transferred, may be NULL) with why when NULL. */
static int found_add(struct found_list *l, char *buf, size_t len, const char *where, const char *why, struct err *e)
{
	struct found *g;

	if (l->n == ATTEST_MAX_ENVELOPES) {
		free(buf);
		return err_set(e, ERR_TOO_LARGE,
		    "more than %d attestations for one image; refusing to examine them all", ATTEST_MAX_ENVELOPES);
	}
	if ((g = realloc(l->v, (l->n + 1) * sizeof(*g))) == NULL) {
		free(buf);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	l->v = g;
	memset(&g[l->n], 0, sizeof(g[l->n]));
	g[l->n].buf = buf;
	g[l->n].len = len;
	(void)str_copy(g[l->n].where, sizeof(g[l->n].where), where);
	if (why != NULL)
		(void)str_copy(g[l->n].why, sizeof(g[l->n].why), why);
	l->n++;
	return 0;
}

/* Records the outcome of reading one envelope into l: when the read failed (read_r != 0) an entry saying why, else
 * an entry holding the bytes of sb (taken: sb is left empty). Returns 0, or ERR_NOMEM / found_add's error. */
static int found_add_read(struct found_list *l, int read_r, struct strbuf *sb, const char *where, const char *why,
    struct err *e)
{
	char *copy;
	size_t len;

	if (read_r != 0)
		return found_add(l, NULL, 0, where, why, e);
	if ((copy = sb_steal(sb, &len)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	return found_add(l, copy, len, where, NULL, e);
}

/* Reads an envelope file: one envelope, or several one per line (what attest --out writes for an index). A missing
 * file is ERR_NOT_FOUND. */
static int envelopes_from_file(const char *path, struct found_list *l, struct err *e)
{
	struct strbuf sb;
	char where[300], *p, *nl, *copy;
	size_t n, line = 0;
	json_t *one = NULL;
	int r;

	sb_init(&sb, (size_t)DSSE_ENVELOPE_MAX * 4);
	if ((r = fileio_read_capped(path, &sb, path, e)) != 0) {
		if (r == ERR_TOO_LARGE)
			err_set(e, r, "%s: larger than %u bytes; not an attestation file", path, DSSE_ENVELOPE_MAX * 4);
		goto out;
	}
	/* one JSON value (also pretty-printed, as cosign writes it) is one envelope; else one envelope per line */
	if (sb.len <= DSSE_ENVELOPE_MAX && json_parse_buf(sb.data, sb.len, DSSE_ENVELOPE_MAX, path, &one, NULL) == 0) {
		json_decref(one);
		(void)str_fmt(where, sizeof(where), "%.200s", path);
		if ((copy = sb_steal(&sb, &n)) == NULL) {
			r = err_set(e, ERR_NOMEM, "out of memory");
			goto out;
		}
		r = found_add(l, copy, n, where, NULL, e);
		goto out;
	}
	for (p = sb.data; p != NULL && p < sb.data + sb.len; p = nl != NULL ? nl + 1 : NULL) {
		nl = memchr(p, '\n', (size_t)(sb.data + sb.len - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(sb.data + sb.len - p);
		line++;
		if (n == 0 || (n == 1 && p[0] == '\r'))
			continue;
		(void)str_fmt(where, sizeof(where), "%.200s line %zu", path, line);
		if ((copy = malloc(n + 1)) == NULL) {
			r = err_set(e, ERR_NOMEM, "out of memory");
			goto out;
		}
		memcpy(copy, p, n);
		copy[n] = '\0';
		if ((r = found_add(l, copy, n, where, NULL, e)) != 0)
			goto out;
	}
	if (l->n == 0)
		r = err_set(e, ERR_NOT_FOUND, "%s: no envelope in the file", path);
out:
	sb_cleanup(&sb);
	return r;
}

/* The envelopes of the layout's .att manifest for digest: each layer read verified (a layer over the envelope cap
 * or unreadable is recorded with why). No .att entry: nothing added. */
static int envelopes_from_layout(struct oci_store *st, const char *dir, const char *digest, struct found_list *l,
    struct err *e)
{
	char tag[ATT_TAG_LEN + 1], path[PATH_MAX + 16], where[300];
	struct oci_descriptor md, ld;
	struct att_layer *ls = NULL;
	struct strbuf sb, eb;
	json_t *idx = NULL, *v;
	struct err e2;
	const char *t;
	size_t i, n = 0;
	int r;

	memset(&md, 0, sizeof(md));
	memset(&ld, 0, sizeof(ld));
	sb_init(&sb, ATT_MANIFEST_MAX);
	sb_init(&eb, DSSE_ENVELOPE_MAX);
	if ((r = att_tag(digest, tag, e)) != 0)
		goto out;
	(void)str_fmt(path, sizeof(path), "%s/index.json", dir);
	if ((r = json_load_file_capped(path, OCI_JSON_MAX, &idx, e)) != 0)
		goto out;
	json_array_foreach(json_object_get(idx, "manifests"), i, v)
	{
		t = json_string_value(json_object_get(json_object_get(v, "annotations"), OCI_ANN_REF_NAME));
		if (t == NULL || strcmp(t, tag) != 0)
			continue;
		(void)str_fmt(where, sizeof(where), "oci:%.200s:%s", dir, tag);
		if ((r = oci_descriptor_parse(v, where, &md, e)) != 0 ||
		    (r = oci_blob_read_all(st, &md, ATT_MANIFEST_MAX, &sb, e)) != 0 ||
		    (r = att_manifest_layers(sb.data, sb.len, where, &ls, &n, e)) != 0)
			goto out;
		break;
	}
	for (i = 0; i < n; i++) {
		(void)str_fmt(where, sizeof(where), "oci:%.150s:%s layer %s", dir, tag, ls[i].digest);
		oci_descriptor_cleanup(&ld);
		memcpy(ld.digest, ls[i].digest, sizeof(ld.digest));
		ld.size = ls[i].size;
		ld.media_type = (char *)ATT_MT_DSSE;
		err_clear(&e2);
		r = oci_blob_read_all(st, &ld, DSSE_ENVELOPE_MAX, &eb, &e2);
		ld.media_type = NULL;
		if ((r = found_add_read(l, r, &eb, where, e2.msg, e)) != 0)
			goto out;
	}
	r = 0;
out:
	free(ls);
	oci_descriptor_cleanup(&md);
	sb_cleanup(&sb);
	sb_cleanup(&eb);
	json_decref(idx);
	return r;
}

/* The verified Statement as JSON (for --json): _type, subject, predicateType, predicate. A new reference. */
static json_t *statement_json(const struct intoto_statement *st)
{
	json_t *o = json_object(), *subs = json_array(), *s;
	size_t i;

	if (o == NULL || subs == NULL)
		goto fail;
	for (i = 0; i < st->nsubjects; i++) {
		s = json_pack("{s:s, s:{s:s}}", "name", st->subjects[i].name, "digest", "sha256",
		    st->subjects[i].digest + 7);
		if (s == NULL || json_array_append_new(subs, s) != 0)
			goto fail;
	}
	if (json_object_set_new(o, "_type", json_string(st->type)) != 0 || json_object_set_new(o, "subject", subs) != 0)
		goto fail;
	subs = NULL;
	if (json_object_set_new(o, "predicateType", json_string(st->predicate_type)) != 0 ||
	    (st->predicate != NULL && json_object_set(o, "predicate", st->predicate) != 0))
		goto fail;
	return o;
fail:
	json_decref(subs);
	json_decref(o);
	return NULL;
}

/* Checks one found envelope for digest; 0 with *st (new) and *signer when valid, else the reason in e. */
static int check_one(const struct found *f, const struct keyring *kr, const char *digest, const struct verify_opts *o,
    struct intoto_statement **st, const struct key **signer, struct err *e)
{
	const json_t *facts;
	size_t i;
	int r;

	*st = NULL;
	if (f->buf == NULL)
		return err_set(e, ERR_IO, "%s", f->why);
	if ((r = intoto_verify(f->buf, f->len, "envelope", kr, digest, HARDLINE_PREDICATE_TYPE, st, signer, e)) != 0)
		return r;
	facts = json_object_get((*st)->predicate, "facts");
	for (i = 0; i < o->n_reqs; i++) {
		if ((r = att_require_eval(facts, &o->reqs[i], e)) != 0) {
			err_prefix(e, "signature valid (key %s) but --require is not met", key_label(*signer));
			intoto_statement_free(*st);
			*st = NULL;
			return r;
		}
	}
	return 0;
}

/* A string member of a verified predicate, escaped for the terminal (signed, but maybe by another tool); "(none)"
 * when it is not a string. Returns buf. */
static const char *esc(const json_t *v, char *buf, size_t n)
{
	if (!json_is_string(v))
		return str_copy(buf, n, "(none)") == 0 ? buf : "";
	return str_escape(buf, n, json_string_value(v), json_string_length(v), 200);
}

/* Prints the summary of a verified attestation. */
static void print_verified(FILE *out, const char *image, const struct target *t, const struct found *f,
    const struct intoto_statement *st, const struct key *signer)
{
	const json_t *p = st->predicate;
	char line[600], e1[256], e2[256];

	fprintf(out, "verified: %s %s (%s)\n", image, t->digest, t->platform);
	fprintf(out, "  attestation: %s\n", f->where);
	fprintf(out, "  key: %s (keyid %.16s…)\n", key_label(signer), key_id(signer));
	fprintf(out, "  statement: %s\n", st->type);
	fprintf(out, "  timestamp: %s\n", esc(json_object_get(p, "timestamp"), e1, sizeof(e1)));
	if (json_is_string(json_object_get(json_object_get(p, "policy"), "digest")))
		fprintf(out, "  policy: %s %s\n",
		    esc(json_object_get(json_object_get(p, "policy"), "digest"), e1, sizeof(e1)),
		    esc(json_object_get(json_object_get(p, "policy"), "profile"), e2, sizeof(e2)));
	fprintf(out, "  facts: %s\n", facts_summary_line(json_object_get(p, "facts"), line, sizeof(line)));
}

int attest_verify(const char *image, const struct verify_opts *o, FILE *out, FILE *errs, struct err *e)
{
	struct source s;
	struct target t;
	struct keyring *kr = NULL;
	struct found_list l;
	struct intoto_statement *st = NULL;
	const struct key *signer = NULL;
	json_t *arr = NULL, *j;
	struct err e2;
	size_t i, k, ok_platforms = 0;
	bool ok;
	char *dump;
	int r;

	memset(&s, 0, sizeof(s));
	memset(&l, 0, sizeof(l));
	memset(&t, 0, sizeof(t));
	if ((r = keyring_load_paths(o->key_paths, o->n_keys, &kr, e)) != 0)
		goto out;
	if ((r = source_open(image, o->platform, false, &s, e)) != 0)
		goto out;
	if (o->json && (arr = json_array()) == NULL) {
		r = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < s.nimg; i++) {
		memset(&t, 0, sizeof(t));
		memcpy(t.digest, s.imgs[i]->manifest_desc.digest, sizeof(t.digest));
		oci_platform_fmt(&s.imgs[i]->manifest_desc, t.platform, sizeof(t.platform));
		found_list_cleanup(&l);
		if (o->envelope_file != NULL)
			r = envelopes_from_file(o->envelope_file, &l, e);
		else if (s.remote != NULL)
			r = attest_remote_envelopes(s.remote, t.digest, &l, e);
		else if (s.tref.kind == TRANSPORT_OCI)
			r = envelopes_from_layout(s.store, s.tref.path, t.digest, &l, e);
		else {
			char sidecar[PATH_MAX + 16];

			(void)str_fmt(sidecar, sizeof(sidecar), "%s" ATTEST_SIDECAR_SUFFIX, s.tref.path);
			r = envelopes_from_file(sidecar, &l, e);
			if (r == ERR_NOT_FOUND)
				err_set(e, ERR_NOT_FOUND,
				    "%.200s: no attestation: an oci-archive keeps them in %.200s, which "
				    "does not exist; give the envelope with --envelope FILE",
				    image, sidecar);
		}
		if (r != 0)
			goto out;
		if (l.n == 0) {
			r = err_set(e, ERR_NOT_FOUND,
			    "%.200s: no attestation for %s (%s); attest it with hardline attest "
			    "or give one with --envelope FILE",
			    image, t.digest, t.platform);
			goto out;
		}
		ok = false;
		for (k = 0; k < l.n && !ok; k++) {
			err_clear(&e2);
			if (check_one(&l.v[k], kr, t.digest, o, &st, &signer, &e2) != 0) {
				(void)str_copy(l.v[k].why, sizeof(l.v[k].why), e2.msg);
				continue;
			}
			ok = true;
			if (arr != NULL) {
				if ((j = statement_json(st)) == NULL || json_array_append_new(arr, j) != 0) {
					r = err_set(e, ERR_NOMEM, "out of memory");
					goto out;
				}
			} else {
				print_verified(out, image, &t, &l.v[k], st, signer);
			}
			intoto_statement_free(st);
			st = NULL;
		}
		if (!ok) {
			for (k = 0; k < l.n; k++) /* why each one was refused (only when none is valid) */
				fprintf(errs, "hardline: attestation %zu of %zu (%s): %s\n", k + 1, l.n, l.v[k].where,
				    l.v[k].why);
			r = err_set(e, ERR_VERIFY, "%.200s: none of the %zu attestation(s) of %s (%s) is valid", image,
			    l.n, t.digest, t.platform);
			goto out;
		}
		ok_platforms++;
	}
	if (arr != NULL) {
		dump = json_dumps(json_array_size(arr) == 1 ? json_array_get(arr, 0) : arr, JSON_INDENT(2));
		if (dump == NULL) {
			r = err_set(e, ERR_NOMEM, "out of memory");
			goto out;
		}
		fprintf(out, "%s\n", dump);
		free(dump);
	}
	r = ok_platforms == s.nimg ? 0 : ERR_VERIFY;
out:
	intoto_statement_free(st);
	json_decref(arr);
	found_list_cleanup(&l);
	keyring_unref(kr);
	source_cleanup(&s);
	return r;
}

int attest_from_report(const char *dst, const char *key_path, const struct report *rep, FILE *out, struct err *e)
{
	struct attest_opts o;
	struct attest_input in;
	json_t *j = report_to_json(rep);
	const char *digest;
	int r;

	memset(&o, 0, sizeof(o));
	memset(&in, 0, sizeof(in));
	if (j == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	digest = json_string_value(json_object_get(json_object_get(j, "output"), "digest"));
	if (digest == NULL || digest_validate(digest, NULL) != 0) {
		r = err_set(e, ERR_INTERNAL, "harden report: no output digest to attest");
		goto out;
	}
	o.key_path = key_path;
	o.only_digest = digest;
	o.quiet = true;
	in.input_digest = json_string_value(json_object_get(json_object_get(j, "input"), "digest"));
	in.policy_digest = json_string_value(json_object_get(j, "policyDigest"));
	in.profile = json_string_value(json_object_get(j, "profile"));
	in.steps = json_object_get(j, "steps");
	in.facts = json_object_get(j, "facts");
	if (in.input_digest != NULL && digest_validate(in.input_digest, NULL) != 0)
		in.input_digest = NULL;
	if (!json_is_array(in.steps))
		in.steps = NULL;
	if (!json_is_object(in.facts))
		in.facts = NULL;
	r = attest_image(dst, &o, &in, out, e);
	if (r != 0)
		err_prefix(e, "%.200s was written but not attested", dst);
out:
	json_decref(j);
	return r;
}
