/* multicall — content markers and the embedded applet-name table of multi-call binaries.
 * busybox stores its applet names as one string of NUL-separated names in ascending order ("[", "[[", "acpid", ...);
 * the longest such run in the file is taken as the table. Nothing is executed. */
#define _GNU_SOURCE /* memmem */
#include "hardener/multicall.h"

#include <stdlib.h>
#include <string.h>

#define MAX_NAME 64 /* longer tokens are not applet names */
#define MAX_GAP 8   /* NUL bytes allowed between two names of a table (alignment padding) */

static bool name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
	    c == '-' || c == '+' || c == '[';
}

/* Whether p[n] can be an applet name: 1..MAX_NAME name bytes. */
static bool valid_name(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > MAX_NAME)
		return false;
	for (i = 0; i < n; i++)
		if (!name_char((unsigned char)p[i]))
			return false;
	return true;
}

/* strcmp order of two counted strings. */
static int name_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	if (c != 0)
		return c;
	return an < bn ? -1 : an > bn ? 1 : 0;
}

/* Finds the longest run of ascending names; sets [*start, *end) and returns its length in names. */
static size_t longest_table(const char *buf, size_t len, size_t *start, size_t *end)
{
	size_t pos = 0, best = 0, run = 0, run_start = 0, gap = 0, prev_n = 0;
	const char *prev = NULL;

	*start = *end = 0;
	while (pos < len) {
		const char *tok = buf + pos, *nul = memchr(tok, '\0', len - pos);
		size_t n = nul ? (size_t)(nul - tok) : len - pos;

		if (n == 0) { /* another NUL */
			gap++;
			pos++;
			continue;
		}
		if (nul != NULL && valid_name(tok, n)) {
			if (run > 0 && gap >= 1 && gap <= MAX_GAP && name_cmp(prev, prev_n, tok, n) < 0) {
				run++;
			} else {
				run = 1;
				run_start = pos;
			}
			prev = tok;
			prev_n = n;
			if (run > best) {
				best = run;
				*start = run_start;
				*end = pos + n;
			}
		} else {
			run = 0;
		}
		pos += n;
		gap = 0;
	}
	return best;
}

/* Whether needle occurs in buf[len]. */
static bool contains(const char *buf, size_t len, const char *needle)
{
	return memmem(buf, len, needle, strlen(needle)) != NULL;
}

/* Whether the NUL-separated names in buf[start, end) include name. */
static bool has_token(const char *buf, size_t start, size_t end, const char *name)
{
	size_t n = strlen(name), pos = start;

	while (pos < end) {
		size_t l = strnlen(buf + pos, end - pos);

		if (l == n && memcmp(buf + pos, name, n) == 0)
			return true;
		pos += l + 1;
	}
	return false;
}

/* Frees m and its applet names; NULL is a no-op. */
void multicall_free(struct multicall *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->napplets; i++)
		free(m->applets[i]);
	free(m->applets);
	free(m);
}

/* Copies the names of buf[start, end) into m->applets. */
static int take_table(struct multicall *m, const char *buf, size_t start, size_t end, size_t count)
{
	size_t pos = start, k = 0;

	if ((m->applets = calloc(count, sizeof(*m->applets))) == NULL)
		return ERR_NOMEM;
	while (pos < end && k < count) {
		size_t n = strnlen(buf + pos, end - pos);

		if (n == 0) {
			pos++;
			continue;
		}
		if ((m->applets[k] = strndup(buf + pos, n)) == NULL)
			return ERR_NOMEM;
		m->napplets = ++k;
		pos += n;
	}
	m->applets_known = true;
	return 0;
}

int multicall_classify(const char *buf, size_t len, struct multicall **out, struct err *e)
{
	struct multicall *m = NULL;
	size_t start, end, count;
	const char *kind = NULL;
	int r = ERR_NOMEM;

	*out = NULL;
	if (len < 4 || memcmp(buf, "\177ELF", 4) != 0)
		return 0;
	count = longest_table(buf, len, &start, &end);
	if (contains(buf, len, "BusyBox v"))
		kind = "busybox";
	else if (contains(buf, len, "--coreutils-prog"))
		kind = "coreutils";
	else if (contains(buf, len, "toybox --help") || contains(buf, len, "usage: toybox ") ||
	    (count >= MULTICALL_MIN_APPLETS && contains(buf + start, end - start, "toybox")))
		kind = "toybox";
	if (kind == NULL)
		return 0;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		goto out;
	m->kind = kind;
	/* toybox interleaves its names with option strings, so a sorted run there is something else unless it holds
	 * the name "toybox" itself; its applets are then unknown. */
	if (count >= MULTICALL_MIN_APPLETS && (strcmp(kind, "toybox") != 0 || has_token(buf, start, end, "toybox")) &&
	    take_table(m, buf, start, end, count) != 0)
		goto out;
	*out = m;
	m = NULL; /* transferred */
	r = 0;
out:
	if (r != 0)
		err_set(e, r, "out of memory reading a multi-call binary's applet table");
	multicall_free(m);
	return r;
}

int multicall_detect(struct fs_backend *b, struct fstree *t, const struct fs_node *n, struct multicall **out,
    struct err *e)
{
	struct strbuf sb;
	int r;

	*out = NULL;
	if ((n->type != FS_REG && n->type != FS_HARDLINK) || (n->type == FS_REG && n->size > MULTICALL_READ_CAP))
		return 0;
	sb_init(&sb, MULTICALL_READ_CAP);
	r = fs_backend_read(b, t, n, MULTICALL_READ_CAP, &sb, e);
	if (r == ERR_TOO_LARGE || r == ERR_INVALID)
		r = 0;
	else if (r == 0)
		r = multicall_classify(sb.data ? sb.data : "", sb.len, out, e);
	sb_cleanup(&sb);
	return r;
}

bool multicall_is_elf(const struct fs_node *n)
{
	return n->type == FS_REG && n->head_len >= 4 && memcmp(n->head, "\177ELF", 4) == 0;
}

bool multicall_worth_reading(const struct fs_node *n, const char *basename, size_t nnames)
{
	if (!multicall_is_elf(n))
		return false;
	return nnames >= 2 || strcmp(basename, "busybox") == 0 || str_has_prefix(basename, "busybox.") ||
	    strcmp(basename, "toybox") == 0 || strcmp(basename, "coreutils") == 0;
}

bool multicall_has_applet(const struct multicall *m, const char *name)
{
	size_t lo = 0, hi;

	if (m == NULL || !m->applets_known)
		return false;
	hi = m->napplets;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(m->applets[mid], name);

		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}
