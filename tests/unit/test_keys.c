/* Tests of lib/keys: generation, sign/verify for ECDSA P-256 and Ed25519 (DER and raw r||s), keyids, PEM files
 * (modes, O_EXCL, encryption and its errors), refused algorithms, and the keyring built from files and directories. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "lib/base64.h"
#include "lib/digest.h"
#include "lib/keys.h"

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/hl-test-keys.XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *path(const char *name)
{
	static char buf[8][256];
	static int i;

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static void roundtrip(enum key_alg alg)
{
	static const char msg[] = "DSSEv1 29 http://example.com/HelloWorld 11 hello world";
	struct key *k = NULL;
	unsigned char *sig = NULL;
	size_t n = 0;
	struct err e;

	assert_int_equal(key_generate(alg, &k, &e), 0);
	assert_int_equal(key_algorithm(k), alg);
	assert_true(key_has_private(k));
	assert_int_equal(strlen(key_id(k)), KEY_ID_LEN);
	assert_int_equal(key_sign(k, msg, strlen(msg), &sig, &n, &e), 0);
	if (alg == KEY_ALG_ED25519)
		assert_int_equal(n, 64);
	else
		assert_int_equal(sig[0], 0x30); /* ASN.1 DER SEQUENCE, as cosign */
	assert_int_equal(key_verify(k, msg, strlen(msg), sig, n, &e), 0);
	assert_int_equal(key_verify(k, msg, strlen(msg) - 1, sig, n, &e), ERR_VERIFY);
	assert_non_null(strstr(e.msg, key_id(k)));
	sig[n - 1] ^= 1;
	assert_int_equal(key_verify(k, msg, strlen(msg), sig, n, &e), ERR_VERIFY);
	assert_int_equal(key_verify(k, msg, strlen(msg), sig, 0, &e), ERR_VERIFY);
	free(sig);
	key_free(k);
}

static void test_sign_verify(void **state)
{
	roundtrip(KEY_ALG_ECDSA_P256);
	roundtrip(KEY_ALG_ED25519);
}

static void test_ecdsa_raw_signature(void **state)
{
	static const char msg[] = "payload";
	const unsigned char *p;
	unsigned char *sig = NULL, raw[64];
	ECDSA_SIG *s;
	struct key *k = NULL;
	size_t n;
	struct err e;

	assert_int_equal(key_generate(KEY_ALG_ECDSA_P256, &k, &e), 0);
	assert_int_equal(key_sign(k, msg, strlen(msg), &sig, &n, &e), 0);
	p = sig;
	assert_non_null(s = d2i_ECDSA_SIG(NULL, &p, (long)n));
	assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(s), raw, 32), 32);
	assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(s), raw + 32, 32), 32);
	ECDSA_SIG_free(s);
	assert_int_equal(key_verify(k, msg, strlen(msg), raw, 64, &e), 0);
	raw[10] ^= 0x40;
	assert_int_equal(key_verify(k, msg, strlen(msg), raw, 64, &e), ERR_VERIFY);
	/* neither DER nor 64 bytes */
	assert_int_equal(key_verify(k, msg, strlen(msg), raw, 63, &e), ERR_VERIFY);
	assert_non_null(strstr(e.msg, "neither ASN.1 DER nor raw r||s"));
	/* DER with a trailing byte is not DER */
	sig = realloc(sig, n + 1);
	sig[n] = 0;
	assert_int_equal(key_verify(k, msg, strlen(msg), sig, n + 1, &e), ERR_VERIFY);
	free(sig);
	key_free(k);
}

