/* attcache — bounded LRU of attestation results with TTLs and single-flight: a chained hash table plus a doubly
 * linked recency list under one mutex; an in-flight entry carries the condition variable its waiters sleep on. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/str.h"
#include "webhook/attcache.h"

#define ATTCACHE_CAPACITY_MAX 10000000u

enum entry_state { E_READY, E_INFLIGHT, E_EMPTY /* the leader gave up; the next waiter leads */ };

struct entry {
	char key[ATTCACHE_KEY_MAX + 1];
	uint64_t hash;
	struct att_result res;
	uint64_t expires_ms;
	int state;	      /* enum entry_state */
	unsigned int waiters; /* callers sleeping on cond */
	bool stale;	      /* attcache_clear ran during the flight: do not keep the result */
	pthread_cond_t cond;
	struct entry *hnext;	   /* hash chain */
	struct entry *prev, *next; /* recency list, most recent first */
};

struct attcache {
	pthread_mutex_t mu;
	struct entry **buckets;
	size_t nbuckets; /* a power of two */
	size_t count, capacity;
	struct entry *head, *tail;
	uint64_t ttl_ms, fail_ttl_ms;
	uint64_t hits, misses;
};

/* FNV-1a of s. */
static uint64_t key_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

int attcache_new(size_t capacity, uint64_t ttl_ms, uint64_t fail_ttl_ms, struct attcache **out, struct err *e)
{
	struct attcache *c = NULL;
	size_t nb = 16;
	int r = ERR_NOMEM;

	*out = NULL;
	if (capacity == 0 || capacity > ATTCACHE_CAPACITY_MAX)
		return err_set(e, ERR_INVALID, "attestation cache capacity %zu: must be from 1 to %u", capacity,
		    ATTCACHE_CAPACITY_MAX);
	while (nb < capacity)
		nb *= 2;
	if ((c = calloc(1, sizeof(*c))) == NULL || (c->buckets = calloc(nb, sizeof(*c->buckets))) == NULL) {
		err_set(e, ERR_NOMEM, "attestation cache: out of memory");
		goto out;
	}
	pthread_mutex_init(&c->mu, NULL);
	c->nbuckets = nb;
	c->capacity = capacity;
	c->ttl_ms = ttl_ms;
	c->fail_ttl_ms = fail_ttl_ms;
	*out = c;
	c = NULL; /* transferred */
	r = 0;
out:
	if (c != NULL)
		free(c->buckets);
	free(c);
	return r;
}

/* Unlinks en from the recency list. */
static void lru_unlink(struct attcache *c, struct entry *en)
{
	if (en->prev != NULL)
		en->prev->next = en->next;
	else
		c->head = en->next;
	if (en->next != NULL)
		en->next->prev = en->prev;
	else
		c->tail = en->prev;
	en->prev = en->next = NULL;
}

/* Puts en first in the recency list. */
static void lru_push_front(struct attcache *c, struct entry *en)
{
	en->prev = NULL;
	en->next = c->head;
	if (c->head != NULL)
		c->head->prev = en;
	c->head = en;
	if (c->tail == NULL)
		c->tail = en;
}

/* Removes en from the table and the list and frees it. Only for entries nobody waits on. */
static void entry_remove(struct attcache *c, struct entry *en)
{
	struct entry **pp = &c->buckets[en->hash & (c->nbuckets - 1)];

	while (*pp != NULL && *pp != en)
		pp = &(*pp)->hnext;
	if (*pp == en)
		*pp = en->hnext;
	lru_unlink(c, en);
	pthread_cond_destroy(&en->cond);
	free(en);
	c->count--;
}

/* The entry of key (hash h), or NULL. Caller holds the mutex. */
static struct entry *entry_find(struct attcache *c, const char *key, uint64_t h)
{
	struct entry *en;

	for (en = c->buckets[h & (c->nbuckets - 1)]; en != NULL; en = en->hnext)
		if (en->hash == h && strcmp(en->key, key) == 0)
			return en;
	return NULL;
}

/* Evicts least recently used ready entries nobody waits on until count < capacity (in-flight entries stay; they
 * are bounded by the requests in progress). */
static void evict(struct attcache *c)
{
	struct entry *en = c->tail, *prev;

	while (c->count >= c->capacity && en != NULL) {
		prev = en->prev;
		if (en->state == E_READY && en->waiters == 0)
			entry_remove(c, en);
		en = prev;
	}
}

/* A new in-flight entry for key, or NULL when out of memory. */
static struct entry *entry_new(struct attcache *c, const char *key, uint64_t h)
{
	struct entry *en;
	pthread_condattr_t ca;

	evict(c);
	if ((en = calloc(1, sizeof(*en))) == NULL)
		return NULL;
	str_copy(en->key, sizeof(en->key), key);
	en->hash = h;
	en->state = E_INFLIGHT;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&en->cond, &ca);
	pthread_condattr_destroy(&ca);
	en->hnext = c->buckets[h & (c->nbuckets - 1)];
	c->buckets[h & (c->nbuckets - 1)] = en;
	lru_push_front(c, en);
	c->count++;
	return en;
}

