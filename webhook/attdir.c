/* attdir — reads a directory of DSSE envelope files into an immutable snapshot: the envelope bytes plus an array of
 * (claimed subject digest, envelope) sorted by digest for binary search. Change detection hashes the listing. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/dsse.h"
#include "lib/fileio.h"
#include "lib/intoto.h"
#include "lib/log.h"
#include "lib/str.h"
#include "webhook/attdir.h"

struct attdir_file {
	char *name;
	char *buf;
	size_t len;
};

struct attdir_snap {
	struct attdir_file *files;
	size_t nfiles;
	struct attdir_entry *entries; /* sorted by digest, then file name */
	size_t nentries;
	int refs;
};

struct attdir {
	char path[PATH_MAX];
	pthread_mutex_t mu; /* guards cur */
	struct attdir_snap *cur;
	uint64_t sig; /* hash of the listing cur was read from */
	bool read_once;
};

/* Frees a snapshot and the envelopes it holds; NULL is fine. Only with its last reference. */
static void snap_free(struct attdir_snap *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nfiles; i++) {
		free(s->files[i].name);
		free(s->files[i].buf);
	}
	free(s->files);
	free(s->entries);
	free(s);
}

void attdir_release(struct attdir_snap *s)
{
	if (s != NULL && __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0)
		snap_free(s);
}

struct attdir_snap *attdir_acquire(struct attdir *d)
{
	struct attdir_snap *s;

	pthread_mutex_lock(&d->mu);
	s = d->cur;
	__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&d->mu);
	return s;
}

/* FNV-1a step: h mixed with p[n]. */
static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

/* qsort order of entries: by digest, then file name. */
static int cmp_entries(const void *a, const void *b)
{
	const struct attdir_entry *x = a, *y = b;
	int c = strcmp(x->digest, y->digest);

	return c != 0 ? c : strcmp(x->file, y->file);
}

/* The visible names of the directory (not starting with '.'), sorted, at most ATTDIR_MAX_FILES + 1, and the hash of
 * the listing (names and what each resolves to). *names is new (free each and the array). A missing directory is
 * an empty listing with a distinct hash. */
static int list_dir(const char *path, char ***names, size_t *n, uint64_t *sig, struct err *e)
{
	DIR *dir = NULL;
	struct dirent *de;
	struct stat st;
	char **v = NULL, **nv;
	size_t cnt = 0, alloc = 0;
	uint64_t h = 1469598103934665603ull;
	int r = ERR_NOMEM;

	*names = NULL;
	*n = 0;
	if ((dir = opendir(path)) == NULL) {
		*sig = errno == ENOENT ? 1 : 2;
		r = errno == ENOENT ? 0 : err_errno(e, errno, "attestation directory %s", path);
		goto out;
	}
	if (fstat(dirfd(dir), &st) == 0)
		h = mix(h, &st.st_ino, sizeof(st.st_ino));
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue; /* ".", "..", "..data", "..2026_12_01..." and hidden files */
		if (cnt > ATTDIR_MAX_FILES)
			continue;
		if (cnt == alloc) {
			alloc = alloc == 0 ? 64 : alloc * 2;
			if ((nv = realloc(v, alloc * sizeof(*v))) == NULL)
				goto nomem;
			v = nv;
		}
		if ((v[cnt] = strdup(de->d_name)) == NULL)
			goto nomem;
		cnt++;
	}
	if (cnt > 1)
		qsort(v, cnt, sizeof(*v), str_cmp_ptrs);
	for (size_t i = 0; i < cnt; i++) {
		h = mix(h, v[i], strlen(v[i]) + 1);
		if (fstatat(dirfd(dir), v[i], &st, 0) == 0) {
			h = mix(h, &st.st_dev, sizeof(st.st_dev));
			h = mix(h, &st.st_ino, sizeof(st.st_ino));
			h = mix(h, &st.st_size, sizeof(st.st_size));
			h = mix(h, &st.st_mtim, sizeof(st.st_mtim));
			h = mix(h, &st.st_ctim, sizeof(st.st_ctim));
		}
	}
	*sig = h | 4; /* never 1 or 2 */
	*names = v;
	*n = cnt;
	v = NULL; /* transferred */
	cnt = 0;
	r = 0;
	goto out;
nomem:
	r = err_set(e, ERR_NOMEM, "attestation directory %s: out of memory", path);
