/* server — libmicrohttpd glue for hardline-webhook. Each request gets a struct req on MHD's first call; the body is
 * collected under the cap, the review is evaluated once it is complete, and the request state is freed only in the
 * request-completed callback. Error answers (404/405/413/415) are given before the body is read. */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/str.h"
#include "webhook/admission.h"
#include "webhook/metrics.h"
#include "webhook/server.h"

#define SERVER_LOG_LINE_MAX 16384		 /* a decision's log line; longer lines lose their reasons */
#define SERVER_LOG_FIELD_MAX 512		 /* a string in a decision's log line */
#define SERVER_LOG_ARRAY_MAX 64			 /* entries of an array (reasons) in a decision's log line */
#define SERVER_METRICS_MAX (256 * 1024)		 /* the /metrics exposition */
#define SERVER_DISCARD_FACTOR 4			 /* an over-cap chunked body is drained up to 4x the cap, then cut */
#define SERVER_MAX_BUFFERED (256u * 1024 * 1024) /* bodies held at once, all requests: past it, 503 */

struct server {
	struct server_config cfg;
	struct MHD_Daemon *tls_daemon, *metrics_daemon;
	MHD_socket quiesced_fd;
	pthread_mutex_t policy_mu;
	struct wpolicy *policy; /* under policy_mu */
	atomic_bool draining;
	atomic_size_t buffered; /* body bytes held by all requests now */
};

/* The state of one request, from MHD's first call to the completed callback. */
struct req {
	struct server *srv;
	enum adm_mode mode;
	struct strbuf body;
	size_t discarded;    /* bytes dropped after the body was refused */
	size_t charged;	     /* bytes of body counted in srv->buffered */
	unsigned int reject; /* 0, or the status to answer once the body is drained: 413 or 503 */
	uint64_t start_us;   /* CLOCK_MONOTONIC */
	uint64_t timeout_ms; /* from ?timeout= (capped), or the default: logged with the decision */
	uint64_t deadline_ms;
};

/* CLOCK_MONOTONIC in microseconds. */
static uint64_t server_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Parses "ADDR:PORT", ":PORT" or "[V6]:PORT" into ss. *any is set for ":PORT" (every address, dual stack).
 * ERR_USAGE naming the flag otherwise. */
static int server_parse_addr(const char *flag, const char *s, struct sockaddr_storage *ss, bool *any, struct err *e)
{
	char host[256];
	const char *colon = strrchr(s, ':'), *h = s;
	size_t hlen;
	uint64_t port;
	struct addrinfo hints, *res = NULL;
	int g;

	memset(ss, 0, sizeof(*ss));
	*any = false;
	if (colon == NULL)
		return err_set(e, ERR_USAGE, "%s %s: expected ADDR:PORT, :PORT or [IPV6]:PORT", flag, s);
	if (str_to_u64(colon + 1, 0, 65535, &port, flag, e) != 0)
		return err_set(e, ERR_USAGE, "%s %s: the port must be a number from 0 to 65535", flag, s);
	hlen = (size_t)(colon - s);
	if (hlen >= 2 && s[0] == '[' && s[hlen - 1] == ']') {
		h = s + 1;
		hlen -= 2;
	}
	if (hlen == 0) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

		a6->sin6_family = AF_INET6;
		a6->sin6_addr = in6addr_any;
		a6->sin6_port = htons((uint16_t)port);
		*any = true;
		return 0;
	}
	if (hlen >= sizeof(host))
		return err_set(e, ERR_USAGE, "%s: the address is too long", flag);
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((g = getaddrinfo(host, NULL, &hints, &res)) != 0 || res == NULL)
		return err_set(e, ERR_USAGE, "%s %s: cannot resolve %s (%s); give an IP address", flag, s, host,
		    gai_strerror(g));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
	return 0;
}

/* Takes a reference to the policy in force. */
static struct wpolicy *server_policy_get(struct server *s)
{
	struct wpolicy *p;

