/* tlsreload — certificate/key pairs for GnuTLS, swapped under a mutex when the files change. Handshakes read the
 * current pair under the lock; a replaced pair goes on a retired list and is freed only after a grace period, so a
 * handshake that picked it up just before the swap finishes with valid memory. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/x509.h>

#include "lib/err.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/str.h"
#include "webhook/filewatch.h"
#include "webhook/tlsreload.h"

struct tls_pair {
	gnutls_pcert_st pcerts[TLSRELOAD_MAX_CHAIN];
	unsigned int ncerts;
	gnutls_privkey_t key;
	int64_t not_after;
	char serial[96];
	time_t retired_at;
	struct tls_pair *next; /* retired list */
};

struct tls_store {
	struct filewatch fw_cert, fw_key;
	pthread_mutex_t mu;
	struct tls_pair *cur;	  /* under mu */
	struct tls_pair *retired; /* only the watcher thread touches it */
};

static _Atomic(struct tls_store *) tls_installed;

/* Frees a pair and everything it holds; NULL is fine. */
static void tls_pair_free(struct tls_pair *p)
{
	unsigned int i;

	if (p == NULL)
		return;
	for (i = 0; i < p->ncerts; i++)
		gnutls_pcert_deinit(&p->pcerts[i]);
	if (p->key != NULL)
		gnutls_privkey_deinit(p->key);
	free(p);
}

/* Reads a whole file of at most TLSRELOAD_MAX_FILE bytes into a new buffer (*out, free() it, wipe it first if it
 * holds a key), NUL-terminated; *len excludes the NUL. Errors name the file. */
static int tls_read_file(const char *path, const char *what, unsigned char **out, size_t *len, struct err *e)
{
	char label[600];
	int fd, r;

	*out = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return err_set(e, ERR_NOT_FOUND,
			    "%s %s does not exist; check --tls-cert/--tls-key and the mounted "
			    "Secret",
			    what, path);
		return err_errno(e, errno, "%s %s: cannot open it", what, path);
	}
	str_fmt(label, sizeof(label), "%s %.500s", what, path);
	if ((r = fileio_read_secret_fd(fd, TLSRELOAD_MAX_FILE, out, len, label, e)) == ERR_TOO_LARGE)
		err_set(e, r, "%s %s: larger than %d bytes; is it really a PEM file?", what, path, TLSRELOAD_MAX_FILE);
	close(fd);
	return r;
}

/* True when the public key of the certificate and of the private key are the same. */
static bool tls_key_matches(gnutls_pcert_st *leaf, gnutls_privkey_t key)
{
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t a = { NULL, 0 }, b = { NULL, 0 };
	bool same = false;

	if (gnutls_pubkey_init(&pub) < 0)
		return false;
	if (gnutls_pubkey_import_privkey(pub, key, 0, 0) < 0 ||
	    gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &a) < 0 ||
	    gnutls_pubkey_export2(leaf->pubkey, GNUTLS_X509_FMT_DER, &b) < 0)
		goto out;
	same = a.size == b.size && memcmp(a.data, b.data, a.size) == 0;
out:
	gnutls_free(a.data);
	gnutls_free(b.data);
	gnutls_pubkey_deinit(pub);
	return same;
}

/* Reads the leaf's notAfter and serial into p. */
static int tls_pair_describe(struct tls_pair *p, const char *cert_path, struct err *e)
{
	gnutls_x509_crt_t crt = NULL;
	unsigned char serial[64];
	size_t slen = sizeof(serial), i;
	int r = ERR_PARSE;

	if (gnutls_x509_crt_init(&crt) < 0) {
		r = err_set(e, ERR_NOMEM, "certificate %s: out of memory", cert_path);
		goto out;
	}
	if (gnutls_x509_crt_import(crt, &p->pcerts[0].cert, GNUTLS_X509_FMT_DER) < 0 ||
	    gnutls_x509_crt_get_serial(crt, serial, &slen) < 0) {
		r = err_set(e, ERR_PARSE, "certificate %s: cannot read the leaf certificate's serial", cert_path);
		goto out;
	}
	p->not_after = (int64_t)gnutls_x509_crt_get_expiration_time(crt);
	p->serial[0] = '\0';
	for (i = 0; i < slen && 2 * i + 2 < sizeof(p->serial); i++) {
		static const char hex[] = "0123456789ABCDEF";
		p->serial[2 * i] = hex[serial[i] >> 4];
		p->serial[2 * i + 1] = hex[serial[i] & 15];
		p->serial[2 * i + 2] = '\0';
	}
	r = 0;
out:
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	return r;
}

