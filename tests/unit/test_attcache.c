/* Tests of webhook/attcache: LRU eviction, time-to-live of good and failed results, clearing, and single flight
 * (one leader computes while concurrent callers wait, each bounded by its own deadline). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/str.h"
#include "webhook/attcache.h"

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct att_result result(int status, const char *msg)
{
	struct att_result r;

	memset(&r, 0, sizeof(r));
	r.status = status;
	str_copy(r.msg, sizeof(r.msg), msg);
	return r;
}

/* Puts key in the cache as a leader would. */
static void put(struct attcache *c, const char *key, int status, uint64_t now)
{
	struct att_result got, res = result(status, key);

	assert_int_equal(attcache_get(c, key, now, 0, &got), ATTCACHE_LEAD);
	attcache_done(c, key, &res, now);
}

static void test_hit_miss_ttl(void **state)
{
	struct attcache *c = NULL;
	struct att_result got;
	struct err e;
	uint64_t hits, misses;
	size_t n;

	assert_int_equal(attcache_new(10, 1000, 100, &c, &e), 0);
	put(c, "sha256:aa", ATT_OK, 5000);
	put(c, "sha256:bb", ATT_DENY, 5000);
	assert_int_equal(attcache_get(c, "sha256:aa", 5999, 0, &got), ATTCACHE_HIT);
	assert_int_equal(got.status, ATT_OK);
	assert_string_equal(got.msg, "sha256:aa");
	assert_int_equal(attcache_get(c, "sha256:bb", 5099, 0, &got), ATTCACHE_HIT);
	assert_int_equal(got.status, ATT_DENY);
	/* A failure lives fail_ttl_ms only; a good result ttl_ms. */
	assert_int_equal(attcache_get(c, "sha256:bb", 5100, 0, &got), ATTCACHE_LEAD);
	attcache_done(c, "sha256:bb", NULL, 5100);
	assert_int_equal(attcache_get(c, "sha256:aa", 6000, 0, &got), ATTCACHE_LEAD);
	attcache_done(c, "sha256:aa", NULL, 6000);
	attcache_stats(c, &hits, &misses, &n);
	assert_int_equal(hits, 2);
	assert_int_equal(misses, 4);
	assert_int_equal(n, 0); /* given-up flights leave nothing behind */
	attcache_free(c);
}

static void test_lru_eviction(void **state)
{
	struct attcache *c = NULL;
	struct att_result got;
	struct err e;
	char key[32];
	uint64_t hits, misses;
	size_t n;

	assert_int_equal(attcache_new(3, 100000, 100000, &c, &e), 0);
	put(c, "k1", ATT_OK, 1);
	put(c, "k2", ATT_OK, 1);
	put(c, "k3", ATT_OK, 1);
	assert_int_equal(attcache_get(c, "k1", 2, 0, &got), ATTCACHE_HIT); /* k1 is now the most recent */
	put(c, "k4", ATT_OK, 3);					   /* evicts k2, the least recent */
	assert_int_equal(attcache_get(c, "k1", 4, 0, &got), ATTCACHE_HIT);
	assert_int_equal(attcache_get(c, "k3", 4, 0, &got), ATTCACHE_HIT);
	assert_int_equal(attcache_get(c, "k4", 4, 0, &got), ATTCACHE_HIT);
	assert_int_equal(attcache_get(c, "k2", 4, 0, &got), ATTCACHE_LEAD);
	attcache_done(c, "k2", NULL, 4);
	for (int i = 0; i < 1000; i++) {
		str_fmt(key, sizeof(key), "many%d", i);
		put(c, key, ATT_OK, 5);
	}
	attcache_stats(c, &hits, &misses, &n);
	assert_true(n <= 3);
	attcache_free(c);
}