static void test_files_and_keyid(void **state)
{
	struct key *k = NULL, *pub = NULL, *priv = NULL;
	unsigned char *der = NULL, raw[32];
	char *pem = NULL, hex[65], b64[512];
	size_t len, bl = 0;
	struct stat st;
	struct err e;
	const char *line;

	assert_int_equal(key_generate(KEY_ALG_ECDSA_P256, &k, &e), 0);
	assert_int_equal(key_write_private(k, path("a.key"), NULL, false, &e), 0);
	assert_int_equal(key_write_public(k, path("a.pub"), false, &e), 0);
	assert_int_equal(stat(path("a.key"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(key_write_private(k, path("a.key"), NULL, false, &e), ERR_EXISTS);
	assert_non_null(strstr(e.msg, "--force"));
	assert_int_equal(key_write_private(k, path("a.key"), NULL, true, &e), 0);
	assert_int_equal(key_load_public(path("a.pub"), &pub, &e), 0);
	assert_string_equal(key_id(pub), key_id(k));
	assert_false(key_has_private(pub));
	assert_int_equal(key_load_private(path("a.key"), NULL, &priv, &e), 0);
	assert_string_equal(key_id(priv), key_id(k));

	/* keyid = hex SHA-256 of the SPKI DER that the PEM body carries */
	assert_int_equal(key_public_pem(k, &pem, &e), 0);
	assert_true(strncmp(pem, "-----BEGIN PUBLIC KEY-----\n", 27) == 0);
	for (line = pem + 27; *line != '-'; line = strchr(line, '\n') + 1) {
		size_t l = (size_t)(strchr(line, '\n') - line);

		memcpy(b64 + bl, line, l);
		bl += l;
	}
	assert_int_equal(base64_decode(b64, bl, 1024, &der, &len, "pem", &e), 0);
	assert_int_equal(len, 91); /* P-256 SPKI */
	assert_int_equal(sha256_raw(der, len, raw, &e), 0);
	hex_encode(raw, 32, hex);
	assert_string_equal(hex, key_id(k));
	/* a public key cannot sign, a public key file is no private key */
	{
		unsigned char *sig;
		size_t n;

		assert_int_equal(key_sign(pub, "x", 1, &sig, &n, &e), ERR_INVALID);
	}
	key_free(priv);
	priv = NULL;
	assert_int_equal(key_load_private(path("a.pub"), NULL, &priv, &e), ERR_PARSE);
	assert_non_null(strstr(e.msg, "not a PEM private key"));
	assert_int_equal(key_load_public(path("a.key"), &priv, &e), ERR_PARSE);
	assert_non_null(strstr(e.msg, "a.key: this is a private key, not a public key; give its .pub file"));
	assert_int_equal(key_load_public(path("nope.pub"), &priv, &e), ERR_NOT_FOUND);
	free(der);
	free(pem);
	key_free(pub);
	key_free(k);
}

static void test_encrypted(void **state)
{
	struct key *k = NULL, *l = NULL;
	char buf[64] = { 0 };
	FILE *f;
	struct err e;

	assert_int_equal(key_generate(KEY_ALG_ED25519, &k, &e), 0);
	assert_int_equal(key_write_private(k, path("enc.key"), "correct horse", false, &e), 0);
	assert_non_null(f = fopen(path("enc.key"), "r"));
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "-----BEGIN ENCRYPTED PRIVATE KEY-----\n");
	assert_int_equal(key_load_private(path("enc.key"), NULL, &l, &e), ERR_DENIED);
	assert_null(l);
	assert_non_null(strstr(e.msg, "the private key is encrypted; set HARDLINE_KEY_PASSWORD"));
	assert_int_equal(key_load_private(path("enc.key"), "wrong", &l, &e), ERR_DENIED);
	assert_non_null(strstr(e.msg, "wrong passphrase"));
	assert_int_equal(key_load_private(path("enc.key"), "correct horse", &l, &e), 0);
	assert_string_equal(key_id(l), key_id(k));
	assert_int_equal(key_algorithm(l), KEY_ALG_ED25519);
	key_free(l);
	key_free(k);
	setenv(KEY_PASSWORD_ENV, "", 1);
	assert_null(key_passphrase_from_env());
	setenv(KEY_PASSWORD_ENV, "pw", 1);
	assert_string_equal(key_passphrase_from_env(), "pw");
	unsetenv(KEY_PASSWORD_ENV);
}

static void write_foreign(EVP_PKEY *pk, const char *name)
{
	FILE *f = fopen(path(name), "w");

	assert_non_null(f);
	assert_int_equal(PEM_write_PUBKEY(f, pk), 1);
	fclose(f);
}

static void test_refused_algorithms(void **state)
{
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	struct key *k = NULL;
	enum key_alg alg;
	struct err e;

	assert_non_null(rsa);
	assert_non_null(p384);
	write_foreign(rsa, "rsa.pub");
	write_foreign(p384, "p384.pub");
	assert_int_equal(key_load_public(path("rsa.pub"), &k, &e), ERR_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "unsupported key type"));
	assert_int_equal(key_load_public(path("p384.pub"), &k, &e), ERR_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "only P-256"));
	assert_null(k);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(p384);
	assert_int_equal(key_alg_parse("ed25519", &alg, &e), 0);
	assert_int_equal(alg, KEY_ALG_ED25519);
	assert_int_equal(key_alg_parse("rsa", &alg, &e), ERR_USAGE);
	assert_non_null(strstr(e.msg, "ecdsa-p256"));
}

