/* imageref — parsing and formatting of container image references in the docker reference grammar
 * (distribution/reference): name = [domain '/'] path, path components of lowercase alphanumerics and separators,
 * tags [\w][\w.-]{0,127}, sha256 digests; Docker Hub defaults as docker and podman apply them. */
#include <string.h>

#include "lib/imageref.h"
#include "lib/str.h"

#define INPUT_MAX 1024 /* longer than any valid reference: name 255 + ':' + tag 128 + '@' + digest 71 */

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* Checks one path component p[n]: alnum+ (sep alnum+)* with sep '.', '_', "__" or '-'+. Returns 0 or ERR_PARSE
 * with a message naming the component. */
static int check_component(const char *p, size_t n, struct err *e)
{
	size_t i = 0, k;

	if (n == 0)
		return err_set(e, ERR_PARSE, "empty path component (\"//\" or a trailing '/')");
	for (i = 0; i < n; i++) {
		if (p[i] >= 'A' && p[i] <= 'Z')
			return err_set(e, ERR_PARSE, "repository name must be lowercase (component \"%.*s\")", (int)n,
			    p);
	}
	i = 0;
	while (i < n) {
		if (!is_lower_alnum(p[i]))
			goto bad;
		while (i < n && is_lower_alnum(p[i]))
			i++;
		if (i == n)
			return 0;
		/* a separator, then alphanumerics again */
		k = i;
		if (p[i] == '.')
			i++;
		else if (p[i] == '_')
			i += (i + 1 < n && p[i + 1] == '_') ? 2 : 1;
		else if (p[i] == '-')
			while (i < n && p[i] == '-')
				i++;
		if (i == k || i == n)
			goto bad;
	}
	return 0;
bad:
	return err_set(e, ERR_PARSE,
	    "invalid path component \"%.*s\": use lowercase letters and digits joined by '.', '_', '__' or '-'",
	    (int)(n > 100 ? 100 : n), p);
}

/* Checks a port p[n]: 1 to 5 digits, at most 65535. */
static int check_port(const char *p, size_t n, struct err *e)
{
	unsigned v = 0;
	size_t i;

	if (n == 0 || n > 5)
		goto bad;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			goto bad;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	if (v <= 65535)
		return 0;
bad:
	return err_set(e, ERR_PARSE, "invalid registry port \"%.*s\"", (int)(n > 20 ? 20 : n), p);
}

/* Checks a registry domain d (host[:port], IPv6 in brackets). */
static int check_domain(const char *d, struct err *e)
{
	size_t n = strlen(d), i = 0, start, colons = 0;

	if (d[0] == '[') {
		for (i = 1; i < n && d[i] != ']'; i++) {
			char c = d[i];
			if (c == ':')
				colons++;
			else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
				     c == '.'))
				return err_set(e, ERR_PARSE, "invalid IPv6 address in registry \"%s\"", d);
		}
		if (i == n || colons < 2)
			return err_set(e, ERR_PARSE, "invalid IPv6 address in registry \"%s\" (expected [addr]:port)",
			    d);
		i++;
	} else {
		/* domain-component ('.' domain-component)*, each [A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])? */
		for (;;) {
			start = i;
			while (i < n && (is_alnum(d[i]) || d[i] == '-'))
				i++;
			if (i == start || d[start] == '-' || d[i - 1] == '-')
				return err_set(e, ERR_PARSE, "invalid registry host \"%s\"", d);
			if (i < n && d[i] == '.') {
				i++;
				continue;
			}
			break;
		}
	}
	if (i == n)
		return 0;
	if (d[i] != ':')
		return err_set(e, ERR_PARSE, "invalid registry host \"%s\"", d);
	return check_port(d + i + 1, n - i - 1, e);
}

/* Checks a tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. */
static int check_tag(const char *t, struct err *e)
{
	size_t n = strlen(t), i;

	if (n == 0)
		return err_set(e, ERR_PARSE, "empty tag after ':'");
	if (n > IMAGEREF_TAG_MAX)
		return err_set(e, ERR_TOO_LARGE, "tag is %zu bytes, over the limit of %d", n, IMAGEREF_TAG_MAX);
	for (i = 0; i < n; i++) {
		char c = t[i];
		if (is_alnum(c) || c == '_' || (i > 0 && (c == '.' || c == '-')))
			continue;
		return err_set(e, ERR_PARSE, "invalid tag \"%.128s\": use letters, digits, '_', '.', '-' (not first)",
		    t);
	}
	return 0;
}

