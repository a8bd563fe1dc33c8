/* transport — image references in skopeo's syntax: "oci:DIR[:TAG]", "oci-archive:FILE[:TAG]" and, for input only,
 * "docker-archive:FILE[:TAG]". The path ends at the first ':' after the transport name (as containers/image does),
 * so a path cannot contain ':' but a tag can ("docker.io/library/busybox:latest"). */
#ifndef HARDLINE_TRANSPORT_H
#define HARDLINE_TRANSPORT_H

#include <limits.h>
#include <stdbool.h>

#include "lib/err.h"

enum transport_kind {
	TRANSPORT_OCI = 1,	  /* an OCI image layout directory */
	TRANSPORT_OCI_ARCHIVE,	  /* a tar of an OCI image layout */
	TRANSPORT_DOCKER_ARCHIVE, /* `docker save`, `podman save`: legacy manifest.json and/or OCI layout */
};

#define TRANSPORT_TAG_MAX 256

struct transport_ref {
	enum transport_kind kind;
	char path[PATH_MAX];	     /* as given, never empty */
	char tag[TRANSPORT_TAG_MAX]; /* "" when none was given */
};

/* Parses s into *out. for_output refuses transports hardline cannot write (docker-archive). The tag must be
 * printable ASCII without spaces, at most TRANSPORT_TAG_MAX-1 bytes. Errors: ERR_USAGE with a message that names
 * the accepted forms (so the CLI can print it and exit 2). *out is cleared first. */
int transport_parse(const char *s, bool for_output, struct transport_ref *out, struct err *e);

/* "oci", "oci-archive", "docker-archive". */
const char *transport_name(enum transport_kind kind);

/* Writes "kind:path[:tag]" into dst[size] for messages. Returns 0 or ERR_TOO_LARGE. */
int transport_fmt(const struct transport_ref *r, char *dst, size_t size);

#endif
