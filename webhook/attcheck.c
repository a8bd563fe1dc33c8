/* attcheck — per-image attestation check: the configuration parsed from the policy (immutable, reference-counted,
 * with its own cache, keyring and directory sources), the single-flight look-up through attcache, verification with
 * intoto_verify, the fact requirements and the age limit, and the messages users see. */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/imageref.h"
#include "lib/intoto.h"
#include "lib/json.h"
#include "lib/keys.h"
#include "lib/registry.h"
#include "lib/log.h"
#include "lib/str.h"
#include "webhook/attcache.h"
#include "webhook/attcheck.h"
#include "webhook/attdir.h"
#include "webhook/filewatch.h"
#include "webhook/metrics.h"

#define DEFAULT_TTL_MS (10u * 60 * 1000)
#define DEFAULT_FAIL_TTL_MS (10u * 1000)
#define DEFAULT_CAPACITY 10000
#define MAX_KEY_PATHS 64
#define MAX_CA 32	      /* registries with their own CA file */
#define MAX_BACKOFF 64	      /* registries whose failures are tracked */
#define REG_FAIL_LIMIT 3      /* consecutive failures before a registry is skipped */
#define REG_BACKOFF_MS 30000u /* ... for this long */
#define REG_MAX_LAYERS 32     /* envelopes read from one .att manifest */

/* Detail codes of an ATT_DENY result (att_result.reason). */
enum { WHY_NONE, WHY_FACTS, WHY_NO_TIME };

/* The registry source: clients by transport and CA, and the failure back-off per registry. */
struct regsrc {
	struct registry_client *tls;   /* system CAs */
	struct registry_client *plain; /* http:// to loopback registries (insecureLoopback), else NULL */
	struct {
		char host[IMAGEREF_NAME_MAX + 1];
		struct registry_client *c;
	} ca[MAX_CA];
	size_t nca;
	pthread_mutex_t mu; /* guards back */
	struct {
		char host[IMAGEREF_NAME_MAX + 1];
		unsigned int fails;
		uint64_t until_ms;
	} back[MAX_BACKOFF];
	size_t nback;
};

/* One source in policy order: a directory (index into dirs) or the registry. */
struct source {
	bool registry;
	size_t dir;
};

struct attconf {
	int refs;
	bool on;
	bool resolve; /* imageReferences "resolve" */
	char *key_paths[MAX_KEY_PATHS];
	size_t nkey_paths;
	struct filewatch kw[2 * MAX_KEY_PATHS]; /* each path and its "..data" (watcher thread only) */
	struct keyring *kr; /* guarded by attcheck.mu: swapped on key rotation; NULL = no key loads */
	struct attdir *dirs[ATTCHECK_MAX_SOURCES];
	size_t ndirs;
	struct source order[ATTCHECK_MAX_SOURCES];
	size_t nsources;
	struct regsrc *reg; /* NULL without a registry source */
	char *req_names[ATTCHECK_MAX_REQUIRE];
	int64_t req_max[ATTCHECK_MAX_REQUIRE];
	size_t nreq;
	uint64_t max_age_s, grace_s; /* 0: no age limit */
	char max_age_text[32];
	char looked[256]; /* "/etc/hardline/attestations and /srv/att" */
	struct attcache *cache;
};

struct attcheck {
	pthread_mutex_t mu; /* guards conf and conf->kr */
	struct attconf *conf;
	json_t *att; /* a copy of the object conf was built from (NULL: none); watcher only */
	struct adm_image_checker hook;
};

/* CLOCK_MONOTONIC in milliseconds (the clock of the request deadlines). */
static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Drops a reference to c; the last one frees its keys, directory sources, registry clients and cache. NULL is fine. */
static void conf_unref(struct attconf *c)
{
	if (c == NULL || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (size_t i = 0; i < c->nkey_paths; i++)
		free(c->key_paths[i]);
	keyring_unref(c->kr);
	for (size_t i = 0; i < c->ndirs; i++)
		attdir_free(c->dirs[i]);
	for (size_t i = 0; i < c->nreq; i++)
		free(c->req_names[i]);
	attcache_free(c->cache);
	if (c->reg != NULL) {
		registry_client_free(c->reg->tls);
		registry_client_free(c->reg->plain);
		for (size_t i = 0; i < c->reg->nca; i++)
			registry_client_free(c->reg->ca[i].c);
		pthread_mutex_destroy(&c->reg->mu);
		free(c->reg);
	}
	free(c);
}

/* The configuration in force, with a reference. */
static struct attconf *conf_acquire(struct attcheck *ac)
{
	struct attconf *c;

	pthread_mutex_lock(&ac->mu);
	c = ac->conf;
	if (c != NULL)
		__atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&ac->mu);
	return c;
}

/* Reads a duration member key of att into *ms (absent: unchanged). */
static int get_duration(const json_t *att, const char *key, uint64_t *ms, char *text, size_t tsize, struct err *e)
{
	const char *s;
	int r;

	if ((r = json_get_str(att, key, &s, "policy attestations", e)) == ERR_NOT_FOUND)
		return 0;
	if (r != 0)
		return r;
	if (str_to_duration_ms(s, ms, "policy attestations", e) != 0)
		return err_set(e, ERR_INVALID, "policy attestations.%s \"%.40s\": not a duration; write e.g. \"720h\"",
		    key, s);
	if (text != NULL)
		str_copy(text, tsize, s);
	return 0;
}

