/* cleanup — temporary files and directories that a fatal signal (SIGTERM, SIGINT, SIGHUP) removes before the
 * process dies, so that an interrupted `hardline harden` leaves no half-written DST.tmp-XXXXXX behind.
 * The signal handler removes what is registered with async-signal-safe calls only, then dies of the signal. */
#ifndef HARDLINE_CLEANUP_H
#define HARDLINE_CLEANUP_H

#include "lib/err.h"

#define CLEANUP_MAX 16 /* paths registered at once */

/* Creates a directory from templ ("PREFIX-XXXXXX", completed in place, mode 0700 as mkdtemp) and registers it:
 * a fatal signal removes it with everything in it (up to 8 levels deep). The signals are blocked from creation to
 * registration, so the directory never exists unregistered. The first registration installs the handler for
 * each of the three signals whose disposition is the default (an ignored SIGHUP, under nohup, stays ignored).
 * Errors (nothing created): ERR_IO (errno in the message), ERR_TOO_LARGE (CLEANUP_MAX paths registered, or
 * templ longer than PATH_MAX). Only the process that registered a path removes it (not a forked child). */
int cleanup_mkdtemp(char *templ, struct err *e);

/* The same for a file: mkostemp(templ, flags); returns the open descriptor (the caller closes it) or a negative
 * code as cleanup_mkdtemp. */
int cleanup_mkstemp(char *templ, int flags, struct err *e);

/* Unregisters path once it was renamed into place or removed; a path not registered is ignored. */
void cleanup_forget(const char *path);

#endif
