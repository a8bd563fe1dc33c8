/* str — checked string and number helpers and the capped growable buffer. */
#include "lib/str.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int str_copy(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (size == 0)
		return ERR_TOO_LARGE;
	if (n >= size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
		return ERR_TOO_LARGE;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

int str_fmt(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(dst, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size)
		return ERR_TOO_LARGE;
	return 0;
}

static int parse_digits(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return ERR_PARSE;
	for (; *s; s++) {
		unsigned d;

		if (*s < '0' || *s > '9')
			return ERR_PARSE;
		d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return ERR_INVALID;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int str_to_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, const char *what, struct err *e)
{
	uint64_t v = 0;
	int r;

	if (s == NULL)
		return err_set(e, ERR_PARSE, "%s: missing number", what);
	if ((r = parse_digits(s, &v)) == ERR_PARSE)
		return err_set(e, ERR_PARSE, "%s: \"%.40s\" is not a decimal number", what, s);
	if (r != 0 || v < min || v > max)
		return err_set(e, ERR_INVALID, "%s: %.40s is out of range [%llu, %llu]", what, s,
		    (unsigned long long)min, (unsigned long long)max);
	*out = v;
	return 0;
}

int str_to_i64(const char *s, int64_t min, int64_t max, int64_t *out, const char *what, struct err *e)
{
	bool neg = s != NULL && s[0] == '-';
	uint64_t v = 0;
	int64_t sv;
	int r;

	if (s == NULL)
		return err_set(e, ERR_PARSE, "%s: missing number", what);
	if ((r = parse_digits(s + neg, &v)) == ERR_PARSE)
		return err_set(e, ERR_PARSE, "%s: \"%.40s\" is not a decimal number", what, s);
	if (r != 0 || v > (uint64_t)INT64_MAX + neg)
		goto range;
	sv = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
	if (sv < min || sv > max)
		goto range;
	*out = sv;
	return 0;
range:
	return err_set(e, ERR_INVALID, "%s: %.40s is out of range [%lld, %lld]", what, s, (long long)min,
	    (long long)max);
}

int str_to_duration_ms(const char *s, uint64_t *out_ms, const char *what, struct err *e)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {
		{ "ms", 1 },
		{ "s", 1000 },
		{ "m", 60000 },
		{ "h", 3600000 },
	};
	uint64_t total = 0;
	const char *p = s;

	if (s == NULL || *s == '\0')
		return err_set(e, ERR_PARSE, "%s: empty duration; write e.g. \"30s\" or \"720h\"", what);
	while (*p) {
		uint64_t v = 0, mul = 0;
		size_t i;

		if (*p < '0' || *p > '9')
			goto bad;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (v > (UINT64_MAX - 9) / 10)
				goto bad;
			v = v * 10 + (uint64_t)(*p - '0');
		}
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t n = strlen(units[i].unit);

			if (strncmp(p, units[i].unit, n) == 0 && !(n == 1 && p[0] == 'm' && p[1] == 's')) {
				mul = units[i].ms;
				p += n;
				break;
			}
		}
		if (mul == 0 || v > (UINT64_MAX - total) / mul)
			goto bad;
		total += v * mul;
	}
	*out_ms = total;
	return 0;
bad:
	return err_set(e, ERR_PARSE, "%s: \"%.40s\" is not a duration; write e.g. \"30s\", \"90m\" or \"720h\"", what,
	    s);
}

bool str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool str_has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

char *str_escape(char *dst, size_t size, const char *src, size_t srclen, size_t maxout)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i, limit;

	if (size == 0)
		return dst;
	/* Keep room for the "..." that marks a cut. */
	limit = size > 4 ? size - 4 : 0;
	if (maxout < limit)
		limit = maxout;
	for (i = 0; i < srclen && src[i] != '\0'; i++) {
		unsigned char c = (unsigned char)src[i];
		char tmp[4];
		size_t n;

		if (c == '"' || c == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)c;
			n = 2;
		} else if (c >= 0x20 && c < 0x7f) {
			tmp[0] = (char)c;
			n = 1;
		} else {
			tmp[0] = '\\';
			tmp[1] = 'x';
			tmp[2] = hex[c >> 4];
			tmp[3] = hex[c & 15];
			n = 4;
		}
		if (n > limit - o) {
			size_t dots = size - 1 - o < 3 ? size - 1 - o : 3;

			memcpy(dst + o, "...", dots);
			o += dots;
			break;
		}
		memcpy(dst + o, tmp, n);
		o += n;
	}
	dst[o] = '\0';
	return dst;
}

void sb_init(struct strbuf *sb, size_t cap)
{
	sb->data = NULL;
	sb->len = 0;
	sb->alloc = 0;
	sb->cap = cap;
}

void sb_cleanup(struct strbuf *sb)
{
	free(sb->data);
	sb->data = NULL;
	sb->len = 0;
	sb->alloc = 0;
}

/* Makes room for n more bytes and the NUL: ERR_TOO_LARGE past the cap (checked without overflow), ERR_NOMEM. */
static int sb_reserve(struct strbuf *sb, size_t n)
{
	size_t want, na;
	char *p;

	if (n > sb->cap || sb->len > sb->cap - n)
		return ERR_TOO_LARGE;
	want = sb->len + n + 1;
	if (want <= sb->alloc)
		return 0;
	na = sb->alloc ? sb->alloc : 64;
	while (na < want)
		na = na > SIZE_MAX / 2 ? want : na * 2;
	if ((p = realloc(sb->data, na)) == NULL)
		return ERR_NOMEM;
	sb->data = p;
	sb->alloc = na;
	return 0;
}

int sb_append(struct strbuf *sb, const void *p, size_t n)
{
	int r;

	if ((r = sb_reserve(sb, n)) != 0)
		return r;
	if (n > 0)
		memcpy(sb->data + sb->len, p, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
	return 0;
}

int sb_puts(struct strbuf *sb, const char *s)
{
	return sb_append(sb, s, strlen(s));
}

int sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return ERR_INTERNAL;
	if ((r = sb_reserve(sb, (size_t)n)) != 0)
		return r;
	va_start(ap, fmt);
	vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
	return 0;
}

char *sb_steal(struct strbuf *sb, size_t *len)
{
	char *p = sb->data;

	if (p == NULL && (p = calloc(1, 1)) == NULL)
		return NULL;
	if (len != NULL)
		*len = sb->len;
	sb->data = NULL;
	sb->len = 0;
	sb->alloc = 0;
	return p;
}

int str_cmp_ptrs(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}