/* Parses a registry source object: {"authFile": PATH, "ca": {REGISTRY: PATH}, "insecureLoopback": BOOL}. */
static int parse_registry(struct attconf *c, const json_t *obj, struct err *e)
{
	static const char *const reg_keys[] = { "authFile", "ca", "insecureLoopback", NULL };
	struct registry_opts ro;
	const char *auth = NULL, *host;
	json_t *ca = NULL, *v;
	bool loopback = false;
	int r;

	if (c->reg != NULL)
		return err_set(e, ERR_INVALID, "policy attestations.sources: one registry source at most");
	if ((r = json_check_keys(obj, reg_keys, "policy attestations.sources[].registry", e)) != 0)
		return r;
	if (((r = json_get_str(obj, "authFile", &auth, "policy attestations.sources[].registry", e)) != 0 &&
		r != ERR_NOT_FOUND) ||
	    ((r = json_get_obj(obj, "ca", &ca, "policy attestations.sources[].registry", e)) != 0 &&
		r != ERR_NOT_FOUND) ||
	    ((r = json_get_bool(obj, "insecureLoopback", &loopback, "policy attestations.sources[].registry", e)) !=
		    0 &&
		r != ERR_NOT_FOUND))
		return r;
	if (ca != NULL && json_object_size(ca) > MAX_CA)
		return err_set(e, ERR_INVALID, "policy attestations.sources[].registry.ca: at most %d registries",
		    MAX_CA);
	if ((c->reg = calloc(1, sizeof(*c->reg))) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	pthread_mutex_init(&c->reg->mu, NULL);
	memset(&ro, 0, sizeof(ro));
	ro.auth_file = auth;
	ro.anonymous = auth == NULL; /* the webhook reads credentials only from the mounted file */
	ro.user_agent = "hardline-webhook";
	if ((r = registry_client_new(&ro, &c->reg->tls, e)) != 0)
		return r;
	if (loopback) {
		ro.insecure_http = true;
		if ((r = registry_client_new(&ro, &c->reg->plain, e)) != 0)
			return r;
		ro.insecure_http = false;
	}
	json_object_foreach(ca, host, v)
	{
		if (!json_is_string(v) || json_string_value(v)[0] != '/')
			return err_set(e, ERR_INVALID,
			    "policy attestations.sources[].registry.ca.%.100s: must be the "
			    "absolute path of a PEM CA file",
			    host);
		if (access(json_string_value(v), R_OK) != 0)
			return err_set(e, ERR_NOT_FOUND,
			    "policy attestations.sources[].registry.ca.%.100s: cannot read "
			    "%.200s",
			    host, json_string_value(v));
		if (str_copy(c->reg->ca[c->reg->nca].host, sizeof(c->reg->ca[0].host), host) != 0)
			return err_set(e, ERR_INVALID,
			    "policy attestations.sources[].registry.ca: registry name too long");
		ro.ca_file = json_string_value(v);
		if ((r = registry_client_new(&ro, &c->reg->ca[c->reg->nca].c, e)) != 0)
			return r;
		c->reg->nca++;
	}
	return 0;
}

/* Parses the "sources" array into directory sources (read now). */
static int parse_sources(struct attconf *c, const json_t *att, struct err *e)
{
	static const char *const src_keys[] = { "directory", "registry", NULL };
	json_t *arr = NULL, *src;
	const char *dir;
	size_t i;
	int r;

	if ((r = json_get_arr(att, "sources", &arr, "policy attestations", e)) != 0)
		return r == ERR_NOT_FOUND
		    ? err_set(e, ERR_INVALID,
			  "policy attestations.sources is missing; list where "
			  "attestations are, e.g. [{\"directory\": \"/etc/hardline/attestations\"}]")
		    : r;
	if (json_array_size(arr) == 0 || json_array_size(arr) > ATTCHECK_MAX_SOURCES)
		return err_set(e, ERR_INVALID, "policy attestations.sources: give 1 to %d sources",
		    ATTCHECK_MAX_SOURCES);
	json_array_foreach(arr, i, src)
	{
		if (!json_is_object(src) || json_object_size(src) != 1)
			return err_set(e, ERR_INVALID,
			    "policy attestations.sources[%zu]: must be an object with one key, "
			    "\"directory\" or \"registry\"",
			    i);
		if ((r = json_check_keys(src, src_keys, "policy attestations.sources[]", e)) != 0)
			return r;
		if (json_object_get(src, "registry") != NULL) {
			if (!json_is_object(json_object_get(src, "registry")))
				return err_set(e, ERR_INVALID,
				    "policy attestations.sources[%zu].registry: must be an object", i);
			if ((r = parse_registry(c, json_object_get(src, "registry"), e)) != 0)
				return r;
			c->order[c->nsources++].registry = true;
			continue;
		}
		if ((r = json_get_str(src, "directory", &dir, "policy attestations.sources[]", e)) != 0)
			return r;
		if (*dir != '/')
			return err_set(e, ERR_INVALID,
			    "policy attestations.sources[%zu].directory \"%.100s\": must be an "
			    "absolute path",
			    i, dir);
		if ((r = attdir_new(dir, &c->dirs[c->ndirs], e)) != 0)
			return r;
		c->order[c->nsources].registry = false;
		c->order[c->nsources++].dir = c->ndirs;
		c->ndirs++;
		if (strlen(c->looked) + strlen(dir) + 8 < sizeof(c->looked)) {
			size_t at = strlen(c->looked);

			str_fmt(c->looked + at, sizeof(c->looked) - at, "%s%s", at > 0 ? " and " : "", dir);
		}
	}
	return 0;
}

/* Loads the keyring from the key paths. */
static int load_keys(struct attconf *c, struct keyring **out, struct err *e)
{
	return keyring_load_paths((const char *const *)c->key_paths, c->nkey_paths, out, e);
}

/* Parses "keys" (1 to MAX_KEY_PATHS absolute paths), starts watching each path and its "..data", and loads the
 * keyring. ERR_INVALID for a bad list, the keyring's errors (prefixed with the key) otherwise. */
static int parse_keys(struct attconf *c, const json_t *att, struct err *e)
{
	json_t *arr = NULL, *k;
	char data[PATH_MAX];
	size_t i;
	int r;

	if ((r = json_get_arr(att, "keys", &arr, "policy attestations", e)) != 0)
		return r == ERR_NOT_FOUND
		    ? err_set(e, ERR_INVALID,
			  "policy attestations.keys is missing; list the "
			  "trusted public key files or directories, e.g. [\"/etc/hardline/keys\"]")
		    : r;
	if (json_array_size(arr) == 0 || json_array_size(arr) > MAX_KEY_PATHS)
		return err_set(e, ERR_INVALID, "policy attestations.keys: give 1 to %d paths", MAX_KEY_PATHS);
	json_array_foreach(arr, i, k)
	{
		if (!json_is_string(k) || json_string_value(k)[0] != '/')
			return err_set(e, ERR_INVALID, "policy attestations.keys[%zu]: must be an absolute path", i);
		if ((c->key_paths[c->nkey_paths] = strdup(json_string_value(k))) == NULL)
			return err_set(e, ERR_NOMEM, "out of memory");
		c->nkey_paths++;
		str_fmt(data, sizeof(data), "%s/..data", json_string_value(k));
		if ((r = filewatch_init(&c->kw[2 * i], json_string_value(k), e)) != 0 ||
		    (r = filewatch_init(&c->kw[2 * i + 1], data, e)) != 0)
			return err_prefix(e, "policy attestations.keys[%zu]", i);
	}
	if ((r = load_keys(c, &c->kr, e)) != 0)
		return err_prefix(e, "policy attestations.keys");
	return 0;
}

/* Parses "require" (absent: no limits): fact name -> the largest count allowed. ERR_INVALID naming the fact. */
static int parse_require(struct attconf *c, const json_t *att, struct err *e)
{
	json_t *obj = NULL, *v;
	const char *name;
	int r;

	if ((r = json_get_obj(att, "require", &obj, "policy attestations", e)) != 0)
		return r == ERR_NOT_FOUND ? 0 : r;
	if (json_object_size(obj) > ATTCHECK_MAX_REQUIRE)
		return err_set(e, ERR_INVALID, "policy attestations.require: at most %d facts", ATTCHECK_MAX_REQUIRE);
	json_object_foreach(obj, name, v)
	{
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return err_set(e, ERR_INVALID,
			    "policy attestations.require.%.60s: must be a count >= 0 (the "
			    "most the attested facts may have)",
			    name);
		if (strlen(name) > 64 ||
		    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(name))
			return err_set(e, ERR_INVALID,
			    "policy attestations.require.%.60s: not a fact name (see "
			    "docs/facts.md, e.g. shells)",
			    name);
		if ((c->req_names[c->nreq] = strdup(name)) == NULL)
			return err_set(e, ERR_NOMEM, "out of memory");
		c->req_max[c->nreq++] = (int64_t)json_integer_value(v);
	}
	return 0;
}

/* Parses "cache" (ttl, failureTtl, capacity; defaults 10m, 10s, 10000) and makes the configuration's cache. */
static int parse_cache(struct attconf *c, const json_t *att, struct err *e)
{
	static const char *const cache_keys[] = { "ttl", "failureTtl", "capacity", NULL };
	json_t *obj = NULL;
	uint64_t ttl = DEFAULT_TTL_MS, fail = DEFAULT_FAIL_TTL_MS;
	int64_t cap = DEFAULT_CAPACITY;
	int r;

	if ((r = json_get_obj(att, "cache", &obj, "policy attestations", e)) != 0 && r != ERR_NOT_FOUND)
		return r;
	if (obj != NULL) {
		if ((r = json_check_keys(obj, cache_keys, "policy attestations.cache", e)) != 0 ||
		    (r = get_duration(obj, "ttl", &ttl, NULL, 0, e)) != 0 ||
		    (r = get_duration(obj, "failureTtl", &fail, NULL, 0, e)) != 0)
			return r;
		r = json_get_int(obj, "capacity", 1, 1000000, &cap, "policy attestations.cache", e);
		if (r != 0 && r != ERR_NOT_FOUND)
			return r;
	}
	return attcache_new((size_t)cap, ttl, fail, &c->cache, e);
}

/* Builds a configuration from the policy object att (NULL: off). *out is new with one reference. */
static int conf_parse(const json_t *att, struct attconf **out, struct err *e)
{
	static const char *const keys[] = { "required", "keys", "imageReferences", "sources", "require", "maxAge",
		"maxAgeGrace", "cache", NULL };
	struct attconf *c = NULL;
	const char *refs = "digest";
	uint64_t age = 0, grace = 0;
	bool required = true;
	int r;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	c->refs = 1;
	if (att == NULL)
		goto done;
	if (!json_is_object(att)) {
		r = err_set(e, ERR_INVALID, "policy attestations: must be an object");
		goto out;
	}
	if ((r = json_check_keys(att, keys, "policy attestations", e)) != 0)
		goto out;
	if ((r = json_get_bool(att, "required", &required, "policy attestations", e)) != 0 && r != ERR_NOT_FOUND)
		goto out;
	if (!required)
		goto done;
	if ((r = json_get_str(att, "imageReferences", &refs, "policy attestations", e)) != 0 && r != ERR_NOT_FOUND)
		goto out;
	if (strcmp(refs, "digest") != 0 && strcmp(refs, "resolve") != 0) {
		r = err_set(e, ERR_INVALID,
		    "policy attestations.imageReferences \"%.40s\": use \"digest\" or \"resolve\"", refs);
		goto out;
	}
	if ((r = get_duration(att, "maxAge", &age, c->max_age_text, sizeof(c->max_age_text), e)) != 0 ||
	    (r = get_duration(att, "maxAgeGrace", &grace, NULL, 0, e)) != 0 || (r = parse_require(c, att, e)) != 0 ||
	    (r = parse_cache(c, att, e)) != 0 || (r = parse_keys(c, att, e)) != 0 ||
	    (r = parse_sources(c, att, e)) != 0)
		goto out;
	c->resolve = strcmp(refs, "resolve") == 0;
	if (c->resolve && c->reg == NULL) {
		r = err_set(e, ERR_INVALID, "policy attestations.imageReferences \"resolve\" needs a registry source");
		goto out;
	}
	if (grace > 0 && age == 0) {
		r = err_set(e, ERR_INVALID, "policy attestations.maxAgeGrace needs maxAge");
		goto out;
	}
	c->max_age_s = age / 1000;
	c->grace_s = grace / 1000;
	c->on = true;
done:
	*out = c;
	c = NULL; /* transferred */
	r = 0;
out:
	conf_unref(c);
	return r;
}

/* Parses an RFC 3339 UTC time ("2026-12-01T04:26:17Z", fractions allowed) into Unix seconds. */
static int parse_time(const char *s, int64_t *out)
{
	struct tm tm;
	int n = 0;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
		&tm.tm_sec, &n) != 6 ||
	    n != 19)
		return -1;
	s += n;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	if (strcmp(s, "Z") != 0 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	*out = (int64_t)t;
	return 0;
}

