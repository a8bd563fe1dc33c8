/* metrics — fixed arrays of atomic counters indexed by small label enums, and their text rendering.
 * The histogram keeps per-bucket (non-cumulative) counts; rendering sums them into Prometheus' cumulative "le"
 * buckets. Relaxed atomics: a scrape may see a request counted in one series and not yet in another. */
#include <stdatomic.h>
#include <string.h>

#include "lib/err.h"
#include "lib/str.h"
#include "webhook/metrics.h"

static const char *const metrics_modes[METRICS_MODE_COUNT] = { "enforce", "warn", "audit" };
static const char *const metrics_decisions[] = { "allow", "deny", "warn", "audit", "error", "other" };
#define N_DECISIONS (sizeof(metrics_decisions) / sizeof(metrics_decisions[0]))
static const char *const metrics_kinds[] = { "Pod", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job",
	"CronJob", "ReplicationController", "PodTemplate", "other" };
#define N_KINDS (sizeof(metrics_kinds) / sizeof(metrics_kinds[0]))
/* Upper bounds of the duration buckets in microseconds: 50 us to 1 s. */
static const uint64_t metrics_bounds_us[] = { 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
	500000, 1000000 };
#define N_BOUNDS (sizeof(metrics_bounds_us) / sizeof(metrics_bounds_us[0]))

static _Atomic uint64_t m_requests[METRICS_MODE_COUNT][N_DECISIONS][N_KINDS];
static _Atomic uint64_t m_buckets[N_BOUNDS + 1]; /* last one: above the largest bound (+Inf only) */
static _Atomic uint64_t m_sum_us;
static _Atomic int64_t m_in_flight;
static _Atomic uint64_t m_policy_reloads[2], m_tls_reloads[2]; /* [0] success, [1] error */
static _Atomic int64_t m_cert_expiry;
static _Atomic bool m_ready;
static const char *const metrics_att_sources[] = { "directory", "registry", "other" };
static const char *const metrics_att_results[] = { "found", "none", "error" };
static _Atomic uint64_t m_att_cache[2]; /* [0] hit, [1] miss */
static _Atomic uint64_t m_att_fetch[3][3];