int attcache_get(struct attcache *c, const char *key, uint64_t now_ms, uint64_t deadline_ms, struct att_result *res)
{
	struct entry *en;
	struct timespec ts;
	uint64_t h;
	int outcome = ATTCACHE_LEAD;

	memset(res, 0, sizeof(*res));
	pthread_mutex_lock(&c->mu);
	if (strlen(key) > ATTCACHE_KEY_MAX) {
		c->misses++;
		goto out;
	}
	h = key_hash(key);
	en = entry_find(c, key, h);
	if (en != NULL && en->state == E_READY && now_ms < en->expires_ms) {
		*res = en->res;
		lru_unlink(c, en);
		lru_push_front(c, en);
		c->hits++;
		outcome = ATTCACHE_HIT;
		goto out;
	}
	if (en != NULL && en->state == E_READY) { /* expired: refresh in place */
		en->state = E_INFLIGHT;
		en->stale = false;
		c->misses++;
		goto out;
	}
	if (en == NULL) {
		c->misses++;
		if (entry_new(c, key, h) == NULL)
			outcome = ATTCACHE_LEAD; /* uncached: the caller still computes; attcache_done finds nothing */
		goto out;
	}
	/* In flight (or given up): wait for it, bounded by our own deadline. */
	en->waiters++;
	ts.tv_sec = (time_t)(deadline_ms / 1000);
	ts.tv_nsec = (long)(deadline_ms % 1000) * 1000000L;
	while (en->state == E_INFLIGHT) {
		int w = deadline_ms == 0 ? pthread_cond_wait(&en->cond, &c->mu)
					 : pthread_cond_timedwait(&en->cond, &c->mu, &ts);

		if (w == ETIMEDOUT && en->state == E_INFLIGHT) {
			outcome = ATTCACHE_TIMEOUT;
			break;
		}
	}
	en->waiters--;
	if (outcome == ATTCACHE_TIMEOUT) {
		c->misses++;
		if (en->state == E_EMPTY && en->waiters == 0)
			entry_remove(c, en);
	} else if (en->state == E_READY) {
		*res = en->res;
		c->hits++;
		outcome = ATTCACHE_HIT;
		if (en->waiters == 0 && (en->stale || en->expires_ms <= now_ms))
			entry_remove(c, en); /* not to be kept: the last waiter drops it */
	} else {			     /* E_EMPTY: the leader gave up; this caller leads now */
		en->state = E_INFLIGHT;
		en->stale = false;
		c->misses++;
	}
out:
	pthread_mutex_unlock(&c->mu);
	return outcome;
}

void attcache_done(struct attcache *c, const char *key, const struct att_result *res, uint64_t now_ms)
{
	struct entry *en;
	uint64_t ttl;

	if (strlen(key) > ATTCACHE_KEY_MAX)
		return;
	pthread_mutex_lock(&c->mu);
	en = entry_find(c, key, key_hash(key));
	if (en == NULL || en->state != E_INFLIGHT)
		goto out;
	if (res == NULL) {
		if (en->waiters == 0) {
			entry_remove(c, en);
			goto out;
		}
		en->state = E_EMPTY;
		pthread_cond_signal(&en->cond); /* one of them takes over */
		goto out;
	}
	en->res = *res;
	ttl = res->status == ATT_OK ? c->ttl_ms : c->fail_ttl_ms;
	en->expires_ms = en->stale ? 0 : now_ms + ttl;
	en->state = E_READY;
	pthread_cond_broadcast(&en->cond);
	if ((en->stale || ttl == 0) && en->waiters == 0)
		entry_remove(c, en);
out:
	pthread_mutex_unlock(&c->mu);
}

void attcache_clear(struct attcache *c)
{
	struct entry *en, *next;

	pthread_mutex_lock(&c->mu);
	for (en = c->head; en != NULL; en = next) {
		next = en->next;
		if (en->state == E_READY && en->waiters == 0)
			entry_remove(c, en);
		else {
			en->stale = true;
			en->expires_ms = 0;
		}
	}
	pthread_mutex_unlock(&c->mu);
}

void attcache_stats(struct attcache *c, uint64_t *hits, uint64_t *misses, size_t *entries)
{
	pthread_mutex_lock(&c->mu);
	*hits = c->hits;
	*misses = c->misses;
	*entries = c->count;
	pthread_mutex_unlock(&c->mu);
}

void attcache_free(struct attcache *c)
{
	struct entry *en, *next;

	if (c == NULL)
		return;
	for (en = c->head; en != NULL; en = next) {
		next = en->next;
		pthread_cond_destroy(&en->cond);
		free(en);
	}
	pthread_mutex_destroy(&c->mu);
	free(c->buckets);
	free(c);
}
