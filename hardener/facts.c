/* facts — one pass over the tree measuring what an attacker inside the container could use. Names decide the
 * categories (a link named sh is a shell whatever it points to); multi-call binaries add the categories of their
 * applets. Only files that may be multi-call binaries are read (see multicall_worth_reading, plus look-alike copies
 * and files named like a shell); everything else is judged from the index (mode bits, the first bytes). */
#include "hardener/facts.h"

#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hardener/accounts.h"
#include "hardener/multicall.h"

#define INTERP_MAX 200 /* characters of a "#!" line kept */
#define MAX_NOTES 100

static const char *const shell_names[] = {
	"sh",
	"bash",
	"rbash",
	"dash",
	"ash",
	"hush",
	"zsh",
	"ksh",
	"ksh93",
	"mksh",
	"pdksh",
	"oksh",
	"lksh",
	"csh",
	"tcsh",
	"fish",
	"yash",
	"elvish",
	NULL,
};
static const char *const fetch_names[] = {
	"curl",
	"wget",
	"wget2",
	"nc",
	"ncat",
	"netcat",
	"nc.openbsd",
	"nc.traditional",
	"socat",
	"telnet",
	"ftp",
	"tftp",
	"sftp",
	"ssh",
	"scp",
	"rsync",
	"aria2c",
	"lftp",
	"axel",
	"ftpget",
	"ftpput",
	"ssl_client",
	NULL,
};
static const char *const interp_names[] = {
	"python",
	"python[0-9]",
	"python[0-9].[0-9]*",
	"pypy*",
	"perl",
	"perl[0-9]*",
	"ruby",
	"ruby[0-9]*",
	"node",
	"nodejs",
	"deno",
	"bun",
	"php",
	"php[0-9]*",
	"lua",
	"lua[0-9]*",
	"luajit",
	"tclsh*",
	"wish*",
	"expect",
	"java",
	"jshell",
	"jrunscript",
	"Rscript",
	"R",
	"guile*",
	"awk",
	"gawk",
	"mawk",
	"nawk",
	"pwsh",
	NULL,
};
/* Package-manager programs (fnmatch patterns on the name): what the package-manager step deletes from the bin dirs and
 * what the facts count, from one list. */
const char *const facts_package_managers[] = {
	"apt",
	"apt-*",
	"aptitude*",
	"add-apt-repository",
	"dpkg",
	"dpkg-*",
	"debconf",
	"debconf-*",
	"update-alternatives",
	"apk",
	"rpm",
	"rpm2*",
	"rpmdb",
	"rpmkeys",
	"rpmquery",
	"rpmverify",
	"rpmbuild",
	"dnf",
	"dnf-*",
	"dnf4",
	"dnf5",
	"yum",
	"yum-*",
	"microdnf",
	"tdnf",
	"zypper",
	"opkg",
	"pip",
	"pip2*",
	"pip3*",
	"easy_install*",
	"gem",
	"npm",
	"npx",
	"yarn",
	"yarnpkg",
	"pnpm",
	"pnpx",
	"corepack",
	NULL,
};

/* The categories that hold {count, items}, in the order of docs/facts.md. */
const char *const facts_categories[] = {
	"executables",
	"shells",
	"fetchTools",
	"interpreters",
	"packageManagers",
	"setuid",
	"setgid",
	"worldWritable",
	"users",
	"groups",
	NULL,
};

/* Whether name matches one of the fnmatch patterns. */
static bool name_in(const char *const *pats, const char *name)
{
	size_t i;

	for (i = 0; pats[i] != NULL; i++)
		if (fnmatch(pats[i], name, 0) == 0)
			return true;
	return false;
}

/* Whether name is an interpreter's (python3.11 is, python3.11-config is not). */
static bool is_interp(const char *name)
{
	return name_in(interp_names, name) && !str_has_suffix(name, "-config");
}

/* Whether the multi-call binary has one of the applets named (plain names, no patterns). */
static bool mc_has_any(const struct multicall *m, const char *const *names)
{
	size_t i;

	for (i = 0; names[i] != NULL; i++)
		if (multicall_has_applet(m, names[i]))
			return true;
	return false;
}