	pthread_mutex_lock(&s->policy_mu);
	p = wpolicy_ref(s->policy);
	pthread_mutex_unlock(&s->policy_mu);
	return p;
}

void server_set_policy(struct server *s, struct wpolicy *policy)
{
	struct wpolicy *old;

	pthread_mutex_lock(&s->policy_mu);
	old = s->policy;
	s->policy = policy; /* transferred */
	pthread_mutex_unlock(&s->policy_mu);
	wpolicy_unref(old);
}

/* Queues a response of len bytes copied from body with the given status and content type; adds
 * "Connection: close" while draining. Returns MHD's verdict. */
static enum MHD_Result server_reply(struct MHD_Connection *c, struct server *s, unsigned int status, const char *ctype,
    const char *body, size_t len, const char *allow)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (allow != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	if (s != NULL && atomic_load(&s->draining))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* A plain-text error answer; msg is a static or trusted string. */
static enum MHD_Result server_reply_text(struct MHD_Connection *c, struct server *s, unsigned int status,
    const char *msg, const char *allow)
{
	return server_reply(c, s, status, "text/plain; charset=utf-8", msg, strlen(msg), allow);
}

/* True when a Content-Type value is application/json, parameters allowed ("application/json; charset=utf-8"). */
static bool server_is_json(const char *ct)
{
	static const char want[] = "application/json";

	if (ct == NULL)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, want, sizeof(want) - 1) != 0)
		return false;
	ct += sizeof(want) - 1;
	return *ct == '\0' || *ct == ';' || *ct == ' ' || *ct == '\t';
}

/* The mode a request path selects; false for an unknown path. */
static bool server_path_mode(const char *url, enum adm_mode *mode)
{
	if (strcmp(url, "/validate") == 0)
		*mode = ADM_ENFORCE;
	else if (strcmp(url, "/warn") == 0)
		*mode = ADM_WARN;
	else if (strcmp(url, "/audit") == 0)
		*mode = ADM_AUDIT;
	else
		return false;
	return true;
}

/* The metrics label index of an admission mode. */
static int server_metrics_mode(enum adm_mode m)
{
	return m == ADM_WARN ? METRICS_WARN : m == ADM_AUDIT ? METRICS_AUDIT : METRICS_ENFORCE;
}

/* "2026-12-01T04:26:17.123Z" into buf[32]. */
static void server_rfc3339(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	char sec[24];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
	str_fmt(buf, size, "%s.%03ldZ", sec, ts.tv_nsec / 1000000);
}

/* A copy of a string value cut to SERVER_LOG_FIELD_MAX bytes (on a UTF-8 character boundary) with "..." appended,
 * or a new reference to v itself when it is short enough or not a string. */
static json_t *server_log_cap(json_t *v)
{
	char buf[SERVER_LOG_FIELD_MAX + 4];
	const char *sv = json_string_value(v);
	size_t n = json_string_length(v), cut = SERVER_LOG_FIELD_MAX;

	if (sv == NULL || n <= SERVER_LOG_FIELD_MAX)
		return json_incref(v);
	while (cut > 0 && ((unsigned char)sv[cut] & 0xC0) == 0x80)
		cut--;
	memcpy(buf, sv, cut);
	memcpy(buf + cut, "...", 4);
	return json_string(buf);
}

/* Caps what a log line may carry from the request: every string (top level, or in a top-level array) to
 * SERVER_LOG_FIELD_MAX bytes, every array to SERVER_LOG_ARRAY_MAX entries. Values are replaced, not edited, so the
 * admission result that shares them is left as it was. */
