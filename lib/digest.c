/* digest — SHA-256 over OpenSSL's EVP interface and validation of digest strings. */
#include "lib/digest.h"

#include <string.h>

#include <openssl/evp.h>

void hex_encode(const unsigned char *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}

int sha256_init(struct sha256 *h, struct err *e)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	h->ctx = NULL;
	h->n = 0;
	if (c == NULL || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(c);
		return err_set(e, ERR_NOMEM, "sha256: cannot create a digest context (out of memory)");
	}
	h->ctx = c;
	return 0;
}

void sha256_update(struct sha256 *h, const void *p, size_t n)
{
	if (n == 0)
		return;
	EVP_DigestUpdate(h->ctx, p, n);
	h->n += n;
}

void sha256_final(struct sha256 *h, unsigned char out[32], char str[DIGEST_STR_LEN + 1])
{
	unsigned char md[32];
	unsigned int len = 0;

	EVP_DigestFinal_ex(h->ctx, md, &len);
	if (out != NULL)
		memcpy(out, md, 32);
	if (str != NULL) {
		memcpy(str, "sha256:", 7);
		hex_encode(md, 32, str + 7);
	}
	sha256_cleanup(h);
}

void sha256_cleanup(struct sha256 *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

int sha256_digest_str(const void *p, size_t n, char str[DIGEST_STR_LEN + 1], struct err *e)
{
	struct sha256 h;
	int r;

	if ((r = sha256_init(&h, e)) != 0)
		return r;
	sha256_update(&h, p, n);
	sha256_final(&h, NULL, str);
	return 0;
}

int sha256_raw(const void *p, size_t n, unsigned char out[32], struct err *e)
{
	struct sha256 h;
	int r;

	if ((r = sha256_init(&h, e)) != 0)
		return r;
	sha256_update(&h, p, n);
	sha256_final(&h, out, NULL);
	return 0;
}

int digest_validate(const char *s, struct err *e)
{
	const char *colon = strchr(s, ':');
	size_t i;

	if (colon == NULL || colon == s)
		return err_set(e, ERR_PARSE, "digest \"%.80s\" is not of the form sha256:<64 hex digits>", s);
	if ((size_t)(colon - s) != 6 || memcmp(s, "sha256", 6) != 0) {
		for (i = 0; s + i < colon; i++)
			if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '+' ||
				s[i] == '.' || s[i] == '_' || s[i] == '-'))
				return err_set(e, ERR_PARSE, "digest \"%.80s\" has a malformed algorithm", s);
		return err_set(e, ERR_UNSUPPORTED, "digest \"%.80s\": only sha256 is supported", s);
	}
	for (i = 0; colon[1 + i] != '\0'; i++) {
		char c = colon[1 + i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return err_set(e, ERR_PARSE, "digest \"%.80s\" is not lowercase hex after \"sha256:\"", s);
	}
	if (i != DIGEST_HEX_LEN)
		return err_set(e, ERR_PARSE, "digest \"%.80s\" must have 64 hex digits, not %zu", s, i);
	return 0;
}
