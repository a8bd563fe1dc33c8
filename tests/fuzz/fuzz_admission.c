/* libFuzzer target for webhook/admission: the input is tried as a whole AdmissionReview body, and (to reach the
 * rules quickly) as the pod spec of a Pod CREATE and of a CronJob, in each mode. Every call must return an answer
 * whose shape is right: HTTP 200 with an AdmissionReview or HTTP 400; never a crash, leak or hang. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "webhook/admission.h"
#include "webhook/wpolicy.h"

static struct wpolicy *policy;

static void run(const char *body, size_t len, enum adm_mode mode)
{
	struct adm_result res;
	struct err e;

	if (adm_review(policy, mode, NULL, body, len, 0, &res, &e) != 0)
		abort(); /* only ERR_NOMEM may fail, and the fuzzer does not fail allocations */
	if (res.http_status != 200 && res.http_status != 400)
		abort();
	if (res.response_body == NULL || res.log_fields == NULL || res.decision == NULL)
		abort();
	if (res.http_status == 200 && strstr(res.response_body, "\"apiVersion\":\"admission.k8s.io/v1\"") == NULL)
		abort();
	adm_result_cleanup(&res);
}

static void wrapped(const char *pre, const uint8_t *data, size_t size, const char *post, enum adm_mode mode)
{
	size_t a = strlen(pre), b = strlen(post);
	char *buf = malloc(a + size + b);

	if (buf == NULL)
		return;
	memcpy(buf, pre, a);
	memcpy(buf + a, data, size);
	memcpy(buf + a + size, post, b);
	run(buf, a + size + b, mode);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char pod_pre[] =
	    "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
	    "\"request\":{\"uid\":\"u\",\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},"
	    "\"operation\":\"CREATE\",\"namespace\":\"d\",\"userInfo\":{\"username\":\"x\",\"groups\":[\"g\"]},"
	    "\"object\":{\"metadata\":{\"generateName\":\"w-\"},\"spec\":";
	static const char cron_pre[] =
	    "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
	    "\"request\":{\"uid\":\"u\",\"kind\":{\"group\":\"batch\",\"version\":\"v1\",\"kind\":\"CronJob\"},"
	    "\"operation\":\"UPDATE\",\"namespace\":\"d\",\"name\":\"n\",\"oldObject\":{},"
	    "\"object\":{\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":{\"spec\":";
	enum adm_mode mode = size > 0 ? (enum adm_mode)(data[0] % 3) : ADM_ENFORCE;
	struct err e;

	if (policy == NULL && wpolicy_load(NULL, &policy, &e) != 0)
		abort();
	run((const char *)data, size, mode);
	wrapped(pod_pre, data, size, "}}}", mode);
	wrapped(cron_pre, data, size, "}}}}}}}", mode);
	return 0;
}
