/* benchtime — the clocks and the median sort of the C benchmarks (tests/bench/bench_*.c): wall-clock and process CPU
 * time in microseconds, and the qsort comparator of doubles used before taking a median. */
#ifndef HARDLINE_BENCH_BENCHTIME_H
#define HARDLINE_BENCH_BENCHTIME_H

#include <time.h>

/* Microseconds on the monotonic clock (differences only). */
static inline double benchtime_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Microseconds of CPU time this process has used (all threads). */
static inline double benchtime_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* qsort comparator of doubles, ascending. */
static inline int benchtime_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#endif
