/* Tests of webhook/metrics: label bounding (unknown kinds and decisions become "other"), cumulative histogram
 * buckets, gauges and the exposition format that Prometheus parses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/str.h"
#include "webhook/metrics.h"

/* Renders the exposition into a new string (free() it). */
static char *render(void)
{
	struct strbuf sb;
	struct err e;
	char *s;

	sb_init(&sb, 256 * 1024);
	assert_int_equal(metrics_render(&sb, &e), 0);
	s = sb_steal(&sb, NULL);
	assert_non_null(s);
	return s;
}

static void test_counters_and_labels(void **state)
{
	char *s;

	metrics_reset();
	metrics_observe(METRICS_ENFORCE, "deny", "Pod", 30);
	metrics_observe(METRICS_ENFORCE, "deny", "Pod", 30);
	metrics_observe(METRICS_WARN, "warn", "Deployment", 30);
	metrics_observe(METRICS_AUDIT, "maybe", "Secret\"}evil", 30);
	metrics_observe(METRICS_AUDIT, NULL, NULL, 30);
	metrics_observe(7, "allow", "Pod", 30); /* out of range: ignored */
	s = render();
	assert_non_null(
	    strstr(s, "hardline_admission_requests_total{mode=\"enforce\",decision=\"deny\",kind=\"Pod\"} 2\n"));
	assert_non_null(strstr(s, "{mode=\"warn\",decision=\"warn\",kind=\"Deployment\"} 1\n"));
	assert_non_null(strstr(s, "{mode=\"audit\",decision=\"other\",kind=\"other\"} 2\n"));
	assert_null(strstr(s, "evil"));
	assert_non_null(strstr(s, "hardline_admission_duration_seconds_count 5\n"));
	free(s);
}

static void test_histogram_cumulative(void **state)
{
	char *s;

	metrics_reset();
	metrics_observe(METRICS_ENFORCE, "allow", "Pod", 50);	   /* on the bound: le="0.000050" */
	metrics_observe(METRICS_ENFORCE, "allow", "Pod", 51);	   /* next bucket */
	metrics_observe(METRICS_ENFORCE, "allow", "Pod", 2000000); /* over 1 s: only +Inf */
	s = render();
	assert_non_null(strstr(s, "hardline_admission_duration_seconds_bucket{le=\"0.000050\"} 1\n"));
	assert_non_null(strstr(s, "hardline_admission_duration_seconds_bucket{le=\"0.000100\"} 2\n"));
	assert_non_null(strstr(s, "hardline_admission_duration_seconds_bucket{le=\"1.000000\"} 2\n"));
	assert_non_null(strstr(s, "hardline_admission_duration_seconds_bucket{le=\"+Inf\"} 3\n"));
	assert_non_null(strstr(s, "hardline_admission_duration_seconds_sum 2.000101\n"));
	assert_non_null(strstr(s, "# TYPE hardline_admission_duration_seconds histogram\n"));
	free(s);
}

static void test_gauges_and_reloads(void **state)
{
	char *s;

	metrics_reset();
	assert_false(metrics_ready());
	metrics_set_ready(true);
	assert_true(metrics_ready());
	metrics_in_flight_add(1);
	metrics_in_flight_add(1);
	metrics_in_flight_add(-1);
	assert_int_equal(metrics_in_flight(), 1);
	metrics_policy_reload(true);
	metrics_policy_reload(false);
	metrics_policy_reload(false);
	metrics_tls_reload(true);
	metrics_set_cert_expiry(1796185772);
	s = render();
	assert_non_null(strstr(s, "hardline_admission_in_flight 1\n"));
	assert_non_null(strstr(s, "hardline_policy_reloads_total{result=\"success\"} 1\n"));
	assert_non_null(strstr(s, "hardline_policy_reloads_total{result=\"error\"} 2\n"));
	assert_non_null(strstr(s, "hardline_tls_reloads_total{result=\"success\"} 1\n"));
	assert_non_null(strstr(s, "hardline_tls_certificate_expiry_timestamp_seconds 1796185772\n"));
	free(s);
}

static void test_render_cap(void **state)
{
	struct strbuf sb;
	struct err e;

	metrics_reset();
	sb_init(&sb, 100);
	assert_int_equal(metrics_render(&sb, &e), ERR_TOO_LARGE);
	sb_cleanup(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counters_and_labels),
		cmocka_unit_test(test_histogram_cumulative),
		cmocka_unit_test(test_gauges_and_reloads),
		cmocka_unit_test(test_render_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
