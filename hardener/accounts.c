/* accounts — a line-preserving parser and writer of passwd, group, shadow and gshadow files.
 * Each line keeps its raw text; only lines that are edited are rebuilt from their fields, so comments, ordering and
 * fields this tree does not understand survive a rewrite unchanged. */
#include "hardener/accounts.h"

#include <stdlib.h>
#include <string.h>

#define MAX_ID 4294967294ULL /* (uint32_t)-1 is "no id" to the kernel */

static const char *kind_name(enum acct_kind kind)
{
	switch (kind) {
	case ACCT_PASSWD:
		return "passwd";
	case ACCT_GROUP:
		return "group";
	case ACCT_SHADOW:
		return "shadow";
	case ACCT_GSHADOW:
		return "gshadow";
	}
	return "?";
}

size_t accounts_nfields(enum acct_kind kind)
{
	switch (kind) {
	case ACCT_PASSWD:
		return 7;
	case ACCT_SHADOW:
		return 9;
	case ACCT_GROUP:
	case ACCT_GSHADOW:
		return 4;
	}
	return 0;
}

/* Frees a line's text and fields and zeroes it. */
static void line_cleanup(struct acct_line *l)
{
	size_t k;

	free(l->raw);
	if (l->f != NULL)
		for (k = 0; k < l->nf; k++)
			free(l->f[k]);
	free(l->f);
	memset(l, 0, sizeof(*l));
}

struct acct_file *accounts_new(enum acct_kind kind, const char *label)
{
	struct acct_file *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->kind = kind;
	f->final_newline = true;
	if ((f->label = strdup(label)) == NULL) {
		free(f);
		return NULL;
	}
	return f;
}

void accounts_free(struct acct_file *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->n; i++)
		line_cleanup(&f->lines[i]);
	free(f->lines);
	free(f->label);
	free(f);
}

/* Makes room for one more line. */
static int grow(struct acct_file *f)
{
	struct acct_line *v;
	size_t na;

	if (f->n < f->alloc)
		return 0;
	na = f->alloc ? f->alloc * 2 : 32;
	if ((v = realloc(f->lines, na * sizeof(*v))) == NULL)
		return ERR_NOMEM;
	f->lines = v;
	f->alloc = na;
	return 0;
}

/* Splits raw (NUL-terminated, no ':'-count check yet) into fields; returns the field count or ERR_NOMEM. */
static int split(const char *raw, char ***out, size_t *nf)
{
	size_t n = 1, k = 0;
	const char *p, *start;
	char **v;

	for (p = raw; *p; p++)
		if (*p == ':')
			n++;
	if ((v = calloc(n, sizeof(*v))) == NULL)
		return ERR_NOMEM;
	for (start = p = raw;; p++) {
		if (*p == ':' || *p == '\0') {
			if ((v[k] = strndup(start, (size_t)(p - start))) == NULL) {
				while (k > 0)
					free(v[--k]);
				free(v);
				return ERR_NOMEM;
			}
			k++;
			if (*p == '\0')
				break;
			start = p + 1;
		}
	}
	*out = v;
	*nf = n;
	return 0;
}

/* Checks an entry's fields; fills e with "<label> line N: ..." on error. */
static int check_entry(const struct acct_file *f, const struct acct_line *l, size_t lineno, struct err *e)
{
	size_t want = accounts_nfields(f->kind);
	uint64_t v;
	struct err sub;

	if (l->nf != want)
		return err_set(e, ERR_PARSE,
		    "%s line %zu: a %s entry has %zu colon-separated fields, found %zu; fix or "
		    "remove the line (the file was left unchanged)",
		    f->label, lineno, kind_name(f->kind), want, l->nf);
	if (l->f[0][0] == '\0')
		return err_set(e, ERR_PARSE,
		    "%s line %zu: empty account name; fix or remove the line (the file was left "
		    "unchanged)",
		    f->label, lineno);
	if ((f->kind == ACCT_PASSWD &&
		(str_to_u64(l->f[PW_UID], 0, MAX_ID, &v, "uid", &sub) != 0 ||
		    str_to_u64(l->f[PW_GID], 0, MAX_ID, &v, "gid", &sub) != 0)) ||
	    (f->kind == ACCT_GROUP && str_to_u64(l->f[GR_GID], 0, MAX_ID, &v, "gid", &sub) != 0))
		return err_set(e, ERR_PARSE, "%s line %zu: %s; fix or remove the line (the file was left unchanged)",
		    f->label, lineno, sub.msg);
	return 0;
}

int accounts_parse(enum acct_kind kind, const char *label, const char *buf, size_t len, struct acct_file **out,
    struct err *e)
{
	struct acct_file *f = NULL;
	size_t pos = 0, lineno = 0;
	int r = ERR_NOMEM;

	*out = NULL;
	if (len > ACCT_MAX_FILE)
		return err_set(e, ERR_TOO_LARGE,
		    "%s is larger than %u bytes; an account file that large is not "
		    "plausible, inspect it",
		    label, ACCT_MAX_FILE);
	if (memchr(buf, '\0', len) != NULL)
		return err_set(e, ERR_PARSE, "%s contains a NUL byte; it is not a text file, inspect it", label);
	if ((f = accounts_new(kind, label)) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory reading %s", label);
		goto out;
	}
	f->final_newline = len == 0 || buf[len - 1] == '\n';
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		struct acct_line *l;

