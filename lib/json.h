/* json — strict loading and typed access over jansson.
 * Loading rejects duplicate keys, NUL bytes in strings and trailing data, and caps the input size; errors name the
 * source (file name or a label), line and column. Getters distinguish "absent" from "wrong type", so a policy file
 * can default what is missing and refuse what is wrong. Reference rules are jansson's: getters return borrowed
 * references that live as long as the parent. */
#ifndef HARDLINE_JSON_H
#define HARDLINE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/err.h"
#include "lib/str.h"

/* Parses buf[len] as one JSON value. label names the source in messages ("policy /etc/x.json", "request body").
 * On success *out is a new reference (json_decref it). Errors: ERR_TOO_LARGE over max, ERR_PARSE. */
int json_parse_buf(const char *buf, size_t len, size_t max, const char *label, json_t **out, struct err *e);

/* Reads and parses a file, at most max bytes. Errors name the file; ERR_NOT_FOUND when it does not exist. */
int json_load_file_capped(const char *path, size_t max, json_t **out, struct err *e);

/* Typed member access. Return 0 and set *out when present with the right type; ERR_NOT_FOUND when absent (out
 * untouched, so callers can preset a default); ERR_INVALID with "<where>.<key> must be a <type>" otherwise.
 * where is a human path such as "policy rules" used in the message. Strings are borrowed. */
int json_get_str(const json_t *obj, const char *key, const char **out, const char *where, struct err *e);
int json_get_bool(const json_t *obj, const char *key, bool *out, const char *where, struct err *e);
int json_get_int(const json_t *obj, const char *key, int64_t min, int64_t max, int64_t *out, const char *where,
    struct err *e);
int json_get_obj(const json_t *obj, const char *key, json_t **out, const char *where, struct err *e);
int json_get_arr(const json_t *obj, const char *key, json_t **out, const char *where, struct err *e);

/* The first member name of obj (in object order) not in allowed (a NULL-terminated list), borrowed from obj; NULL
 * when every member is allowed or obj is not an object. */
const char *json_unknown_key(const json_t *obj, const char *const *allowed);

/* Refuses members of obj not named in allowed (a NULL-terminated list): catches typos in config files.
 * ERR_INVALID naming the unknown key and where. */
int json_check_keys(const json_t *obj, const char *const *allowed, const char *where, struct err *e);

/* Serializes canonically (sorted keys, compact, UTF-8 as is) into a new string (free() it). NULL on failure. */
char *json_dump_canonical(const json_t *v, size_t *len);

#endif
