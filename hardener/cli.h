/* cli — what the hardline subcommands share when they read their command line: the usage message for an option
 * getopt_long refused, byte sizes with K/M/G/T suffixes, and the effective policy that --policy and --keep make. */
#ifndef HARDLINE_CLI_H
#define HARDLINE_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "hardener/policy.h"
#include "hardener/report.h"
#include "lib/err.h"

/* The reason for a usage error after getopt_long (optstring starting with "+:") returned c for argv[optind - 1]:
 * "option X needs an argument" when c is ':', else "unknown option X". Written into msg[size]; returns msg. */
const char *cli_opt_error(int c, char **argv, char *msg, size_t size);

/* The same for commands whose optstring does not start with ':' (getopt_long cannot tell the two apart):
 * "unknown option or missing value: "X"". Written into msg[size]; returns msg. */
const char *cli_opt_refused(char **argv, char *msg, size_t size);

/* "8G", "512M", "4096" -> bytes (K, M, G, T suffixes, either case, powers of 1024; at least 1). Returns 0, or
 * ERR_USAGE with a message naming s when it is malformed, zero or overflows; *out is set only on success. */
int cli_parse_size(const char *s, uint64_t *out, struct err *e);

/* Builds the effective policy into pol: the built-in defaults, then file (when not NULL) over them, then every
 * keep[i] (--keep NAME) allowed, then finalized (digest computed). On success the caller owns pol and frees it with
 * hpolicy_cleanup; on error pol holds nothing to free and e names the file or name at fault (hpolicy_* codes). */
int cli_policy_load(struct hpolicy *pol, const char *file, char *const *keep, size_t nkeep, struct err *e);

/* Records in rep what every hardening run reports about itself: "hardener" (name and version), "mode" (e.g.
 * "rootfs", "image"), the effective policy pol ("policyDigest", "profile", "policy") and the count of indexed
 * "entries". An allocation failure is remembered by the report (report_write_file then fails). */
void cli_report_run(struct report *rep, const char *mode, const struct hpolicy *pol, size_t entries);

#endif