		lineno++;
		if (ll > ACCT_MAX_LINE) {
			r = err_set(e, ERR_TOO_LARGE, "%s line %zu is longer than %u bytes; inspect the file", label,
			    lineno, ACCT_MAX_LINE);
			goto out;
		}
		if (grow(f) != 0) {
			err_set(e, ERR_NOMEM, "out of memory reading %s", label);
			goto out;
		}
		l = &f->lines[f->n];
		memset(l, 0, sizeof(*l));
		if ((l->raw = strndup(buf + pos, ll)) == NULL) {
			err_set(e, ERR_NOMEM, "out of memory reading %s", label);
			goto out;
		}
		f->n++;
		if (ll > 0 && l->raw[0] != '#') {
			if (split(l->raw, &l->f, &l->nf) != 0) {
				err_set(e, ERR_NOMEM, "out of memory reading %s", label);
				goto out;
			}
			if ((r = check_entry(f, l, lineno, e)) != 0)
				goto out;
		}
		pos += ll + (nl ? 1 : 0);
	}
	*out = f;
	f = NULL; /* transferred */
	r = 0;
out:
	accounts_free(f);
	return r;
}

/* Rebuilds a line's raw text from its fields. */
static int rebuild(struct acct_line *l)
{
	struct strbuf sb;
	size_t k;
	char *raw;

	sb_init(&sb, ACCT_MAX_LINE);
	for (k = 0; k < l->nf; k++)
		if ((k > 0 && sb_puts(&sb, ":") != 0) || sb_puts(&sb, l->f[k]) != 0) {
			sb_cleanup(&sb);
			return ERR_NOMEM;
		}
	if ((raw = sb_steal(&sb, NULL)) == NULL)
		return ERR_NOMEM;
	free(l->raw);
	l->raw = raw;
	return 0;
}

int accounts_fmt(const struct acct_file *f, struct strbuf *out, struct err *e)
{
	size_t i;
	int r;

	/* Only the file's very last line may lack its newline, as it did on input. */
	for (i = 0; i < f->n; i++) {
		if (f->lines[i].deleted)
			continue;
		if ((r = sb_puts(out, f->lines[i].raw)) != 0 ||
		    ((i + 1 != f->n || f->final_newline) && (r = sb_puts(out, "\n")) != 0))
			return err_set(e, r, "%s: cannot format the new content (%s)", f->label, err_name(r));
	}
	return 0;
}

bool accounts_is_entry(const struct acct_file *f, size_t i)
{
	return i < f->n && f->lines[i].f != NULL && !f->lines[i].deleted;
}

long accounts_find(const struct acct_file *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (accounts_is_entry(f, i) && strcmp(f->lines[i].f[0], name) == 0)
			return (long)i;
	return -1;
}

const char *accounts_get(const struct acct_file *f, size_t i, size_t k)
{
	if (i >= f->n || f->lines[i].f == NULL || k >= f->lines[i].nf)
		return "";
	return f->lines[i].f[k];
}

int accounts_set(struct acct_file *f, size_t i, size_t k, const char *value, struct err *e)
{
	struct acct_line *l;
	char *v, *old;

	if (!accounts_is_entry(f, i) || k >= f->lines[i].nf)
		return err_set(e, ERR_INVALID, "%s: no field %zu on line %zu", f->label, k, i + 1);
	if (strpbrk(value, ":\n") != NULL)
		return err_set(e, ERR_INVALID, "%s: a field value may not contain ':' or a newline", f->label);
	l = &f->lines[i];
	if (strcmp(l->f[k], value) == 0)
		return 0;
	if ((v = strdup(value)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory editing %s", f->label);
	old = l->f[k];
	l->f[k] = v;
	if (rebuild(l) != 0) {
		l->f[k] = old;
		free(v);
		return err_set(e, ERR_NOMEM, "out of memory editing %s", f->label);
	}
	free(old);
	return 1;
}

void accounts_delete(struct acct_file *f, size_t i)
{
	if (i < f->n && f->lines[i].f != NULL)
		f->lines[i].deleted = true;
}

int accounts_append(struct acct_file *f, const char *const *fields, struct err *e)
{
	size_t want = accounts_nfields(f->kind), k;
	struct acct_line l;

	memset(&l, 0, sizeof(l));
	for (k = 0; k < want; k++)
		if (strpbrk(fields[k], ":\n") != NULL)
			return err_set(e, ERR_INVALID, "%s: a field value may not contain ':' or a newline", f->label);
	if (grow(f) != 0 || (l.f = calloc(want, sizeof(*l.f))) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory editing %s", f->label);
	l.nf = want;
	for (k = 0; k < want; k++)
		if ((l.f[k] = strdup(fields[k])) == NULL)
			goto nomem;
	if (rebuild(&l) != 0)
		goto nomem;
	/* A file that did not end in a newline gets one before the new line. */
	f->final_newline = true;
	f->lines[f->n++] = l;
	return 0;
nomem:
	line_cleanup(&l);
	return err_set(e, ERR_NOMEM, "out of memory editing %s", f->label);
}

int accounts_id(const struct acct_file *f, size_t i, size_t k, uint32_t *out, struct err *e)
{
	uint64_t v;
	int r;

	if ((r = str_to_u64(accounts_get(f, i, k), 0, MAX_ID, &v, "id", e)) != 0)
		return err_prefix(e, "%s line %zu", f->label, i + 1);
	*out = (uint32_t)v;
	return 0;
}

bool accounts_list_has(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	if (n == 0)
		return false;
	while (*p) {
		const char *c = strchr(p, ',');
		size_t ll = c ? (size_t)(c - p) : strlen(p);

		if (ll == n && memcmp(p, name, n) == 0)
			return true;
		if (c == NULL)
			break;
		p = c + 1;
	}
	return false;
}
