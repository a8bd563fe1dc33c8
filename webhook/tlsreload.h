/* tlsreload — the webhook's serving certificate and key, re-read from disk when the files change, handed to GnuTLS
 * per handshake through libmicrohttpd's MHD_OPTION_HTTPS_CERT_CALLBACK, so that a rotated Secret is served to new
 * connections without restarting the daemon or failing a request. A bad new pair is refused; the old one stays. */
#ifndef HARDLINE_WEBHOOK_TLSRELOAD_H
#define HARDLINE_WEBHOOK_TLSRELOAD_H

#include <stdint.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "lib/err.h"

#define TLSRELOAD_MAX_FILE (1024 * 1024) /* cap on a PEM file */
#define TLSRELOAD_MAX_CHAIN 16		 /* certificates in the chain file */
#define TLSRELOAD_GRACE_S 600		 /* a replaced pair is freed this long after it was last handed out */

struct tls_store;

/* Loads the PEM certificate chain (leaf first) and the PEM private key, checks that the key belongs to the leaf,
 * and watches both files. Paths are copied. On success *out is a new store (tlsreload_free it).
 * Errors name the file and what is wrong with it (ERR_NOT_FOUND, ERR_IO, ERR_PARSE, ERR_INVALID, ERR_TOO_LARGE). */
int tlsreload_new(const char *cert_path, const char *key_path, struct tls_store **out, struct err *e);

/* Frees the store and every pair it holds; NULL is fine. No handshake may be running (stop the daemon first). */
void tlsreload_free(struct tls_store *ts);

/* Polls both files; when either changed, loads the pair again and, if it is valid, makes it the one new handshakes
 * get. Returns 1 when a new pair was installed, 0 when nothing changed, a negative ERR_* when the new files are bad
 * (the previous pair stays in force; e says why). Also frees replaced pairs older than the grace period.
 * Call from one thread only (the watcher). */
int tlsreload_poll(struct tls_store *ts, struct err *e);

/* The leaf certificate's notAfter (seconds since the epoch) of the pair in force. */
int64_t tlsreload_not_after(struct tls_store *ts);

/* The leaf certificate's serial number in hex of the pair in force, into buf[size] (for logs). */
void tlsreload_serial(struct tls_store *ts, char *buf, size_t size);

/* Makes ts the store that tlsreload_retrieve serves (GnuTLS gives the callback no closure, so there is one per
 * process). ts is borrowed and must outlive the TLS daemon; NULL uninstalls. */
void tlsreload_install(struct tls_store *ts);

/* The gnutls_certificate_retrieve_function2 to pass as MHD_OPTION_HTTPS_CERT_CALLBACK: hands out the current pair.
 * The pair stays valid for at least TLSRELOAD_GRACE_S seconds after it is replaced, which covers the handshake
 * (GnuTLS uses the pair only while handshaking; the connection timeout bounds a handshake). */
int tlsreload_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
    const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length, gnutls_pcert_st **pcert, unsigned int *pcert_length,
    gnutls_privkey_t *pkey);

#endif
