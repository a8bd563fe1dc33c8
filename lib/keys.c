/* keys — key generation, PEM reading and writing, signing and verification over OpenSSL 3 EVP, and the keyring of
 * trusted public keys (see keys.h). */
#define _GNU_SOURCE /* memmem */
#include "lib/keys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "lib/digest.h"
#include "lib/fileio.h"
#include "lib/str.h"

#define KEYRING_DIR_MAX_ENTRIES 1024

struct key {
	EVP_PKEY *pkey;
	enum key_alg alg;
	bool priv;
	char id[KEY_ID_LEN + 1];
	char label[256];
};

struct keyring {
	atomic_int refs;
	size_t n;
	struct key *keys[KEYRING_MAX_KEYS];
};

int key_alg_parse(const char *s, enum key_alg *out, struct err *e)
{
	if (strcmp(s, "ecdsa-p256") == 0)
		*out = KEY_ALG_ECDSA_P256;
	else if (strcmp(s, "ed25519") == 0)
		*out = KEY_ALG_ED25519;
	else
		return err_set(e, ERR_USAGE, "unknown key algorithm \"%.40s\"; use ecdsa-p256 (the default) or ed25519",
		    s);
	return 0;
}

const char *key_alg_name(enum key_alg alg)
{
	return alg == KEY_ALG_ED25519 ? "ed25519" : "ecdsa-p256";
}

const char *key_passphrase_from_env(void)
{
	const char *p = getenv(KEY_PASSWORD_ENV);

	return p != NULL && p[0] != '\0' ? p : NULL;
}

/* Wraps pk (transferred, freed on error) into a new key: checks the algorithm and computes the keyid. */
static int key_wrap(EVP_PKEY *pk, bool priv, const char *label, struct key **out, struct err *e)
{
	struct key *k = NULL;
	unsigned char *der = NULL, raw[32];
	char group[64];
	int len, r = ERR_UNSUPPORTED;

	*out = NULL;
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		r = err_set(e, ERR_NOMEM, "%s: out of memory", label);
		goto out;
	}
	k->pkey = pk;
	pk = NULL;
	k->priv = priv;
	str_copy(k->label, sizeof(k->label), label);
	switch (EVP_PKEY_get_base_id(k->pkey)) {
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_utf8_string_param(k->pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL) !=
			1 ||
		    (strcmp(group, "prime256v1") != 0 && strcmp(group, "P-256") != 0)) {
			err_set(e, ERR_UNSUPPORTED,
			    "%s: EC key on an unsupported curve; only P-256 (and Ed25519) keys are "
			    "accepted",
			    label);
			goto out;
		}
		k->alg = KEY_ALG_ECDSA_P256;
		break;
	case EVP_PKEY_ED25519:
		k->alg = KEY_ALG_ED25519;
		break;
	default:
		err_set(e, ERR_UNSUPPORTED,
		    "%s: unsupported key type %s; use an ECDSA P-256 or Ed25519 key (hardline "
		    "keygen)",
		    label, OBJ_nid2sn(EVP_PKEY_get_base_id(k->pkey)));
		goto out;
	}
	if ((len = i2d_PUBKEY(k->pkey, &der)) <= 0) {
		r = err_set(e, ERR_INTERNAL, "%s: cannot encode the public key", label);
		goto out;
	}
	if ((r = sha256_raw(der, (size_t)len, raw, e)) != 0)
		goto out;
	hex_encode(raw, sizeof(raw), k->id);
	*out = k;
	k = NULL; /* transferred */
	r = 0;
out:
	OPENSSL_free(der);
	EVP_PKEY_free(pk);
	key_free(k);
	ERR_clear_error();
	return r;
}

int key_generate(enum key_alg alg, struct key **out, struct err *e)
{
	EVP_PKEY *pk;

	*out = NULL;
	if (alg == KEY_ALG_ED25519)
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (pk == NULL) {
		ERR_clear_error();
		return err_set(e, ERR_INTERNAL, "cannot generate a %s key (OpenSSL failed)", key_alg_name(alg));
	}
	return key_wrap(pk, true, "(generated)", out, e);
}

/* Reads the regular file path (at most max bytes) into a new buffer that the caller wipes and frees; what names the
 * kind of file expected in messages. */
static int read_small_file(const char *path, size_t max, const char *what, unsigned char **out, size_t *len,
    struct err *e)
{
	struct stat st;
	int fd, r;