/* Checks the predicate of a verified Statement against the requirements: fills res (ATT_OK with the timestamp, or
 * ATT_DENY saying which fact fails). */
static void judge_predicate(const struct attconf *c, const json_t *pred, struct att_result *res)
{
	json_t *facts = json_object_get(pred, "facts"), *f, *count;
	const char *ts = json_string_value(json_object_get(pred, "timestamp"));

	memset(res, 0, sizeof(*res));
	for (size_t i = 0; i < c->nreq; i++) {
		f = json_object_get(facts, c->req_names[i]);
		count = json_object_get(f, "count");
		if (!json_is_integer(count)) {
			res->status = ATT_DENY;
			res->reason = WHY_FACTS;
			str_fmt(res->msg, sizeof(res->msg),
			    "has a hardening attestation without the fact %s.count that "
			    "the policy requires",
			    c->req_names[i]);
			return;
		}
		if (json_integer_value(count) > c->req_max[i]) {
			res->status = ATT_DENY;
			res->reason = WHY_FACTS;
			str_fmt(res->msg, sizeof(res->msg),
			    "has attested %s.count %lld, the policy allows at most %lld", c->req_names[i],
			    (long long)json_integer_value(count), (long long)c->req_max[i]);
			return;
		}
	}
	if (ts == NULL || parse_time(ts, &res->timestamp) != 0) {
		if (c->max_age_s > 0) {
			res->status = ATT_DENY;
			res->reason = WHY_NO_TIME;
			str_copy(res->msg, sizeof(res->msg),
			    "has a hardening attestation without a valid timestamp, and "
			    "the policy sets maxAge");
			return;
		}
		res->timestamp = 0;
	}
	res->status = ATT_OK;
}

