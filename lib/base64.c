/* base64 — strict RFC 4648 encoder and decoder (see base64.h). */
#include "lib/base64.h"

#include <stdint.h>
#include <stdlib.h>

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encoded_len(size_t n)
{
	size_t groups = n / 3 + (n % 3 != 0);

	if (groups > (SIZE_MAX - 1) / 4)
		return 0;
	return groups * 4;
}

int base64_encode(const void *src, size_t n, char **out, size_t *out_len, struct err *e)
{
	const unsigned char *p = src;
	size_t len = base64_encoded_len(n), i, o = 0;
	char *s;
	uint32_t v;

	*out = NULL;
	if (len == 0 && n != 0)
		return err_set(e, ERR_TOO_LARGE, "base64: %zu bytes are too many to encode", n);
	if ((s = malloc(len + 1)) == NULL)
		return err_set(e, ERR_NOMEM, "base64: out of memory encoding %zu bytes", n);
	for (i = 0; n - i >= 3; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		s[o++] = b64_std[v >> 18];
		s[o++] = b64_std[(v >> 12) & 63];
		s[o++] = b64_std[(v >> 6) & 63];
		s[o++] = b64_std[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)p[i] << 16;
		s[o++] = b64_std[v >> 18];
		s[o++] = b64_std[(v >> 12) & 63];
		s[o++] = '=';
		s[o++] = '=';
	} else if (n - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		s[o++] = b64_std[v >> 18];
		s[o++] = b64_std[(v >> 12) & 63];
		s[o++] = b64_std[(v >> 6) & 63];
		s[o++] = '=';
	}
	s[o] = '\0';
	if (out_len != NULL)
		*out_len = o;
	*out = s;
	return 0;
}

/* Decoding table: 1 + the 6-bit value of a character in either alphabet, 0 for anything else (so that the
 * implicit zeros of the initializer mean "invalid"). The characters that differ between the alphabets are told
 * apart by b64_alphabet(). */
static const unsigned char b64_dec[256] = {
	['A'] = 1,
	['B'] = 2,
	['C'] = 3,
	['D'] = 4,
	['E'] = 5,
	['F'] = 6,
	['G'] = 7,
	['H'] = 8,
	['I'] = 9,
	['J'] = 10,
	['K'] = 11,
	['L'] = 12,
	['M'] = 13,
	['N'] = 14,
	['O'] = 15,
	['P'] = 16,
	['Q'] = 17,
	['R'] = 18,
	['S'] = 19,
	['T'] = 20,
	['U'] = 21,
	['V'] = 22,
	['W'] = 23,
	['X'] = 24,
	['Y'] = 25,
	['Z'] = 26,
	['a'] = 27,
	['b'] = 28,
	['c'] = 29,
	['d'] = 30,
	['e'] = 31,
	['f'] = 32,
	['g'] = 33,
	['h'] = 34,
	['i'] = 35,
	['j'] = 36,
	['k'] = 37,
	['l'] = 38,
	['m'] = 39,
	['n'] = 40,
	['o'] = 41,
	['p'] = 42,
	['q'] = 43,
	['r'] = 44,
	['s'] = 45,
	['t'] = 46,
	['u'] = 47,
	['v'] = 48,
	['w'] = 49,
	['x'] = 50,
	['y'] = 51,
	['z'] = 52,
	['0'] = 53,
	['1'] = 54,
	['2'] = 55,
	['3'] = 56,
	['4'] = 57,
	['5'] = 58,
	['6'] = 59,
	['7'] = 60,
	['8'] = 61,
	['9'] = 62,
	['+'] = 63,
	['/'] = 64,
	['-'] = 63,
	['_'] = 64,
};

/* 1 for '+' '/' (standard), 2 for '-' '_' (URL-safe), 0 for characters common to both alphabets. */
static int b64_alphabet(unsigned char c)
{
	return c == '+' || c == '/' ? 1 : c == '-' || c == '_' ? 2 : 0;
}

