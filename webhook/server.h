/* server — the two HTTP daemons of hardline-webhook: admission reviews over TLS (libmicrohttpd with a worker thread
 * pool on epoll, keep-alive, caps on connections and bodies) and plain-HTTP /healthz, /readyz and /metrics.
 * The request path is POST /validate (enforce), /warn or /audit with an application/json AdmissionReview body. */
#ifndef HARDLINE_WEBHOOK_SERVER_H
#define HARDLINE_WEBHOOK_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "webhook/admission.h"
#include "webhook/tlsreload.h"
#include "webhook/wpolicy.h"

#define SERVER_DEFAULT_MAX_BODY (3u * 1024 * 1024) /* the API server's own request limit is about 3 MiB */
#define SERVER_DEFAULT_TIMEOUT_MS 10000		   /* when the request has no ?timeout= (the API default) */
#define SERVER_MAX_TIMEOUT_MS 30000		   /* webhooks may be given at most 30 s */

struct server_config {
	const char *listen;			 /* "ADDR:PORT", ":PORT" (all addresses), "[v6]:PORT" */
	const char *metrics_listen;		 /* the same for the plain-HTTP metrics daemon; NULL or "off": none */
	unsigned int threads;			 /* worker threads of the TLS daemon, >= 1 */
	size_t max_body;			 /* request body cap in bytes (413 above it) */
	unsigned int max_conns;			 /* connections at once, all clients */
	unsigned int max_conns_per_ip;		 /* connections at once from one address (0: no limit) */
	unsigned int idle_timeout_s;		 /* a connection idle this long is closed */
	const struct adm_image_checker *checker; /* per-image hook for adm_review (attestations), or NULL; borrowed,
	                                          * must outlive the server and be thread-safe */
};

struct server;

/* Starts both daemons. tls is borrowed and must outlive the server (it is installed as the certificate callback's
 * store); policy is the first policy in force (one reference transferred to the server). On success *out is the
 * running server (server_free it). Errors: ERR_USAGE for a bad address, ERR_IO when a daemon cannot start (the
 * message names the address: already in use, permission). */
int server_new(const struct server_config *cfg, struct tls_store *tls, struct wpolicy *policy, struct server **out,
    struct err *e);

/* Puts policy in force for requests that arrive from now on (one reference transferred); requests under way keep
 * the policy they began with. Thread-safe. */
void server_set_policy(struct server *s, struct wpolicy *policy);

/* Stops accepting connections (new clients are refused), answers further requests on open connections with
 * "Connection: close", and waits up to timeout_ms for the requests being handled to finish. Returns the number
 * still running at the end. Also marks the server not ready. */
long server_drain(struct server *s, uint64_t timeout_ms);

/* Stops both daemons (closing what is still open) and frees the server; NULL is fine. */
void server_free(struct server *s);

#endif
