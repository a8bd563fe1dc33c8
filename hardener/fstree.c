/* fstree — a hash index of fs_node by path (open addressing with tombstones) plus a lazily built array in tree
 * order. Sized for images of a few hundred thousand entries; memory is one allocation per entry (node + path), plus
 * the first bytes of each executable. */
#include "hardener/fstree.h"

#include <stdlib.h>
#include <string.h>

#define TOMBSTONE ((struct fs_node *)(uintptr_t)1)
#define MAX_LINKS 40

struct fstree {
	struct fs_node **slots;
	size_t nslots; /* a power of two */
	size_t used;   /* live nodes */
	size_t filled; /* live nodes + tombstones */
	struct fs_node **sorted;
	size_t nsorted;
	bool sorted_ok;
};

static uint64_t hash_path(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

struct fstree *fstree_new(void)
{
	struct fstree *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->nslots = 1024;
	if ((t->slots = calloc(t->nslots, sizeof(*t->slots))) == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

static void node_free(struct fs_node *n)
{
	if (n == NULL || n == TOMBSTONE)
		return;
	free(n->head);
	free(n->link);
	free(n->content);
	free(n);
}

void fstree_free(struct fstree *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nslots; i++)
		node_free(t->slots[i]);
	free(t->slots);
	free(t->sorted);
	free(t);
}

int fs_path_normalize(const char *p, char *out, size_t size)
{
	size_t o = 0;

	if (size < 2)
		return ERR_TOO_LARGE;
	out[o++] = '/';
	while (*p) {
		const char *s;
		size_t n;

		while (*p == '/')
			p++;
		s = p;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - s);
		if (n == 0 || (n == 1 && s[0] == '.'))
			continue;
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			while (o > 1 && out[o - 1] != '/')
				o--;
			if (o > 1)
				o--;
			continue;
		}
		if (o > 1)
			out[o++] = '/';
		if (n >= size - o)
			return ERR_TOO_LARGE;
		memcpy(out + o, s, n);
		o += n;
		if (o >= size)
			return ERR_TOO_LARGE;
	}
	out[o] = '\0';
	return 0;
}

static bool is_normalized(const char *p)
{
	const char *s;

	if (p[0] != '/')
		return false;
	if (p[1] == '\0')
		return true;
	for (s = p; *s;) {
		const char *c = ++s; /* s was at '/' */

		while (*s && *s != '/')
			s++;
		if (s == c || (s - c == 1 && c[0] == '.') || (s - c == 2 && c[0] == '.' && c[1] == '.'))
			return false;
	}
	return true;
}

/* The slot for path: its node, or the first free slot (a tombstone is reused) where it would go. */
static size_t find_slot(const struct fstree *t, const char *path, bool *found)
{
	size_t mask = t->nslots - 1, i = (size_t)hash_path(path) & mask, first_free = SIZE_MAX;

	for (;;) {
		struct fs_node *n = t->slots[i];

		if (n == NULL) {
			*found = false;
			return first_free != SIZE_MAX ? first_free : i;
		}
		if (n == TOMBSTONE) {
			if (first_free == SIZE_MAX)
				first_free = i;
		} else if (strcmp(n->path, path) == 0) {
			*found = true;
			return i;
		}
		i = (i + 1) & mask;
	}
}

static int grow(struct fstree *t)
{
	struct fs_node **old = t->slots;
	size_t oldn = t->nslots, i, nn = t->used * 4 > t->nslots ? t->nslots * 2 : t->nslots;

	if ((t->slots = calloc(nn, sizeof(*t->slots))) == NULL) {
		t->slots = old;
		return ERR_NOMEM;
	}
	t->nslots = nn;
	t->filled = t->used;
	for (i = 0; i < oldn; i++) {
		bool found;

		if (old[i] != NULL && old[i] != TOMBSTONE)
			t->slots[find_slot(t, old[i]->path, &found)] = old[i];
	}
	free(old);
	return 0;
}