/* The best of the attestations verified so far: the newest that passes the requirements, else the first failure. */
struct best {
	struct att_result ok, fail;
	bool have_ok, have_fail;
};

/* Verifies one envelope buf[len] (label names it in the log) for digest; keeps it in b when valid. Returns true
 * when it is a valid attestation of digest by a trusted key (whatever its facts). */
static bool consider(const struct attconf *c, const struct keyring *kr, const char *digest, const char *buf, size_t len,
    const char *label, struct best *b)
{
	struct intoto_statement *st = NULL;
	struct att_result one;
	struct err why;

	err_clear(&why);
	if (kr == NULL || intoto_verify(buf, len, label, kr, digest, HARDLINE_PREDICATE_TYPE, &st, NULL, &why) != 0) {
		log_info("attestation for %s not accepted: %s", digest, kr == NULL ? "no trusted key loads" : why.msg);
		return false;
	}
	judge_predicate(c, st->predicate, &one);
	intoto_statement_free(st);
	if (one.status == ATT_OK && (!b->have_ok || one.timestamp > b->ok.timestamp)) {
		b->ok = one;
		str_fmt(b->ok.msg, sizeof(b->ok.msg), "%s", label);
		b->have_ok = true;
	} else if (one.status != ATT_OK && !b->have_fail) {
		b->fail = one;
		b->have_fail = true;
	}
	return true;
}