static void test_keyring(void **state)
{
	struct key *k1 = NULL, *k2 = NULL;
	struct keyring *kr = NULL;
	const char *paths[3];
	FILE *f;
	struct err e;

	assert_int_equal(mkdir(path("ring"), 0755), 0);
	assert_int_equal(mkdir(path("empty"), 0755), 0);
	assert_int_equal(key_generate(KEY_ALG_ECDSA_P256, &k1, &e), 0);
	assert_int_equal(key_generate(KEY_ALG_ED25519, &k2, &e), 0);
	assert_int_equal(key_write_public(k1, path("ring/b.pub"), false, &e), 0);
	assert_int_equal(key_write_public(k2, path("ring/a.pem"), false, &e), 0);
	assert_int_equal(key_write_public(k1, path("ring/.hidden.pub"), false, &e), 0);
	assert_non_null(f = fopen(path("ring/notes.txt"), "w"));
	fputs("not a key", f);
	fclose(f);
	assert_int_equal(symlink("b.pub", path("ring/link.pub")), 0); /* duplicate via symlink: counted once */
	paths[0] = path("ring");
	paths[1] = path("a.pub");
	assert_int_equal(keyring_load_paths(paths, 1, &kr, &e), 0);
	assert_int_equal(keyring_count(kr), 2);
	assert_string_equal(key_id(keyring_get(kr, 0)), key_id(k2)); /* name order: a.pem first */
	assert_non_null(keyring_find_id(kr, key_id(k1)));
	assert_null(keyring_find_id(kr, "00"));
	assert_ptr_equal(keyring_ref(kr), kr);
	keyring_unref(kr);
	keyring_unref(kr);
	keyring_unref(NULL);
	/* errors name the culprit */
	paths[0] = path("empty");
	assert_int_equal(keyring_load_paths(paths, 1, &kr, &e), ERR_NOT_FOUND);
	assert_non_null(strstr(e.msg, "holds no *.pub or *.pem"));
	paths[0] = path("missing");
	assert_int_equal(keyring_load_paths(paths, 1, &kr, &e), ERR_NOT_FOUND);
	assert_non_null(strstr(e.msg, "missing: no such file or directory"));
	assert_int_equal(keyring_load_paths(paths, 0, &kr, &e), ERR_NOT_FOUND);
	assert_non_null(f = fopen(path("ring/zz.pub"), "w"));
	fputs("garbage", f);
	fclose(f);
	paths[0] = path("ring");
	assert_int_equal(keyring_load_paths(paths, 1, &kr, &e), ERR_PARSE);
	assert_null(kr);
	assert_non_null(strstr(e.msg, "zz.pub: not a PEM public key"));
	key_free(k1);
	key_free(k2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_verify),
		cmocka_unit_test(test_ecdsa_raw_signature),
		cmocka_unit_test(test_files_and_keyid),
		cmocka_unit_test(test_encrypted),
		cmocka_unit_test(test_refused_algorithms),
		cmocka_unit_test(test_keyring),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
