/* bench_attcheck — cost of the webhook's per-image attestation check (webhook/attcheck): a cache hit, and a cold
 * verification from the directory source (index look-up, DSSE parse, ECDSA P-256 signature check, Statement parse,
 * requirements), on a directory of N attestations of ~4 KiB. Median of several runs, in wall-clock microseconds per
 * image; figures only, no assertions (tests/bench/webhook_attest.sh, docs/benchmarks.md). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/dsse.h"
#include "lib/intoto.h"
#include "lib/keys.h"
#include "lib/log.h"
#include "lib/str.h"
#include "tests/bench/benchtime.h"
#include "webhook/attcheck.h"

#define RUNS 5

static void digest_of(unsigned i, char out[DIGEST_STR_LEN + 1])
{
	struct err e;
	char seed[32];

	str_fmt(seed, sizeof(seed), "image-%u", i);
	sha256_digest_str(seed, strlen(seed), out, &e);
}

/* Writes an attestation of image i signed by k into dir. */
static int write_attestation(const char *dir, const struct key *k, unsigned i)
{
	json_t *execs = json_array(), *facts, *pred = NULL, *st = NULL;
	struct dsse_envelope *env = NULL;
	char digest[DIGEST_STR_LEN + 1], path[512], name[64], *body = NULL, *out = NULL;
	size_t len = 0;
	struct err e;
	FILE *f;
	int r = -1;

	digest_of(i, digest);
	for (int j = 0; j < 40; j++) {
		str_fmt(name, sizeof(name), "/usr/local/bin/app-helper-%03d", j);
		json_array_append_new(execs, json_pack("{s:s, s:s}", "path", name, "kind", "elf"));
	}
	facts = json_pack("{s:{s:i, s:o}, s:{s:i, s:[]}, s:{s:i, s:[]}, s:{s:i, s:[]}}", "executables", "count", 40,
	    "items", execs, "shells", "count", 0, "items", "fetchTools", "count", 0, "items", "packageManagers",
	    "count", 0, "items");
	if (intoto_predicate_hardening_new("bench", NULL,
		"sha256:0000000000000000000000000000000000000000000000000000"
		"000000000000",
		"default", NULL, facts, (int64_t)time(NULL), &pred, &e) != 0 ||
	    intoto_statement_new("registry.example.com/shop/web", digest, HARDLINE_PREDICATE_TYPE, pred, &st, &e) !=
		0 ||
	    (body = json_dumps(st, JSON_COMPACT)) == NULL ||
	    dsse_sign(INTOTO_PAYLOAD_TYPE, body, strlen(body), k, &env, &e) != 0 || dsse_fmt(env, &out, &len, &e) != 0)
		goto out;
	str_fmt(path, sizeof(path), "%s/att-%05u.json", dir, i);
	if ((f = fopen(path, "w")) == NULL)
		goto out;
	r = fwrite(out, 1, len, f) == len ? 0 : -1;
	fclose(f);
out:
	json_decref(facts);
	json_decref(st);
	free(body);
	free(out);
	dsse_envelope_free(env);
	return r;
}

/* Microseconds per check of images [0, n) (every one must be admitted): wall clock, and process CPU in *cpu. */
static double run(struct attcheck *ac, unsigned n, const char *const *images, double *cpu)
{
	struct adm_violations vs;
	struct err e;
	double t0 = benchtime_wall_us(), c0 = benchtime_cpu_us();

	for (unsigned i = 0; i < n; i++) {
		adm_violations_init(&vs);
		if (attcheck_check(ac, "container web", images[i], 0, &vs, NULL, &e) != 0 || vs.n != 0) {
			fprintf(stderr, "bench_attcheck: image %u not admitted\n", i);
			exit(1);
		}
		adm_violations_cleanup(&vs);
	}
	*cpu = (benchtime_cpu_us() - c0) / n;
	return (benchtime_wall_us() - t0) / n;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 1000;
	char root[] = "/tmp/hl-bench-attcheck.XXXXXX", keys[128], atts[128], path[256], cfg[512], cmd[256];
	char **images;
	double cold[RUNS], hit[RUNS], cold_cpu[RUNS], hit_cpu[RUNS];
	struct attcheck *ac = NULL;
	struct key *k = NULL;
	struct err e;
	json_t *att;

	if (n == 0 || n > 100000 || mkdtemp(root) == NULL)
		return 1;
	log_init("bench_attcheck", LOG_WARN);
	str_fmt(keys, sizeof(keys), "%s/keys", root);
	str_fmt(atts, sizeof(atts), "%s/atts", root);
	mkdir(keys, 0700);
	mkdir(atts, 0700);
	str_fmt(path, sizeof(path), "%s/k.pub", keys);
	if (key_generate(KEY_ALG_ECDSA_P256, &k, &e) != 0 || key_write_public(k, path, false, &e) != 0) {
		fprintf(stderr, "bench_attcheck: %s\n", e.msg);
		return 1;
	}
	images = calloc(n, sizeof(*images));
	for (unsigned i = 0; i < n; i++) {
		char d[DIGEST_STR_LEN + 1];

		if (write_attestation(atts, k, i) != 0)
			return 1;
		digest_of(i, d);
		images[i] = malloc(200);
		str_fmt(images[i], 200, "registry.example.com/shop/web@%s", d);
	}
	str_fmt(cfg, sizeof(cfg),
	    "{\"keys\": [\"%s\"], \"sources\": [{\"directory\": \"%s\"}], \"require\": "
	    "{\"shells\": 0, \"packageManagers\": 0, \"fetchTools\": 0}, \"maxAge\": \"720h\"}",
	    keys, atts);
	att = json_loads(cfg, 0, NULL);
	for (int r = 0; r < RUNS; r++) {
		attcheck_free(ac);
		if (attcheck_new(&ac, &e) != 0 || attcheck_configure(ac, att, &e) != 0) { /* a new, empty cache */
			fprintf(stderr, "bench_attcheck: %s\n", e.msg);
			return 1;
		}
		cold[r] = run(ac, n, (const char *const *)images, &cold_cpu[r]);
		hit[r] = run(ac, n, (const char *const *)images, &hit_cpu[r]);
	}
	qsort(cold, RUNS, sizeof(double), benchtime_cmp);
	qsort(hit, RUNS, sizeof(double), benchtime_cmp);
	qsort(cold_cpu, RUNS, sizeof(double), benchtime_cmp);
	qsort(hit_cpu, RUNS, sizeof(double), benchtime_cmp);
	printf("attestation check, %u images, directory source, ECDSA P-256, ~4 KiB envelopes (median of %d runs):\n",
	    n, RUNS);
	printf("  cold (index + DSSE + signature + Statement + requirements): %7.1f us per image (CPU %.1f us)\n",
	    cold[RUNS / 2], cold_cpu[RUNS / 2]);
	printf("  cache hit:                                                  %7.2f us per image (CPU %.2f us)\n",
	    hit[RUNS / 2], hit_cpu[RUNS / 2]);
	attcheck_free(ac);
	json_decref(att);
	key_free(k);
	for (unsigned i = 0; i < n; i++)
		free(images[i]);
	free(images);
	str_fmt(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : 1;
}
