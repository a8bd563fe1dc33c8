/* pathpat — how a path of an image relates to a list of fnmatch(FNM_PATHNAME) patterns such as "/etc/cron.*": the
 * hardening steps that delete by pattern walk the sorted tree with it and skip a directory nothing beneath can match. */
#ifndef HARDLINE_PATHPAT_H
#define HARDLINE_PATHPAT_H

#include <stddef.h>

#define PATHPAT_NONE 0	  /* no pattern matches path nor anything beneath it */
#define PATHPAT_BENEATH 1 /* none matches path, but one could match something beneath it */
#define PATHPAT_MATCH 2	  /* a pattern matches path itself */

/* Scans pats[0..npats) (borrowed, none NULL) against the absolute path: PATHPAT_MATCH when one matches it,
 * PATHPAT_BENEATH when the literal part of one agrees with path as far as both go (a wildcard or path's end comes
 * first), else PATHPAT_NONE. The values are ordered, so the larger of two answers is the stronger. */
int pathpat_scan(const char *const *pats, size_t npats, const char *path);

#endif
