/* imageref — container image references ("busybox", "127.0.0.1:5000/shop/web:1.2@sha256:…") in the docker
 * reference grammar, normalized the way docker and podman do (docker.io, library/), and the registry host facts the
 * registry client needs (API host of Docker Hub, loopback detection). */
#ifndef HARDLINE_IMAGEREF_H
#define HARDLINE_IMAGEREF_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/digest.h"
#include "lib/err.h"

#define IMAGEREF_NAME_MAX 255 /* "registry/repository", as distribution's NameTotalLengthMax */
#define IMAGEREF_TAG_MAX 128  /* [\w][\w.-]{0,127} */
#define IMAGEREF_DEFAULT_REGISTRY "docker.io"

struct imageref {
	char registry[IMAGEREF_NAME_MAX + 1];	/* "docker.io", "127.0.0.1:5000", "[::1]:5000", "localhost" */
	char repository[IMAGEREF_NAME_MAX + 1]; /* "library/busybox", "shop/web" */
	char tag[IMAGEREF_TAG_MAX + 1];		/* "" when none was given (no implicit "latest") */
	char digest[DIGEST_STR_LEN + 1];	/* "" when none was given; else a validated "sha256:<hex>" */
};

/* Parses s (NAME[:TAG][@DIGEST]) into *out, normalized: a first path component that contains '.' or ':' or is
 * "localhost" is the registry, otherwise the registry is docker.io; "index.docker.io" becomes "docker.io", and a
 * one-component Docker Hub name gets "library/". Repository components are lowercase alphanumerics joined by '.',
 * '_', "__" or runs of '-'. Only sha256 digests are accepted. *out is cleared first.
 * Errors: ERR_PARSE (what is wrong and where), ERR_TOO_LARGE (name over 255 bytes, tag over 128),
 * ERR_UNSUPPORTED (a digest algorithm other than sha256). */
int imageref_parse(const char *s, struct imageref *out, struct err *e);

/* Writes the canonical form "registry/repository[:tag][@digest]" into dst[size]. Returns 0 or ERR_TOO_LARGE. */
int imageref_fmt(const struct imageref *r, char *dst, size_t size);

/* What to ask the registry for: the digest when there is one, else the tag, else "latest". Borrowed from r. */
const char *imageref_reference(const struct imageref *r);

/* The host[:port] to send API calls to: "registry-1.docker.io" for docker.io, else the registry as is.
 * Borrowed (from r or static). */
const char *imageref_api_host(const struct imageref *r);

/* True when registry (host[:port], IPv6 in brackets) names a loopback host: "localhost", 127.0.0.0/8 in dotted
 * decimal, or [::1]. Other spellings (hex, shortened IPv4, names that resolve to loopback) are not recognized. */
bool imageref_host_is_loopback(const char *registry);

#endif
