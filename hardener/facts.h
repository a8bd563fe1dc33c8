/* facts — the measured attack surface of a root filesystem: executables (ELF, script, multi-call with applets),
 * shells, network fetch tools, interpreters, package managers, setuid/setgid files, world-writable paths, users and
 * groups, files and bytes. Computed from an fstree (pending marks applied), so "after" is known before a commit.
 * The JSON schema is documented in docs/facts.md; it is the attestation predicate's "facts" and `hardline scan`'s
 * output, and a cluster policy can require e.g. shells.count == 0. */
#ifndef HARDLINE_FACTS_H
#define HARDLINE_FACTS_H

#include <stddef.h>

#include <jansson.h>

#include "hardener/fstree.h"
#include "lib/err.h"

#define FACTS_SCHEMA_VERSION 1
#define FACTS_MAX_ITEMS 10000 /* items kept per list; "count" is always the true count */

/* Package-manager program names (fnmatch patterns), NULL-terminated: counted by the facts and deleted by the
 * package-manager step. */
extern const char *const facts_package_managers[];
/* The fact categories that hold {"count", "items"}, in schema order, NULL-terminated. */
extern const char *const facts_categories[];

/* Measures t as it will be once its marks are committed: nodes marked FS_CH_DELETE are ignored, pending modes and
 * new contents are used. b reads file contents (multi-call binaries, /etc/passwd, /etc/group); it is only read.
 * On success *out is a new JSON object (json_decref it). Errors: ERR_NOMEM, or a read error of the backend other
 * than a file being unreadable or too large (those are measured as "other" and noted). */
int facts_compute(struct fstree *t, struct fs_backend *b, json_t **out, struct err *e);

/* One human line: "files 812 (41.2 MiB), executables 3, shells 0, fetch tools 0, interpreters 0, package managers 0,
 * setuid 0, setgid 0, world-writable 0, users root appuser". Always NUL-terminates buf (n >= 1); returns buf. */
char *facts_summary_line(const json_t *facts, char *buf, size_t n);

#endif
