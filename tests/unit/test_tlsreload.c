/* Tests of webhook/tlsreload: loading a pair, refusing a key of another certificate or a non-PEM file, reloading
 * after a change with the old pair kept on failure, and the GnuTLS callback handing out the pair in force.
 * Certificates are made by the openssl CLI (the test is skipped without it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/str.h"
#include "webhook/tlsreload.h"

static char dir[] = "/tmp/hl-tlsreload.XXXXXX";

/* Makes self-signed EC certificates c1..c3 with keys k1..k3 (serials 0x11..0x13) in dir. */
static int setup(void **state)
{
	char cmd[1024];
	int n;

	if (access("/usr/bin/openssl", X_OK) != 0 && system("command -v openssl >/dev/null 2>&1") != 0)
		return 0;
	if (mkdtemp(dir) == NULL)
		return -1;
	for (n = 1; n <= 3; n++) {
		str_fmt(cmd, sizeof(cmd),
		    "cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		    "-keyout k%d -out c%d -days 1 -subj /CN=t -set_serial %d >/dev/null 2>&1",
		    dir, n, n, 16 + n);
		if (system(cmd) != 0)
			return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	char cmd[256];

	str_fmt(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* dir/name into buf. */
static const char *at(char *buf, size_t size, const char *name)
{
	str_fmt(buf, size, "%s/%s", dir, name);
	return buf;
}

/* Copies dir/from to dir/to through a rename, so that the watched file's inode changes. */
static void install(const char *from, const char *to)
{
	char cmd[1024];

	str_fmt(cmd, sizeof(cmd), "cd %s && cp %s %s.tmp && mv %s.tmp %s", dir, from, to, to, to);
	assert_int_equal(system(cmd), 0);
}

static void test_load_reload_refuse(void **state)
{
	struct tls_store *ts = NULL;
	struct err e;
	char c[512], k[512], serial[96];
	gnutls_pcert_st *pcert = NULL;
	unsigned int npcert = 0;
	gnutls_privkey_t key = NULL;

	if (dir[strlen(dir) - 1] == 'X')
		skip();
	install("c1", "cert");
	install("k1", "key");
	assert_int_equal(tlsreload_new(at(c, sizeof(c), "cert"), at(k, sizeof(k), "key"), &ts, &e), 0);
	tlsreload_serial(ts, serial, sizeof(serial));
	assert_string_equal(serial, "11");
	assert_true(tlsreload_not_after(ts) > 1700000000);
	assert_int_equal(tlsreload_poll(ts, &e), 0); /* nothing changed */

	tlsreload_install(ts);
	assert_int_equal(tlsreload_retrieve(NULL, NULL, 0, NULL, 0, &pcert, &npcert, &key), 0);
	assert_int_equal(npcert, 1);
	assert_non_null(key);

	/* A new pair: installed; the callback hands out the new one. */
	install("c2", "cert");
	install("k2", "key");
	assert_int_equal(tlsreload_poll(ts, &e), 1);
	tlsreload_serial(ts, serial, sizeof(serial));
	assert_string_equal(serial, "12");
	{
		gnutls_pcert_st *p2 = NULL;
		gnutls_privkey_t k2 = NULL;

		assert_int_equal(tlsreload_retrieve(NULL, NULL, 0, NULL, 0, &p2, &npcert, &k2), 0);
		assert_ptr_not_equal(p2, pcert);
		assert_ptr_not_equal(k2, key);
	}

	/* Half a rotation (certificate 3, key 2): refused, pair 2 stays. */
	install("c3", "cert");
	assert_true(tlsreload_poll(ts, &e) < 0);
	assert_non_null(strstr(e.msg, "does not belong"));
	assert_non_null(strstr(e.msg, "previous one stays"));
	tlsreload_serial(ts, serial, sizeof(serial));
	assert_string_equal(serial, "12");
	/* The key follows: now pair 3 is complete and goes in. */
	install("k3", "key");
	assert_int_equal(tlsreload_poll(ts, &e), 1);
	tlsreload_serial(ts, serial, sizeof(serial));
	assert_string_equal(serial, "13");

	/* Not PEM at all. */
	{
		char cmd[512];

		str_fmt(cmd, sizeof(cmd), "echo garbage > %s/cert.tmp && mv %s/cert.tmp %s/cert", dir, dir, dir);
		assert_int_equal(system(cmd), 0);
	}
	assert_int_equal(tlsreload_poll(ts, &e), ERR_PARSE);
	tlsreload_serial(ts, serial, sizeof(serial));
	assert_string_equal(serial, "13");
	tlsreload_free(ts);
}

static void test_new_errors(void **state)
{
	struct tls_store *ts = NULL;
	struct err e;
	char c[512], k[512];

	if (dir[strlen(dir) - 1] == 'X')
		skip();
	assert_int_equal(tlsreload_new(at(c, sizeof(c), "c1"), at(k, sizeof(k), "missing"), &ts, &e), ERR_NOT_FOUND);
	assert_null(ts);
	assert_non_null(strstr(e.msg, "missing"));
	assert_int_equal(tlsreload_new(at(c, sizeof(c), "c1"), at(k, sizeof(k), "k2"), &ts, &e), ERR_INVALID);
	assert_null(ts);
	assert_int_equal(tlsreload_new(at(c, sizeof(c), "k1"), at(k, sizeof(k), "k1"), &ts, &e), ERR_PARSE);
	assert_null(ts);
	tlsreload_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_reload_refuse),
		cmocka_unit_test(test_new_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
