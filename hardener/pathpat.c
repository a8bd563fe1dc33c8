/* pathpat — path-against-patterns scanning for the deleting steps (pathpat.h); one copy instead of one per step. */
#include "hardener/pathpat.h"

#include <fnmatch.h>
#include <string.h>

int pathpat_scan(const char *const *pats, size_t npats, const char *path)
{
	int best = PATHPAT_NONE;
	size_t k, i;

	for (k = 0; k < npats && best < PATHPAT_MATCH; k++) {
		const char *pat = pats[k];

		if (fnmatch(pat, path, FNM_PATHNAME) == 0)
			return PATHPAT_MATCH;
		for (i = 0; pat[i] != '\0' && path[i] != '\0'; i++)
			if (strchr("*?[\\", pat[i]) != NULL || pat[i] != path[i])
				break;
		if (path[i] == '\0' || (pat[i] != '\0' && strchr("*?[\\", pat[i]) != NULL))
			best = PATHPAT_BENEATH;
	}
	return best;
}