static void server_log_caps(json_t *o)
{
	const char *key;
	json_t *v, *a, *x;
	size_t i;

	json_object_foreach(o, key, v)
	{
		if (json_is_string(v)) {
			json_object_set_new(o, key, server_log_cap(v));
		} else if (json_is_array(v)) {
			if ((a = json_array()) == NULL)
				continue;
			json_array_foreach(v, i, x)
			{
				if (i == SERVER_LOG_ARRAY_MAX) {
					json_array_append_new(a, json_string("..."));
					break;
				}
				json_array_append_new(a, server_log_cap(x));
			}
			json_object_set_new(o, key, a);
		}
	}
}

/* Writes the decision's JSON log line: time first, then the admission fields (capped), the mode and the duration. */
static void server_log_decision(const struct req *rq, json_t *fields, uint64_t duration_us)
{
	char ts[40];
	json_t *o = json_object();
	char *line = NULL;

	if (o == NULL)
		return;
	server_rfc3339(ts, sizeof(ts));
	json_object_set_new(o, "time", json_string(ts));
	if (fields != NULL) {
		json_object_update(o, fields);
		server_log_caps(o);
	}
	json_object_set_new(o, "mode", json_string(adm_mode_name(rq->mode)));
	json_object_set_new(o, "durationUs", json_integer((json_int_t)duration_us));
	json_object_set_new(o, "timeoutMs", json_integer((json_int_t)rq->timeout_ms));
	line = json_dumps(o, JSON_COMPACT);
	if (line != NULL && strlen(line) > SERVER_LOG_LINE_MAX) {
		json_t *reasons = json_object_get(o, "reasons");
		size_t n = json_is_array(reasons) ? json_array_size(reasons) : 0;

		free(line);
		json_object_set_new(o, "reasons", json_string("(too long for the log line)"));
		json_object_set_new(o, "reasonCount", json_integer((json_int_t)n));
		line = json_dumps(o, JSON_COMPACT);
		if (line != NULL && strlen(line) > SERVER_LOG_LINE_MAX) {
			free(line);
			line = NULL;
			log_warn("decision log line for request %s over %d bytes, dropped",
			    json_string_value(json_object_get(o, "uid")) ? "(uid given)" : "(no uid)",
			    SERVER_LOG_LINE_MAX);
		}
	}
	if (line != NULL)
		log_line(line);
	free(line);
	json_decref(o);
}

/* Evaluates the complete body and queues the answer. */
static enum MHD_Result server_review(struct MHD_Connection *c, struct req *rq)
{
	struct adm_result res;
	struct wpolicy *p = server_policy_get(rq->srv);
	struct err e;
	enum MHD_Result ret;
	const char *kind = NULL;
	uint64_t dur;
	int r;

