/* hardline-webhook — the validating admission webhook: parses the command line, loads the certificate and the
 * policy, starts the server, re-reads both files when they change, and drains on SIGTERM/SIGINT. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/str.h"
#include "webhook/attcheck.h"
#include "webhook/filewatch.h"
#include "webhook/metrics.h"
#include "webhook/server.h"
#include "webhook/tlsreload.h"
#include "webhook/wpolicy.h"

#define EXIT_USAGE 2

static const char usage_text[] =
    "usage: hardline-webhook --tls-cert FILE --tls-key FILE [options]\n"
    "\n"
    "Serves Kubernetes AdmissionReview requests over TLS: POST /validate (enforce: deny), /warn (allow with\n"
    "warnings), /audit (allow with audit annotations). The certificate, key and policy files are re-read when they\n"
    "change (checked every second, or at once on SIGHUP); SIGTERM or SIGINT stops accepting, finishes what is in\n"
    "flight and exits 0.\n"
    "\n"
    "  --listen ADDR:PORT          TLS address (default :8443; \":PORT\" = every address)\n"
    "  --tls-cert FILE             PEM certificate chain, server certificate first (required)\n"
    "  --tls-key FILE              PEM private key of that certificate (required)\n"
    "  --policy FILE               JSON policy file (default: the built-in policy)\n"
    "  --namespace NS              the webhook's own namespace, always exempt (default $POD_NAMESPACE)\n"
    "  --metrics-listen ADDR:PORT  plain-HTTP /healthz /readyz /metrics (default :9090; \"off\" = none)\n"
    "  --threads N                 TLS worker threads (default: the CPUs this process may use)\n"
    "  --max-body BYTES            request body cap, 413 above it (default 3145728)\n"
    "  --max-connections N         open connections at once (default 1024)\n"
    "  --max-connections-per-ip N  from one client address (default 512; 0 = no limit; the API server is one\n"
    "                              address per replica)\n"
    "  --idle-timeout DURATION     close a connection idle this long (default 120s, above the API server's 90s)\n"
    "  --shutdown-timeout DURATION how long to wait for requests in flight on SIGTERM (default 4s)\n"
    "  --log-level LEVEL           debug, info, warn, error (default info); decisions are always logged\n"
    "  --help                      this text\n";

struct options {
	struct server_config cfg;
	const char *tls_cert, *tls_key, *policy, *ns;
	uint64_t shutdown_ms;
};

/* A usage error: the reason, then the synopsis; exit 2. */
static int usage_error(const char *why)
{
	fprintf(stderr, "hardline-webhook: %s\n\n%s", why, usage_text);
	return EXIT_USAGE;
}

/* The CPUs this process may run on (cgroup cpusets and taskset count; CPU quotas do not). */
static unsigned int cpu_count(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && (n = CPU_COUNT(&set)) > 0)
		return (unsigned int)n;
	return 1;
}

