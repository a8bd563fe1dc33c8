/* wpolicy — the webhook's policy file: which securityContext rules apply, the allowed UIDs, who and what is exempt,
 * and the (not yet enforced) attestation settings. Loaded strictly (unknown keys refused, with file and line), then
 * immutable and reference-counted, so that a reload can swap it while in-flight requests keep the one they began with. */
#ifndef HARDLINE_WPOLICY_H
#define HARDLINE_WPOLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/err.h"

#define WPOLICY_MAX_BYTES (1024 * 1024) /* a policy file over this is refused */
#define WPOLICY_MAX_LIST 1024		/* entries per list (allowedUIDs, exempt.*) */

/* The switchable rules, in the order of the policy file's "rules" object. A rule is "on" when the policy asks for
 * the strict value (readOnlyRootFilesystem: true, privileged: false, hostPath: false, ...). */
enum wrule {
	WR_READ_ONLY_ROOT_FS,  /* rules.readOnlyRootFilesystem (default true) */
	WR_RUN_AS_NON_ROOT,    /* rules.runAsNonRoot (default true) */
	WR_RUN_AS_USER,	       /* effective runAsUser must be in allowedUIDs (on unless allowedUIDs is []) */
	WR_NO_PRIV_ESCALATION, /* rules.allowPrivilegeEscalation (default false = rule on) */
	WR_NOT_PRIVILEGED,     /* rules.privileged (default false = rule on) */
	WR_DROP_ALL_CAPS,      /* rules.dropAllCapabilities (default true) */
	WR_SECCOMP,	       /* rules.seccomp (default true) */
	WR_NO_HOST_NAMESPACES, /* rules.hostNamespaces (default false = rule on) */
	WR_NO_HOST_PATH,       /* rules.hostPath (default false = rule on) */
	WR_NO_HOST_PORTS,      /* rules.hostPorts (default false = rule on) */
	WR_DENY_WINDOWS,       /* rules.windowsPods (default false = rule on: Windows pods are denied) */
	WR_PROC_MOUNT,	       /* rules.procMount (default true): procMount unset or Default */
	WR_SELINUX,	       /* rules.seLinux (default true): seLinuxOptions type container_t & co, no user/role */
	WR_APPARMOR,	 /* rules.appArmor (default true): AppArmor RuntimeDefault or Localhost (field, annotation) */
	WR_SYSCTLS,	 /* rules.sysctls (default true): only the safe namespaced sysctls */
	WR_VOLUME_TYPES, /* rules.volumeTypes (default true): only the volume types of Pod Security "restricted" */
	WR__COUNT
};

/* A loaded policy. Treat every field as read-only: the struct is shared between threads once published.
 * Strings and arrays are owned by the policy. */
struct wpolicy {
	bool rule[WR__COUNT];  /* true = the rule is checked */
	int64_t *allowed_uids; /* allowedUIDs */
	size_t n_allowed_uids;
	char **exempt_namespaces; /* exempt.namespaces (+ the webhook's own namespace, see below) */
	size_t n_exempt_namespaces;
	char **exempt_users; /* exempt.users: exact userInfo.username */
	size_t n_exempt_users;
	char **exempt_groups; /* exempt.groups: exact entries of userInfo.groups */
	size_t n_exempt_groups;
	char **exempt_images; /* exempt.images: exact reference, "sha256:<hex>", or a prefix ending in slash-star */
	size_t n_exempt_images;
	json_t *attestations;	/* the "attestations" object as written (owned reference), or NULL; not enforced yet */
	char *source;		/* file name, or "built-in defaults" */
	char digest[72];	/* "sha256:<hex>" of the file bytes ("" for the built-in defaults) */
	bool own_namespace_set; /* the last exempt namespace is the webhook's own */
	int refs;		/* reference count (atomic); use wpolicy_ref/wpolicy_unref */
};

/* Loads and checks the policy file at path (NULL: the built-in defaults). The webhook's own namespace is added to
 * the exempt namespaces: it is taken from the environment variable POD_NAMESPACE at load time; call
 * wpolicy_set_own_namespace before publishing the policy to override it. On success *out holds one reference
 * (release it with wpolicy_unref). Errors: ERR_NOT_FOUND, ERR_IO, ERR_TOO_LARGE, ERR_PARSE (with line and column),
 * ERR_INVALID (naming the key, the file and the line of the key). */
int wpolicy_load(const char *path, struct wpolicy **out, struct err *e);

/* As wpolicy_load, from a buffer; label names it in messages ("policy test.json"). */
int wpolicy_parse(const char *buf, size_t len, const char *label, struct wpolicy **out, struct err *e);

/* Adds ns to the exempt namespaces (replacing the one taken from POD_NAMESPACE). Only valid before the policy is
 * shared with other threads (reference count 1). ns NULL or "" removes it. ERR_INVALID if ns is not a DNS label. */
int wpolicy_set_own_namespace(struct wpolicy *p, const char *ns, struct err *e);

/* Takes one more reference (thread-safe) and returns p. p may be NULL. */
struct wpolicy *wpolicy_ref(struct wpolicy *p);

/* Drops one reference (thread-safe); frees the policy with the last one. p may be NULL. */
void wpolicy_unref(struct wpolicy *p);

/* Exemption checks used by the admission logic. Strings are compared exactly (case-sensitive). */
bool wpolicy_namespace_exempt(const struct wpolicy *p, const char *ns);
bool wpolicy_user_exempt(const struct wpolicy *p, const char *username);
bool wpolicy_group_exempt(const struct wpolicy *p, const char *group);
/* An image is exempt when an entry equals its reference, when an entry "sha256:<hex>" equals the digest the
 * reference ends with ("@sha256:<hex>"), or when an entry ends in a slash and a star ("registry.example.com/team/"
 * then "*") and the image starts with the part before the star. */
bool wpolicy_image_exempt(const struct wpolicy *p, const char *image);

/* The policy key of a rule ("readOnlyRootFilesystem", ...), for messages. */
const char *wpolicy_rule_key(enum wrule r);

#endif