	err_clear(&e);
	memset(&res, 0, sizeof(res));
	r = adm_review(p, rq->mode, rq->srv->cfg.checker, rq->body.data != NULL ? rq->body.data : "", rq->body.len,
	    rq->deadline_ms, &res, &e);
	wpolicy_unref(p);
	if (r != 0) {
		log_error("admission review failed: %s", e.msg);
		ret = server_reply_text(c, rq->srv, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal error; see the webhook log\n", NULL);
		metrics_observe(server_metrics_mode(rq->mode), "error", NULL, server_now_us() - rq->start_us);
		adm_result_cleanup(&res);
		return ret;
	}
	ret = server_reply(c, rq->srv, (unsigned int)res.http_status,
	    res.content_type != NULL ? res.content_type : "application/json", res.response_body, res.response_len,
	    NULL);
	dur = server_now_us() - rq->start_us;
	kind = res.metric_kind;
	metrics_observe(server_metrics_mode(rq->mode), res.decision, kind, dur);
	server_log_decision(rq, res.log_fields, dur);
	adm_result_cleanup(&res);
	return ret;
}

/* The first call for a request: checks path, method, content type, declared length and ?timeout=; either answers
 * at once or sets up the state that collects the body. */
static enum MHD_Result server_begin(struct server *s, struct MHD_Connection *c, const char *url, const char *method,
    void **con_cls)
{
	struct req *rq;
	const char *v;
	uint64_t n, timeout_ms = SERVER_DEFAULT_TIMEOUT_MS;
	enum adm_mode mode;
	struct err e;

	err_clear(&e);
	if ((rq = calloc(1, sizeof(*rq))) == NULL)
		return MHD_NO;
	rq->srv = s;
	rq->start_us = server_now_us();
	sb_init(&rq->body, s->cfg.max_body);
	*con_cls = rq; /* freed in server_completed */
	metrics_in_flight_add(1);

	if (!server_path_mode(url, &mode))
		return server_reply_text(c, s, MHD_HTTP_NOT_FOUND,
		    "not found; admission reviews go to POST /validate, /warn or /audit\n", NULL);
	rq->mode = mode;
	if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
		return server_reply_text(c, s, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed; use POST\n", "POST");
	if (!server_is_json(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE))) {
		metrics_observe(server_metrics_mode(mode), "error", NULL, server_now_us() - rq->start_us);
		return server_reply_text(c, s, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
		    "unsupported media type; send Content-Type: application/json\n", NULL);
	}
	v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (v != NULL && (str_to_u64(v, 0, UINT64_MAX, &n, "Content-Length", &e) != 0 || n > s->cfg.max_body)) {
		metrics_observe(server_metrics_mode(mode), "error", NULL, server_now_us() - rq->start_us);
		return server_reply_text(c, s, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large\n", NULL);
	}
	v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "timeout");
	if (v != NULL) {
		if (str_to_duration_ms(v, &n, "timeout", &e) == 0 && n > 0)
			timeout_ms = n < SERVER_MAX_TIMEOUT_MS ? n : SERVER_MAX_TIMEOUT_MS;
		else
			log_debug("request ?timeout= not understood (%s); using %d ms", e.msg,
			    SERVER_DEFAULT_TIMEOUT_MS);
	}
	rq->timeout_ms = timeout_ms;
	rq->deadline_ms = rq->start_us / 1000 + timeout_ms;
	return MHD_YES;
}

/* MHD_AccessHandlerCallback of the TLS daemon. */
static enum MHD_Result server_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct server *s = cls;
	struct req *rq = *con_cls;

	if (rq == NULL)
		return server_begin(s, c, url, method, con_cls);
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (rq->reject == 0) {
			if (atomic_fetch_add(&s->buffered, n) + n > SERVER_MAX_BUFFERED) {
				atomic_fetch_sub(&s->buffered, n);
				rq->reject = MHD_HTTP_SERVICE_UNAVAILABLE; /* memory for bodies exhausted */
			} else {
				rq->charged += n;
				if (sb_append(&rq->body, upload_data, n) != 0)
					rq->reject = MHD_HTTP_CONTENT_TOO_LARGE; /* over the cap (or out of memory) */
			}
			if (rq->reject != 0) {
				sb_cleanup(&rq->body);
				atomic_fetch_sub(&s->buffered, rq->charged);
				rq->charged = 0;
			}
		}
		if (rq->reject != 0) {
			rq->discarded += n;
			if (rq->discarded / SERVER_DISCARD_FACTOR > s->cfg.max_body)
				return MHD_NO; /* a peer that does not stop: cut the connection */
		}
		return MHD_YES;
	}
	if (rq->reject != 0) {
		metrics_observe(server_metrics_mode(rq->mode), "error", NULL, server_now_us() - rq->start_us);
		if (rq->reject == MHD_HTTP_SERVICE_UNAVAILABLE) {
			log_warn(
			    "request refused: %u bytes of request bodies already held; more replicas or fewer huge "
			    "objects",
			    SERVER_MAX_BUFFERED);
			return server_reply_text(c, s, MHD_HTTP_SERVICE_UNAVAILABLE, "server busy; retry\n", NULL);
		}
		return server_reply_text(c, s, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large\n", NULL);
	}
	return server_review(c, rq);
}

