/* Tests of hardener/fsdir: the one-pass index of a live directory and the commit of marks, on small trees made in a
 * temporary directory, including hostile ones (symlinks out of the root, symlinked parents, fifos, device nodes,
 * newlines in names) next to canary files outside the root that must stay byte- and mode-identical. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "hardener/fsdir.h"

struct fx {
	char base[64];	  /* /tmp/hl-fsdir-XXXXXX */
	char root[128];	  /* base/root: the directory hardened */
	char out[128];	  /* base/outside: canaries */
	char canary[160]; /* base/outside/canary */
	struct stat canary_st;
	char canary_data[64];
};

static void mk(const struct fx *f, const char *rel, const char *content, mode_t mode)
{
	char p[512];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/%s", f->root, rel);
	if (content == NULL) {
		assert_int_equal(mkdir(p, mode), 0);
		assert_int_equal(chmod(p, mode), 0);
		return;
	}
	assert_non_null(fp = fopen(p, "w"));
	fputs(content, fp);
	fclose(fp);
	assert_int_equal(chmod(p, mode), 0);
}

static void ln(const struct fx *f, const char *target, const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", f->root, rel);
	assert_int_equal(symlink(target, p), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	FILE *fp;

	str_copy(f->base, sizeof(f->base), "/tmp/hl-fsdir-XXXXXX");
	assert_non_null(mkdtemp(f->base));
	snprintf(f->root, sizeof(f->root), "%s/root", f->base);
	snprintf(f->out, sizeof(f->out), "%s/outside", f->base);
	snprintf(f->canary, sizeof(f->canary), "%s/canary", f->out);
	assert_int_equal(mkdir(f->root, 0755), 0);
	assert_int_equal(mkdir(f->out, 0755), 0);
	str_copy(f->canary_data, sizeof(f->canary_data), "canary: root:x:0:0::/root:/bin/sh\n");
	assert_non_null(fp = fopen(f->canary, "w"));
	fputs(f->canary_data, fp);
	fclose(fp);
	assert_int_equal(chmod(f->canary, 04755), 0);
	assert_int_equal(stat(f->canary, &f->canary_st), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "chmod -R u+rwx %s 2>/dev/null; rm -rf %s", f->base, f->base);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", f->base);
	free(f);
	return 0;
}

/* The canary outside the root is unchanged: bytes, mode, owner, inode; and nothing new appeared beside it. */
static void canary_intact(const struct fx *f)
{
	struct stat st;
	char buf[128], p[200];
	FILE *fp;
	size_t n;

	assert_int_equal(lstat(f->canary, &st), 0);
	assert_int_equal(st.st_mode, f->canary_st.st_mode);
	assert_int_equal(st.st_uid, f->canary_st.st_uid);
	assert_int_equal(st.st_gid, f->canary_st.st_gid);
	assert_int_equal(st.st_ino, f->canary_st.st_ino);
	assert_non_null(fp = fopen(f->canary, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	assert_string_equal(buf, f->canary_data);
	assert_int_equal(stat(f->out, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(st.st_nlink, 2); /* no directory created inside */
	snprintf(p, sizeof(p), "%s/x", f->out);
	assert_int_equal(access(p, F_OK), -1);
}

static void open_tree(const struct fx *f, struct fs_backend **b, struct fstree **t)
{
	struct err e;

	err_clear(&e);
	if (fsdir_open(f->root, b, t, &e) != 0)
		fail_msg("fsdir_open: %s", e.msg);
}

/* Adds a node the walk did not see (what a stale index or a race would hold). */
static struct fs_node *fake(struct fstree *t, const char *path, enum fs_type type, uint32_t mode)
{
	struct fs_node n, *out = NULL;
	struct err e;

	memset(&n, 0, sizeof(n));
	n.path = (char *)path;
	n.type = type;
	n.mode = mode;
	assert_int_equal(fstree_put(t, &n, &out, &e), 0);
	return out;
}

static void test_index(void **state)
{
	struct fx *f = *state;
	struct fs_backend *b;
	struct fstree *t;
	struct fs_node *n;
	struct strbuf sb;
	struct err e;
	char p[256];

	mk(f, "etc", NULL, 0755);
	mk(f, "etc/passwd", "root:x:0:0:root:/root:/bin/bash\n", 0644);
	mk(f, "usr", NULL, 0755);
	mk(f, "usr/bin", NULL, 0755);
	mk(f, "usr/bin/tool",
	    "\x7f"
	    "ELF\2\1\1",
	    04755);
	mk(f, "usr/bin/script", "#!/bin/sh\necho hi\n", 0755);
	ln(f, "usr/bin", "bin");
	ln(f, f->out, "outlink");
	mk(f, "we\nird", "x", 0600);
	snprintf(p, sizeof(p), "%s/fifo", f->root);
	assert_int_equal(mkfifo(p, 0666), 0);
	if (geteuid() == 0) {
		snprintf(p, sizeof(p), "%s/null", f->root);
		assert_int_equal(mknod(p, S_IFCHR | 0666, makedev(1, 3)), 0);
	}
	mk(f, "locked", NULL, 0700);
	mk(f, "locked/inside", "x", 0644);
	snprintf(p, sizeof(p), "%s/locked", f->root);
	assert_int_equal(chmod(p, 0), 0);

	open_tree(f, &b, &t);
	assert_non_null(n = fstree_get(t, "/"));
	assert_int_equal(n->type, FS_DIR);
	assert_non_null(n = fstree_get(t, "/etc/passwd"));
	assert_int_equal(n->type, FS_REG);
	assert_int_equal(n->mode, 0644);
	assert_int_equal(n->head_len, 0); /* not an executable: no head kept */
	assert_null(n->head);
	assert_non_null(n = fstree_get(t, "/usr/bin/tool"));
	assert_int_equal(n->mode, 04755);
	assert_memory_equal(n->head,
	    "\x7f"
	    "ELF",
	    4);
	assert_non_null(n = fstree_get(t, "/usr/bin/script"));
	assert_int_equal(n->head_len, strlen("#!/bin/sh\necho hi\n"));
	assert_non_null(n = fstree_get(t, "/bin"));
	assert_int_equal(n->type, FS_SYMLINK);
	assert_string_equal(n->link, "usr/bin");
	assert_null(fstree_get(t, "/bin/tool")); /* symlinks are not followed */
	assert_non_null(n = fstree_get(t, "/outlink"));
	assert_null(fstree_get(t, "/outlink/canary"));
	assert_non_null(n = fstree_get(t, "/we\nird"));
	assert_non_null(n = fstree_get(t, "/fifo"));
	assert_int_equal(n->type, FS_FIFO);
	assert_int_equal(n->head_len, 0);
	if (geteuid() == 0) {
		assert_non_null(n = fstree_get(t, "/null"));
		assert_int_equal(n->type, FS_CHR);
		assert_int_equal(n->dev_major, 1);
		assert_int_equal(n->dev_minor, 3);
	}
	assert_non_null(fstree_get(t, "/locked"));
	if (geteuid() == 0)
		assert_non_null(fstree_get(t, "/locked/inside")); /* root is not stopped by mode 000 */

	sb_init(&sb, 1 << 20);
	assert_int_equal(fs_backend_read(b, t, fstree_get(t, "/usr/bin/script"), 1024, &sb, &e), 0);
	assert_string_equal(sb.data, "#!/bin/sh\necho hi\n");
	sb_cleanup(&sb);
	sb_init(&sb, 1 << 20);
	assert_int_equal(fs_backend_read(b, t, fstree_get(t, "/usr/bin/script"), 4, &sb, &e), ERR_TOO_LARGE);
	sb_cleanup(&sb);
	b->ops->free(b);
	fstree_free(t);
	canary_intact(f);
}

/* Reads through symlinks are refused: a symlink node is not a regular file, and a stale index that believes a
 * symlink (or a path through one) is a regular file gets an error, never the canary's bytes. */
static void test_read_hostile(void **state)
{
	struct fx *f = *state;
	struct fs_backend *b;
	struct fstree *t;
	struct strbuf sb;
	struct err e;

	mk(f, "etc", NULL, 0755);
	ln(f, f->canary, "etc/passwd");
	ln(f, f->out, "usrbin");
	open_tree(f, &b, &t);
	sb_init(&sb, 1 << 20);
	assert_int_equal(fs_backend_read(b, t, fstree_get(t, "/etc/passwd"), 1024, &sb, &e), ERR_INVALID);
	fstree_get(t, "/etc/passwd")->type = FS_REG; /* a stale index */
	assert_int_equal(fs_backend_read(b, t, fstree_get(t, "/etc/passwd"), 1024, &sb, &e), ERR_ESCAPE);
	assert_int_equal(fs_backend_read(b, t, fake(t, "/usrbin/canary", FS_REG, 0644), 1024, &sb, &e), ERR_ESCAPE);
	assert_int_equal(sb.len, 0);
	sb_cleanup(&sb);
	b->ops->free(b);
	fstree_free(t);
	canary_intact(f);
}

/* Every kind of mark aimed, through a symlink or a symlinked parent, at the outside: each fails or acts on the link
 * itself inside the root; the canaries stay identical. */
static void test_commit_hostile(void **state)
{
	struct fx *f = *state;
	struct fs_backend *b;
	struct fstree *t;
	struct fs_node *n;
	struct err e;
	struct stat st, host_etc;
	char p[512];

	mk(f, "etc", NULL, 0755);
	ln(f, f->canary, "etc/passwd"); /* /etc/passwd -> /outside/canary */
	ln(f, f->canary, "etc/shadow");
	ln(f, f->out, "usrbin"); /* a directory symlinked outside */
	ln(f, "/", "rootlink");	 /* /usr/bin -> / */
	ln(f, f->out, "gone");
	assert_int_equal(stat("/etc", &host_etc), 0);
	open_tree(f, &b, &t);

	n = fstree_get(t, "/etc/passwd");
	fstree_mark_mode(n, 0777);	  /* a symlink's mode: ignored */
	fstree_mark_owner(n, 1234, 1234); /* lchown of the link itself */
	n = fstree_get(t, "/etc/shadow");
	n->type = FS_REG; /* stale: rewrite replaces the link, never writes through */
	assert_int_equal(fstree_mark_content(n, "new\n", 4, &e), 0);
	n->mode = 0600;
	n = fake(t, "/usrbin/canary", FS_REG, 04755);
	fstree_mark_mode(n, 0777);
	n = fake(t, "/usrbin/x", FS_REG, 0644);
	assert_int_equal(fstree_mark_content(n, "evil", 4, &e), 0);
	n->changes |= FS_CH_CREATE;
	n = fake(t, "/usrbin/victim", FS_DIR, 0755);
	n->changes |= FS_CH_CREATE;
	n = fake(t, "/rootlink/etc", FS_DIR, 0755);
	fstree_mark_mode(n, 0700);
	n = fake(t, "/usrbin/canary2", FS_REG, 0644);
	fstree_mark_delete(t, n);
	fstree_get(t, "/usrbin")->type = FS_DIR; /* stale: chmod/delete a "directory" that is a symlink */
	fstree_mark_mode(fstree_get(t, "/usrbin"), 0700);
	fstree_mark_delete(t, fstree_get(t, "/gone")); /* a symlink node: only the link goes */

	err_clear(&e);
	assert_int_not_equal(b->ops->commit(b, t, &e), 0);
	assert_non_null(strstr(e.msg, "could not be applied"));
	b->ops->free(b);
	fstree_free(t);

	canary_intact(f);
	assert_int_equal(stat("/etc", &st), 0);
	assert_int_equal(st.st_mode, host_etc.st_mode); /* /rootlink -> / was not followed */
	snprintf(p, sizeof(p), "%s/etc/passwd", f->root);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	if (geteuid() == 0)
		assert_int_equal(st.st_uid, 1234);
	snprintf(p, sizeof(p), "%s/etc/shadow", f->root); /* now a regular file inside the root */
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	snprintf(p, sizeof(p), "%s/gone", f->root);
	assert_int_equal(lstat(p, &st), -1);
}

/* The ordinary job: chmod, chown, rewrite keeping owner and mode, create, delete a subtree that holds entries the
 * index never saw, a fifo's mode, a name with a newline. */
static void test_commit(void **state)
{
	struct fx *f = *state;
	struct fs_backend *b, *b2;
	struct fstree *t, *t2;
	struct fs_node *n, tmpl;
	struct err e;
	struct stat st;
	char p[512];
	FILE *fp;
	size_t i, nv;
	struct fs_node *const *v;

	mk(f, "etc", NULL, 0775);
	mk(f, "etc/passwd", "root:x:0:0::/root:/bin/sh\nbin:x:1:1::/:/bin/sh\n", 0644);
	mk(f, "usr", NULL, 0755);
	mk(f, "usr/bin", NULL, 0777);
	mk(f, "usr/bin/su",
	    "\x7f"
	    "ELF",
	    04755);
	mk(f, "var", NULL, 0755);
	mk(f, "var/cache", NULL, 0755);
	mk(f, "var/cache/apt", NULL, 0755);
	mk(f, "var/cache/apt/a.bin", "aaaa", 0644);
	mk(f, "we\nird", "x", 0600);
	snprintf(p, sizeof(p), "%s/fifo", f->root);
	assert_int_equal(mkfifo(p, 0666), 0);
	open_tree(f, &b, &t);
	mk(f, "var/cache/apt/late", "created after the walk", 0644);

	fstree_mark_mode(fstree_get(t, "/etc"), 0755);
	fstree_mark_mode(fstree_get(t, "/usr/bin"), 0755);
	n = fstree_get(t, "/usr/bin/su");
	fstree_mark_mode(n, 0755);
	n = fstree_get(t, "/etc/passwd");
	if (geteuid() == 0) /* only root may give files away */
		fstree_mark_owner(n, 7, 8);
	assert_int_equal(fstree_mark_content(n, "root:x:0:0::/root:/usr/sbin/nologin\n", 36, &e), 0);
	fstree_mark_delete(t, fstree_get(t, "/var/cache/apt"));
	fstree_mark_delete(t, fstree_get(t, "/we\nird"));
	fstree_mark_mode(fstree_get(t, "/fifo"), 0600);
	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.path = (char *)"/app";
	tmpl.type = FS_DIR;
	tmpl.mode = 0755;
	tmpl.uid = geteuid() == 0 ? 1000 : geteuid();
	tmpl.gid = geteuid() == 0 ? 1000 : getegid();
	tmpl.changes = FS_CH_CREATE;
	assert_int_equal(fstree_put(t, &tmpl, NULL, &e), 0);
	tmpl.path = (char *)"/app/hello";
	tmpl.type = FS_REG;
	tmpl.mode = 0640;
	assert_int_equal(fstree_put(t, &tmpl, &n, &e), 0);
	assert_int_equal(fstree_mark_content(n, "hi\n", 3, &e), 0);
	err_clear(&e);
	if (b->ops->commit(b, t, &e) != 0)
		fail_msg("commit: %s", e.msg);
	b->ops->free(b);
	fstree_free(t);

	/* What a fresh walk sees is what was marked. */
	open_tree(f, &b2, &t2);
	assert_int_equal(fstree_get(t2, "/etc")->mode, 0755);
	assert_int_equal(fstree_get(t2, "/usr/bin")->mode, 0755);
	assert_int_equal(fstree_get(t2, "/usr/bin/su")->mode, 0755);
	n = fstree_get(t2, "/etc/passwd");
	assert_int_equal(n->mode, 0644);
	if (geteuid() == 0) {
		assert_int_equal(n->uid, 7);
		assert_int_equal(n->gid, 8);
		assert_int_equal(fstree_get(t2, "/app")->uid, 1000);
	}
	assert_int_equal(n->size, 36);
	snprintf(p, sizeof(p), "%s/etc/passwd", f->root);
	assert_non_null(fp = fopen(p, "r"));
	assert_non_null(fgets(p, sizeof(p), fp));
	fclose(fp);
	assert_string_equal(p, "root:x:0:0::/root:/usr/sbin/nologin\n");
	assert_null(fstree_get(t2, "/var/cache/apt"));
	assert_non_null(fstree_get(t2, "/var/cache"));
	assert_null(fstree_get(t2, "/we\nird"));
	assert_int_equal(fstree_get(t2, "/fifo")->mode, 0600);
	assert_int_equal(fstree_get(t2, "/app")->mode, 0755);
	assert_int_equal(fstree_get(t2, "/app/hello")->mode, 0640);
	snprintf(p, sizeof(p), "%s/app/hello", f->root);
	assert_non_null(fp = fopen(p, "r"));
	assert_non_null(fgets(p, sizeof(p), fp));
	fclose(fp);
	assert_string_equal(p, "hi\n");
	v = fstree_sorted(t2, &nv); /* no temporary file left behind */
	for (i = 0; i < nv; i++)
		assert_null(strstr(v[i]->path, ".hardline-tmp"));
	b2->ops->free(b2);
	fstree_free(t2);
	snprintf(p, sizeof(p), "%s/etc", f->root);
	assert_int_equal(stat(p, &st), 0);
	canary_intact(f);
}

/* A file hard-linked to a name outside the root shares its inode: chmod/chown would change the outside name too, so
 * the file is copied to a new inode first. Links that all live inside the root are changed in place. */
static void test_hardlinks(void **state)
{
	struct fx *f = *state;
	struct fs_backend *b;
	struct fstree *t;
	struct err e;
	struct stat st, st2;
	char p[512], q[512];

	mk(f, "bin", NULL, 0755);
	snprintf(p, sizeof(p), "%s/bin/su", f->root);
	assert_int_equal(link(f->canary, p), 0);
	mk(f, "bin/a", "pair", 04755);
	snprintf(p, sizeof(p), "%s/bin/a", f->root);
	snprintf(q, sizeof(q), "%s/bin/b", f->root);
	assert_int_equal(link(p, q), 0);
	open_tree(f, &b, &t);
	assert_int_equal(fstree_get(t, "/bin/su")->type, FS_REG); /* a live directory's hard links are files */
	fstree_mark_mode(fstree_get(t, "/bin/su"), 0755);
	fstree_mark_owner(fstree_get(t, "/bin/su"), 0, 0);
	fstree_mark_mode(fstree_get(t, "/bin/a"), 0755);
	fstree_mark_mode(fstree_get(t, "/bin/b"), 0755);
	err_clear(&e);
	if (b->ops->commit(b, t, &e) != 0)
		fail_msg("commit: %s", e.msg);
	b->ops->free(b);
	fstree_free(t);
	canary_intact(f);
	snprintf(p, sizeof(p), "%s/bin/su", f->root);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(st.st_nlink, 1);
	assert_int_equal(st.st_size, (off_t)strlen(f->canary_data));
	snprintf(p, sizeof(p), "%s/bin/a", f->root);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(stat(q, &st2), 0);
	assert_int_equal(st.st_ino, st2.st_ino); /* the inside pair stays one file */
	assert_int_equal(st.st_mode & 07777, 0755);
}

/* The walk neither hangs on fifos nor stops at unreadable places, and lists what it did not index. */
static void test_walk_notes(void **state)
{
	struct fx *f = *state;
	struct fs_backend *b;
	struct fstree *t;
	json_t *notes;

	mk(f, "a", NULL, 0755);
	open_tree(f, &b, &t);
	assert_non_null(notes = fsdir_walk_notes(b));
	assert_int_equal(json_array_size(notes), 0); /* a plain tree: nothing left out */
	json_decref(notes);
	b->ops->free(b);
	fstree_free(t);
	mk(f, "a/b", NULL, 0000); /* only meaningful as non-root: root reads it anyway */
	open_tree(f, &b, &t);
	assert_non_null(fstree_get(t, "/a/b"));
	assert_non_null(notes = fsdir_walk_notes(b));
	if (geteuid() != 0) {
		assert_int_equal(json_array_size(notes), 1);
		assert_string_equal(json_string_value(json_object_get(json_array_get(notes, 0), "path")), "/a/b");
	}
	json_decref(notes);
	b->ops->free(b);
	fstree_free(t);
}

static void test_open_errors(void **state)
{
	struct fx *f = *state;
	struct fs_backend *b;
	struct fstree *t;
	struct err e;

	assert_int_equal(fsdir_open("/nonexistent/dir", &b, &t, &e), ERR_NOT_FOUND);
	assert_null(b);
	assert_null(t);
	assert_int_not_equal(fsdir_open(f->canary, &b, &t, &e), 0);
	assert_non_null(strstr(e.msg, "not a directory"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hardlinks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_walk_notes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