static void test_clear_and_long_keys(void **state)
{
	struct attcache *c = NULL;
	struct att_result got, res = result(ATT_OK, "x");
	struct err e;
	char key[300];

	assert_int_equal(attcache_new(1, 0, 0, &c, &e), 0);
	put(c, "k", ATT_OK, 1);
	/* ttl 0: nothing is kept. */
	assert_int_equal(attcache_get(c, "k", 1, 0, &got), ATTCACHE_LEAD);
	attcache_done(c, "k", NULL, 1);
	attcache_free(c);

	assert_int_equal(attcache_new(8, 100000, 100000, &c, &e), 0);
	put(c, "k", ATT_OK, 1);
	attcache_clear(c);
	assert_int_equal(attcache_get(c, "k", 2, 0, &got), ATTCACHE_LEAD);
	/* A clear during the flight: the result is not kept. */
	attcache_clear(c);
	attcache_done(c, "k", &res, 3);
	assert_int_equal(attcache_get(c, "k", 4, 0, &got), ATTCACHE_LEAD);
	attcache_done(c, "k", NULL, 4);
	memset(key, 'a', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	assert_int_equal(attcache_get(c, key, 1, 0, &got), ATTCACHE_LEAD); /* too long: never cached */
	attcache_done(c, key, &res, 1);
	assert_int_equal(attcache_get(c, key, 1, 0, &got), ATTCACHE_LEAD);
	attcache_free(c);
	assert_int_equal(attcache_new(0, 1, 1, &c, &e), ERR_INVALID);
	attcache_free(NULL);
}

struct waiter {
	struct attcache *c;
	uint64_t deadline_ms;
	int outcome;
	struct att_result got;
	uint64_t waited_ms;
};

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;
	uint64_t t0 = mono_ms();

	w->outcome = attcache_get(w->c, "sha256:shared", t0, w->deadline_ms, &w->got);
	w->waited_ms = mono_ms() - t0;
	return NULL;
}

static void test_single_flight(void **state)
{
	struct attcache *c = NULL;
	struct att_result got, res = result(ATT_OK, "verified once");
	struct waiter w[8];
	pthread_t th[8];
	struct err e;
	uint64_t hits, misses;
	size_t n;

	assert_int_equal(attcache_new(16, 100000, 1000, &c, &e), 0);
	assert_int_equal(attcache_get(c, "sha256:shared", mono_ms(), 0, &got), ATTCACHE_LEAD);
	for (int i = 0; i < 8; i++) {
		w[i].c = c;
		/* Two waiters have a short deadline: they give up; the others get the leader's result. */
		w[i].deadline_ms = i < 2 ? mono_ms() + 50 : mono_ms() + 10000;
		assert_int_equal(pthread_create(&th[i], NULL, wait_thread, &w[i]), 0);
	}
	usleep(300 * 1000);
	attcache_done(c, "sha256:shared", &res, mono_ms());
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		if (i < 2) {
			assert_int_equal(w[i].outcome, ATTCACHE_TIMEOUT);
			assert_true(w[i].waited_ms < 250);
		} else {
			assert_int_equal(w[i].outcome, ATTCACHE_HIT);
			assert_string_equal(w[i].got.msg, "verified once");
		}
	}
	attcache_stats(c, &hits, &misses, &n);
	assert_int_equal(hits, 6);
	assert_int_equal(misses, 3);
	attcache_free(c);
}

/* A leader that gives up hands the flight to one waiter, which then leads. */
static void test_leader_gives_up(void **state)
{
	struct attcache *c = NULL;
	struct att_result got, res = result(ATT_DENY, "second try");
	struct waiter w;
	pthread_t th;
	struct err e;

	assert_int_equal(attcache_new(16, 100000, 100000, &c, &e), 0);
	assert_int_equal(attcache_get(c, "sha256:shared", mono_ms(), 0, &got), ATTCACHE_LEAD);
	w.c = c;
	w.deadline_ms = mono_ms() + 10000;
	assert_int_equal(pthread_create(&th, NULL, wait_thread, &w), 0);
	usleep(100 * 1000);
	attcache_done(c, "sha256:shared", NULL, mono_ms());
	pthread_join(th, NULL);
	assert_int_equal(w.outcome, ATTCACHE_LEAD);
	attcache_done(c, "sha256:shared", &res, mono_ms());
	assert_int_equal(attcache_get(c, "sha256:shared", mono_ms(), 0, &got), ATTCACHE_HIT);
	assert_string_equal(got.msg, "second try");
	attcache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_miss_ttl),
		cmocka_unit_test(test_lru_eviction),
		cmocka_unit_test(test_clear_and_long_keys),
		cmocka_unit_test(test_single_flight),
		cmocka_unit_test(test_leader_gives_up),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
