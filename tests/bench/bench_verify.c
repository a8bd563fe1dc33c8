/* bench_verify — CPU cost of attestation signing and verification: for ECDSA P-256 and Ed25519 and a realistic
 * ~8 KiB hardening Statement, microseconds of process CPU time per signature and per verification (envelope parse +
 * signature check + Statement parse, and the signature check alone). Median of several runs; figures only, no
 * assertions (see tests/bench/attest.sh and docs/benchmarks.md). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/dsse.h"
#include "lib/intoto.h"
#include "lib/json.h"
#include "lib/keys.h"
#include "lib/str.h"
#include "tests/bench/benchtime.h"

#define RUNS 7

/* A Statement shaped like a real hardening attestation, padded with facts to about 8 KiB. */
static char *make_statement(size_t *len)
{
	json_t *steps = json_array(), *facts, *execs = json_array(), *pred = NULL, *st = NULL;
	struct err e;
	char *s, name[64];
	int i;

	for (i = 0; i < 6; i++)
		json_array_append_new(steps,
		    json_pack("{s:s, s:s, s:i, s:[s,s]}", "name", "step", "status", "changed", "changes", i * 7,
			"paths", "/usr/bin/wget", "/usr/bin/curl"));
	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "/usr/local/bin/app-helper-%03d", i);
		json_array_append_new(execs,
		    json_pack("{s:s, s:s, s:i}", "path", name, "kind", "elf", "size", 1000 + i));
	}
	facts = json_pack("{s:o, s:[], s:[], s:[], s:[], s:i, s:i}", "executables", execs, "shells", "fetchTools",
	    "packageManagers", "setuid", "files", 1234, "bytes", 45678901);
	if (intoto_predicate_hardening_new("0.1.0",
		"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03", "default", steps, facts,
		1764563177, &pred, &e) != 0 ||
	    intoto_statement_new("registry.example/app",
		"sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03", HARDLINE_PREDICATE_TYPE,
		pred, &st, &e) != 0) {
		fprintf(stderr, "bench_verify: %s\n", e.msg);
		exit(1);
	}
	s = json_dump_canonical(st, len);
	json_decref(steps);
	json_decref(facts);
	json_decref(st);
	return s;
}

static void bench(enum key_alg alg, const char *stmt, size_t stmt_len, int iters)
{
	double full[RUNS], crypto[RUNS], sign[RUNS], penv[RUNS], pst[RUNS], t0;
	struct dsse_envelope *env = NULL, *tmp;
	struct intoto_statement *st;
	struct keyring *kr = NULL;
	const struct key *signer;
	struct key *k = NULL, *pub = NULL;
	char *json = NULL, *pem = NULL;
	size_t json_len;
	struct err e;
	int run, i;

	if (key_generate(alg, &k, &e) != 0 || key_public_pem(k, &pem, &e) != 0 ||
	    key_parse_public_pem(pem, strlen(pem), "bench", &pub, &e) != 0 || keyring_new(&kr, &e) != 0 ||
	    keyring_add(kr, pub, &e) != 0 || dsse_sign(INTOTO_PAYLOAD_TYPE, stmt, stmt_len, k, &env, &e) != 0 ||
	    dsse_fmt(env, &json, &json_len, &e) != 0) {
		fprintf(stderr, "bench_verify: setup: %s\n", e.msg);
		exit(1);
	}
	for (run = 0; run < RUNS; run++) {
		t0 = benchtime_cpu_us();
		for (i = 0; i < iters; i++) {
			if (dsse_parse(json, json_len, "bench", &tmp, &e) != 0 ||
			    dsse_verify(tmp, kr, INTOTO_PAYLOAD_TYPE, &signer, &e) != 0 ||
			    intoto_parse(tmp->payload, tmp->payload_len, &st, &e) != 0) {
				fprintf(stderr, "bench_verify: %s\n", e.msg);
				exit(1);
			}
			intoto_statement_free(st);
			dsse_envelope_free(tmp);
		}
		full[run] = (benchtime_cpu_us() - t0) / iters;
		t0 = benchtime_cpu_us();
		for (i = 0; i < iters; i++)
			if (dsse_verify(env, kr, INTOTO_PAYLOAD_TYPE, &signer, &e) != 0)
				exit(1);
		crypto[run] = (benchtime_cpu_us() - t0) / iters;
		t0 = benchtime_cpu_us();
		for (i = 0; i < iters; i++) {
			if (dsse_parse(json, json_len, "bench", &tmp, &e) != 0)
				exit(1);
			dsse_envelope_free(tmp);
		}
		penv[run] = (benchtime_cpu_us() - t0) / iters;
		t0 = benchtime_cpu_us();
		for (i = 0; i < iters; i++) {
			if (intoto_parse(env->payload, env->payload_len, &st, &e) != 0)
				exit(1);
			intoto_statement_free(st);
		}
		pst[run] = (benchtime_cpu_us() - t0) / iters;
		t0 = benchtime_cpu_us();
		for (i = 0; i < iters; i++) {
			if (dsse_sign(INTOTO_PAYLOAD_TYPE, stmt, stmt_len, k, &tmp, &e) != 0)
				exit(1);
			dsse_envelope_free(tmp);
		}
		sign[run] = (benchtime_cpu_us() - t0) / iters;
	}
	qsort(full, RUNS, sizeof(double), benchtime_cmp);
	qsort(crypto, RUNS, sizeof(double), benchtime_cmp);
	qsort(sign, RUNS, sizeof(double), benchtime_cmp);
	qsort(penv, RUNS, sizeof(double), benchtime_cmp);
	qsort(pst, RUNS, sizeof(double), benchtime_cmp);
	printf("%-10s  verify (envelope parse + signature + statement parse)  %8.1f us  [min %.1f, max %.1f]\n",
	    key_alg_name(alg), full[RUNS / 2], full[0], full[RUNS - 1]);
	printf("%-10s  verify (signature over PAE only)                       %8.1f us  [min %.1f, max %.1f]\n",
	    key_alg_name(alg), crypto[RUNS / 2], crypto[0], crypto[RUNS - 1]);
	printf("%-10s    of which envelope parse (JSON + base64)              %8.1f us\n", key_alg_name(alg),
	    penv[RUNS / 2]);
	printf("%-10s    of which statement parse (JSON + subject checks)     %8.1f us\n", key_alg_name(alg),
	    pst[RUNS / 2]);
	printf("%-10s  sign   (PAE + signature)                               %8.1f us  [min %.1f, max %.1f]\n",
	    key_alg_name(alg), sign[RUNS / 2], sign[0], sign[RUNS - 1]);
	free(json);
	free(pem);
	dsse_envelope_free(env);
	keyring_unref(kr);
	key_free(k);
}

int main(int argc, char **argv)
{
	uint64_t iters = 400;
	size_t len;
	char *stmt;
	struct err e;

	if (argc > 1 && str_to_u64(argv[1], 1, 100000, &iters, "iterations", &e) != 0) {
		fprintf(stderr, "bench_verify: %s\nusage: bench_verify [ITERATIONS]\n", e.msg);
		return 2;
	}
	stmt = make_statement(&len);
	printf("statement %zu bytes, envelope ~%zu bytes; CPU time per operation (CLOCK_PROCESS_CPUTIME_ID), "
	       "median of %d runs x %d\n",
	    len, len * 4 / 3 + 250, RUNS, (int)iters);
	bench(KEY_ALG_ECDSA_P256, stmt, len, (int)iters);
	bench(KEY_ALG_ED25519, stmt, len, (int)iters);
	free(stmt);
	return 0;
}
