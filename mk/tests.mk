# Unit tests (cmocka), one per module: tests/unit/test_<module>.c -> $(BUILD)/tests/test_<module>.
UNIT_TESTS += tests/unit/test_str.c
UNIT_TESTS += tests/unit/test_json.c
UNIT_TESTS += tests/unit/test_digest.c
UNIT_TESTS += tests/unit/test_fstree.c
UNIT_TESTS += tests/unit/test_tarlayer.c
UNIT_TESTS += tests/unit/test_accounts.c
UNIT_TESTS += tests/unit/test_admission.c
UNIT_TESTS += tests/unit/test_policy.c
UNIT_TESTS += tests/unit/test_fsdir.c
UNIT_TESTS += tests/unit/test_base64.c
UNIT_TESTS += tests/unit/test_keys.c
UNIT_TESTS += tests/unit/test_dsse.c
UNIT_TESTS += tests/unit/test_intoto.c
UNIT_TESTS += tests/unit/test_steps.c
UNIT_TESTS += tests/unit/test_metrics.c tests/unit/test_filewatch.c tests/unit/test_tlsreload.c
UNIT_TESTS += tests/unit/test_wpolicy.c
UNIT_TESTS += tests/unit/test_oci.c
