/* Tests of lib/registry that need no registry: what is refused before connecting (plain http off loopback, a passed
 * deadline, bad digests, oversized or mismatching manifests), a refused connection named in the message, and the
 * client's lifecycle. The exchanges with real registries are in tests/integration/test_registry.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/registry.h"

#define ZERO_DIGEST "sha256:0000000000000000000000000000000000000000000000000000000000000000"

static int discard(void *arg, const void *p, size_t n, struct err *e)
{
	(void)arg;
	(void)p;
	(void)n;
	(void)e;
	return 0;
}

static struct registry_client *client(bool insecure)
{
	struct registry_opts o;
	struct registry_client *c = NULL;
	struct err e;

	memset(&o, 0, sizeof(o));
	o.insecure_http = insecure;
	o.anonymous = true;
	o.connect_timeout_ms = 2000;
	assert_int_equal(registry_client_new(&o, &c, &e), 0);
	assert_non_null(c);
	return c;
}

static void test_lifecycle(void **state)
{
	struct registry_manifest m;

	(void)state;
	registry_client_free(NULL);
	registry_client_free(client(false));
	memset(&m, 0, sizeof(m));
	registry_manifest_cleanup(&m);
	registry_manifest_cleanup(NULL);
	assert_true(registry_now_ms() > 0);
}

static void test_plain_http_refused_off_loopback(void **state)
{
	struct registry_client *c = client(true);
	struct registry_manifest m;
	struct imageref ref;
	struct err e;

	(void)state;
	assert_int_equal(imageref_parse("registry.example.com/shop/web:1", &ref, &e), 0);
	assert_int_equal(registry_manifest_get(c, &ref, registry_now_ms() + 5000, &m, &e), ERR_INVALID);
	assert_non_null(strstr(e.msg, "registry registry.example.com: plain http is allowed only to loopback hosts"));
	assert_null(m.data);
	/* Docker Hub too: its API host is not loopback */
	assert_int_equal(imageref_parse("busybox", &ref, &e), 0);
	assert_int_equal(registry_blob_head(c, &ref, ZERO_DIGEST, NULL, registry_now_ms() + 5000, &e), ERR_INVALID);
	registry_client_free(c);
}

static void test_deadline_passed(void **state)
{
	struct registry_client *c = client(true);
	char digest[DIGEST_STR_LEN + 1];
	struct imageref ref;
	struct err e;

	(void)state;
	assert_int_equal(imageref_parse("127.0.0.1:1/a/b:1", &ref, &e), 0);
	assert_int_equal(registry_manifest_resolve(c, &ref, registry_now_ms() - 1, digest, &e), ERR_TIMEOUT);
	assert_non_null(strstr(e.msg, "registry 127.0.0.1:1: HEAD manifest a/b:1: deadline passed"));
	registry_client_free(c);
}

static void test_connection_refused(void **state)
{
	struct registry_client *c = client(true);
	struct registry_manifest m;
	struct imageref ref;
	struct err e;

	(void)state;
	/* port 1 on loopback: nothing listens there in a test environment */
	assert_int_equal(imageref_parse("127.0.0.1:1/a/b@" ZERO_DIGEST, &ref, &e), 0);
	assert_int_equal(registry_manifest_get(c, &ref, registry_now_ms() + 5000, &m, &e), ERR_NETWORK);
	assert_non_null(strstr(e.msg, "registry 127.0.0.1:1: GET manifest a/b@" ZERO_DIGEST ": "));
	registry_client_free(c);
}

static void test_refused_inputs(void **state)
{
	struct registry_client *c = client(true);
	struct imageref ref;
	struct err e;
	char *big;

	(void)state;
	assert_int_equal(imageref_parse("127.0.0.1:1/a/b:1", &ref, &e), 0);
	assert_int_equal(registry_blob_get(c, &ref, "sha256:abc", 10, discard, NULL, registry_now_ms() + 5000, &e),
	    ERR_PARSE);
	assert_int_equal(registry_blob_get(c, &ref, "sha512:abc", 10, discard, NULL, registry_now_ms() + 5000, &e),
	    ERR_UNSUPPORTED);
	assert_int_equal(registry_blob_head(c, &ref, "", NULL, registry_now_ms() + 5000, &e), ERR_PARSE);
	big = calloc(1, REGISTRY_MANIFEST_MAX + 1);
	assert_non_null(big);
	assert_int_equal(registry_manifest_put(c, &ref, "application/vnd.oci.image.manifest.v1+json", big,
			     REGISTRY_MANIFEST_MAX + 1, registry_now_ms() + 5000, NULL, &e),
	    ERR_TOO_LARGE);
	free(big);
	/* a media type cannot smuggle header lines */
	assert_int_equal(registry_manifest_put(c, &ref, "a/b\r\nX-Injected: 1", "{}", 2, registry_now_ms() + 5000, NULL,
			     &e),
	    ERR_INVALID);
	assert_non_null(strstr(e.msg, "control or non-ASCII byte"));
	/* a digest in the reference must be the data's */
	assert_int_equal(imageref_parse("127.0.0.1:1/a/b@" ZERO_DIGEST, &ref, &e), 0);
	assert_int_equal(registry_manifest_put(c, &ref, "application/vnd.oci.image.manifest.v1+json", "{}", 2,
			     registry_now_ms() + 5000, NULL, &e),
	    ERR_VERIFY);
	assert_non_null(strstr(e.msg,
	    "the data has digest "
	    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"));
	registry_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_plain_http_refused_off_loopback),
		cmocka_unit_test(test_deadline_passed),
		cmocka_unit_test(test_connection_refused),
		cmocka_unit_test(test_refused_inputs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