/* A JSON string of s; a name that is not UTF-8 (a hostile image can have any bytes) is escaped instead. */
static json_t *jstr(const char *s)
{
	char esc[1024];
	json_t *j = json_string(s);

	if (j != NULL)
		return j;
	return json_string(str_escape(esc, sizeof(esc), s, strlen(s), 300));
}

/* The last component of path (borrowed from it). */
static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* ---- sorted, capped lists ---- */

struct list {
	json_t **v;
	size_t n, alloc;
	bool oom;
};

/* Appends item (stolen; NULL records an allocation failure). ERR_NOMEM. */
static int list_add(struct list *l, json_t *item)
{
	if (item == NULL) {
		l->oom = true;
		return ERR_NOMEM;
	}
	if (l->n == l->alloc) {
		size_t na = l->alloc ? l->alloc * 2 : 32;
		json_t **v = realloc(l->v, na * sizeof(*v));

		if (v == NULL) {
			json_decref(item);
			l->oom = true;
			return ERR_NOMEM;
		}
		l->v = v;
		l->alloc = na;
	}
	l->v[l->n++] = item;
	return 0;
}

/* The sort key of an item: the string itself, or its "path", or its "name". */
static const char *item_key(const json_t *x)
{
	const char *s;

	if (json_is_string(x))
		return json_string_value(x);
	if ((s = json_string_value(json_object_get(x, "path"))) != NULL)
		return s;
	s = json_string_value(json_object_get(x, "name"));
	return s ? s : "";
}

/* qsort order of items by key. */
static int item_cmp(const void *a, const void *b)
{
	return strcmp(item_key(*(json_t *const *)a), item_key(*(json_t *const *)b));
}