/* The client for ref's registry: plain HTTP for loopback registries when allowed, the one with the registry's own
 * CA, else the system CAs. */
static struct registry_client *reg_client(const struct regsrc *rs, const struct imageref *ref)
{
	if (rs->plain != NULL && imageref_host_is_loopback(ref->registry))
		return rs->plain;
	for (size_t i = 0; i < rs->nca; i++)
		if (strcmp(rs->ca[i].host, ref->registry) == 0)
			return rs->ca[i].c;
	return rs->tls;
}

/* True while host is in its back-off after REG_FAIL_LIMIT consecutive failures. */
static bool reg_blocked(struct regsrc *rs, const char *host, uint64_t now)
{
	bool blocked = false;

	pthread_mutex_lock(&rs->mu);
	for (size_t i = 0; i < rs->nback; i++)
		if (strcmp(rs->back[i].host, host) == 0)
			blocked = rs->back[i].until_ms > now;
	pthread_mutex_unlock(&rs->mu);
	return blocked;
}

/* Records the outcome of a call to host: a success resets its count, the REG_FAIL_LIMIT-th failure in a row
 * starts a back-off. */
static void reg_note(struct regsrc *rs, const char *host, bool ok, uint64_t now)
{
	size_t i;

	pthread_mutex_lock(&rs->mu);
	for (i = 0; i < rs->nback && strcmp(rs->back[i].host, host) != 0; i++)
		;
	if (i == rs->nback) {
		if (ok)
			goto out;
		if (rs->nback < MAX_BACKOFF)
			rs->nback++;
		else
			i = (size_t)(now % MAX_BACKOFF); /* full: reuse a slot */
		str_copy(rs->back[i].host, sizeof(rs->back[i].host), host);
		rs->back[i].fails = 0;
		rs->back[i].until_ms = 0;
	}
	if (ok) {
		rs->back[i].fails = 0;
		goto out;
	}
	if (++rs->back[i].fails >= REG_FAIL_LIMIT) {
		rs->back[i].fails = 0;
		rs->back[i].until_ms = now + REG_BACKOFF_MS;
		log_warn("registry %s failed %d times in a row; not asked for attestations for %u s", host,
		    REG_FAIL_LIMIT, REG_BACKOFF_MS / 1000);
	}
out:
	pthread_mutex_unlock(&rs->mu);
}

/* registry_sink_fn appending to the strbuf arg (capped at DSSE_ENVELOPE_MAX: ERR_TOO_LARGE beyond). */
static int sink_strbuf(void *arg, const void *p, size_t n, struct err *e)
{
	if (sb_append(arg, p, n) != 0)
		return err_set(e, ERR_TOO_LARGE, "attestation layer over %u bytes", DSSE_ENVELOPE_MAX);
	return 0;
}

/* Reads the cosign-style sha256-<hex>.att manifest of digest in ref's repository and verifies its DSSE layers.
 * A missing manifest is no error (nothing found). Errors (ERR_TIMEOUT, ERR_NETWORK, ERR_DENIED, ...) say what
 * could not be fetched; they count towards the registry's back-off. */
static int reg_fetch(const struct attconf *c, const struct keyring *kr, const struct imageref *ref, const char *digest,
    uint64_t deadline, struct best *b, bool *found, struct err *e)
{
	struct registry_client *cl = reg_client(c->reg, ref);
	struct registry_manifest m;
	struct imageref att = *ref;
	struct strbuf sb;
	json_t *man = NULL, *layers, *l;
	char label[400];
	size_t i;
	int r;

	memset(&m, 0, sizeof(m));
	sb_init(&sb, DSSE_ENVELOPE_MAX);
	if (reg_blocked(c->reg, ref->registry, now_ms()))
		return err_set(e, ERR_NETWORK, "registry %s failed %d times in a row and is skipped for %u s",
		    ref->registry, REG_FAIL_LIMIT, REG_BACKOFF_MS / 1000);
	att.digest[0] = '\0';
	str_fmt(att.tag, sizeof(att.tag), "sha256-%s.att", digest + 7);
	r = registry_manifest_get(cl, &att, (int64_t)deadline, &m, e);
	if (r == ERR_NOT_FOUND) {
		reg_note(c->reg, ref->registry, true, now_ms());
		r = 0;
		goto out;
	}
	if (r != 0)
		goto fail;
	if ((r = json_parse_buf(m.data, m.len, REGISTRY_MANIFEST_MAX, "attestation manifest", &man, e)) != 0)
		goto fail;
	layers = json_object_get(man, "layers");
	json_array_foreach(layers, i, l)
	{
		const char *mt = json_string_value(json_object_get(l, "mediaType"));
		const char *ld = json_string_value(json_object_get(l, "digest"));
		const char *pt = json_string_value(json_object_get(json_object_get(l, "annotations"), "predicateType"));
		json_t *size = json_object_get(l, "size");

		if (i >= REG_MAX_LAYERS)
			break;
		if (mt == NULL || strcmp(mt, "application/vnd.dsse.envelope.v1+json") != 0 || ld == NULL ||
		    (pt != NULL && strcmp(pt, HARDLINE_PREDICATE_TYPE) != 0) || !json_is_integer(size) ||
		    json_integer_value(size) < 0 || json_integer_value(size) > (json_int_t)DSSE_ENVELOPE_MAX)
			continue; /* another kind of attestation, or too large */
		sb_cleanup(&sb);
		if ((r = registry_blob_get(cl, &att, ld, DSSE_ENVELOPE_MAX, sink_strbuf, &sb, (int64_t)deadline, e)) !=
		    0)
			goto fail;
		str_fmt(label, sizeof(label), "%s/%s:%s layer %.19s", ref->registry, ref->repository, att.tag, ld);
		*found |= consider(c, kr, digest, sb.data != NULL ? sb.data : "", sb.len, label, b);
	}
	reg_note(c->reg, ref->registry, true, now_ms());
	r = 0;
	goto out;
fail:
	reg_note(c->reg, ref->registry, false, now_ms());
out:
	json_decref(man);
	sb_cleanup(&sb);
	registry_manifest_cleanup(&m);
	return r;
}

