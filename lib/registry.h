/* registry — a client of the OCI distribution API (libcurl): manifests and blobs by tag or digest, blob upload,
 * tag resolution, with anonymous, Basic and Bearer-token auth from docker/podman auth files. Every call takes an
 * absolute deadline, caps what it reads and verifies digests; nothing here prints or exits. A client may be used
 * from several threads at once (one curl handle per call; the token cache is locked). */
#ifndef HARDLINE_REGISTRY_H
#define HARDLINE_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/digest.h"
#include "lib/err.h"
#include "lib/imageref.h"

#define REGISTRY_MANIFEST_MAX (4u << 20) /* manifests and indexes over 4 MiB are refused */
#define REGISTRY_ERRBODY_MAX 65536	 /* error bodies and token replies are read up to 64 KiB */

/* The Accept value of manifest requests: OCI and Docker manifests and indexes. */
#define REGISTRY_MANIFEST_ACCEPT                                                                                       \
	"application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, "                        \
	"application/vnd.docker.distribution.manifest.v2+json, "                                                       \
	"application/vnd.docker.distribution.manifest.list.v2+json"

struct registry_opts {
	const char *auth_file;	     /* credentials only from this file (docker config.json / auth.json); NULL: the
	                                 default search of registry_auth_find */
	bool anonymous;		     /* never read credentials */
	const char *ca_file;	     /* PEM CA bundle to trust instead of the system CAs; NULL: system CAs */
	const char *certs_dir;	     /* per registry: DIR/<registry>/ca.crt, when present, wins over ca_file */
	bool insecure_http;	     /* plain http:// — refused unless the registry is a loopback host */
	uint32_t connect_timeout_ms; /* 0: 10000; never beyond the call's deadline */
	const char *user_agent;	     /* NULL: "hardline" */
};

struct registry_client;

/* Creates a client; the option strings are copied. Initializes libcurl once per process.
 * *out (registry_client_free it) is set only on success. Errors: ERR_NOMEM, ERR_INTERNAL (libcurl init). */
int registry_client_new(const struct registry_opts *opts, struct registry_client **out, struct err *e);

/* Frees the client and wipes cached tokens and credentials. Accepts NULL. No call may be running on it. */
void registry_client_free(struct registry_client *c);

/* Milliseconds of CLOCK_MONOTONIC: deadlines are registry_now_ms() + a budget. */
int64_t registry_now_ms(void);

struct registry_manifest {
	char *data; /* the bytes as served (free via registry_manifest_cleanup) */
	size_t len;
	char media_type[128];		 /* Content-Type without parameters, "" when absent */
	char digest[DIGEST_STR_LEN + 1]; /* sha256 of data (checked against the reference and Docker-Content-Digest) */
};

/* GET /v2/<repo>/manifests/<digest|tag|latest>. By digest, the body must hash to it; by tag, a Docker-Content-Digest
 * that differs from the body's hash is refused. *out is cleared first and filled only on success.
 * Errors (messages name registry, repository and reference): ERR_NOT_FOUND (404), ERR_DENIED (401/403, or no
 * credentials), ERR_VERIFY (digest mismatch), ERR_TOO_LARGE (over REGISTRY_MANIFEST_MAX), ERR_TIMEOUT,
 * ERR_NETWORK (connection, TLS, other statuses), ERR_INVALID (plain http to a non-loopback host). */
int registry_manifest_get(struct registry_client *c, const struct imageref *ref, int64_t deadline_ms,
    struct registry_manifest *out, struct err *e);
void registry_manifest_cleanup(struct registry_manifest *m);

/* Resolves ref to its manifest digest with HEAD (Docker-Content-Digest), falling back to GET and hashing when the
 * registry does not send the header. digest[DIGEST_STR_LEN + 1] is written only on success. Errors as above. */
int registry_manifest_resolve(struct registry_client *c, const struct imageref *ref, int64_t deadline_ms,
    char digest[DIGEST_STR_LEN + 1], struct err *e);

/* PUT data[len] (media_type, e.g. "application/vnd.oci.image.manifest.v1+json") as ref's tag, or by digest when
 * ref has no tag (a digest in ref must then equal the data's). The blobs it names must be there already.
 * digest (may be NULL) gets the manifest digest. Errors as above; ERR_VERIFY when the registry reports another
 * digest, ERR_TOO_LARGE over REGISTRY_MANIFEST_MAX. */
int registry_manifest_put(struct registry_client *c, const struct imageref *ref, const char *media_type,
    const void *data, size_t len, int64_t deadline_ms, char digest[DIGEST_STR_LEN + 1], struct err *e);

/* Receives blob bytes as they arrive; returns 0 to go on, or a negative ERR_* (with e set) to stop. */
typedef int (*registry_sink_fn)(void *arg, const void *p, size_t n, struct err *e);

/* GET /v2/<repo>/blobs/<digest>, streaming to sink. Refuses more than max bytes (ERR_TOO_LARGE) and a body whose
 * sha256 is not digest (ERR_VERIFY, after the last byte: the sink must discard what it got when this fails).
 * Redirects (blob storage) are followed up to 5 times, to https only (http only from and to loopback hosts when
 * insecure_http is set), and the Authorization header is sent only to the registry's own scheme/host/port. */
int registry_blob_get(struct registry_client *c, const struct imageref *ref, const char *digest, uint64_t max,
    registry_sink_fn sink, void *arg, int64_t deadline_ms, struct err *e);

/* HEAD /v2/<repo>/blobs/<digest>: 0 when present (*size, when not NULL, from Content-Length or 0), ERR_NOT_FOUND
 * when absent, other errors as above. */
int registry_blob_head(struct registry_client *c, const struct imageref *ref, const char *digest, uint64_t *size,
    int64_t deadline_ms, struct err *e);

/* Uploads data[len] as a blob of ref's repository unless it is there already (HEAD first): POST
 * /v2/<repo>/blobs/uploads/, then one PUT <location>?digest=<digest>. digest (may be NULL) gets its digest. */
int registry_blob_push(struct registry_client *c, const struct imageref *ref, const void *data, size_t len,
    int64_t deadline_ms, char digest[DIGEST_STR_LEN + 1], struct err *e);

/* The same for size bytes of fd, read with pread() from offset 0 (so that a retry can send them again; fd's own
 * offset is not used), whose sha256 the caller already knows (digest; the registry refuses a body that does not
 * match with 400 DIGEST_INVALID). For layers too big to hold in memory. Errors as above; ERR_IO when fd cannot be
 * read to size bytes. */
int registry_blob_push_fd(struct registry_client *c, const struct imageref *ref, int fd, uint64_t size,
    const char *digest, int64_t deadline_ms, struct err *e);

#endif
