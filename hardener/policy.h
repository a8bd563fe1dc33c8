/* policy — the hardening policy: which steps run and how, read from a JSON file over built-in defaults that follow
 * the article (user appuser, uid/gid 1000, home /app, executables allowlist "nologin" only).
 * The file format is documented in docs/policy.md; unknown keys are refused so that a typo is not silently ignored. */
#ifndef HARDLINE_POLICY_H
#define HARDLINE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/digest.h"
#include "lib/err.h"

/* A list of strings owned by the policy. */
struct strlist {
	char **v;
	size_t n;
};

struct hpolicy {
	/* users */
	bool users;
	char *user;		   /* "appuser" */
	uint32_t uid, gid;	   /* 1000, 1000 */
	char *home;		   /* "/app" */
	char *shell;		   /* appuser's shell, default "/usr/sbin/nologin" */
	struct strlist keep_users; /* other accounts kept besides root and user (default none) */
	/* permissions */
	bool permissions;
	struct strlist system_dirs; /* made root:root 0755: /bin /sbin /usr /etc /lib ... */
	struct strlist sticky_dirs; /* kept world-writable with the sticky bit: /tmp /var/tmp */
	/* executables */
	bool executables;
	struct strlist bin_dirs; /* /bin /sbin /usr/bin /usr/sbin /usr/local/bin /usr/local/sbin */
	struct strlist allow;	 /* names (basenames) allowed to remain in bin_dirs; default "nologin" */
	/* package-manager */
	bool package_manager;
	/* system-cruft */
	bool system_cruft;
	struct strlist delete_paths; /* extra paths to delete */
	/* upgrade */
	bool upgrade;
	bool upgrade_required; /* a failed upgrade aborts the run */
	/* self */
	bool self_delete; /* in-build mode: delete the running hardener at the end */
	/* image mode: the config User written into the image ("1000:1000") */
	char *image_user;

	char digest[DIGEST_STR_LEN + 1]; /* sha256 of the canonical JSON of the effective policy */
	char *profile;			 /* "default", or the "profile" name given in the file */
};

/* Fills p with the defaults. Returns 0 or ERR_NOMEM. Pair with hpolicy_cleanup. */
int hpolicy_init_defaults(struct hpolicy *p, struct err *e);

/* Reads a policy file over the defaults already in p. A bad file is refused with the file, line and reason
 * (ERR_PARSE / ERR_INVALID / ERR_NOT_FOUND / ERR_TOO_LARGE); p is unchanged on error. */
int hpolicy_load_file(struct hpolicy *p, const char *path, struct err *e);

/* The same over text[len] already in memory; name stands for the file in messages. */
int hpolicy_load_buf(struct hpolicy *p, const char *name, const char *text, size_t len, struct err *e);

/* Adds a name to the executables allowlist (--keep NAME). */
int hpolicy_allow(struct hpolicy *p, const char *name, struct err *e);

/* Computes p->digest from the canonical JSON form of the effective policy (call after all changes). */
int hpolicy_finalize(struct hpolicy *p, struct err *e);

/* The effective policy as JSON (new reference, json_decref it), as recorded in reports and attestations; NULL when
 * out of memory (never a policy with a member missing). */
struct json_t;
struct json_t *hpolicy_to_json(const struct hpolicy *p);

/* Frees everything p owns (after hpolicy_init_defaults, even a failed load); p may be NULL. p is zeroed after. */
void hpolicy_cleanup(struct hpolicy *p);

/* A growable list of owned strings. strlist_has: whether s is in l (exact match). strlist_add: appends a copy of s,
 * 0 or ERR_NOMEM (l unchanged). strlist_cleanup: frees the strings and the array; l is empty afterwards. */
bool strlist_has(const struct strlist *l, const char *s);
int strlist_add(struct strlist *l, const char *s);
void strlist_cleanup(struct strlist *l);

#endif