/* A short reason for users (the details are in the log line): what kind of registry failure e is. */
static const char *fetch_problem(const struct err *e)
{
	if (strstr(e->msg, "is skipped for") != NULL)
		return "it failed 3 times in a row and is skipped for 30 s";
	switch (e->code) {
	case ERR_TIMEOUT:
		return "no complete answer before the deadline";
	case ERR_DENIED:
		return "access denied (check the registry authFile)";
	case ERR_VERIFY:
		return "the registry served content that does not match its digest";
	case ERR_TOO_LARGE:
		return "the attestation manifest is too large";
	case ERR_PARSE:
		return "the attestation manifest is malformed";
	case ERR_INVALID:
		return "plain HTTP is only allowed to loopback registries (insecureLoopback)";
	default:
		return "connection or registry error";
	}
}

/* Looks for digest in the sources in policy order, stopping at the first that has a valid attestation passing the
 * requirements, and fills res: ATT_OK (the newest such), ATT_DENY (attestations that fail a requirement, or none:
 * the message says where it looked), or ATT_ERROR (none found and a registry could not be read). */
static void lookup(const struct attconf *c, const struct keyring *kr, const struct imageref *ref, const char *digest,
    uint64_t deadline, struct att_result *res)
{
	struct best b;
	struct err why;
	char looked[sizeof(c->looked) + IMAGEREF_NAME_MAX + 8];
	bool reg_failed = false;

	memset(res, 0, sizeof(*res));
	memset(&b, 0, sizeof(b));
	err_clear(&why);
	for (size_t k = 0; k < c->nsources && !b.have_ok; k++) {
		bool found = false;

		if (c->order[k].registry) {
			struct err e1;

			err_clear(&e1);
			if (reg_fetch(c, kr, ref, digest, deadline, &b, &found, &e1) != 0) {
				log_warn("attestation for %s: %s", digest, e1.msg);
				if (!reg_failed)
					why = e1;
				reg_failed = true;
				metrics_attestation_fetch("registry", "error");
				continue;
			}
			metrics_attestation_fetch("registry", found ? "found" : "none");
			continue;
		}
		struct attdir *d = c->dirs[c->order[k].dir];
		struct attdir_snap *s = attdir_acquire(d);
		const struct attdir_entry *en;
		size_t n = attdir_find(s, digest, &en);

		for (size_t i = 0; i < n; i++) {
			char label[PATH_MAX + 8];

			str_fmt(label, sizeof(label), "%s/%s", attdir_path(d), en[i].file);
			found |= consider(c, kr, digest, en[i].buf, en[i].len, label, &b);
		}
		attdir_release(s);
		metrics_attestation_fetch("directory", found ? "found" : "none");
	}
	if (b.have_ok) {
		*res = b.ok;
		return;
	}
	if (b.have_fail) {
		*res = b.fail;
		return;
	}
	if (reg_failed) {
		res->status = ATT_ERROR;
		str_fmt(res->msg, sizeof(res->msg), "from %s: %s", ref->registry, fetch_problem(&why));
		return;
	}
	str_copy(looked, sizeof(looked), c->looked);
	if (c->reg != NULL)
		str_fmt(looked + strlen(looked), sizeof(looked) - strlen(looked), "%s%s",
		    looked[0] != '\0' ? " and " : "", ref->registry);
	res->status = ATT_DENY;
	res->reason = WHY_NONE;
	str_fmt(res->msg, sizeof(res->msg), "has no hardening attestation signed by a trusted key (looked in %s)",
	    looked);
}

/* The canonical reference for messages, with the digest shortened to 12 hex digits and "…" (ascii: "...", for
 * error texts that are escaped to ASCII on their way out). */
static void display_ref(const struct imageref *ref, bool ascii, char *dst, size_t size)
{
	char full[IMAGEREF_NAME_MAX * 2 + 100], *at;

	if (imageref_fmt(ref, full, sizeof(full)) != 0)
		str_copy(full, sizeof(full), ref->repository);
	if ((at = strstr(full, "@sha256:")) != NULL && strlen(at) > 8 + 12)
		memcpy(at + 8 + 12, ascii ? "..." : "\xe2\x80\xa6", 4); /* and the NUL */
	str_copy(dst, size, full);
}

