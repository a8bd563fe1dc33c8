/* str — checked string and number helpers, and a growable byte buffer with a hard cap.
 * These replace strcpy/strcat/sprintf/atoi in this tree: every function either fits or fails. */
#ifndef HARDLINE_STR_H
#define HARDLINE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

/* Copies src into dst[size] with its NUL; returns 0, or ERR_TOO_LARGE (dst then holds a truncated copy). */
int str_copy(char *dst, size_t size, const char *src);

/* snprintf into dst[size]; returns 0, or ERR_TOO_LARGE when the result did not fit. */
int str_fmt(char *dst, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Parses a whole string as a decimal unsigned number in [min, max]: no sign, no spaces, no trailing bytes,
 * no empty string. Returns 0 and sets *out, or ERR_PARSE / ERR_INVALID (out of range) with a message naming what. */
int str_to_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, const char *what, struct err *e);

/* Same for a signed decimal number (leading '-' allowed). */
int str_to_i64(const char *s, int64_t min, int64_t max, int64_t *out, const char *what, struct err *e);

/* Parses a Go-style duration ("30s", "720h", "1h30m", "250ms") into milliseconds; ERR_PARSE when malformed. */
int str_to_duration_ms(const char *s, uint64_t *out_ms, const char *what, struct err *e);

bool str_has_prefix(const char *s, const char *prefix);
bool str_has_suffix(const char *s, const char *suffix);

/* qsort comparator for an array of C strings (char *): byte order, as strcmp. */
int str_cmp_ptrs(const void *a, const void *b);

/* Writes src (at most srclen bytes) into dst[size] for a log line or a message: printable ASCII is kept, '"' and '\'
 * are backslash-escaped, other bytes become \xNN; when longer than maxout characters it ends in "...".
 * Always NUL-terminates (size >= 1). Returns dst. */
char *str_escape(char *dst, size_t size, const char *src, size_t srclen, size_t maxout);

/* A growable buffer that refuses to grow beyond cap bytes. Always NUL-terminated after append (the NUL is not
 * counted in len) so text can be used as a C string. */
struct strbuf {
	char *data;
	size_t len;
	size_t alloc;
	size_t cap;
};

/* Initializes an empty buffer that may hold up to cap bytes. No allocation until the first append. */
void sb_init(struct strbuf *sb, size_t cap);
/* Frees the data; the buffer is empty afterwards and may be reused. */
void sb_cleanup(struct strbuf *sb);
/* Appends n bytes; ERR_TOO_LARGE past the cap, ERR_NOMEM. On error the buffer is unchanged. */
int sb_append(struct strbuf *sb, const void *p, size_t n);
int sb_puts(struct strbuf *sb, const char *s);
int sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the data over to the caller (free() it); the buffer is empty afterwards. Never NULL on success:
 * an empty buffer yields an allocated "". Returns NULL only on allocation failure. */
char *sb_steal(struct strbuf *sb, size_t *len);

#endif
