/* Tests of lib/cleanup: a child process registers a temporary tree and a file, gets SIGTERM (or SIGINT, SIGHUP) and
 * must die of that signal with both removed; forgotten paths stay, an ignored SIGHUP stays ignored. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/cleanup.h"

static char base[64];

static int setup(void **state)
{
	(void)state;
	snprintf(base, sizeof(base), "/tmp/hardline-test-cleanup.XXXXXX");
	return mkdtemp(base) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	return system(cmd) == 0 ? 0 : -1;
}

static bool exists(const char *p)
{
	struct stat st;

	return lstat(p, &st) == 0;
}

/* Writes a file (exit 9 on failure: the child cannot use cmocka's asserts). */
static void put(const char *dir, const char *name)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644)) < 0 || write(fd, "x", 1) != 1 || close(fd) != 0)
		_exit(9);
}

/* In a child: makes DIR/layout.tmp-XXXXXX with an OCI-layout-like tree (and a symlink out of it) and
 * DIR/arch.tmp-XXXXXX, forgets DIR/kept.tmp-XXXXXX, then raises sig. Returns the child's wait status; the three
 * paths come back in dir, file and kept. */
static int run_child(int sig, char dir[256], char file[256], char kept[256])
{
	int fds[2], status = 0;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct err e;
		char p[512];
		int fd;

		close(fds[0]);
		snprintf(dir, 256, "%s/layout.tmp-XXXXXX", base);
		snprintf(file, 256, "%s/arch.tmp-XXXXXX", base);
		snprintf(kept, 256, "%s/kept.tmp-XXXXXX", base);
		if (cleanup_mkdtemp(dir, &e) != 0 || (fd = cleanup_mkstemp(file, O_CLOEXEC, &e)) < 0 ||
		    cleanup_mkdtemp(kept, &e) != 0)
			_exit(8);
		close(fd);
		cleanup_forget(kept);
		snprintf(p, sizeof(p), "%s/blobs", dir);
		mkdir(p, 0755);
		snprintf(p, sizeof(p), "%s/blobs/sha256", dir);
		mkdir(p, 0755);
		for (int i = 0; i < 300; i++) {
			char name[80];

			snprintf(name, sizeof(name), "%064d", i);
			put(p, name);
		}
		put(dir, "index.json");
		snprintf(p, sizeof(p), "%s/up", dir);
		if (symlink(base, p) != 0)
			_exit(9);
		if (write(fds[1], dir, 256) != 256 || write(fds[1], file, 256) != 256 ||
		    write(fds[1], kept, 256) != 256)
			_exit(9);
		close(fds[1]);
		raise(sig);
		_exit(0);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], dir, 256), 256);
	assert_int_equal(read(fds[0], file, 256), 256);
	assert_int_equal(read(fds[0], kept, 256), 256);
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void test_signals_remove(void **state)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	char dir[256], file[256], kept[256];

	(void)state;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		int st = run_child(sigs[i], dir, file, kept);

		assert_true(WIFSIGNALED(st));
		assert_int_equal(WTERMSIG(st), sigs[i]);
		assert_false(exists(dir));
		assert_false(exists(file));
		assert_true(exists(kept)); /* forgotten: not touched */
		assert_true(exists(base)); /* the symlink was removed, not followed */
		assert_int_equal(rmdir(kept), 0);
	}
}

static void test_ignored_stays_ignored(void **state)
{
	char dir[256], file[256], kept[256];
	struct sigaction ign, old;
	int st;

	(void)state;
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	assert_int_equal(sigaction(SIGHUP, &ign, &old), 0);
	st = run_child(SIGHUP, dir, file, kept); /* the child inherits SIG_IGN: lives on, exits 0 */
	assert_int_equal(sigaction(SIGHUP, &old, NULL), 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_true(exists(dir));
	assert_true(exists(file));
}

static void test_table_full(void **state)
{
	char paths[CLEANUP_MAX + 1][256];
	struct err e;
	int i;

	(void)state;
	for (i = 0; i < CLEANUP_MAX; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s/full.tmp-XXXXXX", base);
		assert_int_equal(cleanup_mkdtemp(paths[i], &e), 0);
	}
	snprintf(paths[i], sizeof(paths[i]), "%s/over.tmp-XXXXXX", base);
	assert_int_equal(cleanup_mkdtemp(paths[i], &e), ERR_TOO_LARGE);
	assert_non_null(strstr(e.msg, "temporary paths"));
	assert_false(exists(paths[i])); /* nothing created */
	for (i = 0; i < CLEANUP_MAX; i++) {
		cleanup_forget(paths[i]);
		assert_int_equal(rmdir(paths[i]), 0);
	}
	snprintf(paths[0], sizeof(paths[0]), "%s/again.tmp-XXXXXX", base);
	assert_int_equal(cleanup_mkdtemp(paths[0], &e), 0); /* slots are free again */
	cleanup_forget(paths[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signals_remove),
		cmocka_unit_test(test_ignored_stays_ignored),
		cmocka_unit_test(test_table_full),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
