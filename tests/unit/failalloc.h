/* failalloc — the jansson allocator of the unit tests' allocation-failure loops (STYLE.md: every error path frees
 * what it took). failalloc_arm(n) makes the n-th jansson allocation from then on fail (counting from 0),
 * failalloc_arm_latched(n) that one and every later one; failalloc_untouched() tells that the run made no more than n
 * allocations, so every point has been tried. */
#ifndef HARDLINE_TEST_FAILALLOC_H
#define HARDLINE_TEST_FAILALLOC_H

#include <stdbool.h>
#include <stdlib.h>

#include <jansson.h>

static long failalloc_at = -1, failalloc_count;
static bool failalloc_latch;

/* jansson's malloc while armed: NULL for the failalloc_at-th call (and, latched, every later one), else malloc. */
static inline void *failalloc_malloc(size_t n)
{
	long i = failalloc_count++;

	if (failalloc_at >= 0 && (i == failalloc_at || (failalloc_latch && i > failalloc_at)))
		return NULL;
	return malloc(n);
}

/* Installs the failing allocator with the at-th allocation to fail (latched: and all after it), the count reset. */
static inline void failalloc_arm_mode(long at, bool latched)
{
	failalloc_at = at;
	failalloc_latch = latched;
	failalloc_count = 0;
	json_set_alloc_funcs(failalloc_malloc, free);
}

static inline void failalloc_arm(long at)
{
	failalloc_arm_mode(at, false);
}

static inline void failalloc_arm_latched(long at)
{
	failalloc_arm_mode(at, true);
}

/* Restores plain malloc/free for jansson; failalloc_untouched still answers for the run just ended. */
static inline void failalloc_disarm(void)
{
	json_set_alloc_funcs(malloc, free);
}

/* Whether no allocation failed since failalloc_arm (the loop has gone past the last allocation point). */
static inline bool failalloc_untouched(void)
{
	return failalloc_count <= failalloc_at;
}

#endif