/* The cache key of ref: its digest, and with a registry source also its repository (a registry's answer, unlike a
 * verified attestation, depends on where it was asked). */
static void cache_key(const struct attconf *c, const struct imageref *ref, char key[ATTCACHE_KEY_MAX + 1])
{
	char where[2 * IMAGEREF_NAME_MAX + 2], d[DIGEST_STR_LEN + 1];
	struct err e;

	if (c->reg == NULL) {
		str_copy(key, ATTCACHE_KEY_MAX + 1, ref->digest);
		return;
	}
	str_fmt(where, sizeof(where), "%s/%s", ref->registry, ref->repository);
	if (sha256_digest_str(where, strlen(where), d, &e) != 0)
		d[7 + 16] = '\0';
	str_fmt(key, ATTCACHE_KEY_MAX + 1, "%s %.16s", ref->digest, d + 7);
}

/* imageReferences "resolve": asks the registry for the digest of ref's tag (the kubelet may pull later and get
 * another one if the tag moves: docs/webhook-policy.md). Errors say what could not be resolved where. */
static int resolve_tag(const struct attconf *c, struct imageref *ref, uint64_t deadline, struct err *e)
{
	char d[DIGEST_STR_LEN + 1];
	int r;

	if (reg_blocked(c->reg, ref->registry, now_ms()))
		return err_set(e, ERR_NETWORK,
		    "cannot resolve %s/%s:%s: registry %s failed %d times in a row and is "
		    "skipped for %u s",
		    ref->registry, ref->repository, imageref_reference(ref), ref->registry, REG_FAIL_LIMIT,
		    REG_BACKOFF_MS / 1000);
	if ((r = registry_manifest_resolve(reg_client(c->reg, ref), ref, (int64_t)deadline, d, e)) != 0) {
		reg_note(c->reg, ref->registry, r == ERR_NOT_FOUND, now_ms());
		return err_prefix(e, "cannot resolve the tag to a digest");
	}
	reg_note(c->reg, ref->registry, true, now_ms());
	str_copy(ref->digest, sizeof(ref->digest), d);
	return 0;
}

/* The image of a container is not pinned by digest: the violation tells how to pin it. */
static int deny_unpinned(const char *container, const char *image, struct adm_violations *v)
{
	char esc[220], name[220], fix[600];
	const char *slash = strrchr(image, '/'), *colon = strrchr(image, ':');
	size_t nlen = strlen(image);

	if (colon != NULL && (slash == NULL || colon > slash))
		nlen = (size_t)(colon - image);
	str_escape(esc, sizeof(esc), image, strlen(image), 200);
	str_escape(name, sizeof(name), image, nlen, 200);
	str_fmt(fix, sizeof(fix),
	    "use %s@sha256:<digest> (e.g. from \"skopeo inspect docker://%s\" or \"crane "
	    "digest %s\")",
	    name, esc, esc);
	return adm_violations_add(v, container, "image", fix, "%s is not pinned by digest", esc);
}

int attcheck_check(struct attcheck *ac, const char *container, const char *image, uint64_t deadline_ms,
    struct adm_violations *v, struct adm_violations *notices, struct err *e)
{
	struct attconf *c = conf_acquire(ac);
	struct keyring *kr = NULL;
	struct imageref ref;
	struct att_result res;
	struct err why;
	char shown[300], shown_a[300], esc[220], key[ATTCACHE_KEY_MAX + 1];
	uint64_t now, limit = 0;
	int64_t age;
	int r = 0;

