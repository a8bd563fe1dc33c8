/* accounts — the colon files of a root filesystem (passwd, group, shadow, gshadow) parsed line by line, edited and
 * written back with every line the edit did not touch kept byte for byte (comments and blank lines included).
 * Parsing is strict: a line with the wrong number of fields is an error naming the file and the line, and the caller
 * then refuses to rewrite that file rather than guess. Names are matched exactly, never by prefix. */
#ifndef HARDLINE_ACCOUNTS_H
#define HARDLINE_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "lib/str.h"

#define ACCT_MAX_FILE (4u << 20)  /* a colon file larger than 4 MiB is refused */
#define ACCT_MAX_LINE (64u << 10) /* and so is a line longer than 64 KiB */

enum acct_kind { ACCT_PASSWD, ACCT_GROUP, ACCT_SHADOW, ACCT_GSHADOW };

/* Field positions. */
enum { PW_NAME, PW_PASSWD, PW_UID, PW_GID, PW_GECOS, PW_DIR, PW_SHELL };
enum { GR_NAME, GR_PASSWD, GR_GID, GR_MEM };
enum { SP_NAME, SP_PWD, SP_LASTCHG, SP_MIN, SP_MAX, SP_WARN, SP_INACT, SP_EXPIRE, SP_FLAG };
enum { SG_NAME, SG_PASSWD, SG_ADMINS, SG_MEMBERS };

struct acct_line {
	char *raw; /* the line as read, without its '\n' (owned); rebuilt from f when the line is edited */
	char **f;  /* the fields (owned), NULL for a comment or blank line */
	size_t nf;
	bool deleted; /* dropped when the file is formatted */
};

struct acct_file {
	enum acct_kind kind;
	char *label; /* the file name used in messages, e.g. "/etc/passwd" (owned) */
	struct acct_line *lines;
	size_t n, alloc;
	bool final_newline; /* whether the input ended in '\n' (kept on output; added when lines are appended) */
};

/* The number of fields of a line of that kind: passwd 7, group 4, shadow 9, gshadow 4. */
size_t accounts_nfields(enum acct_kind kind);

/* Parses buf[len] (not NUL-terminated) as a file of the given kind. label names the file in messages.
 * Rejects: more than ACCT_MAX_FILE bytes or a line over ACCT_MAX_LINE (ERR_TOO_LARGE), a NUL byte, a wrong field
 * count, an empty name, a non-numeric uid/gid in passwd/group (ERR_PARSE, "<label> line N: ...").
 * Lines that are empty or start with '#' are kept as they are. On success *out is a new file (accounts_free). */
int accounts_parse(enum acct_kind kind, const char *label, const char *buf, size_t len, struct acct_file **out,
    struct err *e);

/* A new empty file of that kind (for a file that does not exist yet); NULL on allocation failure. */
struct acct_file *accounts_new(enum acct_kind kind, const char *label);

void accounts_free(struct acct_file *f);

/* Appends the file's text to out: untouched lines as read, edited lines rebuilt, deleted lines omitted.
 * ERR_NOMEM / ERR_TOO_LARGE (out's cap). */
int accounts_fmt(const struct acct_file *f, struct strbuf *out, struct err *e);

/* The index of the live (not deleted) entry whose name is exactly name, or -1. */
long accounts_find(const struct acct_file *f, const char *name);

/* True when line i is a live entry (not a comment, not deleted). */
bool accounts_is_entry(const struct acct_file *f, size_t i);

/* Field k of line i (borrowed, lives until the field is set again or the file freed); "" for a comment line. */
const char *accounts_get(const struct acct_file *f, size_t i, size_t k);

/* Sets field k of entry i to value (copied). Returns 1 when the value changed, 0 when it already had it,
 * or ERR_NOMEM / ERR_INVALID (a ':' or '\n' in value, or not an entry). */
int accounts_set(struct acct_file *f, size_t i, size_t k, const char *value, struct err *e);

/* Marks entry i deleted. */
void accounts_delete(struct acct_file *f, size_t i);

/* Appends an entry made of exactly accounts_nfields(kind) fields (copied). ERR_NOMEM / ERR_INVALID. */
int accounts_append(struct acct_file *f, const char *const *fields, struct err *e);

/* The numeric id of entry i: the uid (k = PW_UID), the gid (PW_GID or GR_GID). Parsing was checked already;
 * returns 0 and sets *out, or ERR_PARSE. */
int accounts_id(const struct acct_file *f, size_t i, size_t k, uint32_t *out, struct err *e);

/* Whether a comma-separated member list contains name exactly. */
bool accounts_list_has(const char *list, const char *name);

#endif
