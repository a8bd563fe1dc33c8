/* Tests of lib/digest: known SHA-256 vectors, streaming equals one-shot, digest string validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/digest.h"

static void test_vectors(void **state)
{
	char s[DIGEST_STR_LEN + 1];
	struct sha256 h;
	struct err e;

	assert_int_equal(sha256_digest_str("", 0, s, &e), 0);
	assert_string_equal(s, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(sha256_init(&h, &e), 0);
	sha256_update(&h, "ab", 2);
	sha256_update(&h, "c", 1);
	sha256_final(&h, NULL, s);
	assert_string_equal(s, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_validate(void **state)
{
	struct err e;

	assert_int_equal(digest_validate("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", &e),
	    0);
	assert_int_equal(digest_validate("sha256:BA7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", &e),
	    ERR_PARSE);
	assert_int_equal(digest_validate("sha256:ba78", &e), ERR_PARSE);
	assert_int_equal(digest_validate("sha512:ab", &e), ERR_UNSUPPORTED);
	assert_int_equal(digest_validate("ba7816bf", &e), ERR_PARSE);
	assert_int_equal(digest_validate(":x", &e), ERR_PARSE);
	assert_int_equal(digest_validate("SHA256:x", &e), ERR_PARSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_validate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