/* Parses the already-split name (without tag or digest) into registry and repository of r. */
static int parse_name(const char *name, struct imageref *r, struct err *e)
{
	const char *slash = strchr(name, '/'), *path = name, *p, *q;
	size_t dlen;
	int ret;

	if (name[0] == '\0')
		return err_set(e, ERR_PARSE, "empty repository name");
	if (slash != NULL) {
		dlen = (size_t)(slash - name);
		if (memchr(name, '.', dlen) != NULL || memchr(name, ':', dlen) != NULL ||
		    (dlen == 9 && memcmp(name, "localhost", 9) == 0)) {
			if (dlen > IMAGEREF_NAME_MAX)
				return err_set(e, ERR_TOO_LARGE, "registry name over %d bytes", IMAGEREF_NAME_MAX);
			memcpy(r->registry, name, dlen);
			r->registry[dlen] = '\0';
			if ((ret = check_domain(r->registry, e)) != 0)
				return ret;
			path = slash + 1;
		}
	}
	if (r->registry[0] == '\0' || strcmp(r->registry, "index.docker.io") == 0)
		str_copy(r->registry, sizeof(r->registry), IMAGEREF_DEFAULT_REGISTRY);
	for (p = path;; p = q + 1) {
		q = strchr(p, '/');
		if ((ret = check_component(p, q != NULL ? (size_t)(q - p) : strlen(p), e)) != 0)
			return ret;
		if (q == NULL)
			break;
	}
	if (strcmp(r->registry, IMAGEREF_DEFAULT_REGISTRY) == 0 && strchr(path, '/') == NULL)
		ret = str_fmt(r->repository, sizeof(r->repository), "library/%s", path);
	else
		ret = str_copy(r->repository, sizeof(r->repository), path);
	if (ret != 0 || strlen(r->registry) + 1 + strlen(r->repository) > IMAGEREF_NAME_MAX)
		return err_set(e, ERR_TOO_LARGE, "image name \"%.60s...\" is over %d bytes", name, IMAGEREF_NAME_MAX);
	return 0;
}

int imageref_parse(const char *s, struct imageref *out, struct err *e)
{
	char buf[INPUT_MAX];
	struct imageref r;
	char *at, *colon, *slash;
	size_t n;
	int ret = ERR_PARSE;

	memset(out, 0, sizeof(*out));
	memset(&r, 0, sizeof(r));
	if (s == NULL || s[0] == '\0')
		return err_set(e, ERR_PARSE, "empty image reference");
	n = strnlen(s, sizeof(buf));
	if (n == sizeof(buf))
		return err_set(e, ERR_TOO_LARGE, "image reference is over %zu bytes", sizeof(buf) - 1);
	memcpy(buf, s, n + 1);
	if ((at = strchr(buf, '@')) != NULL) {
		*at = '\0';
		if ((ret = digest_validate(at + 1, e)) != 0) {
			err_prefix(e, "image reference digest");
			goto out;
		}
		str_copy(r.digest, sizeof(r.digest), at + 1);
	}
	slash = strrchr(buf, '/');
	colon = strrchr(slash != NULL ? slash : buf, ':');
	if (colon != NULL) {
		*colon = '\0';
		if ((ret = check_tag(colon + 1, e)) != 0)
			goto out;
		str_copy(r.tag, sizeof(r.tag), colon + 1);
	}
	if ((ret = parse_name(buf, &r, e)) != 0)
		goto out;
	*out = r;
	ret = 0;
out:
	if (ret != 0) {
		char esc[160];
		str_escape(esc, sizeof(esc), s, n, 100);
		err_prefix(e, "image reference \"%s\"", esc);
	}
	return ret;
}

int imageref_fmt(const struct imageref *r, char *dst, size_t size)
{
	return str_fmt(dst, size, "%s/%s%s%s%s%s", r->registry, r->repository, r->tag[0] ? ":" : "", r->tag,
	    r->digest[0] ? "@" : "", r->digest);
}

const char *imageref_reference(const struct imageref *r)
{
	if (r->digest[0] != '\0')
		return r->digest;
	return r->tag[0] != '\0' ? r->tag : "latest";
}

const char *imageref_api_host(const struct imageref *r)
{
	if (strcmp(r->registry, IMAGEREF_DEFAULT_REGISTRY) == 0)
		return "registry-1.docker.io";
	return r->registry;
}

/* True for 127.d.d.d, each d a decimal 0-255 of 1 to 3 digits, in h[n]. */
static bool is_ipv4_loopback(const char *h, size_t n)
{
	size_t i = 0;
	int parts = 0;

	if (n < 4 || memcmp(h, "127.", 4) != 0)
		return false;
	while (i <= n) {
		unsigned v = 0, digits = 0;
		while (i < n && h[i] >= '0' && h[i] <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(h[i] - '0');
			i++;
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255)
			return false;
		parts++;
		if (i == n)
			break;
		if (h[i] != '.')
			return false;
		i++;
	}
	return parts == 4;
}

bool imageref_host_is_loopback(const char *registry)
{
	const char *colon;
	size_t n;

	if (registry == NULL)
		return false;
	if (registry[0] == '[')
		return strncmp(registry, "[::1]", 5) == 0 && (registry[5] == '\0' || registry[5] == ':');
	colon = strchr(registry, ':');
	n = colon != NULL ? (size_t)(colon - registry) : strlen(registry);
	if (n == 9 && memcmp(registry, "localhost", 9) == 0)
		return true;
	return is_ipv4_loopback(registry, n);
}