	*out = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return err_set(e, ERR_NOT_FOUND, "%s: no such file; give the path of a %s", path, what);
		return err_errno(e, errno, "open %s", path);
	}
	if (fstat(fd, &st) != 0) {
		r = err_errno(e, errno, "stat %s", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = err_set(e, ERR_INVALID, "%s: not a regular file; give the path of a %s", path, what);
		goto out;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > max) {
		r = err_set(e, ERR_TOO_LARGE, "%s: larger than %zu bytes, which is no %s", path, max, what);
		goto out;
	}
	if ((r = fileio_read_secret_fd(fd, max, out, len, path, e)) == ERR_TOO_LARGE) /* it grew meanwhile */
		err_set(e, r, "%s: larger than %zu bytes, which is no %s", path, max, what);
out:
	close(fd);
	return r;
}

struct pass_ctx {
	const char *pass;
	int asked;
};

/* OpenSSL's passphrase callback: hands over our passphrase and records that the key wanted one. Never prompts. */
static int pass_cb(char *buf, int size, int rwflag, void *u)
{
	struct pass_ctx *pc = u;
	size_t n;

	pc->asked = 1;
	if (pc->pass == NULL || size <= 0)
		return -1;
	n = strlen(pc->pass);
	if (n > (size_t)size)
		return -1;
	memcpy(buf, pc->pass, n);
	return (int)n;
}

int key_load_private(const char *path, const char *passphrase, struct key **out, struct err *e)
{
	struct pass_ctx pc = { passphrase, 0 };
	unsigned char *buf = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	EVP_PKEY *pk = NULL;
	int r;

	*out = NULL;
	if ((r = read_small_file(path, KEY_FILE_MAX, "PEM private key", &buf, &len, e)) != 0)
		goto out;
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		r = err_set(e, ERR_NOMEM, "%s: out of memory", path);
		goto out;
	}
	if ((pk = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, &pc)) == NULL) {
		if (pc.asked && passphrase == NULL)
			r = err_set(e, ERR_DENIED, "%s: the private key is encrypted; set %s to its passphrase", path,
			    KEY_PASSWORD_ENV);
		else if (pc.asked)
			r = err_set(e, ERR_DENIED,
			    "%s: cannot decrypt the private key: wrong passphrase in %s (or a "
			    "damaged file)",
			    path, KEY_PASSWORD_ENV);
		else
			r = err_set(e, ERR_PARSE,
			    "%s: not a PEM private key (expected \"-----BEGIN PRIVATE KEY-----\" or "
			    "\"-----BEGIN ENCRYPTED PRIVATE KEY-----\"); create one with hardline keygen",
			    path);
		goto out;
	}
	r = key_wrap(pk, true, path, out, e);
	pk = NULL; /* transferred */
out:
	ERR_clear_error();
	EVP_PKEY_free(pk);
	BIO_free(bio);
	if (buf != NULL) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
	return r;
}

int key_parse_public_pem(const char *pem, size_t len, const char *label, struct key **out, struct err *e)
{
	BIO *bio = NULL;
	EVP_PKEY *pk = NULL;
	int r;

	*out = NULL;
	if (len > KEY_FILE_MAX)
		return err_set(e, ERR_TOO_LARGE, "%s: %zu bytes is too large for a public key", label, len);
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return err_set(e, ERR_NOMEM, "%s: out of memory", label);
	if ((pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) == NULL) {
		if (memmem(pem, len, "PRIVATE KEY-----", 16) != NULL)
			r = err_set(e, ERR_PARSE,
			    "%s: this is a private key, not a public key; give its .pub file (and keep "
			    "the private key secret)",
			    label);
		else
			r = err_set(e, ERR_PARSE,
			    "%s: not a PEM public key (expected \"-----BEGIN PUBLIC KEY-----\", the "
			    "cosign.pub format)",
			    label);
		goto out;
	}
	r = key_wrap(pk, false, label, out, e);
	pk = NULL; /* transferred */
out:
	ERR_clear_error();
	BIO_free(bio);
	return r;
}

int key_load_public(const char *path, struct key **out, struct err *e)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if ((r = read_small_file(path, KEY_FILE_MAX, "PEM public key", &buf, &len, e)) != 0)
		return r;
	r = key_parse_public_pem((const char *)buf, len, path, out, e);
	free(buf);
	return r;
}

/* Creates path exclusively with mode and writes data[n]; with force an existing file is removed first. A file left
 * half-written is removed. */
