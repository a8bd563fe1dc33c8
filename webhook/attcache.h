/* attcache — the webhook's cache of attestation results by image digest: a bounded LRU with a time-to-live (shorter
 * for failures), and single flight: concurrent requests for the same digest wait for the one that is fetching and
 * verifying, each bounded by its own deadline. Thread-safe; one mutex, one condition variable per in-flight digest. */
#ifndef HARDLINE_WEBHOOK_ATTCACHE_H
#define HARDLINE_WEBHOOK_ATTCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

#define ATTCACHE_KEY_MAX 127 /* bytes of a key (an image digest with a configuration tag) */
#define ATTCACHE_MSG_MAX 320 /* bytes of a cached message */

/* What a check found for one digest. */
enum att_status {
	ATT_OK,	   /* a valid attestation: timestamp and msg (where it was found) are set */
	ATT_DENY,  /* none valid, or the facts fail a requirement: msg says why (for users) */
	ATT_ERROR, /* could not be decided (fetch failed, timeout): msg says what and where */
};

struct att_result {
	int status;		    /* enum att_status */
	int reason;		    /* the caller's own detail code, cached as is */
	int64_t timestamp;	    /* predicate timestamp, Unix seconds (ATT_OK) */
	char msg[ATTCACHE_MSG_MAX]; /* NUL-terminated */
};

/* What attcache_get tells the caller to do. */
enum attcache_outcome {
	ATTCACHE_HIT,	  /* *res holds a cached result (or one a concurrent fetch just produced) */
	ATTCACHE_LEAD,	  /* not cached: the caller computes it and must call attcache_done exactly once */
	ATTCACHE_TIMEOUT, /* another request is computing it and the deadline passed while waiting */
};

struct attcache;

/* Makes a cache holding at most capacity results (>= 1); ttl_ms is how long ATT_OK results stay, fail_ttl_ms how
 * long ATT_DENY and ATT_ERROR results stay (0: not cached). *out is new (attcache_free it). ERR_NOMEM,
 * ERR_INVALID for capacity 0 or over 10000000. */
int attcache_new(size_t capacity, uint64_t ttl_ms, uint64_t fail_ttl_ms, struct attcache **out, struct err *e);

/* Frees c; NULL is fine. No call may be in progress. */
void attcache_free(struct attcache *c);

/* Looks key up (at most ATTCACHE_KEY_MAX bytes; longer keys are never cached: ATTCACHE_LEAD) at now_ms
 * (CLOCK_MONOTONIC milliseconds). A fresh entry: ATTCACHE_HIT with *res filled. None or expired: ATTCACHE_LEAD, and
 * the key is marked in flight until the caller's attcache_done. In flight by another caller: waits until that one
 * is done (ATTCACHE_HIT with its result, or ATTCACHE_LEAD when it gave up) or until deadline_ms (absolute
 * CLOCK_MONOTONIC ms, 0 = no limit) passes: ATTCACHE_TIMEOUT. Counts a hit or a miss for attcache_stats. */
int attcache_get(struct attcache *c, const char *key, uint64_t now_ms, uint64_t deadline_ms, struct att_result *res);

/* Ends the flight begun by an ATTCACHE_LEAD for key: res (copied) is given to the waiters and cached at now_ms
 * with its time-to-live (unless attcache_clear ran meanwhile: the waiters still get it, it is not kept); res NULL
 * gives up (one waiter, if any, becomes the leader). */
void attcache_done(struct attcache *c, const char *key, const struct att_result *res, uint64_t now_ms);

/* Forgets every cached result (after a configuration, key or attestation change). Flights under way finish but
 * their results are not kept. */
void attcache_clear(struct attcache *c);

/* Counters since creation: lookups answered from the cache (including from a concurrent flight), and misses. */
void attcache_stats(struct attcache *c, uint64_t *hits, uint64_t *misses, size_t *entries);

#endif
