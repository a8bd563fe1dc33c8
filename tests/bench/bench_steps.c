/* Benchmark: the five tree steps (users, permissions, executables, package-manager, system-cruft) and the facts on a
 * synthetic image index of N entries (a Debian-like layout: usrmerged bin dirs with ~2000 names, a busybox with its
 * applet links, a dpkg database, deep /usr/share trees). Prints the median milliseconds of each over R runs, each on a
 * freshly built index. Usage: bench_steps [N [R]]. Figures only; nothing is asserted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hardener/engine.h"
#include "hardener/facts.h"
#include "tests/bench/benchtime.h"

static const char busybox_bin[] = "\177ELF\2\1\1\0 BusyBox v1.36.1 (bench)\0"
				  "[\0[[\0ash\0cat\0chmod\0ls\0mount\0sh\0su\0vi\0wget\0zcat\0";
static const char passwd[] = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/:/usr/sbin/nologin\n"
			     "www-data:x:33:33::/var/www:/usr/sbin/nologin\n";
static const char group[] = "root:x:0:\ndaemon:x:1:\nwww-data:x:33:\n";

/* The backend: busybox and the account files have content, everything else reads as empty. */
static int bench_read(struct fs_backend *b, const struct fs_node *n, size_t cap, struct strbuf *out, struct err *e)
{
	if (strcmp(n->path, "/usr/bin/busybox") == 0)
		return sb_append(out, busybox_bin, sizeof(busybox_bin));
	if (strcmp(n->path, "/etc/passwd") == 0)
		return sb_puts(out, passwd);
	if (strcmp(n->path, "/etc/group") == 0)
		return sb_puts(out, group);
	return 0;
}

static const struct fs_backend_ops bench_ops = { "bench", bench_read, NULL, NULL };

/* Adds one node; exits on failure (a benchmark has no error path worth keeping). */
static void put(struct fstree *t, const char *path, enum fs_type type, uint32_t mode, const char *link,
    const char *head)
{
	struct fs_node n;
	struct err e;

	memset(&n, 0, sizeof(n));
	n.path = (char *)path;
	n.type = type;
	n.mode = mode;
	n.link = (char *)link;
	n.size = 4096;
	if (head != NULL) {
		n.head = (unsigned char *)head; /* borrowed: fstree_put copies at most FS_HEAD_LEN */
		n.head_len = (uint32_t)strlen(head);
	}
	if (fstree_put(t, &n, NULL, &e) != 0) {
		fprintf(stderr, "bench_steps: %s\n", e.msg);
		exit(1);
	}
}

/* A Debian-like index of about n entries. */
static struct fstree *build(size_t n)
{
	static const char *const dirs[] = { "/", "/usr", "/usr/bin", "/usr/sbin", "/usr/lib", "/usr/share", "/etc",
		"/var", "/var/lib", "/var/lib/dpkg", "/var/cache", "/var/cache/apt", "/tmp", "/root", "/etc/cron.d",
		NULL };
	struct fstree *t = fstree_new();
	char p[256], l[256];
	size_t i, k = 0;

