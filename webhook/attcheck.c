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

#include "lib/imageref.h"
#include "lib/intoto.h"
#include "lib/json.h"
#include "lib/keys.h"
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

/* Detail codes of an ATT_DENY result (att_result.reason). */
enum { WHY_NONE, WHY_FACTS, WHY_NO_TIME };

struct attconf {
	int refs;
	bool on;
	bool resolve;                      /* imageReferences "resolve" */
	char *key_paths[MAX_KEY_PATHS];
	size_t nkey_paths;
	struct filewatch kw[2 * MAX_KEY_PATHS]; /* each path and its "..data" (watcher thread only) */
	struct keyring *kr;                /* guarded by attcheck.mu: swapped on key rotation; NULL = no key loads */
	struct attdir *dirs[ATTCHECK_MAX_SOURCES];
	size_t ndirs;
	char *req_names[ATTCHECK_MAX_REQUIRE];
	int64_t req_max[ATTCHECK_MAX_REQUIRE];
	size_t nreq;
	uint64_t max_age_s, grace_s;       /* 0: no age limit */
	char max_age_text[32];
	char looked[256];                  /* "/etc/hardline/attestations and /srv/att" */
	struct attcache *cache;
};

struct attcheck {
	pthread_mutex_t mu;                /* guards conf and conf->kr */
	struct attconf *conf;
	struct adm_image_checker hook;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

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

/* Parses the "sources" array into directory sources (read now). */
static int parse_sources(struct attconf *c, const json_t *att, struct err *e)
{
	static const char *const src_keys[] = { "directory", "registry", NULL };
	json_t *arr = NULL, *src;
	const char *dir;
	size_t i;
	int r;

	if ((r = json_get_arr(att, "sources", &arr, "policy attestations", e)) != 0)
		return r == ERR_NOT_FOUND ? err_set(e, ERR_INVALID, "policy attestations.sources is missing; list where "
		    "attestations are, e.g. [{\"directory\": \"/etc/hardline/attestations\"}]") : r;
	if (json_array_size(arr) == 0 || json_array_size(arr) > ATTCHECK_MAX_SOURCES)
		return err_set(e, ERR_INVALID, "policy attestations.sources: give 1 to %d sources", ATTCHECK_MAX_SOURCES);
	json_array_foreach(arr, i, src) {
		if (!json_is_object(src) || json_object_size(src) != 1)
			return err_set(e, ERR_INVALID, "policy attestations.sources[%zu]: must be an object with one key, "
			    "\"directory\" or \"registry\"", i);
		if ((r = json_check_keys(src, src_keys, "policy attestations.sources[]", e)) != 0)
			return r;
		if (json_object_get(src, "registry") != NULL) {
			if (!json_is_object(json_object_get(src, "registry")))
				return err_set(e, ERR_INVALID, "policy attestations.sources[%zu].registry: must be an object", i);
			log_warn("policy attestations.sources[%zu]: the registry source is not available in this build; "
			    "only directories are searched", i);
			continue;
		}
		if ((r = json_get_str(src, "directory", &dir, "policy attestations.sources[]", e)) != 0)
			return r;
		if (*dir != '/')
			return err_set(e, ERR_INVALID, "policy attestations.sources[%zu].directory \"%.100s\": must be an "
			    "absolute path", i, dir);
		if ((r = attdir_new(dir, &c->dirs[c->ndirs], e)) != 0)
			return r;
		c->ndirs++;
		if (strlen(c->looked) + strlen(dir) + 8 < sizeof(c->looked)) {
			size_t at = strlen(c->looked);

			str_fmt(c->looked + at, sizeof(c->looked) - at, "%s%s", at > 0 ? " and " : "", dir);
		}
	}
	if (c->ndirs == 0)
		return err_set(e, ERR_INVALID, "policy attestations.sources: no directory source; the registry source "
		    "is not available in this build, add {\"directory\": \"/etc/hardline/attestations\"}");
	return 0;
}

/* Loads the keyring from the key paths. */
static int load_keys(struct attconf *c, struct keyring **out, struct err *e)
{
	return keyring_load_paths((const char *const *)c->key_paths, c->nkey_paths, out, e);
}

static int parse_keys(struct attconf *c, const json_t *att, struct err *e)
{
	json_t *arr = NULL, *k;
	char data[PATH_MAX];
	size_t i;
	int r;

	if ((r = json_get_arr(att, "keys", &arr, "policy attestations", e)) != 0)
		return r == ERR_NOT_FOUND ? err_set(e, ERR_INVALID, "policy attestations.keys is missing; list the "
		    "trusted public key files or directories, e.g. [\"/etc/hardline/keys\"]") : r;
	if (json_array_size(arr) == 0 || json_array_size(arr) > MAX_KEY_PATHS)
		return err_set(e, ERR_INVALID, "policy attestations.keys: give 1 to %d paths", MAX_KEY_PATHS);
	json_array_foreach(arr, i, k) {
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

static int parse_require(struct attconf *c, const json_t *att, struct err *e)
{
	json_t *obj = NULL, *v;
	const char *name;
	int r;

	if ((r = json_get_obj(att, "require", &obj, "policy attestations", e)) != 0)
		return r == ERR_NOT_FOUND ? 0 : r;
	if (json_object_size(obj) > ATTCHECK_MAX_REQUIRE)
		return err_set(e, ERR_INVALID, "policy attestations.require: at most %d facts", ATTCHECK_MAX_REQUIRE);
	json_object_foreach(obj, name, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return err_set(e, ERR_INVALID, "policy attestations.require.%.60s: must be a count >= 0 (the "
			    "most the attested facts may have)", name);
		if (strlen(name) > 64 || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(name))
			return err_set(e, ERR_INVALID, "policy attestations.require.%.60s: not a fact name (see "
			    "docs/facts.md, e.g. shells)", name);
		if ((c->req_names[c->nreq] = strdup(name)) == NULL)
			return err_set(e, ERR_NOMEM, "out of memory");
		c->req_max[c->nreq++] = (int64_t)json_integer_value(v);
	}
	return 0;
}

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
		r = err_set(e, ERR_INVALID, "policy attestations.imageReferences \"%.40s\": use \"digest\" or \"resolve\"",
		    refs);
		goto out;
	}
	if (strcmp(refs, "resolve") == 0) {
		r = err_set(e, ERR_UNSUPPORTED, "policy attestations.imageReferences \"resolve\" needs the registry "
		    "source, which is not available in this build; use \"digest\"");
		goto out;
	}
	if ((r = get_duration(att, "maxAge", &age, c->max_age_text, sizeof(c->max_age_text), e)) != 0 ||
	    (r = get_duration(att, "maxAgeGrace", &grace, NULL, 0, e)) != 0 ||
	    (r = parse_require(c, att, e)) != 0 || (r = parse_cache(c, att, e)) != 0 ||
	    (r = parse_keys(c, att, e)) != 0 || (r = parse_sources(c, att, e)) != 0)
		goto out;
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
	    &tm.tm_sec, &n) != 6 || n != 19)
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
			str_fmt(res->msg, sizeof(res->msg), "has a hardening attestation without the fact %s.count that "
			    "the policy requires", c->req_names[i]);
			return;
		}
		if (json_integer_value(count) > c->req_max[i]) {
			res->status = ATT_DENY;
			res->reason = WHY_FACTS;
			str_fmt(res->msg, sizeof(res->msg), "has attested %s.count %lld, the policy allows at most %lld",
			    c->req_names[i], (long long)json_integer_value(count), (long long)c->req_max[i]);
			return;
		}
	}
	if (ts == NULL || parse_time(ts, &res->timestamp) != 0) {
		if (c->max_age_s > 0) {
			res->status = ATT_DENY;
			res->reason = WHY_NO_TIME;
			str_copy(res->msg, sizeof(res->msg), "has a hardening attestation without a valid timestamp, and "
			    "the policy sets maxAge");
			return;
		}
		res->timestamp = 0;
	}
	res->status = ATT_OK;
}