int fstree_set_head(struct fs_node *n, const void *data, size_t len, struct err *e)
{
	unsigned char *h = NULL;

	if (len > FS_HEAD_LEN)
		len = FS_HEAD_LEN;
	if (len > 0 && (n->type == FS_REG || n->type == FS_HARDLINK) && (n->mode & 0111)) {
		if ((h = malloc(len)) == NULL)
			return err_set(e, ERR_NOMEM, "out of memory keeping the first bytes of %.200s", n->path);
		memcpy(h, data, len);
	} else {
		len = 0;
	}
	free(n->head);
	n->head = h; /* transferred */
	n->head_len = (uint32_t)len;
	return 0;
}

int fstree_put(struct fstree *t, const struct fs_node *tmpl, struct fs_node **out, struct err *e)
{
	struct fs_node *n;
	size_t i, plen;
	bool found;

	if (out != NULL)
		*out = NULL;
	if (!is_normalized(tmpl->path))
		return err_set(e, ERR_INVALID, "path \"%.200s\" is not normalized", tmpl->path);
	if ((t->filled + 1) * 4 > t->nslots * 3 && grow(t) != 0)
		return err_set(e, ERR_NOMEM, "out of memory indexing %zu entries", t->used);
	plen = strlen(tmpl->path);
	if ((n = malloc(sizeof(*n) + plen + 1)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory indexing %.200s", tmpl->path);
	*n = *tmpl;
	n->path = (char *)(n + 1); /* the path lives right after the node: one allocation per entry */
	memcpy(n->path, tmpl->path, plen + 1);
	n->head = NULL;
	n->head_len = 0;
	n->link = tmpl->link ? strdup(tmpl->link) : NULL;
	n->content = NULL;
	if (tmpl->content != NULL && (n->content = malloc(tmpl->content_len ? tmpl->content_len : 1)) != NULL)
		memcpy(n->content, tmpl->content, tmpl->content_len);
	if ((tmpl->link && n->link == NULL) || (tmpl->content && n->content == NULL) ||
	    fstree_set_head(n, tmpl->head, tmpl->head_len, e) != 0) {
		node_free(n);
		return err_set(e, ERR_NOMEM, "out of memory indexing %.200s", tmpl->path);
	}
	i = find_slot(t, n->path, &found);
	if (found) {
		node_free(t->slots[i]);
	} else {
		if (t->slots[i] == NULL)
			t->filled++;
		t->used++;
	}
	t->slots[i] = n;
	t->sorted_ok = false;
	if (out != NULL)
		*out = n;
	return 0;
}

struct fs_node *fstree_get(const struct fstree *t, const char *path)
{
	bool found;
	size_t i = find_slot(t, path, &found);

	return found ? t->slots[i] : NULL;
}

static void remove_one(struct fstree *t, const char *path)
{
	bool found;
	size_t i = find_slot(t, path, &found);

	if (!found)
		return;
	node_free(t->slots[i]);
	t->slots[i] = TOMBSTONE;
	t->used--;
	t->sorted_ok = false;
}

size_t fstree_remove(struct fstree *t, const char *path)
{
	struct fs_node *n = fstree_get(t, path), *const * v;
	size_t count = 0, i, nv, end;
	char **doomed;

	if (n == NULL)
		return 0;
	if (n->type != FS_DIR) {
		remove_one(t, path);
		return 1;
	}
	v = fstree_sorted(t, &nv);
	for (i = 0; i < nv && v[i] != n; i++)
		;
	end = fstree_subtree_end(t, i);
	if ((doomed = malloc((end - i) * sizeof(*doomed))) == NULL)
		return 0;
	for (count = 0; i + count < end; count++)
		doomed[count] = v[i + count]->path;
	/* Paths are freed by remove_one: take copies of the pointers' strings first. */
	for (i = 0; i < count; i++)
		doomed[i] = strdup(doomed[i]);
	for (i = 0; i < count; i++) {
		if (doomed[i] != NULL)
			remove_one(t, doomed[i]);
		free(doomed[i]);
	}
	free(doomed);
	return count;
}

size_t fstree_count(const struct fstree *t)
{
	return t->used;
}

/* Path order with '/' below every other byte, so that a directory's descendants follow it contiguously. */
static int path_cmp(const void *a, const void *b)
{
	const unsigned char *p = (const unsigned char *)(*(struct fs_node *const *)a)->path;
	const unsigned char *q = (const unsigned char *)(*(struct fs_node *const *)b)->path;

	for (; *p && *p == *q; p++, q++)
		;
	if (*p == *q)
		return 0;
	if (*p == '\0')
		return -1;
	if (*q == '\0')
		return 1;
	if (*p == '/')
		return -1;
	if (*q == '/')
		return 1;
	return *p < *q ? -1 : 1;
}

struct fs_node *const *fstree_sorted(struct fstree *t, size_t *n)
{
	size_t i, k = 0;

	if (!t->sorted_ok) {
		struct fs_node **v = realloc(t->sorted, (t->used ? t->used : 1) * sizeof(*v));

		if (v == NULL) {
			*n = 0;
			return NULL;
		}
		t->sorted = v;
		for (i = 0; i < t->nslots; i++)
			if (t->slots[i] != NULL && t->slots[i] != TOMBSTONE)
				v[k++] = t->slots[i];
		qsort(v, k, sizeof(*v), path_cmp);
		t->nsorted = k;
		t->sorted_ok = true;
	}
	*n = t->nsorted;
	return t->sorted;
}

size_t fstree_subtree_end(struct fstree *t, size_t i)
{
	size_t n, len, j;
	struct fs_node *const *v = fstree_sorted(t, &n);
	const char *p;

	if (i >= n)
		return n;
	p = v[i]->path;
	len = strlen(p);
	if (len == 1) /* "/" holds everything */
		return n;
	for (j = i + 1; j < n; j++)
		if (strncmp(v[j]->path, p, len) != 0 || v[j]->path[len] != '/')
			break;
	return j;
}

void fstree_mark_delete(struct fstree *t, struct fs_node *n)
{
	size_t nv, i, end;
	struct fs_node *const *v;

	n->changes |= FS_CH_DELETE;
	if (n->type != FS_DIR)
		return;
	v = fstree_sorted(t, &nv);
	for (i = 0; i < nv && v[i] != n; i++)
		;
	end = fstree_subtree_end(t, i);
	for (i = i + 1; i < end; i++)
		v[i]->changes |= FS_CH_DELETE;
}

bool fstree_mark_mode(struct fs_node *n, uint32_t mode)
{
	if (n->mode == mode)
		return false;
	n->mode = mode;
	n->changes |= FS_CH_MODE;
	return true;
}

bool fstree_mark_owner(struct fs_node *n, uint32_t uid, uint32_t gid)
{
	if (n->uid == uid && n->gid == gid)
		return false;
	n->uid = uid;
	n->gid = gid;
	n->changes |= FS_CH_OWNER;
	return true;
}

int fstree_mark_content(struct fs_node *n, const void *data, size_t len, struct err *e)
{
	char *c = malloc(len ? len : 1);

	if (c == NULL)
		return err_set(e, ERR_NOMEM, "out of memory rewriting %.200s", n->path);
	memcpy(c, data, len);
	free(n->content);
	n->content = c;
	n->content_len = len;
	n->size = len;
	n->changes |= FS_CH_CONTENT;
	return 0;
}

int fstree_resolve(const struct fstree *t, const char *path, bool follow_last, char *out, size_t size, struct err *e)
{
	char cur[4096], rest[8192], tmp[8192];
	int links = 0;

	if (str_copy(rest, sizeof(rest), path) != 0)
		return err_set(e, ERR_TOO_LARGE, "path \"%.200s\" is too long", path);
	str_copy(cur, sizeof(cur), "/");
	for (;;) {
		char *p = rest, *comp;
		const struct fs_node *n;
		size_t clen;

		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		comp = p;
		while (*p && *p != '/')
			p++;
		clen = (size_t)(p - comp);
		if (clen == 1 && comp[0] == '.') {
			memmove(rest, p, strlen(p) + 1);
			continue;
		}
		if (clen == 2 && comp[0] == '.' && comp[1] == '.') {
			char *slash = strrchr(cur, '/');

			if (slash == cur)
				cur[1] = '\0';
			else
				*slash = '\0';
			memmove(rest, p, strlen(p) + 1);
			continue;
		}
		if (str_fmt(tmp, sizeof(tmp), "%s%s%.*s", cur, cur[1] ? "/" : "", (int)clen, comp) != 0 ||
		    str_copy(cur, sizeof(cur), tmp) != 0)
			return err_set(e, ERR_TOO_LARGE, "path \"%.200s\" is too long", path);
		memmove(rest, p, strlen(p) + 1);
		n = fstree_get(t, cur);
		if (n == NULL || (n->changes & FS_CH_DELETE)) {
			str_copy(out, size, cur);
			return err_set(e, ERR_NOT_FOUND, "%.200s: %.200s does not exist", path, cur);
		}
		if (n->type == FS_SYMLINK && (rest[0] != '\0' || follow_last)) {
			char *slash;

			if (++links > MAX_LINKS)
				return err_set(e, ERR_INVALID, "%.200s: too many levels of symbolic links", path);
			if (str_fmt(tmp, sizeof(tmp), "%s/%s", n->link, rest) != 0)
				return err_set(e, ERR_TOO_LARGE, "path \"%.200s\" is too long", path);
			if (n->link[0] == '/') {
				str_copy(cur, sizeof(cur), "/");
			} else {
				slash = strrchr(cur, '/');
				if (slash == cur)
					cur[1] = '\0';
				else
					*slash = '\0';
			}
			str_copy(rest, sizeof(rest), tmp);
			continue;
		}
		if (rest[0] != '\0' && strspn(rest, "/") != strlen(rest) && n->type != FS_DIR)
			return err_set(e, ERR_INVALID, "%.200s: %.200s is not a directory", path, cur);
	}
	if (str_copy(out, size, cur) != 0)
		return err_set(e, ERR_TOO_LARGE, "path \"%.200s\" is too long", path);
	return 0;
}

struct fs_node *fstree_final(const struct fstree *t, const struct fs_node *n)
{
	char out[4096];
	struct fs_node *m;
	struct err e;
	int hops = 0;

	if (n->type != FS_SYMLINK)
		m = fstree_get(t, n->path); /* n itself, as the tree hands it out */
	else if (fstree_resolve(t, n->path, true, out, sizeof(out), &e) == 0)
		m = fstree_get(t, out);
	else
		return NULL;
	while (m != NULL && m->type == FS_HARDLINK && m->link != NULL && ++hops < 40)
		m = fstree_get(t, m->link);
	return m;
}

size_t fstree_resolve_dirs(const struct fstree *t, char *const *names, size_t n, char (*dirs)[4096], size_t max)
{
	const struct fs_node *d;
	struct err sub;
	size_t nd = 0, i, j;

	for (i = 0; i < n && nd < max; i++) {
		if (fstree_resolve(t, names[i], true, dirs[nd], sizeof(dirs[nd]), &sub) != 0 ||
		    (d = fstree_get(t, dirs[nd])) == NULL || d->type != FS_DIR)
			continue;
		for (j = 0; j < nd && strcmp(dirs[j], dirs[nd]) != 0; j++)
			;
		if (j == nd)
			nd++;
	}
	return nd;
}

int fs_backend_read(struct fs_backend *b, struct fstree *t, const struct fs_node *n, size_t cap, struct strbuf *out,
    struct err *e)
{
	int hops = 0;

	while (n->type == FS_HARDLINK) {
		const struct fs_node *target = fstree_get(t, n->link);

		if (target == NULL || ++hops > MAX_LINKS)
			return err_set(e, ERR_NOT_FOUND, "%.200s: hard link target %.200s is missing", n->path,
			    n->link);
		n = target;
	}
	if (n->type != FS_REG)
		return err_set(e, ERR_INVALID, "%.200s is not a regular file", n->path);
	if (n->changes & FS_CH_CONTENT) {
		if (n->content_len > cap)
			return err_set(e, ERR_TOO_LARGE, "%.200s is larger than %zu bytes", n->path, cap);
		return sb_append(out, n->content, n->content_len) == 0
		    ? 0
		    : err_set(e, ERR_NOMEM, "out of memory reading %.200s", n->path);
	}
	if (n->changes & FS_CH_CREATE)
		return 0;
	return b->ops->read(b, n, cap, out, e);
}
