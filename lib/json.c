/* json — strict parsing and typed getters over jansson (see json.h). */
#include "lib/json.h"
#include "lib/fileio.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int json_parse_buf(const char *buf, size_t len, size_t max, const char *label, json_t **out, struct err *e)
{
	json_error_t je;
	json_t *v;

	*out = NULL;
	if (len > max)
		return err_set(e, ERR_TOO_LARGE, "%s: %zu bytes is over the limit of %zu bytes", label, len, max);
	v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (v == NULL && json_error_code(&je) == json_error_out_of_memory)
		return err_set(e, ERR_NOMEM, "%s: out of memory while parsing", label);
	if (v == NULL)
		return err_set(e, ERR_PARSE, "%s: line %d, column %d: %s", label, je.line, je.column, je.text);
	*out = v;
	return 0;
}

int json_load_file_capped(const char *path, size_t max, json_t **out, struct err *e)
{
	struct strbuf sb;
	int r;

	*out = NULL;
	sb_init(&sb, max);
	if ((r = fileio_read_capped(path, &sb, path, e)) == 0)
		r = json_parse_buf(sb.data ? sb.data : "", sb.len, max, path, out, e);
	sb_cleanup(&sb);
	return r;
}

static int get_typed(const json_t *obj, const char *key, json_type t, json_t **out, const char *tname,
    const char *where, struct err *e)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL)
		return ERR_NOT_FOUND;
	if (json_typeof(v) != t && !(t == JSON_TRUE && json_is_boolean(v)))
		return err_set(e, ERR_INVALID, "%s.%s must be %s", where, key, tname);
	*out = v;
	return 0;
}

int json_get_str(const json_t *obj, const char *key, const char **out, const char *where, struct err *e)
{
	json_t *v = NULL;
	int r;

	if ((r = get_typed(obj, key, JSON_STRING, &v, "a string", where, e)) != 0)
		return r;
	if (strlen(json_string_value(v)) != json_string_length(v))
		return err_set(e, ERR_INVALID, "%s.%s must not contain NUL characters", where, key);
	*out = json_string_value(v);
	return 0;
}

int json_get_bool(const json_t *obj, const char *key, bool *out, const char *where, struct err *e)
{
	json_t *v = NULL;
	int r;

	if ((r = get_typed(obj, key, JSON_TRUE, &v, "true or false", where, e)) != 0)
		return r;
	*out = json_is_true(v);
	return 0;
}

int json_get_int(const json_t *obj, const char *key, int64_t min, int64_t max, int64_t *out, const char *where,
    struct err *e)
{
	json_t *v = NULL;
	int r;

	if ((r = get_typed(obj, key, JSON_INTEGER, &v, "an integer", where, e)) != 0)
		return r;
	if (json_integer_value(v) < min || json_integer_value(v) > max)
		return err_set(e, ERR_INVALID, "%s.%s must be between %lld and %lld, not %lld", where, key,
		    (long long)min, (long long)max, (long long)json_integer_value(v));
	*out = json_integer_value(v);
	return 0;
}

int json_get_obj(const json_t *obj, const char *key, json_t **out, const char *where, struct err *e)
{
	return get_typed(obj, key, JSON_OBJECT, out, "an object", where, e);
}

int json_get_arr(const json_t *obj, const char *key, json_t **out, const char *where, struct err *e)
{
	return get_typed(obj, key, JSON_ARRAY, out, "an array", where, e);
}

const char *json_unknown_key(const json_t *obj, const char *const *allowed)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v)
	{
		const char *const *a;

		(void)v;
		for (a = allowed; *a != NULL && strcmp(*a, key) != 0; a++)
			;
		if (*a == NULL)
			return key;
	}
	return NULL;
}

int json_check_keys(const json_t *obj, const char *const *allowed, const char *where, struct err *e)
{
	const char *key = json_unknown_key(obj, allowed);

	if (key != NULL) {
		char shown[80];

		str_escape(shown, sizeof(shown), key, strlen(key), 60);
		return err_set(e, ERR_INVALID, "%s%sunknown key \"%s\" (check its spelling)", where,
		    where[0] != '\0' ? ": " : "", shown);
	}
	return 0;
}

/* The text being dumped; failed stays set once an append failed. */
struct dump_buf {
	struct strbuf sb;
	bool failed;
};

/* json_dump_callback's sink. The failure is sticky because jansson 2.14 ignores the result of dumping an object key
 * (json_dumps then returns text with bytes missing, e.g. "{"n:3}", when its buffer cannot grow): the dump is judged
 * by our flag, not by jansson's return value alone. */
static int dump_append(const char *buf, size_t n, void *data)
{
	struct dump_buf *d = data;

	if (d->failed || sb_append(&d->sb, buf, n) != 0) {
		d->failed = true;
		return -1;
	}
	return 0;
}

char *json_dump_canonical(const json_t *v, size_t *len)
{
	struct dump_buf d;
	char *s = NULL;
	size_t n = 0;

	sb_init(&d.sb, SIZE_MAX / 2);
	d.failed = false;
	if (json_dump_callback(v, dump_append, &d, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) == 0 && !d.failed)
		s = sb_steal(&d.sb, &n);
	sb_cleanup(&d.sb);
	if (s != NULL && len != NULL)
		*len = n;
	return s;
}