/* Looks for digest in every source and verifies what is there: res is ATT_OK for the newest attestation that
 * passes the requirements, else the most recent failure, else "none". */
static void lookup(const struct attconf *c, const struct keyring *kr, const char *digest, struct att_result *res)
{
	struct att_result one, fail;
	bool have_ok = false, have_fail = false;

	memset(res, 0, sizeof(*res));
	memset(&fail, 0, sizeof(fail));
	for (size_t d = 0; d < c->ndirs; d++) {
		struct attdir_snap *s = attdir_acquire(c->dirs[d]);
		const struct attdir_entry *en;
		size_t n = attdir_find(s, digest, &en);
		bool found = false;

		for (size_t i = 0; i < n && kr != NULL; i++) {
			struct intoto_statement *st = NULL;
			struct err why;
			char label[160];

			err_clear(&why);
			str_fmt(label, sizeof(label), "%s/%s", attdir_path(c->dirs[d]), en[i].file);
			if (intoto_verify(en[i].buf, en[i].len, label, kr, digest, HARDLINE_PREDICATE_TYPE, &st, NULL,
			    &why) != 0) {
				log_info("attestation for %s not accepted: %s", digest, why.msg);
				continue;
			}
			found = true;
			judge_predicate(c, st->predicate, &one);
			intoto_statement_free(st);
			if (one.status == ATT_OK && (!have_ok || one.timestamp > res->timestamp)) {
				*res = one;
				str_fmt(res->msg, sizeof(res->msg), "%s", label);
				have_ok = true;
			} else if (one.status != ATT_OK && !have_fail) {
				fail = one;
				have_fail = true;
			}
		}
		attdir_release(s);
		metrics_attestation_fetch("directory", found ? "found" : "none");
	}
	if (have_ok)
		return;
	if (have_fail) {
		*res = fail;
		return;
	}
	res->status = ATT_DENY;
	res->reason = WHY_NONE;
	str_fmt(res->msg, sizeof(res->msg), "has no hardening attestation signed by a trusted key (looked in %s)",
	    c->looked);
}

