/* multicall — recognizes multi-call binaries (busybox, toybox, the coreutils single binary) by their content and
 * recovers the names of their applets from the sorted name table they embed. A multi-call binary exposes every
 * applet whatever names link to it (`busybox chmod`), so the hardener must know which files are one. */
#ifndef HARDLINE_MULTICALL_H
#define HARDLINE_MULTICALL_H

#include <stdbool.h>
#include <stddef.h>

#include "hardener/fstree.h"
#include "lib/err.h"

#define MULTICALL_READ_CAP (16u << 20) /* larger files are not read (no multi-call binary is that big) */
#define MULTICALL_MIN_APPLETS 10       /* a sorted name table shorter than this is not taken for one */

struct multicall {
	const char *kind; /* "busybox", "toybox", "coreutils" (static string) */
	char **applets;	  /* sorted, owned; NULL when the table was not found */
	size_t napplets;
	bool applets_known;
};

/* Classifies buf[len], the whole content of a file. On success *out is NULL when it is not a multi-call binary,
 * else a new struct multicall (multicall_free). Markers: "BusyBox v" (busybox), "--coreutils-prog" (coreutils),
 * "toybox --help", "usage: toybox " or a name table containing "toybox" (toybox); the content must start with the
 * ELF magic. The applet list is the longest run of at least MULTICALL_MIN_APPLETS strictly ascending NUL-separated
 * names — for toybox only when that run holds "toybox" itself, since its real table interleaves names with option
 * strings; otherwise applets_known is false. ERR_NOMEM only. */
int multicall_classify(const char *buf, size_t len, struct multicall **out, struct err *e);

/* Reads n through the backend (at most MULTICALL_READ_CAP) and classifies it; *out as above. A file over the cap or
 * not a regular file is "not multi-call" (0, *out NULL). Other read errors are returned. */
int multicall_detect(struct fs_backend *b, struct fstree *t, const struct fs_node *n, struct multicall **out,
    struct err *e);

/* The reading heuristic, so that a scan does not read every binary of an image: worth reading when the node's head
 * is ELF and either its basename is a known multi-call name (busybox, busybox.*, toybox, coreutils) or at least
 * two names in the bin dirs lead to it (symlinks, hard links, or identical-looking copies). */
bool multicall_worth_reading(const struct fs_node *n, const char *basename, size_t nnames);

/* True when n's head starts with the ELF magic. */
bool multicall_is_elf(const struct fs_node *n);

/* Whether name is one of m's applets (false when the list is unknown). */
bool multicall_has_applet(const struct multicall *m, const char *name);

void multicall_free(struct multicall *m);

#endif
