/* casedirs — the runner of the data-driven unit tests (STYLE.md: a directory per case, input + expected): every
 * sub-directory of a fixture directory becomes one cmocka test, run before the fixed tests of the same group. */
#ifndef HARDLINE_TEST_CASEDIRS_H
#define HARDLINE_TEST_CASEDIRS_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* Runs one test per sub-directory of dir whose name does not start with '.' (in name order; run_case gets the name
 * as its *state), then fixed[nfixed], as the cmocka group named group. Returns the count of failed tests, or 1 with
 * a message on stderr when dir cannot be read (the tests run from the repository root). */
static inline int casedirs_run(const char *group, const char *dir, CMUnitTestFunction run_case,
    const struct CMUnitTest *fixed, size_t nfixed)
{
	struct CMUnitTest *tests;
	struct dirent **names = NULL;
	char p[1024];
	struct stat st;
	int n, i, fails = 1;
	size_t k = 0, j;

	if ((n = scandir(dir, &names, NULL, alphasort)) < 0) {
		fprintf(stderr, "test_%s: cannot read %s (run from the repository root)\n", group, dir);
		return 1;
	}
	if ((tests = calloc((size_t)n + nfixed, sizeof(*tests))) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]->d_name);
		if (names[i]->d_name[0] == '.' || stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
			continue;
		tests[k].name = names[i]->d_name;
		tests[k].test_func = run_case;
		tests[k].initial_state = names[i]->d_name;
		k++;
	}
	for (j = 0; j < nfixed; j++)
		tests[k++] = fixed[j];
	fails = _cmocka_run_group_tests(group, tests, k, NULL, NULL);
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(tests);
	return fails;
}

#endif