/* MHD_RequestCompletedCallback: the one place request state is freed. */
static void server_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;

	if (rq == NULL)
		return;
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		log_debug("admission request ended early (libmicrohttpd code %d)", (int)toe);
	sb_cleanup(&rq->body);
	atomic_fetch_sub(&rq->srv->buffered, rq->charged);
	free(rq);
	*con_cls = NULL;
	metrics_in_flight_add(-1);
}

/* MHD_AccessHandlerCallback of the metrics daemon: GET /healthz, /readyz, /metrics. */
static enum MHD_Result server_metrics_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	static int first;
	struct strbuf sb;
	struct err e;
	enum MHD_Result ret;

	if (*con_cls == NULL) {
		*con_cls = &first; /* answer after the (empty) body */
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return server_reply_text(c, NULL, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed; use GET\n",
		    "GET, HEAD");
	if (strcmp(url, "/healthz") == 0)
		return server_reply_text(c, NULL, MHD_HTTP_OK, "ok\n", NULL);
	if (strcmp(url, "/readyz") == 0)
		return metrics_ready() ? server_reply_text(c, NULL, MHD_HTTP_OK, "ready\n", NULL)
				       : server_reply_text(c, NULL, MHD_HTTP_SERVICE_UNAVAILABLE, "not ready\n", NULL);
	if (strcmp(url, "/metrics") != 0)
		return server_reply_text(c, NULL, MHD_HTTP_NOT_FOUND, "not found; try /healthz, /readyz, /metrics\n",
		    NULL);
	err_clear(&e);
	sb_init(&sb, SERVER_METRICS_MAX);
	if (metrics_render(&sb, &e) != 0) {
		log_error("%s", e.msg);
		sb_cleanup(&sb);
		return server_reply_text(c, NULL, MHD_HTTP_INTERNAL_SERVER_ERROR, "metrics unavailable\n", NULL);
	}
	ret = server_reply(c, NULL, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", sb.data ? sb.data : "",
	    sb.len, NULL);
	sb_cleanup(&sb);
	return ret;
}

/* Writes libmicrohttpd's own diagnostics (TLS handshake failures and the like) as debug lines. */
static void server_mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void server_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	log_debug("libmicrohttpd: %s", buf);
}

/* Starts the TLS admission daemon on cfg->listen. */
static int server_start_tls(struct server *s, struct err *e)
{
	struct sockaddr_storage ss;
	bool any;
	unsigned int flags =
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TLS | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	int r;

	if ((r = server_parse_addr("--listen", s->cfg.listen, &ss, &any, e)) != 0)
		return r;
	if (any)
		flags |= MHD_USE_DUAL_STACK;
	for (;;) {
		s->tls_daemon = MHD_start_daemon(flags, 0, NULL, NULL, server_access, s, MHD_OPTION_SOCK_ADDR,
		    (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)s->cfg.threads,
		    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)s->cfg.max_conns, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		    (unsigned int)s->cfg.max_conns_per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
		    (unsigned int)s->cfg.idle_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
		    MHD_OPTION_HTTPS_CERT_CALLBACK, tlsreload_retrieve, MHD_OPTION_HTTPS_PRIORITIES,
		    "NORMAL:-VERS-TLS1.0:-VERS-TLS1.1", MHD_OPTION_NOTIFY_COMPLETED, server_completed, s,
		    MHD_OPTION_EXTERNAL_LOGGER, server_mhd_log, NULL, MHD_OPTION_END);
		if (s->tls_daemon != NULL || !any)
			break;
		/* No IPv6 here: every IPv4 address instead. */
		struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
		uint16_t port = ((struct sockaddr_in6 *)&ss)->sin6_port;

		memset(&ss, 0, sizeof(ss));
		a4->sin_family = AF_INET;
		a4->sin_addr.s_addr = htonl(INADDR_ANY);
		a4->sin_port = port;
		flags &= ~(unsigned int)MHD_USE_DUAL_STACK;
		any = false;
	}
	if (s->tls_daemon == NULL)
		return err_set(e, ERR_IO,
		    "--listen %s: cannot start the TLS server (address in use, or not allowed to "
		    "bind); pick another address or port",
		    s->cfg.listen);
	return 0;
}