/* Parses argv into o. Returns 0, or ERR_USAGE with e naming the flag; 1 for --help. */
static int parse_args(int argc, char **argv, struct options *o, struct err *e)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "tls-cert", required_argument, NULL, 'c' },
		{ "tls-key", required_argument, NULL, 'k' },
		{ "policy", required_argument, NULL, 'p' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "metrics-listen", required_argument, NULL, 'm' },
		{ "threads", required_argument, NULL, 't' },
		{ "max-body", required_argument, NULL, 'b' },
		{ "max-connections", required_argument, NULL, 'C' },
		{ "max-connections-per-ip", required_argument, NULL, 'I' },
		{ "idle-timeout", required_argument, NULL, 'T' },
		{ "shutdown-timeout", required_argument, NULL, 'S' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	enum log_level lvl;
	int c;

	memset(o, 0, sizeof(*o));
	o->cfg.listen = ":8443";
	o->cfg.metrics_listen = ":9090";
	o->cfg.threads = cpu_count();
	o->cfg.max_body = SERVER_DEFAULT_MAX_BODY;
	o->cfg.max_conns = 1024;
	o->cfg.max_conns_per_ip = 512;
	o->cfg.idle_timeout_s = 120;
	o->shutdown_ms = 4000;
	o->ns = getenv("POD_NAMESPACE");
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			o->cfg.listen = optarg;
			break;
		case 'c':
			o->tls_cert = optarg;
			break;
		case 'k':
			o->tls_key = optarg;
			break;
		case 'p':
			o->policy = optarg;
			break;
		case 'n':
			o->ns = optarg;
			break;
		case 'm':
			o->cfg.metrics_listen = optarg;
			break;
		case 't':
			if (str_to_u64(optarg, 1, 1024, &v, "--threads", e) != 0)
				return ERR_USAGE;
			o->cfg.threads = (unsigned int)v;
			break;
		case 'b':
			if (str_to_u64(optarg, 1024, 64u * 1024 * 1024, &v, "--max-body", e) != 0)
				return ERR_USAGE;
			o->cfg.max_body = (size_t)v;
			break;
		case 'C':
			if (str_to_u64(optarg, 1, 1000000, &v, "--max-connections", e) != 0)
				return ERR_USAGE;
			o->cfg.max_conns = (unsigned int)v;
			break;
		case 'I':
			if (str_to_u64(optarg, 0, 1000000, &v, "--max-connections-per-ip", e) != 0)
				return ERR_USAGE;
			o->cfg.max_conns_per_ip = (unsigned int)v;
			break;
		case 'T':
			if (str_to_duration_ms(optarg, &v, "--idle-timeout", e) != 0)
				return ERR_USAGE;
			/* At most 5m: well under the time a replaced certificate is kept for handshakes under way. */
			if (v < 1000 || v > 300 * 1000)
				return err_set(e, ERR_USAGE, "--idle-timeout %s: must be from 1s to 5m", optarg);
			o->cfg.idle_timeout_s = (unsigned int)(v / 1000);
			break;
		case 'S':
			if (str_to_duration_ms(optarg, &o->shutdown_ms, "--shutdown-timeout", e) != 0)
				return ERR_USAGE;
			break;
		case 'L':
			if (log_level_parse(optarg, &lvl) != 0)
				return err_set(e, ERR_USAGE, "--log-level %s: use debug, info, warn or error", optarg);
			log_set_level(lvl);
			break;
		case 'h':
			return 1;
		default:
			return err_set(e, ERR_USAGE, "unknown or incomplete option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return err_set(e, ERR_USAGE, "unexpected argument %s", argv[optind]);
	if (o->tls_cert == NULL || o->tls_key == NULL)
		return err_set(e, ERR_USAGE, "--tls-cert and --tls-key are required (the API server only calls HTTPS)");
	if (o->cfg.max_conns_per_ip > o->cfg.max_conns)
		o->cfg.max_conns_per_ip = o->cfg.max_conns;
	return 0;
}

/* Loads the policy (NULL path: built-in) with the own namespace exempt. *out holds one reference. */
static int load_policy(const struct options *o, struct wpolicy **out, struct err *e)
{
	struct wpolicy *p = NULL;
	int r;

	*out = NULL;
	if ((r = wpolicy_load(o->policy, &p, e)) != 0)
		return r;
	if (o->ns != NULL && (r = wpolicy_set_own_namespace(p, o->ns, e)) != 0) {
		wpolicy_unref(p);
		return err_prefix(e, "--namespace");
	}
	*out = p;
	return 0;
}

/* Logs what the certificate in force is and publishes its expiry. */
static void note_certificate(struct tls_store *tls, const char *what)
{
	char serial[96], until[32] = "?";
	int64_t t = tlsreload_not_after(tls);
	time_t tt = (time_t)t;
	struct tm tm;

	tlsreload_serial(tls, serial, sizeof(serial));
	metrics_set_cert_expiry(t);
	if (gmtime_r(&tt, &tm) != NULL)
		strftime(until, sizeof(until), "%Y-%m-%dT%H:%M:%SZ", &tm);
	log_info("%s certificate serial %s, valid until %s", what, serial, until);
	if (t < (int64_t)time(NULL))
		log_warn("the serving certificate has expired; the API server will refuse it until it is renewed");
}

/* One tick of the watcher: reload the certificate and the policy if their files changed. */
static void watch_tick(const struct options *o, struct server *srv, struct tls_store *tls, struct filewatch *pw,
    struct attcheck *ac)
{
	struct wpolicy *p = NULL;
	struct err e;
	int r;

	err_clear(&e);
	r = tlsreload_poll(tls, &e);
	if (r > 0) {
		metrics_tls_reload(true);
		note_certificate(tls, "reloaded");
	} else if (r < 0) {
		metrics_tls_reload(false);
		log_error("%s", e.msg);
	}
	attcheck_poll(ac);
	if (pw == NULL || !filewatch_changed(pw))
		return;
	err_clear(&e);
	if (load_policy(o, &p, &e) != 0 || attcheck_configure(ac, p->attestations, &e) != 0) {
		wpolicy_unref(p);
		metrics_policy_reload(false);
		log_error("%s; the previous policy stays in force", e.msg);
		return;
	}
	log_info("policy reloaded from %s (%s)", p->source, p->digest);
	server_set_policy(srv, p); /* transferred */
	metrics_policy_reload(true);
}

int main(int argc, char **argv)
{
	struct options o;
	struct err e;
	struct tls_store *tls = NULL;
	struct wpolicy *policy = NULL;
	struct server *srv = NULL;
	struct attcheck *ac = NULL;
	struct filewatch pw;
	sigset_t sigs;
	siginfo_t si;
	struct timespec tick = { 1, 0 };
	long left;
	int r, sig;

	log_init("hardline-webhook", LOG_INFO);
	err_clear(&e);
	r = parse_args(argc, argv, &o, &e);
	if (r == 1) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (r != 0)
		return usage_error(e.msg);

	/* Block the stop signals before any thread starts, so that every thread inherits the mask and only the main
	 * thread takes them, synchronously, in sigtimedwait below. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP); /* "check the files now" rather than the default: terminate */
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	r = 1;
	if (tlsreload_new(o.tls_cert, o.tls_key, &tls, &e) != 0) {
		log_error("%s", e.msg);
		goto out;
	}
	note_certificate(tls, "serving");
	if (o.policy != NULL && filewatch_init(&pw, o.policy, &e) != 0) {
		log_error("--policy: %s", e.msg);
		goto out;
	}
	if (load_policy(&o, &policy, &e) != 0) {
		log_error("%s", e.msg);
		goto out;
	}
	if (attcheck_new(&ac, &e) != 0 || attcheck_configure(ac, policy->attestations, &e) != 0) {
		log_error("%s", e.msg);
		wpolicy_unref(policy);
		goto out;
	}
	o.cfg.checker = attcheck_hook(ac);
	log_info("policy in force: %s %s", policy->source, policy->digest);
	if (server_new(&o.cfg, tls, policy, &srv, &e) != 0) { /* policy transferred */
		log_error("%s", e.msg);
		goto out;
	}
	metrics_set_ready(true);
	log_info("listening on %s (TLS, %u threads), metrics on %s", o.cfg.listen, o.cfg.threads, o.cfg.metrics_listen);

	for (;;) {
		sig = sigtimedwait(&sigs, &si, &tick);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP)
			log_info("SIGHUP received: checking the certificate and policy files");
		if (sig < 0 && errno != EAGAIN && errno != EINTR) {
			log_error("sigtimedwait: %s", strerror(errno));
			break;
		}
		watch_tick(&o, srv, tls, o.policy != NULL ? &pw : NULL, ac);
	}
	log_info("%s received: no new connections, finishing the requests in flight",
	    sig == SIGINT ? "SIGINT" : "SIGTERM");
	left = server_drain(srv, o.shutdown_ms);
	if (left > 0)
		log_warn("%ld requests still in flight after %llu ms; closing them", left,
		    (unsigned long long)o.shutdown_ms);
	r = 0;
out:
	server_free(srv);
	attcheck_free(ac);
	tlsreload_free(tls);
	return r;
}
