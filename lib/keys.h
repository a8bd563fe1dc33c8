/* keys — signing keys for attestations (OpenSSL 3 EVP): ECDSA P-256 with SHA-256 (the default, as cosign) and
 * Ed25519. Public keys are PEM SPKI ("-----BEGIN PUBLIC KEY-----", the cosign.pub format), private keys PEM PKCS#8,
 * optionally passphrase-encrypted. A key's id is the lowercase hex SHA-256 of its SPKI DER.
 * A struct keyring is an immutable, reference-counted set of trusted public keys that the webhook can swap on
 * rotation while requests still hold the old one. */
#ifndef HARDLINE_KEYS_H
#define HARDLINE_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/err.h"

#define KEY_ID_LEN 64		  /* hex characters of a keyid */
#define KEY_FILE_MAX (64u * 1024) /* a PEM key file larger than this is refused */
#define KEY_SIG_MAX 256		  /* no supported signature is longer */
#define KEYRING_MAX_KEYS 64	  /* trusted keys per keyring */
#define KEY_PASSWORD_ENV "HARDLINE_KEY_PASSWORD"

enum key_alg { KEY_ALG_ECDSA_P256 = 1, KEY_ALG_ED25519 = 2 };

struct key;	/* opaque: an EVP_PKEY with its algorithm, id and source label */
struct keyring; /* opaque: trusted public keys */

/* Parses "ecdsa-p256" or "ed25519". ERR_USAGE naming the choices otherwise. */
int key_alg_parse(const char *s, enum key_alg *out, struct err *e);
/* "ecdsa-p256" / "ed25519". */
const char *key_alg_name(enum key_alg alg);

/* The passphrase from the environment variable HARDLINE_KEY_PASSWORD, or NULL when unset or empty. Borrowed from
 * the environment: copy it if the environment may change. */
const char *key_passphrase_from_env(void);

/* Generates a new private key. *out is new (key_free it). Errors: ERR_INTERNAL (OpenSSL failed), ERR_NOMEM. */
int key_generate(enum key_alg alg, struct key **out, struct err *e);

/* Loads a PEM private key (PKCS#8, encrypted or not; also "EC PRIVATE KEY"). passphrase may be NULL; an encrypted
 * key then fails with ERR_DENIED telling to set HARDLINE_KEY_PASSWORD, a wrong passphrase with ERR_DENIED too.
 * Keys of another algorithm or curve are ERR_UNSUPPORTED. *out is new (key_free it). */
int key_load_private(const char *path, const char *passphrase, struct key **out, struct err *e);

/* Loads a PEM SPKI public key from a file (at most KEY_FILE_MAX bytes). label of messages = the path. */
int key_load_public(const char *path, struct key **out, struct err *e);

/* Parses a PEM SPKI public key held in memory; label names it in messages. *out is new (key_free it). */
int key_parse_public_pem(const char *pem, size_t len, const char *label, struct key **out, struct err *e);

/* Writes the private key as PEM PKCS#8 to path, created with mode 0600 and O_EXCL; encrypted with AES-256-CBC
 * (OpenSSL's default PBKDF2 key derivation) when passphrase is not NULL and not empty. An existing file is
 * ERR_EXISTS unless force, which replaces it. The PEM text is wiped from memory afterwards. */
int key_write_private(const struct key *k, const char *path, const char *passphrase, bool force, struct err *e);

/* Writes the public key as PEM SPKI to path (mode 0644, O_EXCL; force replaces). */
int key_write_public(const struct key *k, const char *path, bool force, struct err *e);

/* The PEM SPKI text of the public key as a new string (free() it). */
int key_public_pem(const struct key *k, char **out, struct err *e);

/* Signs msg[n]: ECDSA P-256 over SHA-256 giving ASN.1 DER (as Go's ecdsa.SignASN1), Ed25519 pure. *sig is a new
 * buffer of *sig_len bytes (free() it). ERR_INVALID when k holds no private key. */
int key_sign(const struct key *k, const void *msg, size_t n, unsigned char **sig, size_t *sig_len, struct err *e);

/* Verifies sig over msg[n]. ECDSA takes DER or the raw 64-byte r||s form. Returns 0 when valid, ERR_VERIFY when
 * not (with a message naming the keyid), ERR_NOMEM/ERR_INTERNAL when verification could not run. */
int key_verify(const struct key *k, const void *msg, size_t n, const unsigned char *sig, size_t sig_len, struct err *e);

/* Accessors; the strings live as long as k. key_label is the file the key came from ("(generated)" otherwise). */
const char *key_id(const struct key *k);
enum key_alg key_algorithm(const struct key *k);
const char *key_label(const struct key *k);
bool key_has_private(const struct key *k);

/* Frees k, wiping private material; accepts NULL. */
void key_free(struct key *k);

/* Builds a keyring from files and directories: a file is one PEM public key; a directory contributes every regular
 * file (symlinks followed, as in Kubernetes secret mounts) named *.pub or *.pem, not hidden, in name order.
 * Duplicate keys (same keyid) count once. Errors name the offending file; a directory without keys and an empty
 * result are ERR_NOT_FOUND; more than KEYRING_MAX_KEYS is ERR_TOO_LARGE. *out is new with one reference. */
int keyring_load_paths(const char *const *paths, size_t n, struct keyring **out, struct err *e);

/* An empty keyring to fill with keyring_add before it is shared. *out is new with one reference. */
int keyring_new(struct keyring **out, struct err *e);
/* Adds k (transferred, also on error) unless a key with its id is there (then k is freed). Only before sharing. */
int keyring_add(struct keyring *kr, struct key *k, struct err *e);

/* Number of keys, the i-th key (borrowed, lives as long as the keyring), the key with a given id or NULL. */
size_t keyring_count(const struct keyring *kr);
const struct key *keyring_get(const struct keyring *kr, size_t i);
const struct key *keyring_find_id(const struct keyring *kr, const char *keyid);

/* Takes one more reference (thread-safe); returns kr. */
struct keyring *keyring_ref(struct keyring *kr);
/* Drops a reference (thread-safe); the last one frees the keyring and its keys. Accepts NULL. */
void keyring_unref(struct keyring *kr);

#endif