/* Starts the plain-HTTP metrics daemon on cfg->metrics_listen (one thread). */
static int server_start_metrics(struct server *s, struct err *e)
{
	struct sockaddr_storage ss;
	bool any;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	int r;

	if (s->cfg.metrics_listen == NULL || strcmp(s->cfg.metrics_listen, "off") == 0)
		return 0;
	if ((r = server_parse_addr("--metrics-listen", s->cfg.metrics_listen, &ss, &any, e)) != 0)
		return r;
	if (any) {
		/* Every IPv4 address: probes and scrapers reach pods over IPv4 in most clusters; "[::]:PORT" for v6. */
		uint16_t port = ((struct sockaddr_in6 *)&ss)->sin6_port;
		struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;

		memset(&ss, 0, sizeof(ss));
		a4->sin_family = AF_INET;
		a4->sin_addr.s_addr = htonl(INADDR_ANY);
		a4->sin_port = port;
	}
	s->metrics_daemon = MHD_start_daemon(flags, 0, NULL, NULL, server_metrics_access, s, MHD_OPTION_SOCK_ADDR,
	    (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
	    MHD_OPTION_EXTERNAL_LOGGER, server_mhd_log, NULL, MHD_OPTION_END);
	if (s->metrics_daemon == NULL)
		return err_set(e, ERR_IO,
		    "--metrics-listen %s: cannot start the metrics server (address in use?); pick "
		    "another port or pass --metrics-listen off",
		    s->cfg.metrics_listen);
	return 0;
}

int server_new(const struct server_config *cfg, struct tls_store *tls, struct wpolicy *policy, struct server **out,
    struct err *e)
{
	struct server *s = NULL;
	int r;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		wpolicy_unref(policy);
		return err_set(e, ERR_NOMEM, "server: out of memory");
	}
	s->cfg = *cfg;
	s->quiesced_fd = MHD_INVALID_SOCKET;
	pthread_mutex_init(&s->policy_mu, NULL);
	s->policy = policy; /* transferred */
	tlsreload_install(tls);
	if ((r = server_start_tls(s, e)) != 0 || (r = server_start_metrics(s, e)) != 0)
		goto out;
	*out = s;
	s = NULL; /* transferred */
	r = 0;
out:
	server_free(s);
	return r;
}

long server_drain(struct server *s, uint64_t timeout_ms)
{
	uint64_t until = server_now_us() + timeout_ms * 1000;
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	int64_t n;

	atomic_store(&s->draining, true);
	metrics_set_ready(false);
	if (s->tls_daemon != NULL && s->quiesced_fd == MHD_INVALID_SOCKET) {
		s->quiesced_fd = MHD_quiesce_daemon(s->tls_daemon);
		/* Stop listening now, so that new clients are refused at once (and retry another replica) instead of
		 * waiting in the backlog; the descriptor itself stays open until MHD_stop_daemon, as MHD requires. */
		if (s->quiesced_fd != MHD_INVALID_SOCKET)
			shutdown(s->quiesced_fd, SHUT_RDWR);
	}
	while ((n = metrics_in_flight()) > 0 && server_now_us() < until)
		nanosleep(&pause, NULL);
	return (long)n;
}

void server_free(struct server *s)
{
	if (s == NULL)
		return;
	if (s->tls_daemon != NULL)
		MHD_stop_daemon(s->tls_daemon);
	if (s->quiesced_fd != MHD_INVALID_SOCKET)
		close(s->quiesced_fd);
	if (s->metrics_daemon != NULL)
		MHD_stop_daemon(s->metrics_daemon);
	tlsreload_install(NULL);
	wpolicy_unref(s->policy);
	pthread_mutex_destroy(&s->policy_mu);
	free(s);
}
