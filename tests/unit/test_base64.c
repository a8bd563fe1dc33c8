/* Tests of lib/base64: RFC 4648 vectors, both alphabets with and without padding, and every kind of garbage the
 * decoder must refuse (foreign bytes, bad padding, truncation, non-canonical trailing bits, mixed alphabets, caps). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/base64.h"

static void check_roundtrip(const char *plain, const char *enc)
{
	unsigned char *dec = NULL;
	char *s = NULL;
	size_t len = 0;
	struct err e;

	assert_int_equal(base64_encode(plain, strlen(plain), &s, &len, &e), 0);
	assert_string_equal(s, enc);
	assert_int_equal(len, strlen(enc));
	assert_int_equal(base64_encoded_len(strlen(plain)), len);
	assert_int_equal(base64_decode(enc, strlen(enc), 1024, &dec, &len, "t", &e), 0);
	assert_int_equal(len, strlen(plain));
	assert_memory_equal(dec, plain, len);
	assert_int_equal(dec[len], 0);
	free(dec);
	free(s);
}

static void test_rfc4648_vectors(void **state)
{
	check_roundtrip("", "");
	check_roundtrip("f", "Zg==");
	check_roundtrip("fo", "Zm8=");
	check_roundtrip("foo", "Zm9v");
	check_roundtrip("foob", "Zm9vYg==");
	check_roundtrip("fooba", "Zm9vYmE=");
	check_roundtrip("foobar", "Zm9vYmFy");
}

static int dec(const char *s, unsigned char **out, size_t *len, struct err *e)
{
	return base64_decode(s, strlen(s), 1024, out, len, "sig", e);
}

static void test_alphabets_and_padding(void **state)
{
	static const unsigned char bytes[] = { 0xfb, 0xff, 0xbf, 0xbe };
	const char *forms[] = { "+/+/vg==", "+/+/vg", "-_-_vg==", "-_-_vg" };
	unsigned char *out;
	size_t len, i;
	struct err e;

	for (i = 0; i < 4; i++) {
		assert_int_equal(dec(forms[i], &out, &len, &e), 0);
		assert_int_equal(len, 4);
		assert_memory_equal(out, bytes, 4);
		free(out);
	}
	/* every byte value survives a round trip */
	{
		unsigned char all[256];
		char *s;

		for (i = 0; i < 256; i++)
			all[i] = (unsigned char)i;
		assert_int_equal(base64_encode(all, sizeof(all), &s, NULL, &e), 0);
		assert_int_equal(dec(s, &out, &len, &e), 0);
		assert_int_equal(len, 256);
		assert_memory_equal(out, all, 256);
		free(out);
		free(s);
	}
}

static void expect_bad(const char *s, int code, const char *msg)
{
	unsigned char *out = (unsigned char *)"x";
	size_t len = 99;
	struct err e;

	err_clear(&e);
	assert_int_equal(dec(s, &out, &len, &e), code);
	assert_null(out);
	assert_int_equal(len, 0);
	if (strstr(e.msg, msg) == NULL)
		fail_msg("decoding \"%s\": message \"%s\" lacks \"%s\"", s, e.msg, msg);
}

static void test_garbage(void **state)
{
	expect_bad("Zm9v YmFy", ERR_PARSE, "sig: invalid base64: character 0x20 at offset 4");
	expect_bad("Zm9v\nYmFy", ERR_PARSE, "character 0x0a");
	expect_bad("Zm9v\x80YmF", ERR_PARSE, "character 0x80");
	expect_bad("Zm=v", ERR_PARSE, "'=' inside the data");
	expect_bad("Zg===", ERR_PARSE, "more than two '='");
	expect_bad("Zg=", ERR_PARSE, "not a multiple of 4");
	expect_bad("Zm8==", ERR_PARSE, "not a multiple of 4");
	expect_bad("Zm9v=", ERR_PARSE, "not a multiple of 4");
	expect_bad("Zm9v====", ERR_PARSE, "more than two");
	expect_bad("Z", ERR_PARSE, "cannot be a complete encoding");
	expect_bad("Zm9vY", ERR_PARSE, "cannot be a complete encoding");
	expect_bad("Zh==", ERR_PARSE, "non-zero trailing bits");
	expect_bad("Zm9=", ERR_PARSE, "non-zero trailing bits");
	expect_bad("Zm9", ERR_PARSE, "non-zero trailing bits");
	expect_bad("+/-_", ERR_PARSE, "alphabets mixed at offset 2");
	expect_bad("=", ERR_PARSE, "not a multiple of 4");
	expect_bad("====", ERR_PARSE, "more than two");
}

static void test_caps(void **state)
{
	unsigned char *out = NULL;
	size_t len;
	struct err e;

	assert_int_equal(base64_decode("Zm9vYmFy", 8, 6, &out, &len, "p", &e), 0);
	free(out);
	assert_int_equal(base64_decode("Zm9vYmFy", 8, 5, &out, &len, "p", &e), ERR_TOO_LARGE);
	assert_null(out);
	assert_non_null(strstr(e.msg, "p: 6 decoded bytes are over the limit of 5 bytes"));
	assert_int_equal(base64_decode("Zm9vYg", 6, 3, &out, &len, "p", &e), ERR_TOO_LARGE);
	/* an embedded NUL byte is data, not the end of the string: the length decides */
	assert_int_equal(base64_decode("Zm9v\0YmF", 8, 64, &out, &len, "p", &e), ERR_PARSE);
	assert_non_null(strstr(e.msg, "character 0x00 at offset 4"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4648_vectors),
		cmocka_unit_test(test_alphabets_and_padding),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_caps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