/* Index of s in names[n], or n - 1 (the "other" entry) when absent. */
static size_t metrics_index(const char *const *names, size_t n, const char *s)
{
	size_t i;

	if (s == NULL)
		return n - 1;
	for (i = 0; i + 1 < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return n - 1;
}

void metrics_observe(int mode, const char *decision, const char *kind, uint64_t duration_us)
{
	size_t d = metrics_index(metrics_decisions, N_DECISIONS, decision);
	size_t k = metrics_index(metrics_kinds, N_KINDS, kind);
	size_t b = 0;

	if (mode < 0 || mode >= METRICS_MODE_COUNT)
		return;
	atomic_fetch_add_explicit(&m_requests[mode][d][k], 1, memory_order_relaxed);
	while (b < N_BOUNDS && duration_us > metrics_bounds_us[b])
		b++;
	atomic_fetch_add_explicit(&m_buckets[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m_sum_us, duration_us, memory_order_relaxed);
}

void metrics_in_flight_add(int delta)
{
	atomic_fetch_add_explicit(&m_in_flight, delta, memory_order_relaxed);
}

int64_t metrics_in_flight(void)
{
	return atomic_load_explicit(&m_in_flight, memory_order_relaxed);
}

void metrics_policy_reload(bool ok)
{
	atomic_fetch_add_explicit(&m_policy_reloads[ok ? 0 : 1], 1, memory_order_relaxed);
}

void metrics_tls_reload(bool ok)
{
	atomic_fetch_add_explicit(&m_tls_reloads[ok ? 0 : 1], 1, memory_order_relaxed);
}

void metrics_attestation_cache(bool hit)
{
	atomic_fetch_add_explicit(&m_att_cache[hit ? 0 : 1], 1, memory_order_relaxed);
}

void metrics_attestation_fetch(const char *source, const char *result)
{
	atomic_fetch_add_explicit(&m_att_fetch[metrics_index(metrics_att_sources, 3, source)]
					      [metrics_index(metrics_att_results, 3, result)],
	    1, memory_order_relaxed);
}

void metrics_set_cert_expiry(int64_t t)
{
	atomic_store(&m_cert_expiry, t);
}

void metrics_set_ready(bool ready)
{
	atomic_store(&m_ready, ready);
}

bool metrics_ready(void)
{
	return atomic_load(&m_ready);
}

/* Appends a duration in microseconds as seconds ("0.00005"). */
static int metrics_put_seconds(struct strbuf *sb, uint64_t us)
{
	return sb_printf(sb, "%llu.%06llu", (unsigned long long)(us / 1000000), (unsigned long long)(us % 1000000));
}

int metrics_render(struct strbuf *sb, struct err *e)
{
	uint64_t cum = 0, v;
	size_t m, d, k, b;
	int r = 0;

	r |= sb_puts(sb,
	    "# HELP hardline_admission_requests_total Admission reviews answered, by path mode, decision "
	    "and object kind.\n# TYPE hardline_admission_requests_total counter\n");
	for (m = 0; m < METRICS_MODE_COUNT; m++)
		for (d = 0; d < N_DECISIONS; d++)
			for (k = 0; k < N_KINDS; k++) {
				v = atomic_load_explicit(&m_requests[m][d][k], memory_order_relaxed);
				if (v == 0)
					continue;
				r |= sb_printf(sb,
				    "hardline_admission_requests_total{mode=\"%s\",decision=\"%s\","
				    "kind=\"%s\"} %llu\n",
				    metrics_modes[m], metrics_decisions[d], metrics_kinds[k], (unsigned long long)v);
			}
	r |= sb_puts(sb,
	    "# HELP hardline_admission_duration_seconds Time from a review's headers being read "
	    "to its answer being queued (body upload included).\n# TYPE hardline_admission_duration_seconds "
	    "histogram\n");
	for (b = 0; b < N_BOUNDS; b++) {
		cum += atomic_load_explicit(&m_buckets[b], memory_order_relaxed);
		r |= sb_puts(sb, "hardline_admission_duration_seconds_bucket{le=\"");
		r |= metrics_put_seconds(sb, metrics_bounds_us[b]);
		r |= sb_printf(sb, "\"} %llu\n", (unsigned long long)cum);
	}
	cum += atomic_load_explicit(&m_buckets[N_BOUNDS], memory_order_relaxed);
	r |= sb_printf(sb, "hardline_admission_duration_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
	r |= sb_puts(sb, "hardline_admission_duration_seconds_sum ");
	r |= metrics_put_seconds(sb, atomic_load_explicit(&m_sum_us, memory_order_relaxed));
	/* The count must equal the +Inf bucket, which may have moved on since; use the sum of the buckets. */
	r |= sb_printf(sb, "\nhardline_admission_duration_seconds_count %llu\n", (unsigned long long)cum);
	r |= sb_printf(sb,
	    "# HELP hardline_admission_in_flight Admission reviews being received or evaluated now.\n"
	    "# TYPE hardline_admission_in_flight gauge\nhardline_admission_in_flight %lld\n",
	    (long long)atomic_load(&m_in_flight));
	r |= sb_printf(sb,
	    "# HELP hardline_policy_reloads_total Policy file reloads after a change, by result.\n"
	    "# TYPE hardline_policy_reloads_total counter\n"
	    "hardline_policy_reloads_total{result=\"success\"} %llu\n"
	    "hardline_policy_reloads_total{result=\"error\"} %llu\n",
	    (unsigned long long)atomic_load(&m_policy_reloads[0]),
	    (unsigned long long)atomic_load(&m_policy_reloads[1]));
	r |= sb_printf(sb,
	    "# HELP hardline_tls_reloads_total Serving certificate reloads after a change, by result.\n"
	    "# TYPE hardline_tls_reloads_total counter\n"
	    "hardline_tls_reloads_total{result=\"success\"} %llu\n"
	    "hardline_tls_reloads_total{result=\"error\"} %llu\n",
	    (unsigned long long)atomic_load(&m_tls_reloads[0]), (unsigned long long)atomic_load(&m_tls_reloads[1]));
	r |= sb_printf(sb,
	    "# HELP hardline_tls_certificate_expiry_timestamp_seconds notAfter of the serving "
	    "certificate in force.\n# TYPE hardline_tls_certificate_expiry_timestamp_seconds gauge\n"
	    "hardline_tls_certificate_expiry_timestamp_seconds %lld\n",
	    (long long)atomic_load(&m_cert_expiry));
	r |= sb_printf(sb,
	    "# HELP hardline_attestation_cache_total Attestation results looked up in the cache, by "
	    "result.\n# TYPE hardline_attestation_cache_total counter\n"
	    "hardline_attestation_cache_total{result=\"hit\"} %llu\nhardline_attestation_cache_total{result=\"miss\"} "
	    "%llu\n",
	    (unsigned long long)atomic_load(&m_att_cache[0]), (unsigned long long)atomic_load(&m_att_cache[1]));
	r |= sb_puts(sb,
	    "# HELP hardline_attestation_fetch_total Attestation look-ups in a source, by source and "
	    "result.\n# TYPE hardline_attestation_fetch_total counter\n");
	for (m = 0; m < 3; m++)
		for (d = 0; d < 3; d++)
			if ((v = atomic_load(&m_att_fetch[m][d])) != 0)
				r |= sb_printf(sb,
				    "hardline_attestation_fetch_total{source=\"%s\",result=\"%s\"} %llu\n",
				    metrics_att_sources[m], metrics_att_results[d], (unsigned long long)v);
	if (r != 0)
		return err_set(e, ERR_TOO_LARGE, "metrics: the exposition does not fit its buffer");
	return 0;
}

void metrics_reset(void)
{
	size_t m, d, k, b;

	for (m = 0; m < METRICS_MODE_COUNT; m++)
		for (d = 0; d < N_DECISIONS; d++)
			for (k = 0; k < N_KINDS; k++)
				atomic_store(&m_requests[m][d][k], 0);
	for (b = 0; b <= N_BOUNDS; b++)
		atomic_store(&m_buckets[b], 0);
	atomic_store(&m_sum_us, 0);
	atomic_store(&m_in_flight, 0);
	atomic_store(&m_policy_reloads[0], 0);
	atomic_store(&m_policy_reloads[1], 0);
	atomic_store(&m_tls_reloads[0], 0);
	atomic_store(&m_tls_reloads[1], 0);
	atomic_store(&m_cert_expiry, 0);
	atomic_store(&m_ready, false);
	for (m = 0; m < 3; m++) {
		atomic_store(&m_att_cache[m % 2], 0);
		for (d = 0; d < 3; d++)
			atomic_store(&m_att_fetch[m][d], 0);
	}
}