out:
	for (size_t i = 0; i < cnt; i++)
		free(v[i]);
	free(v);
	if (dir != NULL)
		closedir(dir);
	return r;
}

/* Reads the regular file dir/name (symlinks followed) of at most DSSE_ENVELOPE_MAX bytes into a new NUL-terminated
 * buffer. Errors say why (not regular, too large, I/O). */
static int read_file(int dfd, const char *name, char **out, size_t *len, struct err *e)
{
	struct strbuf sb;
	struct stat st;
	int fd, r;

	*out = NULL;
	sb_init(&sb, DSSE_ENVELOPE_MAX);
	if ((fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
		return err_errno(e, errno, "cannot open");
	if (fstat(fd, &st) != 0) {
		r = err_errno(e, errno, "cannot stat");
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = err_set(e, ERR_INVALID, "not a regular file");
		goto out;
	}
	if (st.st_size > (off_t)DSSE_ENVELOPE_MAX) {
		r = err_set(e, ERR_TOO_LARGE, "%lld bytes, over the %u-byte envelope cap", (long long)st.st_size,
		    DSSE_ENVELOPE_MAX);
		goto out;
	}
	/* changed while reading: take what is there (within the cap); the next poll sees the change */
	if ((r = fileio_read_fd(fd, &sb, "envelope", e)) != 0)
		goto out;
	if ((*out = sb_steal(&sb, len)) == NULL) {
		r = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	r = 0;
out:
	sb_cleanup(&sb);
	close(fd);
	return r;
}

/* The claimed subject digests of envelope buf[len]: parses the envelope and its Statement without verifying. */
static int claimed_subjects(const char *buf, size_t len, const char *label, struct intoto_statement **st, struct err *e)
{
	struct dsse_envelope *env = NULL;
	int r;

	*st = NULL;
	if ((r = dsse_parse(buf, len, label, &env, e)) != 0)
		goto out;
	if (strcmp(env->payload_type, INTOTO_PAYLOAD_TYPE) != 0) {
		r = err_set(e, ERR_INVALID, "%s: payloadType is not %s", label, INTOTO_PAYLOAD_TYPE);
		goto out;
	}
	r = intoto_parse(env->payload, env->payload_len, st, e);
out:
	dsse_envelope_free(env);
	return r;
}

/* Reads the listed files of path into a new snapshot (refs 1). Bad files are logged and skipped. */
static int snap_read(const char *path, char **names, size_t n, struct attdir_snap **out, struct err *e)
{
	struct attdir_snap *s = NULL;
	struct intoto_statement *st = NULL;
	struct attdir_entry *ne;
	struct err why;
	char esc[200];
	size_t total = 0, ealloc = 0;
	int dfd = -1, r = ERR_NOMEM;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL || (n > 0 && (s->files = calloc(n, sizeof(*s->files))) == NULL))
		goto nomem;
	s->refs = 1;
	if (n > 0 && (dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = err_errno(e, errno, "attestation directory %s", path);
		goto out;
	}
	if (n > ATTDIR_MAX_FILES) {
		log_warn("attestation directory %s: more than %u files; only the first %u (by name) are read", path,
		    ATTDIR_MAX_FILES, ATTDIR_MAX_FILES);
		n = ATTDIR_MAX_FILES;
	}
	for (size_t i = 0; i < n; i++) {
		struct attdir_file *f = &s->files[s->nfiles];
		size_t first = s->nentries;

		err_clear(&why);
		str_escape(esc, sizeof(esc), names[i], strlen(names[i]), 120);
		if ((r = read_file(dfd, names[i], &f->buf, &f->len, &why)) != 0) {
			if (r == ERR_NOMEM)
				goto nomem;
			log_warn("attestation directory %s: skipping %s: %s", path, esc, why.msg);
			continue;
		}
		if (f->len > ATTDIR_MAX_TOTAL - total) {
			log_warn("attestation directory %s: skipping %s and the rest: over %u bytes in all", path, esc,
			    ATTDIR_MAX_TOTAL);
			free(f->buf);
			f->buf = NULL;
			break;
		}
		if ((r = claimed_subjects(f->buf, f->len, esc, &st, &why)) != 0) {
			if (r == ERR_NOMEM)
				goto nomem;
			log_warn("attestation directory %s: skipping %s: not an in-toto attestation envelope: %s", path,
			    esc, why.msg);
			free(f->buf);
			f->buf = NULL;
			continue;
		}
		if ((f->name = strdup(names[i])) == NULL)
			goto nomem;
		total += f->len;
		for (size_t j = 0; j < st->nsubjects; j++) {
			bool dup = false;

			for (size_t k = first; k < s->nentries && !dup; k++)
				dup = strcmp(s->entries[k].digest, st->subjects[j].digest) == 0;
			if (dup)
				continue;
			if (s->nentries == ealloc) {
				ealloc = ealloc == 0 ? 64 : ealloc * 2;
				if ((ne = realloc(s->entries, ealloc * sizeof(*ne))) == NULL)
					goto nomem;
				s->entries = ne;
			}
			ne = &s->entries[s->nentries++];
			str_copy(ne->digest, sizeof(ne->digest), st->subjects[j].digest);
			ne->file = f->name;
			ne->buf = f->buf;
			ne->len = f->len;
		}
		intoto_statement_free(st);
		st = NULL;
		s->nfiles++;
	}
	if (s->nentries > 0)
		qsort(s->entries, s->nentries, sizeof(*s->entries), cmp_entries);
	*out = s;
	s = NULL; /* transferred */
	r = 0;
	goto out;
nomem:
	r = err_set(e, ERR_NOMEM, "attestation directory %s: out of memory", path);
out:
	intoto_statement_free(st);
	if (s != NULL && s->files != NULL && s->nfiles < n) { /* a half-filled slot */
		free(s->files[s->nfiles].buf);
		free(s->files[s->nfiles].name);
		s->files[s->nfiles].buf = s->files[s->nfiles].name = NULL;
	}
	snap_free(s);
	if (dfd >= 0)
		close(dfd);
	return r;
}

int attdir_poll(struct attdir *d, struct err *e)
{
	struct attdir_snap *s = NULL, *old;
	char **names = NULL;
	size_t n = 0;
	uint64_t sig = 0;
	int r;

	if ((r = list_dir(d->path, &names, &n, &sig, e)) != 0)
		goto out;
	if (d->read_once && sig == d->sig) {
		r = 0;
		goto out;
	}
	if ((r = snap_read(d->path, names, n, &s, e)) != 0)
		goto out;
	pthread_mutex_lock(&d->mu);
	old = d->cur;
	d->cur = s;
	pthread_mutex_unlock(&d->mu);
	attdir_release(old);
	log_info("attestation directory %s: %zu envelopes indexed (%zu subject digests)", d->path, s->nfiles,
	    s->nentries);
	d->sig = sig;
	d->read_once = true;
	r = 1;
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

int attdir_new(const char *path, struct attdir **out, struct err *e)
{
	struct attdir *d = NULL;
	struct err why;
	int r = ERR_NOMEM;

	*out = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return err_set(e, ERR_NOMEM, "attestation directory: out of memory");
	pthread_mutex_init(&d->mu, NULL);
	if ((d->cur = calloc(1, sizeof(*d->cur))) == NULL) {
		err_set(e, ERR_NOMEM, "attestation directory: out of memory");
		goto out;
	}
	d->cur->refs = 1;
	if (str_copy(d->path, sizeof(d->path), path) != 0) {
		r = err_set(e, ERR_TOO_LARGE, "attestation directory path is longer than %d bytes", PATH_MAX - 1);
		goto out;
	}
	err_clear(&why);
	if ((r = attdir_poll(d, &why)) < 0) {
		if (r == ERR_NOMEM) {
			*e = why;
			goto out;
		}
		log_warn("%s; it is read again when it changes", why.msg);
	}
	*out = d;
	d = NULL; /* transferred */
	r = 0;
out:
	attdir_free(d);
	return r;
}

void attdir_free(struct attdir *d)
{
	if (d == NULL)
		return;
	attdir_release(d->cur);
	pthread_mutex_destroy(&d->mu);
	free(d);
}

size_t attdir_find(const struct attdir_snap *s, const char *digest, const struct attdir_entry **first)
{
	size_t lo = 0, hi = s->nentries, end;

	*first = NULL;
	while (lo < hi) { /* the first entry >= digest */
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(s->entries[mid].digest, digest) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < s->nentries && strcmp(s->entries[end].digest, digest) == 0; end++)
		;
	if (end == lo)
		return 0;
	*first = &s->entries[lo];
	return end - lo;
}

size_t attdir_snap_files(const struct attdir_snap *s)
{
	return s->nfiles;
}

const char *attdir_path(const struct attdir *d)
{
	return d->path;
}