	if (c == NULL || !c->on)
		goto out;
	err_clear(&why);
	if (imageref_parse(image, &ref, &why) != 0) {
		str_escape(esc, sizeof(esc), image, strlen(image), 200);
		log_info("container image \"%s\": %s", esc, why.msg);
		r = adm_violations_add(v, container, "image", "write registry/repository@sha256:<digest>",
		    "%s is not a valid image reference", esc);
		goto out;
	}
	now = now_ms();
	if (deadline_ms != 0)
		limit = deadline_ms > ATTCHECK_DEADLINE_MARGIN_MS ? deadline_ms - ATTCHECK_DEADLINE_MARGIN_MS : 1;
	else
		limit = now + 10000; /* never wait for ever on a registry */
	if (ref.digest[0] == '\0' && !c->resolve) {
		r = deny_unpinned(container, image, v);
		goto out;
	}
	if (ref.digest[0] == '\0' && (r = resolve_tag(c, &ref, limit, e)) != 0)
		goto out;
	display_ref(&ref, false, shown, sizeof(shown));
	display_ref(&ref, true, shown_a, sizeof(shown_a));
	cache_key(c, &ref, key);
	switch (attcache_get(c->cache, key, now, limit, &res)) {
	case ATTCACHE_HIT:
		metrics_attestation_cache(true);
		break;
	case ATTCACHE_TIMEOUT:
		metrics_attestation_cache(false);
		r = err_set(e, ERR_TIMEOUT, "the attestation of %s could not be fetched from %s before the deadline",
		    shown_a, c->reg != NULL ? ref.registry : c->looked);
		goto out;
	default: /* ATTCACHE_LEAD */
		metrics_attestation_cache(false);
		if (now >= limit) {
			attcache_done(c->cache, key, NULL, now);
			r = err_set(e, ERR_TIMEOUT, "no time left to look for the attestation of %s", shown_a);
			goto out;
		}
		pthread_mutex_lock(&ac->mu);
		if (c->kr != NULL)
			kr = keyring_ref(c->kr);
		pthread_mutex_unlock(&ac->mu);
		lookup(c, kr, &ref, ref.digest, limit, &res);
		attcache_done(c->cache, key, &res, now_ms());
		break;
	}
	if (res.status == ATT_ERROR) {
		r = err_set(e, ERR_NETWORK, "the attestation of %s could not be fetched %s", shown_a, res.msg);
		goto out;
	}
	if (res.status == ATT_DENY) {
		r = adm_violations_add(v, container, "image",
		    res.reason == WHY_NONE ? "run `hardline attest --key \xe2\x80\xa6 --push`"
					   : "harden the image again and attest it",
		    "%s %s", shown, res.msg);
		goto out;
	}
	if (c->max_age_s > 0) {
		age = (int64_t)time(NULL) - res.timestamp;
		if (age > (int64_t)(c->max_age_s + c->grace_s)) {
			r = adm_violations_add(v, container, "image", "harden the image again and attest it",
			    "%s has a hardening attestation %lldh old, over attestations.maxAge %s", shown,
			    (long long)(age / 3600), c->max_age_text);
			goto out;
		}
		if (age > (int64_t)c->max_age_s && notices != NULL)
			r = adm_violations_add(notices, container, "image", "harden the image again and attest it",
			    "%s: attestation %lldh old, over maxAge %s (grace period)", shown, (long long)(age / 3600),
			    c->max_age_text);
	}
out:
	keyring_unref(kr);
	conf_unref(c);
	return r;
}

/* The adm_image_checker entry point: arg is the struct attcheck. */
static int hook_check(void *arg, const char *container, const char *image, uint64_t deadline_ms,
    struct adm_violations *v, struct adm_violations *notices, struct err *e)
{
	return attcheck_check(arg, container, image, deadline_ms, v, notices, e);
}

int attcheck_new(struct attcheck **out, struct err *e)
{
	struct attcheck *ac;
	int r;

	*out = NULL;
	if ((ac = calloc(1, sizeof(*ac))) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	pthread_mutex_init(&ac->mu, NULL);
	ac->hook.check = hook_check;
	ac->hook.arg = ac;
	if ((r = conf_parse(NULL, &ac->conf, e)) != 0) {
		attcheck_free(ac);
		return r;
	}
	*out = ac;
	return 0;
}

void attcheck_free(struct attcheck *ac)
{
	if (ac == NULL)
		return;
	conf_unref(ac->conf);
	json_decref(ac->att);
	pthread_mutex_destroy(&ac->mu);
	free(ac);
}

int attcheck_configure(struct attcheck *ac, const json_t *att, struct err *e)
{
	struct attconf *c = NULL, *old;
	json_t *copy = NULL;
	int r;

	/* A policy reload that leaves "attestations" as it was keeps the keys, sources and cache in force. */
	if (ac->conf != NULL && ((att == NULL && ac->att == NULL) || (att != NULL && json_equal(att, ac->att))))
		return 0;
	if ((r = conf_parse(att, &c, e)) != 0)
		return r;
	if (att != NULL && (copy = json_deep_copy(att)) == NULL) {
		conf_unref(c);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	json_decref(ac->att);
	ac->att = copy;
	pthread_mutex_lock(&ac->mu);
	old = ac->conf;
	ac->conf = c;
	pthread_mutex_unlock(&ac->mu);
	conf_unref(old);
	if (c->on)
		log_info("attestation check on: %zu trusted keys, sources %s", keyring_count(c->kr), c->looked);
	return 0;
}

int attcheck_poll(struct attcheck *ac)
{
	struct attconf *c = conf_acquire(ac);
	struct keyring *kr = NULL, *old;
	struct err e;
	bool keys = false, changed = false;
	int r = 0;

	if (c == NULL || !c->on)
		goto out;
	for (size_t i = 0; i < 2 * c->nkey_paths; i++)
		keys |= filewatch_changed(&c->kw[i]);
	if (keys) {
		err_clear(&e);
		if (load_keys(c, &kr, &e) != 0)
			log_error("trusted keys: %s; every image is refused until the keys load again", e.msg);
		else
			log_info("trusted keys reloaded: %zu keys", keyring_count(kr));
		pthread_mutex_lock(&ac->mu);
		old = c->kr;
		c->kr = kr; /* transferred */
		pthread_mutex_unlock(&ac->mu);
		keyring_unref(old);
		changed = true;
	}
	for (size_t i = 0; i < c->ndirs; i++) {
		err_clear(&e);
		r = attdir_poll(c->dirs[i], &e);
		if (r < 0)
			log_warn("%s; the previous index stays in force", e.msg);
		changed |= r > 0;
	}
	if (changed)
		attcache_clear(c->cache);
	r = changed ? 1 : 0;
out:
	conf_unref(c);
	return r;
}

const struct adm_image_checker *attcheck_hook(struct attcheck *ac)
{
	return &ac->hook;
}
