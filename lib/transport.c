/* transport — parsing of skopeo-style image references (oci:, oci-archive:, docker-archive:).
 * The path ends at the first ':' after the transport, as in containers/image, so tags may contain ':'. */
#include <string.h>

#include "lib/str.h"
#include "lib/transport.h"

static const struct {
	const char *prefix;
	enum transport_kind kind;
} transports[] = {
	{ "oci:", TRANSPORT_OCI },
	{ "oci-archive:", TRANSPORT_OCI_ARCHIVE },
	{ "docker-archive:", TRANSPORT_DOCKER_ARCHIVE },
};

#define FORMS "use oci:DIR[:TAG], oci-archive:FILE[:TAG] or (input only) docker-archive:FILE[:TAG]"

const char *transport_name(enum transport_kind kind)
{
	switch (kind) {
	case TRANSPORT_OCI:
		return "oci";
	case TRANSPORT_OCI_ARCHIVE:
		return "oci-archive";
	case TRANSPORT_DOCKER_ARCHIVE:
		return "docker-archive";
	}
	return "unknown";
}

/* Whether tag is printable ASCII without spaces. */
static bool tag_ok(const char *tag)
{
	const unsigned char *p;

	for (p = (const unsigned char *)tag; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f)
			return false;
	return true;
}

int transport_parse(const char *s, bool for_output, struct transport_ref *out, struct err *e)
{
	char esc[128];
	const char *rest = NULL, *colon;
	size_t i, plen;

	memset(out, 0, sizeof(*out));
	str_escape(esc, sizeof(esc), s, strlen(s), 80);
	for (i = 0; i < sizeof(transports) / sizeof(transports[0]); i++) {
		if (str_has_prefix(s, transports[i].prefix)) {
			out->kind = transports[i].kind;
			rest = s + strlen(transports[i].prefix);
			break;
		}
	}
	if (rest == NULL)
		return err_set(e, ERR_USAGE, "image reference \"%s\": unknown transport; " FORMS, esc);
	if (for_output && out->kind == TRANSPORT_DOCKER_ARCHIVE)
		return err_set(e, ERR_USAGE,
		    "image reference \"%s\": docker-archive is accepted as input only; write "
		    "oci:DIR or oci-archive:FILE and convert with skopeo if needed",
		    esc);
	colon = strchr(rest, ':');
	plen = colon != NULL ? (size_t)(colon - rest) : strlen(rest);
	if (plen == 0)
		return err_set(e, ERR_USAGE, "image reference \"%s\": the path is empty; " FORMS, esc);
	if (plen >= sizeof(out->path))
		return err_set(e, ERR_USAGE, "image reference \"%s\": the path is too long", esc);
	memcpy(out->path, rest, plen);
	out->path[plen] = '\0';
	if (colon != NULL) {
		if (colon[1] == '\0')
			return err_set(e, ERR_USAGE,
			    "image reference \"%s\": empty tag after ':'; omit the ':' or "
			    "name a tag",
			    esc);
		if (str_copy(out->tag, sizeof(out->tag), colon + 1) != 0)
			return err_set(e, ERR_USAGE, "image reference \"%s\": the tag is longer than %d bytes", esc,
			    TRANSPORT_TAG_MAX - 1);
		if (!tag_ok(out->tag))
			return err_set(e, ERR_USAGE,
			    "image reference \"%s\": the tag must be printable ASCII without "
			    "spaces",
			    esc);
	}
	return 0;
}

int transport_fmt(const struct transport_ref *r, char *dst, size_t size)
{
	if (r->tag[0] != '\0')
		return str_fmt(dst, size, "%s:%s:%s", transport_name(r->kind), r->path, r->tag);
	return str_fmt(dst, size, "%s:%s", transport_name(r->kind), r->path);
}