static int write_new_file(const char *path, const void *data, size_t n, mode_t mode, bool force, struct err *e)
{
	int fd, r = ERR_IO;

	if (force && unlink(path) != 0 && errno != ENOENT)
		return err_errno(e, errno, "cannot replace %s", path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)) < 0) {
		if (errno == EEXIST)
			return err_set(e, ERR_EXISTS, "%s already exists; remove it or use --force to replace it",
			    path);
		return err_errno(e, errno, "create %s", path);
	}
	if (fileio_write_all(fd, data, n) != 0) {
		r = err_errno(e, errno, "write %s", path);
		goto out;
	}
	if (fsync(fd) != 0) {
		r = err_errno(e, errno, "fsync %s", path);
		goto out;
	}
	r = 0;
out:
	if (close(fd) != 0 && r == 0)
		r = err_errno(e, errno, "close %s", path);
	if (r != 0)
		unlink(path);
	return r;
}

int key_write_private(const struct key *k, const char *path, const char *passphrase, bool force, struct err *e)
{
	BIO *bio = NULL;
	char *data = NULL;
	long len;
	int ok, r;

	if (!k->priv)
		return err_set(e, ERR_INVALID, "%s: the key %s has no private part to write", path, k->id);
	if ((bio = BIO_new(BIO_s_secmem())) == NULL)
		return err_set(e, ERR_NOMEM, "%s: out of memory", path);
	if (passphrase != NULL && passphrase[0] != '\0')
		ok = PEM_write_bio_PKCS8PrivateKey(bio, k->pkey, EVP_aes_256_cbc(), (char *)passphrase,
		    (int)strlen(passphrase), NULL, NULL);
	else
		ok = PEM_write_bio_PKCS8PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL);
	if (ok != 1 || (len = BIO_get_mem_data(bio, &data)) <= 0) {
		r = err_set(e, ERR_INTERNAL, "%s: cannot encode the private key (OpenSSL failed)", path);
		goto out;
	}
	r = write_new_file(path, data, (size_t)len, 0600, force, e);
out:
	ERR_clear_error();
	BIO_free(bio); /* a secure-memory BIO wipes its buffer */
	return r;
}