/* Drops every item and empties l. */
static void list_cleanup(struct list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		json_decref(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* {"count": N, "items": [...]} sorted by path (or name), duplicates of a path dropped, at most FACTS_MAX_ITEMS items
 * ("truncated": true when more were measured). Empties l. NULL on allocation failure. */
static json_t *list_finish(struct list *l, bool dedupe)
{
	json_t *items = json_array(), *o = NULL;
	size_t i, count = 0;

	if (items == NULL || l->oom)
		goto out;
	if (l->n > 0)
		qsort(l->v, l->n, sizeof(*l->v), item_cmp);
	for (i = 0; i < l->n; i++) {
		if (dedupe && i > 0 && strcmp(item_key(l->v[i - 1]), item_key(l->v[i])) == 0)
			continue;
		count++;
		if (json_array_size(items) < FACTS_MAX_ITEMS && json_array_append(items, l->v[i]) != 0)
			goto out;
	}
	o = json_pack("{s:I, s:O}", "count", (json_int_t)count, "items", items);
	if (o != NULL && count > FACTS_MAX_ITEMS)
		json_object_set_new(o, "truncated", json_true());
out:
	json_decref(items);
	list_cleanup(l);
	return o;
}

/* ---- executables ---- */

struct target {
	struct fs_node *n; /* a regular file with an x bit that some executable name leads to */
	size_t names;	   /* how many names (the file itself, links) lead to it */
	bool lookalike;	   /* another executable ELF file has the same size and first bytes */
	struct multicall *mc;
};

struct exe {
	struct fs_node *n; /* the name */
	size_t t;	   /* index into targets */
};

/* qsort/bsearch order of targets by node address. */
static int ptr_cmp(const void *a, const void *b)
{
	const struct target *x = a, *y = b;

	return x->n < y->n ? -1 : x->n > y->n ? 1 : 0;
}

/* qsort order of targets by size, then first bytes: look-alike copies end up side by side. */
static int look_cmp(const void *a, const void *b)
{
	const struct target *x = *(struct target *const *)a, *y = *(struct target *const *)b;

	if (x->n->size != y->n->size)
		return x->n->size < y->n->size ? -1 : 1;
	if (x->n->head_len != y->n->head_len)
		return x->n->head_len < y->n->head_len ? -1 : 1;
	return x->n->head_len ? memcmp(x->n->head, y->n->head, x->n->head_len) : 0; /* no head: NULL */
}

/* The executable regular file a name leads to, or NULL. */
static struct fs_node *exec_target(struct fstree *t, struct fs_node *n)
{
	struct fs_node *m = fstree_final(t, n);

	if (m == NULL || m->type != FS_REG || (m->changes & FS_CH_DELETE) || !(m->mode & 0111))
		return NULL;
	return m;
}

/* The "#!" line of a script, trimmed, or NULL. */
static json_t *interpreter(const struct fs_node *n)
{
	size_t i = 2, j;

	if (n->head_len < 3 || n->head[0] != '#' || n->head[1] != '!')
		return NULL;
	while (i < n->head_len && (n->head[i] == ' ' || n->head[i] == '\t'))
		i++;
	for (j = i; j < n->head_len && n->head[j] != '\n' && n->head[j] != '\r' && n->head[j] != '\0'; j++)
		;
	while (j > i && (n->head[j - 1] == ' ' || n->head[j - 1] == '\t'))
		j--;
	if (j - i > INTERP_MAX)
		j = i + INTERP_MAX;
	return json_stringn((const char *)n->head + i, j - i);
}

/* The applet names as a new JSON array, or null when unknown. */
static json_t *applets_json(const struct multicall *m)
{
	json_t *a;
	size_t i;

	if (!m->applets_known)
		return json_null();
	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < m->napplets; i++)
		json_array_append_new(a, jstr(m->applets[i]));
	return a;
}

/* One executables item. */
static json_t *exe_item(const struct exe *x, const struct target *tg)
{
	const struct fs_node *r = tg->n;
	json_t *o = json_object();
	const char *kind = "other";

	if (o == NULL)
		return NULL;
	if (tg->mc != NULL)
		kind = "multicall";
	else if (multicall_is_elf(r))
		kind = "elf";
	else if (r->head_len >= 2 && r->head[0] == '#' && r->head[1] == '!')
		kind = "script";
	json_object_set_new(o, "path", jstr(x->n->path));
	json_object_set_new(o, "kind", json_string(kind));
	if (x->n != r)
		json_object_set_new(o, "target", jstr(r->path));
	if (strcmp(kind, "script") == 0)
		json_object_set_new(o, "interpreter", interpreter(r));
	if (tg->mc != NULL) {
		json_object_set_new(o, "multicall", json_string(tg->mc->kind));
		if (x->n == r)
			json_object_set_new(o, "applets", applets_json(tg->mc));
	}
	return o;
}

struct cats {
	struct list exes, shells, fetch, interp, pms, setuid, setgid, ww;
};

/* Appends a path item. ERR_NOMEM. */
static int add_path(struct list *l, const char *path)
{
	return list_add(l, jstr(path));
}

/* Finds the executables, reads the likely multi-call binaries and files each name into its categories. */
static int measure_executables(struct fstree *t, struct fs_backend *b, struct fs_node *const *v, size_t nv,
    struct cats *c, json_t *notes, struct err *e)
{
	struct exe *ex = NULL;
	struct target *tg = NULL, **look = NULL;
	size_t nex = 0, ntg = 0, i, k, cap = 0;
	int r = ERR_NOMEM;

	for (i = 0; i < nv; i++) /* sized by the executables, not by the image (memory per entry) */
		if (!(v[i]->changes & FS_CH_DELETE) && exec_target(t, v[i]) != NULL)
			cap++;
	if ((ex = calloc(cap ? cap : 1, sizeof(*ex))) == NULL || (tg = calloc(cap ? cap : 1, sizeof(*tg))) == NULL)
		goto nomem;
	for (i = 0; i < nv; i++) {
		struct fs_node *m;

		if ((v[i]->changes & FS_CH_DELETE) || (m = exec_target(t, v[i])) == NULL)
			continue;
		ex[nex].n = v[i];
		tg[nex].n = m; /* one target per name for now; deduplicated below */
		nex++;
	}
	/* Unique targets with their name counts. */
	if (nex > 0)
		qsort(tg, nex, sizeof(*tg), ptr_cmp);
	for (i = 0; i < nex; i++) {
		if (ntg > 0 && tg[ntg - 1].n == tg[i].n) {
			tg[ntg - 1].names++;
			continue;
		}
		tg[ntg] = tg[i];
		tg[ntg].names = 1;
		ntg++;
	}
	for (i = 0; i < nex; i++) {
		struct target key = { .n = exec_target(t, ex[i].n) };
		struct target *f = bsearch(&key, tg, ntg, sizeof(*tg), ptr_cmp);

		ex[i].t = f ? (size_t)(f - tg) : 0;
	}
	/* Look-alike ELF copies (hard links in a live directory). */
	if ((look = calloc(ntg ? ntg : 1, sizeof(*look))) == NULL)
		goto nomem;
	for (i = 0, k = 0; i < ntg; i++)
		if (multicall_is_elf(tg[i].n))
			look[k++] = &tg[i];
	if (k > 0)
		qsort(look, k, sizeof(*look), look_cmp);
	for (i = 1; i < k; i++)
		if (look_cmp(&look[i - 1], &look[i]) == 0)
			look[i - 1]->lookalike = look[i]->lookalike = true;
	for (i = 0; i < ntg; i++) {
		const char *bn = base_name(tg[i].n->path);

		if (!multicall_worth_reading(tg[i].n, bn, tg[i].names) && !tg[i].lookalike && !name_in(shell_names, bn))
			continue;
		if ((r = multicall_detect(b, t, tg[i].n, &tg[i].mc, e)) != 0) {
			if (r == ERR_NOMEM)
				goto out;
			if (json_array_size(notes) < MAX_NOTES)
				json_array_append_new(notes,
				    json_sprintf("%.300s was not read: %.300s", tg[i].n->path, e->msg));
			err_clear(e);
		}
	}
	for (i = 0; i < nex; i++) {
		const struct target *x = &tg[ex[i].t];
		const char *bn = base_name(ex[i].n->path);

		if (list_add(&c->exes, exe_item(&ex[i], x)) != 0 ||
		    (name_in(shell_names, bn) && add_path(&c->shells, ex[i].n->path) != 0) ||
		    (name_in(fetch_names, bn) && add_path(&c->fetch, ex[i].n->path) != 0) ||
		    (is_interp(bn) && add_path(&c->interp, ex[i].n->path) != 0) ||
		    (name_in(facts_package_managers, bn) && add_path(&c->pms, ex[i].n->path) != 0))
			goto nomem;
	}
	/* A multi-call binary is in every category one of its applets is in. */
	for (i = 0; i < ntg; i++) {
		const struct multicall *m = tg[i].mc;
		const char *p = tg[i].n->path;

		if (m == NULL)
			continue;
		if (!m->applets_known && json_array_size(notes) < MAX_NOTES)
			json_array_append_new(notes,
			    json_sprintf(
				"%.300s is a %s multi-call binary whose applet list could "
				"not be read: it may provide shells, fetch tools or interpreters not counted here",
				p, m->kind));
		if ((mc_has_any(m, shell_names) && add_path(&c->shells, p) != 0) ||
		    (mc_has_any(m, fetch_names) && add_path(&c->fetch, p) != 0) ||
		    (mc_has_any(m, interp_names) && add_path(&c->interp, p) != 0))
			goto nomem;
	}
	r = 0;
	goto out;
nomem:
	r = err_set(e, ERR_NOMEM, "out of memory measuring executables");
out:
	for (i = 0; tg != NULL && i < ntg; i++)
		multicall_free(tg[i].mc);
	free(look);
	free(tg);
	free(ex);
	return r;
}

/* ---- users and groups ---- */

static bool login_shell(const char *sh)
{
	static const char *const none[] = { "nologin", "false", "true", "sync", "halt", "shutdown", NULL };
	size_t i;

	if (sh[0] == '\0')
		return true; /* an empty shell field means /bin/sh */
	for (i = 0; none[i] != NULL; i++)
		if (strcmp(base_name(sh), none[i]) == 0)
			return false;
	return true;
}

/* Reads and parses an account file of the tree; *f NULL when absent. Parse errors are returned in e (not fatal). */
static int load_accounts(struct fstree *t, struct fs_backend *b, const char *path, enum acct_kind kind,
    struct acct_file **f, struct err *e)
{
	char real[4096];
	const struct fs_node *n;
	struct strbuf sb;
	int r;

	*f = NULL;
	if (fstree_resolve(t, path, true, real, sizeof(real), e) != 0 || (n = fstree_get(t, real)) == NULL ||
	    (n->type != FS_REG && n->type != FS_HARDLINK)) {
		err_clear(e);
		return 0;
	}
	sb_init(&sb, ACCT_MAX_FILE + 1);
	if ((r = fs_backend_read(b, t, n, ACCT_MAX_FILE, &sb, e)) == 0)
		r = accounts_parse(kind, path, sb.data ? sb.data : "", sb.len, f, e);
	sb_cleanup(&sb);
	return r;
}

/* A comma-separated member list as a new JSON array of names. */
static json_t *members_json(const char *list)
{
	json_t *a = json_array();
	const char *p = list;

	while (a != NULL && *p) {
		const char *c = strchr(p, ',');
		size_t ll = c ? (size_t)(c - p) : strlen(p);

		if (ll > 0) {
			json_t *m = json_stringn(p, ll);

			json_array_append_new(a, m != NULL ? m : json_string("?"));
		}
		if (c == NULL)
			break;
		p = c + 1;
	}
	return a;
}

/* The users (passwd) or groups (group) object; a malformed file yields count 0 and "error". NULL on ERR_NOMEM. */
static json_t *measure_accounts(struct fstree *t, struct fs_backend *b, bool users, struct err *e)
{
	struct acct_file *f = NULL;
	struct list l = { NULL, 0, 0, false };
	size_t i, logins = 0;
	json_t *o;
	int r;

	r = load_accounts(t, b, users ? "/etc/passwd" : "/etc/group", users ? ACCT_PASSWD : ACCT_GROUP, &f, e);
	if (r == ERR_NOMEM)
		return NULL;
	for (i = 0; f != NULL && i < f->n; i++) {
		uint32_t id = 0, gid = 0;
		struct err sub;

		if (!accounts_is_entry(f, i))
			continue;
		if (users) {
			const char *sh = accounts_get(f, i, PW_SHELL);

			accounts_id(f, i, PW_UID, &id, &sub);
			accounts_id(f, i, PW_GID, &gid, &sub);
			logins += login_shell(sh);
			list_add(&l,
			    json_pack("{s:o, s:I, s:I, s:o, s:o}", "name", jstr(accounts_get(f, i, PW_NAME)), "uid",
				(json_int_t)id, "gid", (json_int_t)gid, "home", jstr(accounts_get(f, i, PW_DIR)),
				"shell", jstr(sh)));
		} else {
			accounts_id(f, i, GR_GID, &gid, &sub);
			list_add(&l,
			    json_pack("{s:o, s:I, s:o}", "name", jstr(accounts_get(f, i, GR_NAME)), "gid",
				(json_int_t)gid, "members", members_json(accounts_get(f, i, GR_MEM))));
		}
	}
	accounts_free(f);
	if ((o = list_finish(&l, false)) == NULL)
		return NULL;
	if (users)
		json_object_set_new(o, "loginShells", json_integer((json_int_t)logins));
	if (r != 0) {
		json_object_set_new(o, "error", json_string(e->msg));
		err_clear(e);
	}
	return o;
}

/* ---- the whole ---- */

static bool under_dev(const char *path)
{
	return strcmp(path, "/dev") == 0 || str_has_prefix(path, "/dev/");
}

int facts_compute(struct fstree *t, struct fs_backend *b, json_t **out, struct err *e)
{
	struct cats c;
	struct fs_node *const *v;
	json_t *o = NULL, *notes = NULL;
	uint64_t files = 0, bytes = 0;
	size_t nv, i;
	int r = ERR_NOMEM;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	if ((v = fstree_sorted(t, &nv)) == NULL && nv != 0)
		goto nomem;
	if ((notes = json_array()) == NULL)
		goto nomem;
	for (i = 0; i < nv; i++) {
		const struct fs_node *n = v[i];

		if (n->changes & FS_CH_DELETE)
			continue;
		if (n->type == FS_REG) {
			files++;
			bytes += n->size;
			if ((n->mode & 04000) && add_path(&c.setuid, n->path) != 0)
				goto nomem;
			if ((n->mode & 02000) && add_path(&c.setgid, n->path) != 0)
				goto nomem;
		} else if (n->type == FS_HARDLINK) {
			files++;
		}
		if (n->type != FS_SYMLINK && n->type != FS_HARDLINK && (n->mode & 0002) &&
		    !(n->type == FS_DIR && (n->mode & 01000)) &&
		    !((n->type == FS_CHR || n->type == FS_BLK || n->type == FS_FIFO || n->type == FS_SOCK) &&
			under_dev(n->path)) &&
		    add_path(&c.ww, n->path) != 0)
			goto nomem;
	}
	if ((r = measure_executables(t, b, v, nv, &c, notes, e)) != 0)
		goto out;
	o = json_pack("{s:i, s:I, s:I, s:o*, s:o*, s:o*, s:o*, s:o*, s:o*, s:o*, s:o*}", "schemaVersion",
	    FACTS_SCHEMA_VERSION, "files", (json_int_t)files, "bytes", (json_int_t)bytes, "executables",
	    list_finish(&c.exes, false), "shells", list_finish(&c.shells, true), "fetchTools",
	    list_finish(&c.fetch, true), "interpreters", list_finish(&c.interp, true), "packageManagers",
	    list_finish(&c.pms, true), "setuid", list_finish(&c.setuid, true), "setgid", list_finish(&c.setgid, true),
	    "worldWritable", list_finish(&c.ww, true));
	if (o == NULL || json_object_size(o) != 11 ||
	    json_object_set_new(o, "users", measure_accounts(t, b, true, e)) != 0 ||
	    json_object_set_new(o, "groups", measure_accounts(t, b, false, e)) != 0)
		goto nomem;
	if (json_array_size(notes) > 0) {
		json_object_set_new(o, "notes", notes);
		notes = NULL; /* transferred */
	}
	*out = o;
	o = NULL; /* transferred */
	r = 0;
	goto out;
nomem:
	r = err_set(e, ERR_NOMEM, "out of memory measuring the facts");
out:
	list_cleanup(&c.exes);
	list_cleanup(&c.shells);
	list_cleanup(&c.fetch);
	list_cleanup(&c.interp);
	list_cleanup(&c.pms);
	list_cleanup(&c.setuid);
	list_cleanup(&c.setgid);
	list_cleanup(&c.ww);
	json_decref(notes);
	json_decref(o);
	return r;
}

/* A category's count (0 when absent). */
static long long count_of(const json_t *facts, const char *key)
{
	return (long long)json_integer_value(json_object_get(json_object_get(facts, key), "count"));
}

char *facts_summary_line(const json_t *facts, char *buf, size_t n)
{
	double mib = (double)json_integer_value(json_object_get(facts, "bytes")) / (1024.0 * 1024.0);
	const json_t *users = json_object_get(json_object_get(facts, "users"), "items"), *u;
	size_t len, i;

	if (n == 0)
		return buf;
	snprintf(buf, n,
	    "files %lld (%.1f MiB), executables %lld, shells %lld, fetch tools %lld, interpreters %lld, "
	    "package managers %lld, setuid %lld, setgid %lld, world-writable %lld, users",
	    (long long)json_integer_value(json_object_get(facts, "files")), mib, count_of(facts, "executables"),
	    count_of(facts, "shells"), count_of(facts, "fetchTools"), count_of(facts, "interpreters"),
	    count_of(facts, "packageManagers"), count_of(facts, "setuid"), count_of(facts, "setgid"),
	    count_of(facts, "worldWritable"));
	json_array_foreach(users, i, u)
	{
		len = strlen(buf);
		if (i == 8) {
			snprintf(buf + len, n - len, " ...");
			break;
		}
		snprintf(buf + len, n - len, " %.32s", json_string_value(json_object_get(u, "name")));
	}
	if (json_array_size(users) == 0) {
		len = strlen(buf);
		snprintf(buf + len, n - len, " none");
	}
	return buf;
}