	for (i = 0; dirs[i] != NULL; i++, k++)
		put(t, dirs[i], FS_DIR, i == 12 ? 0777 : 0755, NULL, NULL);
	put(t, "/bin", FS_SYMLINK, 0777, "usr/bin", NULL);
	put(t, "/sbin", FS_SYMLINK, 0777, "usr/sbin", NULL);
	put(t, "/etc/passwd", FS_REG, 0644, NULL, "root");
	put(t, "/etc/group", FS_REG, 0644, NULL, "root");
	put(t, "/var/lib/dpkg/status", FS_REG, 0644, NULL, "Package");
	put(t, "/usr/sbin/nologin", FS_REG, 0755, NULL, "\177ELF");
	put(t, "/usr/bin/busybox", FS_REG, 04755, NULL, "\177ELF");
	k += 7;
	for (i = 0; i < 300; i++, k++) {
		snprintf(p, sizeof(p), "/usr/bin/applet%03zu", i);
		put(t, p, FS_SYMLINK, 0777, "busybox", NULL);
	}
	for (i = 0; i < 1700; i++, k++) {
		snprintf(p, sizeof(p), "/usr/bin/tool%04zu", i);
		put(t, p, FS_REG, i % 50 == 0 ? 04755 : 0755, NULL, i % 3 ? "\177ELF" : "#!/bin/sh\n");
	}
	for (i = 0; i < 200; i++, k++) {
		snprintf(p, sizeof(p), "/usr/lib/lib%03zu.so", i);
		snprintf(l, sizeof(l), "lib%03zu.so.%zu", i, i % 7 ? i : 999); /* every 7th link is broken */
		put(t, p, FS_SYMLINK, 0777, l, NULL);
		snprintf(p, sizeof(p), "/usr/lib/lib%03zu.so.%zu", i, i);
		put(t, p, FS_REG, 0644, NULL, "\177ELF");
		k++;
	}
	for (i = 0; k < n; i++) {
		if (i % 20 == 0) {
			snprintf(p, sizeof(p), "/usr/share/d%05zu", i / 20);
			put(t, p, FS_DIR, 0755, NULL, NULL);
		} else {
			snprintf(p, sizeof(p), "/usr/share/d%05zu/f%02zu", i / 20, i % 20);
			put(t, p, FS_REG, i % 997 == 0 ? 0666 : 0644, NULL, "text");
		}
		k++;
	}
	return t;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(struct harden_ctx *, struct report_step *, struct err *);
	} steps[] = {
		{ "users", step_users },
		{ "permissions", step_permissions },
		{ "executables", step_executables },
		{ "package-manager", step_package_manager },
		{ "system-cruft", step_system_cruft },
	};
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000, runs = argc > 2 ? strtoul(argv[2], NULL, 10) : 5;
	double ms[6][64];
	struct fs_backend b = { &bench_ops };
	size_t r, s, changes = 0;
	struct err e;

	if (runs == 0 || runs > 64)
		runs = 5;
	for (r = 0; r < runs; r++) {
		struct fstree *t = build(n);
		struct hpolicy p;
		struct report *rep = report_new(false);
		struct harden_ctx ctx = { t, &b, &p, rep, HARDEN_MODE_IMAGE, false, NULL, NULL };
		json_t *facts = NULL;
		size_t nsorted;
		double t0;

		fstree_sorted(t, &nsorted); /* the backend's load sorts once; not a cost of the steps */
		if (hpolicy_init_defaults(&p, &e) != 0 || rep == NULL)
			return 1;
		for (s = 0; s < 5; s++) {
			struct report_step *rs = report_step_begin(rep, steps[s].name);

			t0 = benchtime_wall_us() / 1e3;
			if (steps[s].fn(&ctx, rs, &e) != 0) {
				fprintf(stderr, "bench_steps: %s: %s\n", steps[s].name, e.msg);
				return 1;
			}
			ms[s][r] = benchtime_wall_us() / 1e3 - t0;
		}
		t0 = benchtime_wall_us() / 1e3;
		if (facts_compute(t, &b, &facts, &e) != 0) {
			fprintf(stderr, "bench_steps: facts: %s\n", e.msg);
			return 1;
		}
		ms[5][r] = benchtime_wall_us() / 1e3 - t0;
		changes = report_total_changes(rep);
		json_decref(facts);
		report_free(rep);
		hpolicy_cleanup(&p);
		fstree_free(t);
	}
	printf("steps on a synthetic index of %zu entries (%zu changes per run), median of %zu runs:\n", n, changes,
	    runs);
	for (s = 0; s < 6; s++) {
		qsort(ms[s], runs, sizeof(double), benchtime_cmp);
		printf("  %-16s %8.1f ms\n", s < 5 ? steps[s].name : "facts", ms[s][runs / 2]);
	}
	printf("  (permissions includes re-sorting the index once: users added the home directory)\n");
	return 0;
}