/* The canonical reference for messages, with the digest shortened to 12 hex digits. */
static void display_ref(const struct imageref *ref, char *dst, size_t size)
{
	char full[IMAGEREF_NAME_MAX * 2 + 100], *at;

	if (imageref_fmt(ref, full, sizeof(full)) != 0)
		str_copy(full, sizeof(full), ref->repository);
	if ((at = strstr(full, "@sha256:")) != NULL && strlen(at) > 8 + 12)
		memcpy(at + 8 + 12, "\xe2\x80\xa6", 4); /* "…" and the NUL */
	str_copy(dst, size, full);
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
	str_fmt(fix, sizeof(fix), "use %s@sha256:<digest> (e.g. from \"skopeo inspect docker://%s\" or \"crane "
	    "digest %s\")", name, esc, esc);
	return adm_violations_add(v, container, "image", fix, "%s is not pinned by digest", esc);
}

int attcheck_check(struct attcheck *ac, const char *container, const char *image, uint64_t deadline_ms,
    struct adm_violations *v, struct err *e)
{
	struct attconf *c = conf_acquire(ac);
	struct keyring *kr = NULL;
	struct imageref ref;
	struct att_result res;
	struct err why;
	char shown[300], esc[220];
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
	if (ref.digest[0] == '\0') {
		r = deny_unpinned(container, image, v);
		goto out;
	}
	display_ref(&ref, shown, sizeof(shown));
	now = now_ms();
	if (deadline_ms != 0)
		limit = deadline_ms > ATTCHECK_DEADLINE_MARGIN_MS ? deadline_ms - ATTCHECK_DEADLINE_MARGIN_MS : 1;
	switch (attcache_get(c->cache, ref.digest, now, limit, &res)) {
	case ATTCACHE_HIT:
		metrics_attestation_cache(true);
		break;
	case ATTCACHE_TIMEOUT:
		metrics_attestation_cache(false);
		r = err_set(e, ERR_TIMEOUT, "the attestation of %s could not be fetched from %s before the deadline",
		    shown, c->looked);
		goto out;
	default: /* ATTCACHE_LEAD */
		metrics_attestation_cache(false);
		if (limit != 0 && now >= limit) {
			attcache_done(c->cache, ref.digest, NULL, now);
			r = err_set(e, ERR_TIMEOUT, "no time left to look for the attestation of %s", shown);
			goto out;
		}
		pthread_mutex_lock(&ac->mu);
		if (c->kr != NULL)
			kr = keyring_ref(c->kr);
		pthread_mutex_unlock(&ac->mu);
		lookup(c, kr, ref.digest, &res);
		attcache_done(c->cache, ref.digest, &res, now_ms());
		break;
	}
	if (res.status == ATT_ERROR) {
		r = err_set(e, ERR_NETWORK, "the attestation of %s could not be fetched: %s", shown, res.msg);
		goto out;
	}
	if (res.status == ATT_DENY) {
		r = adm_violations_add(v, container, "image", res.reason == WHY_NONE ?
		    "run `hardline attest --key \xe2\x80\xa6 --push`" : "harden the image again and attest it",
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
		if (age > (int64_t)c->max_age_s)
			log_warn("%s: image %s: hardening attestation %lldh old, over attestations.maxAge %s; admitted in "
			    "the grace period; harden the image again and attest it", container, shown,
			    (long long)(age / 3600), c->max_age_text);
	}
out:
	keyring_unref(kr);
	conf_unref(c);
	return r;
}

static int hook_check(void *arg, const char *container, const char *image, uint64_t deadline_ms,
    struct adm_violations *v, struct err *e)
{
	return attcheck_check(arg, container, image, deadline_ms, v, e);
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
	pthread_mutex_destroy(&ac->mu);
	free(ac);
}

int attcheck_configure(struct attcheck *ac, const json_t *att, struct err *e)
{
	struct attconf *c = NULL, *old;
	int r;

	if ((r = conf_parse(att, &c, e)) != 0)
		return r;
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
