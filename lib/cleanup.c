/* cleanup — a fixed table of temporary paths and the SIGTERM/SIGINT/SIGHUP handler that removes them. The table is
 * changed only with the three signals blocked, so the handler always sees it whole; the handler uses only
 * async-signal-safe calls (openat, getdents64, unlinkat, lseek, close, sigaction, raise: no malloc, no nftw). */
#define _GNU_SOURCE
#include "lib/cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define RM_DEPTH 8   /* directory levels the handler descends (an OCI layout has 3) */
#define RM_PASSES 64 /* rereads of one directory while entries keep going away */

struct slot {
	bool used, dir;
	pid_t owner;
	char path[PATH_MAX];
};

static struct slot slots[CLEANUP_MAX];
static bool installed;
static const int fatal[] = { SIGTERM, SIGINT, SIGHUP };

/* Removes name under dirfd; a directory with its contents, depth levels down at most. Async-signal-safe. Returns
 * true when name is gone. */
static bool rm_at(int dirfd, const char *name, int depth)
{
	union {
		struct dirent64 d;
		char b[4096];
	} buf;
	bool removed = true;
	long n;
	int fd, pass;

	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return true;
	if (depth == 0 || (fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return false;
	/* entries removed while reading may make getdents skip others: read again until a pass removes nothing */
	for (pass = 0; removed && pass < RM_PASSES; pass++) {
		removed = false;
		if (lseek(fd, 0, SEEK_SET) != 0)
			break;
		while ((n = getdents64(fd, buf.b, sizeof(buf.b))) > 0) {
			for (long off = 0; off < n;) {
				struct dirent64 *d = (struct dirent64 *)(void *)(buf.b + off);

				off += d->d_reclen;
				if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
					continue;
				if (rm_at(fd, d->d_name, depth - 1))
					removed = true;
			}
		}
	}
	close(fd);
	return unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT;
}

/* The handler: removes this process's registered paths, then dies of sig with its default action (the signal is
 * blocked while the handler runs, so the raise takes effect when it returns). */
static void on_fatal(int sig)
{
	struct sigaction dfl;
	int saved = errno;
	pid_t me = getpid();
	size_t i;

	for (i = 0; i < CLEANUP_MAX; i++)
		if (slots[i].used && slots[i].owner == me)
			(void)rm_at(AT_FDCWD, slots[i].path, slots[i].dir ? RM_DEPTH : 0);
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	(void)sigaction(sig, &dfl, NULL);
	(void)raise(sig);
	errno = saved;
}

/* Blocks the fatal signals, saving the old mask in old. */
static void block(sigset_t *old)
{
	sigset_t set;
	size_t i;

	sigemptyset(&set);
	for (i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		sigaddset(&set, fatal[i]);
	(void)sigprocmask(SIG_BLOCK, &set, old);
}

/* Installs on_fatal for each fatal signal still at its default disposition; once. Signals must be blocked. */
static void install(void)
{
	struct sigaction sa, cur;
	size_t i;

	if (installed)
		return;
	installed = true;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		sigaddset(&sa.sa_mask, fatal[i]);
	for (i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		if (sigaction(fatal[i], NULL, &cur) == 0 && cur.sa_handler == SIG_DFL)
			(void)sigaction(fatal[i], &sa, NULL);
}

/* A free slot, or NULL. Signals must be blocked. */
static struct slot *slot_free(void)
{
	size_t i;

	for (i = 0; i < CLEANUP_MAX; i++)
		if (!slots[i].used)
			return &slots[i];
	return NULL;
}

/* Creates templ (a directory when dir, else a file opened with flags) and registers it, signals blocked
 * throughout. Returns 0 (dir) or the descriptor (file), or a negative code. */
static int make(char *templ, bool dir, int flags, struct err *e)
{
	sigset_t old;
	struct slot *s;
	int r, fd = 0;

	block(&old);
	if ((s = slot_free()) == NULL) {
		r = err_set(e, ERR_TOO_LARGE, "%.200s: more than %d temporary paths at once (internal limit)", templ,
		    CLEANUP_MAX);
		goto out;
	}
	if (strlen(templ) >= sizeof(s->path)) {
		r = err_set(e, ERR_TOO_LARGE, "%.200s...: path too long", templ);
		goto out;
	}
	if (dir ? mkdtemp(templ) == NULL : (fd = mkostemp(templ, flags)) < 0) {
		r = err_errno(e, errno, "create %s", templ);
		goto out;
	}
	memcpy(s->path, templ, strlen(templ) + 1);
	s->dir = dir;
	s->owner = getpid();
	s->used = true;
	install();
	r = fd;
out:
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}

int cleanup_mkdtemp(char *templ, struct err *e)
{
	return make(templ, true, 0, e);
}

int cleanup_mkstemp(char *templ, int flags, struct err *e)
{
	return make(templ, false, flags, e);
}

void cleanup_forget(const char *path)
{
	sigset_t old;
	size_t i;

	block(&old);
	for (i = 0; i < CLEANUP_MAX; i++)
		if (slots[i].used && strcmp(slots[i].path, path) == 0) {
			slots[i].used = false;
			break;
		}
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
}
