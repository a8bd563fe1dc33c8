/* failalloc — the jansson allocator of the unit tests' allocation-failure loops (STYLE.md: every error path frees
 * what it took). failalloc_arm(n) makes the n-th jansson allocation from then on fail (counting from 0);
 * failalloc_untouched() tells that the run since made no more than n allocations, so every point has been tried. */
#ifndef HARDLINE_TEST_FAILALLOC_H
#define HARDLINE_TEST_FAILALLOC_H

#include <stdbool.h>
#include <stdlib.h>

#include <jansson.h>

static long failalloc_at = -1, failalloc_count;

/* jansson's malloc while armed: NULL for the failalloc_at-th call, malloc otherwise. */
static inline void *failalloc_malloc(size_t n)
{
	if (failalloc_at >= 0 && failalloc_count++ == failalloc_at)
		return NULL;
	return malloc(n);
}

/* Installs the failing allocator with the at-th allocation to fail and the count reset. */
static inline void failalloc_arm(long at)
{
	failalloc_at = at;
	failalloc_count = 0;
	json_set_alloc_funcs(failalloc_malloc, free);
}

/* Restores plain malloc/free for jansson. */
static inline void failalloc_disarm(void)
{
	failalloc_at = -1;
	json_set_alloc_funcs(malloc, free);
}

/* Whether no allocation failed since failalloc_arm (the loop has gone past the last allocation point). */
static inline bool failalloc_untouched(void)
{
	return failalloc_count <= failalloc_at;
}

#endif