int base64_decode(const char *src, size_t n, size_t max, unsigned char **out, size_t *out_len, const char *what,
    struct err *e)
{
	const unsigned char *s = (const unsigned char *)src;
	unsigned char *buf = NULL;
	size_t data = n, pad = 0, full, rem, need, i, o = 0;
	int alpha = 0, r = ERR_PARSE;
	uint32_t acc = 0;

	*out = NULL;
	*out_len = 0;
	while (data > 0 && s[data - 1] == '=') {
		data--;
		pad++;
	}
	if (pad > 2) {
		err_set(e, ERR_PARSE, "%s: invalid base64: more than two '=' padding characters at the end", what);
		goto out;
	}
	for (i = 0; i < data; i++) {
		int a;

		if (b64_dec[s[i]] == 0) {
			if (s[i] == '=')
				err_set(e, ERR_PARSE, "%s: invalid base64: '=' inside the data at offset %zu", what, i);
			else
				err_set(e, ERR_PARSE, "%s: invalid base64: character 0x%02x at offset %zu", what, s[i],
				    i);
			goto out;
		}
		if (b64_dec[s[i]] < 63)
			continue;
		a = b64_alphabet(s[i]);
		if (alpha != 0 && a != alpha) {
			err_set(e, ERR_PARSE,
			    "%s: invalid base64: standard ('+/') and URL-safe ('-_') alphabets mixed at offset %zu",
			    what, i);
			goto out;
		}
		alpha = a;
	}
	if (pad > 0 && n % 4 != 0) {
		err_set(e, ERR_PARSE, "%s: invalid base64: padded input of %zu characters is not a multiple of 4", what,
		    n);
		goto out;
	}
	rem = data % 4;
	if (rem == 1) {
		err_set(e, ERR_PARSE, "%s: invalid base64: %zu characters cannot be a complete encoding (truncated?)",
		    what, n);
		goto out;
	}
	if (pad > 0 && rem + pad != 4) {
		err_set(e, ERR_PARSE, "%s: invalid base64: wrong amount of '=' padding", what);
		goto out;
	}
	full = data / 4;
	need = full * 3 + (rem == 0 ? 0 : rem - 1);
	if (need > max) {
		r = ERR_TOO_LARGE;
		err_set(e, r, "%s: %zu decoded bytes are over the limit of %zu bytes", what, need, max);
		goto out;
	}
	if ((buf = malloc(need + 1)) == NULL) {
		r = ERR_NOMEM;
		err_set(e, r, "%s: out of memory decoding %zu bytes", what, need);
		goto out;
	}
	for (i = 0; i + 4 <= data; i += 4) {
		acc = (uint32_t)(b64_dec[s[i]] - 1) << 18 | (uint32_t)(b64_dec[s[i + 1]] - 1) << 12 |
		    (uint32_t)(b64_dec[s[i + 2]] - 1) << 6 | (uint32_t)(b64_dec[s[i + 3]] - 1);
		buf[o++] = (unsigned char)(acc >> 16);
		buf[o++] = (unsigned char)(acc >> 8);
		buf[o++] = (unsigned char)acc;
	}
	acc = 0;
	for (; i < data; i++)
		acc = acc << 6 | (uint32_t)(b64_dec[s[i]] - 1);
	if (rem == 2) {
		if (acc & 0xf) {
			err_set(e, ERR_PARSE, "%s: invalid base64: non-zero trailing bits in the last character", what);
			goto out;
		}
		buf[o++] = (unsigned char)(acc >> 4);
	} else if (rem == 3) {
		if (acc & 0x3) {
			err_set(e, ERR_PARSE, "%s: invalid base64: non-zero trailing bits in the last character", what);
			goto out;
		}
		buf[o++] = (unsigned char)(acc >> 10);
		buf[o++] = (unsigned char)(acc >> 2);
	}
	buf[o] = '\0';
	*out_len = o;
	*out = buf;
	buf = NULL; /* transferred */
	r = 0;
out:
	free(buf);
	return r;
}