/* Loads a pair from the two files into a new *out (tls_pair_free it). */
static int tls_pair_load(const char *cert_path, const char *key_path, struct tls_pair **out, struct err *e)
{
	struct tls_pair *p = NULL;
	unsigned char *cbuf = NULL, *kbuf = NULL;
	size_t clen = 0, klen = 0;
	gnutls_datum_t d;
	unsigned int n = TLSRELOAD_MAX_CHAIN;
	int r, g;

	*out = NULL;
	if ((r = tls_read_file(cert_path, "certificate", &cbuf, &clen, e)) != 0 ||
	    (r = tls_read_file(key_path, "private key", &kbuf, &klen, e)) != 0)
		goto out;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		r = err_set(e, ERR_NOMEM, "certificate %s: out of memory", cert_path);
		goto out;
	}
	d.data = cbuf;
	d.size = (unsigned int)clen;
	g = gnutls_pcert_list_import_x509_raw(p->pcerts, &n, &d, GNUTLS_X509_FMT_PEM, 0);
	if (g < 0 || n == 0) {
		r = err_set(e, ERR_PARSE,
		    "certificate %s: not a PEM certificate chain (%s, at most %d certificates); "
		    "put the PEM server certificate first, then its intermediates",
		    cert_path, g < 0 ? gnutls_strerror(g) : "empty", TLSRELOAD_MAX_CHAIN);
		goto out;
	}
	p->ncerts = n;
	if ((g = gnutls_privkey_init(&p->key)) < 0) {
		r = err_set(e, ERR_NOMEM, "private key %s: %s", key_path, gnutls_strerror(g));
		goto out;
	}
	d.data = kbuf;
	d.size = (unsigned int)klen;
	if ((g = gnutls_privkey_import_x509_raw(p->key, &d, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
		r = err_set(e, ERR_PARSE, "private key %s: not an unencrypted PEM private key (%s)", key_path,
		    gnutls_strerror(g));
		goto out;
	}
	if (!tls_key_matches(&p->pcerts[0], p->key)) {
		r = err_set(e, ERR_INVALID,
		    "private key %s does not belong to certificate %s; install the key that "
		    "was issued with the certificate",
		    key_path, cert_path);
		goto out;
	}
	if ((r = tls_pair_describe(p, cert_path, e)) != 0)
		goto out;
	*out = p;
	p = NULL; /* transferred */
	r = 0;
out:
	tls_pair_free(p);
	if (kbuf != NULL) {
		explicit_bzero(kbuf, klen);
		free(kbuf);
	}
	free(cbuf);
	return r;
}

int tlsreload_new(const char *cert_path, const char *key_path, struct tls_store **out, struct err *e)
{
	struct tls_store *ts = NULL;
	int r;

	*out = NULL;
	if ((ts = calloc(1, sizeof(*ts))) == NULL)
		return err_set(e, ERR_NOMEM, "certificate store: out of memory");
	pthread_mutex_init(&ts->mu, NULL);
	if ((r = filewatch_init(&ts->fw_cert, cert_path, e)) != 0 ||
	    (r = filewatch_init(&ts->fw_key, key_path, e)) != 0)
		goto out;
	if ((r = tls_pair_load(cert_path, key_path, &ts->cur, e)) != 0)
		goto out;
	*out = ts;
	ts = NULL; /* transferred */
	r = 0;
out:
	tlsreload_free(ts);
	return r;
}

void tlsreload_free(struct tls_store *ts)
{
	struct tls_pair *p, *next;

	if (ts == NULL)
		return;
	if (atomic_load(&tls_installed) == ts)
		atomic_store(&tls_installed, NULL);
	for (p = ts->retired; p != NULL; p = next) {
		next = p->next;
		tls_pair_free(p);
	}
	tls_pair_free(ts->cur);
	pthread_mutex_destroy(&ts->mu);
	free(ts);
}

/* Frees retired pairs whose grace period is over. */
static void tls_sweep(struct tls_store *ts, time_t now)
{
	struct tls_pair **pp = &ts->retired, *p;

	while ((p = *pp) != NULL) {
		if (now - p->retired_at >= TLSRELOAD_GRACE_S) {
			*pp = p->next;
			tls_pair_free(p);
		} else {
			pp = &p->next;
		}
	}
}

int tlsreload_poll(struct tls_store *ts, struct err *e)
{
	struct tls_pair *p = NULL, *old;
	bool c1, c2;
	int r;

	tls_sweep(ts, time(NULL));
	c1 = filewatch_changed(&ts->fw_cert);
	c2 = filewatch_changed(&ts->fw_key);
	if (!c1 && !c2)
		return 0;
	if ((r = tls_pair_load(ts->fw_cert.path, ts->fw_key.path, &p, e)) != 0)
		return err_prefix(e, "new certificate not installed, the previous one stays in force");
	pthread_mutex_lock(&ts->mu);
	old = ts->cur;
	ts->cur = p;
	pthread_mutex_unlock(&ts->mu);
	old->retired_at = time(NULL);
	old->next = ts->retired;
	ts->retired = old;
	return 1;
}

int64_t tlsreload_not_after(struct tls_store *ts)
{
	int64_t t;

	pthread_mutex_lock(&ts->mu);
	t = ts->cur->not_after;
	pthread_mutex_unlock(&ts->mu);
	return t;
}

void tlsreload_serial(struct tls_store *ts, char *buf, size_t size)
{
	pthread_mutex_lock(&ts->mu);
	str_copy(buf, size, ts->cur->serial);
	pthread_mutex_unlock(&ts->mu);
}

void tlsreload_install(struct tls_store *ts)
{
	atomic_store(&tls_installed, ts);
}

int tlsreload_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
    const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length, gnutls_pcert_st **pcert, unsigned int *pcert_length,
    gnutls_privkey_t *pkey)
{
	struct tls_store *ts = atomic_load(&tls_installed);
	struct tls_pair *p;

	if (ts == NULL)
		return -1;
	pthread_mutex_lock(&ts->mu);
	p = ts->cur;
	pthread_mutex_unlock(&ts->mu);
	*pcert = p->pcerts;
	*pcert_length = p->ncerts;
	*pkey = p->key;
	return 0;
}