int key_public_pem(const struct key *k, char **out, struct err *e)
{
	BIO *bio = NULL;
	char *data = NULL, *s = NULL;
	long len;
	int r = ERR_INTERNAL;

	*out = NULL;
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	if (PEM_write_bio_PUBKEY(bio, k->pkey) != 1 || (len = BIO_get_mem_data(bio, &data)) <= 0) {
		err_set(e, r, "key %s: cannot encode the public key (OpenSSL failed)", k->id);
		goto out;
	}
	if ((s = malloc((size_t)len + 1)) == NULL) {
		r = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	memcpy(s, data, (size_t)len);
	s[len] = '\0';
	*out = s;
	r = 0;
out:
	ERR_clear_error();
	BIO_free(bio);
	return r;
}

int key_write_public(const struct key *k, const char *path, bool force, struct err *e)
{
	char *pem = NULL;
	int r;

	if ((r = key_public_pem(k, &pem, e)) != 0)
		return err_prefix(e, "%s", path);
	r = write_new_file(path, pem, strlen(pem), 0644, force, e);
	free(pem);
	return r;
}

int key_sign(const struct key *k, const void *msg, size_t n, unsigned char **sig, size_t *sig_len, struct err *e)
{
	EVP_MD_CTX *ctx = NULL;
	unsigned char *s = NULL;
	size_t len = 0;
	int r = ERR_INTERNAL;

	*sig = NULL;
	*sig_len = 0;
	if (!k->priv)
		return err_set(e, ERR_INVALID, "key %s (%s) is a public key; signing needs the private key", k->id,
		    k->label);
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		r = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	if (EVP_DigestSignInit(ctx, NULL, k->alg == KEY_ALG_ED25519 ? NULL : EVP_sha256(), NULL, k->pkey) != 1 ||
	    EVP_DigestSign(ctx, NULL, &len, msg, n) != 1 || len == 0 || len > KEY_SIG_MAX) {
		err_set(e, r, "key %s: cannot start signing (OpenSSL failed)", k->id);
		goto out;
	}
	if ((s = malloc(len)) == NULL) {
		r = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	if (EVP_DigestSign(ctx, s, &len, msg, n) != 1) {
		err_set(e, r, "key %s: signing failed (OpenSSL)", k->id);
		goto out;
	}
	*sig = s;
	*sig_len = len;
	s = NULL; /* transferred */
	r = 0;
out:
	ERR_clear_error();
	free(s);
	EVP_MD_CTX_free(ctx);
	return r;
}

/* An ECDSA signature as strict DER: sig itself when it parses as DER with nothing after it, otherwise the raw
 * 64-byte r||s form converted (into a new *conv). Returns 0 or ERR_VERIFY when it is neither. */
static int ecdsa_sig_der(const unsigned char *sig, size_t len, const unsigned char **der, size_t *der_len,
    unsigned char **conv)
{
	const unsigned char *p = sig;
	ECDSA_SIG *s;
	BIGNUM *br = NULL, *bs = NULL;
	unsigned char *c = NULL;
	int n, r = ERR_VERIFY;

	*conv = NULL;
	if ((s = d2i_ECDSA_SIG(NULL, &p, (long)len)) != NULL && p == sig + len) {
		*der = sig;
		*der_len = len;
		r = 0;
		goto out;
	}
	ECDSA_SIG_free(s);
	s = NULL;
	if (len != 64)
		goto out;
	if ((s = ECDSA_SIG_new()) == NULL || (br = BN_bin2bn(sig, 32, NULL)) == NULL ||
	    (bs = BN_bin2bn(sig + 32, 32, NULL)) == NULL || ECDSA_SIG_set0(s, br, bs) != 1) {
		r = ERR_NOMEM;
		goto out;
	}
	br = bs = NULL; /* transferred */
	if ((n = i2d_ECDSA_SIG(s, &c)) <= 0) {
		r = ERR_NOMEM;
		goto out;
	}
	*der = c;
	*der_len = (size_t)n;
	*conv = c;
	r = 0;
out:
	BN_free(br);
	BN_free(bs);
	ECDSA_SIG_free(s);
	return r;
}

int key_verify(const struct key *k, const void *msg, size_t n, const unsigned char *sig, size_t sig_len, struct err *e)
{
	EVP_MD_CTX *ctx = NULL;
	const unsigned char *der = sig;
	unsigned char *conv = NULL;
	size_t der_len = sig_len;
	int r = ERR_VERIFY, ok;

	if (sig_len == 0 || sig_len > KEY_SIG_MAX) {
		err_set(e, r, "signature of %zu bytes cannot be a %s signature (key %s)", sig_len, key_alg_name(k->alg),
		    k->id);
		goto out;
	}
	if (k->alg == KEY_ALG_ECDSA_P256 && (r = ecdsa_sig_der(sig, sig_len, &der, &der_len, &conv)) != 0) {
		if (r == ERR_NOMEM)
			err_set(e, r, "out of memory");
		else
			err_set(e, r, "signature is neither ASN.1 DER nor raw r||s ECDSA (%zu bytes, key %s)", sig_len,
			    k->id);
		goto out;
	}
	if (k->alg == KEY_ALG_ED25519 && sig_len != 64) {
		r = err_set(e, ERR_VERIFY, "signature of %zu bytes is not an Ed25519 signature (64 bytes, key %s)",
		    sig_len, k->id);
		goto out;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		r = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	if (EVP_DigestVerifyInit(ctx, NULL, k->alg == KEY_ALG_ED25519 ? NULL : EVP_sha256(), NULL, k->pkey) != 1) {
		r = err_set(e, ERR_INTERNAL, "key %s: cannot start verification (OpenSSL failed)", k->id);
		goto out;
	}
	ok = EVP_DigestVerify(ctx, der, der_len, msg, n);
	if (ok != 1) {
		r = err_set(e, ERR_VERIFY, "signature does not verify with key %s", k->id);
		goto out;
	}
	r = 0;
out:
	ERR_clear_error();
	OPENSSL_free(conv);
	EVP_MD_CTX_free(ctx);
	return r;
}

const char *key_id(const struct key *k)
{
	return k->id;
}

enum key_alg key_algorithm(const struct key *k)
{
	return k->alg;
}

const char *key_label(const struct key *k)
{
	return k->label;
}

bool key_has_private(const struct key *k)
{
	return k->priv;
}

void key_free(struct key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey); /* OpenSSL clears private key material as it frees it */
	OPENSSL_cleanse(k, sizeof(*k));
	free(k);
}

int keyring_new(struct keyring **out, struct err *e)
{
	struct keyring *kr = calloc(1, sizeof(*kr));

	*out = NULL;
	if (kr == NULL)
		return err_set(e, ERR_NOMEM, "keyring: out of memory");
	atomic_init(&kr->refs, 1);
	*out = kr;
	return 0;
}

int keyring_add(struct keyring *kr, struct key *k, struct err *e)
{
	if (keyring_find_id(kr, k->id) != NULL) {
		key_free(k);
		return 0;
	}
	if (kr->n >= KEYRING_MAX_KEYS) {
		err_set(e, ERR_TOO_LARGE, "%s: more than %d trusted keys; remove keys that are no longer used",
		    k->label, KEYRING_MAX_KEYS);
		key_free(k);
		return ERR_TOO_LARGE;
	}
	kr->keys[kr->n++] = k; /* transferred */
	return 0;
}

size_t keyring_count(const struct keyring *kr)
{
	return kr->n;
}

const struct key *keyring_get(const struct keyring *kr, size_t i)
{
	return i < kr->n ? kr->keys[i] : NULL;
}

const struct key *keyring_find_id(const struct keyring *kr, const char *keyid)
{
	size_t i;

	for (i = 0; i < kr->n; i++)
		if (strcmp(kr->keys[i]->id, keyid) == 0)
			return kr->keys[i];
	return NULL;
}

struct keyring *keyring_ref(struct keyring *kr)
{
	atomic_fetch_add(&kr->refs, 1);
	return kr;
}

void keyring_unref(struct keyring *kr)
{
	size_t i;

	if (kr == NULL || atomic_fetch_sub(&kr->refs, 1) != 1)
		return;
	for (i = 0; i < kr->n; i++)
		key_free(kr->keys[i]);
	free(kr);
}

/* Adds every *.pub / *.pem regular file of dir to kr, in name order. */
static int keyring_add_dir(struct keyring *kr, const char *dir, struct err *e)
{
	DIR *d = NULL;
	struct dirent *de;
	char **names = NULL, path[PATH_MAX];
	size_t n = 0, i, before = kr->n, found = 0;
	struct stat st;
	struct key *k;
	int r = ERR_IO;

	if ((d = opendir(dir)) == NULL)
		return err_errno(e, errno, "open key directory %s", dir);
	if ((names = calloc(KEYRING_DIR_MAX_ENTRIES, sizeof(*names))) == NULL) {
		r = err_set(e, ERR_NOMEM, "%s: out of memory", dir);
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !(str_has_suffix(de->d_name, ".pub") || str_has_suffix(de->d_name, ".pem")))
			continue;
		if (n == KEYRING_DIR_MAX_ENTRIES) {
			r = err_set(e, ERR_TOO_LARGE, "key directory %s: more than %d key files", dir,
			    KEYRING_DIR_MAX_ENTRIES);
			goto out;
		}
		if ((names[n] = strdup(de->d_name)) == NULL) {
			r = err_set(e, ERR_NOMEM, "%s: out of memory", dir);
			goto out;
		}
		n++;
	}
	qsort(names, n, sizeof(*names), str_cmp_ptrs);
	for (i = 0; i < n; i++) {
		if (str_fmt(path, sizeof(path), "%s/%s", dir, names[i]) != 0) {
			r = err_set(e, ERR_TOO_LARGE, "key directory %s: path of %s too long", dir, names[i]);
			goto out;
		}
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if ((r = key_load_public(path, &k, e)) != 0 || (r = keyring_add(kr, k, e)) != 0)
			goto out;
		found++;
	}
	if (found == 0 && kr->n == before) {
		r = err_set(e, ERR_NOT_FOUND, "key directory %s holds no *.pub or *.pem public key file", dir);
		goto out;
	}
	r = 0;
out:
	for (i = 0; names != NULL && i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return r;
}

int keyring_load_paths(const char *const *paths, size_t n, struct keyring **out, struct err *e)
{
	struct keyring *kr = NULL;
	struct key *k;
	struct stat st;
	size_t i;
	int r;

	*out = NULL;
	if ((r = keyring_new(&kr, e)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		if (stat(paths[i], &st) != 0) {
			if (errno == ENOENT)
				r = err_set(e, ERR_NOT_FOUND,
				    "%s: no such file or directory; give a public key file (PEM) or "
				    "a directory of *.pub files",
				    paths[i]);
			else
				r = err_errno(e, errno, "stat %s", paths[i]);
			goto out;
		}
		if (S_ISDIR(st.st_mode))
			r = keyring_add_dir(kr, paths[i], e);
		else if ((r = key_load_public(paths[i], &k, e)) == 0)
			r = keyring_add(kr, k, e);
		if (r != 0)
			goto out;
	}
	if (kr->n == 0) {
		r = err_set(e, ERR_NOT_FOUND, "no trusted public keys given");
		goto out;
	}
	*out = kr;
	kr = NULL; /* transferred */
	r = 0;
out:
	keyring_unref(kr);
	return r;
}
