/* registry — OCI distribution API client over libcurl. One curl easy handle per HTTP exchange; redirects and auth
 * challenges are handled here (not by curl) so that what is followed and where credentials go is decided in one
 * place: xfer_run does one exchange, request_run adds auth, redirects and error reporting. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "lib/base64.h"
#include "lib/json.h"
#include "lib/registry.h"
#include "lib/registry_auth.h"
#include "lib/str.h"

#define CACHE_SLOTS 32
#define MAX_REDIRECTS 5
#define URL_MAX 4096
#define TOKEN_TTL_MAX_S 3600

struct cache_entry {
	char *key;    /* "<scheme>://<host>:<port>|<scope>", or "…|basic" */
	char *header; /* the whole "Authorization: …" line */
	int64_t expires_ms;
};

struct registry_client {
	char *auth_file, *ca_file, *certs_dir, *user_agent;
	bool anonymous, insecure_http;
	uint32_t connect_timeout_ms;
	pthread_mutex_t lock;
	struct cache_entry cache[CACHE_SLOTS];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

/* pthread_once body: libcurl's global init is not thread-safe, so it runs once per process. */
static void curl_init_once(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int64_t registry_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* strdup of s, or NULL for NULL; *failed set when the copy failed. */
static char *dup_opt(const char *s, bool *failed)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*failed = true;
	return d;
}

int registry_client_new(const struct registry_opts *opts, struct registry_client **out, struct err *e)
{
	struct registry_client *c;
	bool failed = false;

	*out = NULL;
	pthread_once(&curl_once, curl_init_once);
	if (curl_init_rc != CURLE_OK)
		return err_set(e, ERR_INTERNAL, "libcurl initialization failed: %s", curl_easy_strerror(curl_init_rc));
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return err_set(e, ERR_NOMEM, "registry client: out of memory");
	c->auth_file = dup_opt(opts->auth_file, &failed);
	c->ca_file = dup_opt(opts->ca_file, &failed);
	c->certs_dir = dup_opt(opts->certs_dir, &failed);
	c->user_agent = dup_opt(opts->user_agent != NULL ? opts->user_agent : "hardline", &failed);
	c->anonymous = opts->anonymous;
	c->insecure_http = opts->insecure_http;
	c->connect_timeout_ms = opts->connect_timeout_ms != 0 ? opts->connect_timeout_ms : 10000;
	if (failed || pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c->auth_file);
		free(c->ca_file);
		free(c->certs_dir);
		free(c->user_agent);
		free(c);
		return err_set(e, ERR_NOMEM, "registry client: out of memory");
	}
	*out = c;
	return 0;
}

/* Frees one cache slot, wiping the credential it held. */
static void cache_clear(struct cache_entry *ce)
{
	free(ce->key);
	if (ce->header != NULL) {
		OPENSSL_cleanse(ce->header, strlen(ce->header));
		free(ce->header);
	}
	memset(ce, 0, sizeof(*ce));
}

void registry_client_free(struct registry_client *c)
{
	int i;

	if (c == NULL)
		return;
	for (i = 0; i < CACHE_SLOTS; i++)
		cache_clear(&c->cache[i]);
	pthread_mutex_destroy(&c->lock);
	free(c->auth_file);
	free(c->ca_file);
	free(c->certs_dir);
	free(c->user_agent);
	free(c);
}

/* A copy of the cached Authorization header for key (free() it), or NULL. */
static char *cache_get(struct registry_client *c, const char *key)
{
	int64_t now = registry_now_ms();
	char *h = NULL;
	int i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < CACHE_SLOTS; i++) {
		if (c->cache[i].key == NULL || strcmp(c->cache[i].key, key) != 0)
			continue;
		if (c->cache[i].expires_ms <= now)
			cache_clear(&c->cache[i]);
		else
			h = strdup(c->cache[i].header);
		break;
	}
	pthread_mutex_unlock(&c->lock);
	return h;
}

/* Stores header under key until expires_ms, replacing the same key, else an empty or expired slot, else the one
 * closest to expiry. Best effort: an allocation failure just leaves it uncached. */
static void cache_put(struct registry_client *c, const char *key, const char *header, int64_t expires_ms)
{
	int64_t now = registry_now_ms();
	int i, slot = -1;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < CACHE_SLOTS && slot < 0; i++)
		if (c->cache[i].key != NULL && strcmp(c->cache[i].key, key) == 0)
			slot = i;
	for (i = 0; i < CACHE_SLOTS && slot < 0; i++)
		if (c->cache[i].key == NULL || c->cache[i].expires_ms <= now)
			slot = i;
	if (slot < 0) {
		slot = 0;
		for (i = 1; i < CACHE_SLOTS; i++)
			if (c->cache[i].expires_ms < c->cache[slot].expires_ms)
				slot = i;
	}
	cache_clear(&c->cache[slot]);
	c->cache[slot].key = strdup(key);
	c->cache[slot].header = strdup(header);
	c->cache[slot].expires_ms = expires_ms;
	if (c->cache[slot].key == NULL || c->cache[slot].header == NULL)
		cache_clear(&c->cache[slot]);
	pthread_mutex_unlock(&c->lock);
}

/* Drops key from the cache (a credential the registry refused). */
static void cache_drop(struct registry_client *c, const char *key)
{
	int i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < CACHE_SLOTS; i++)
		if (c->cache[i].key != NULL && strcmp(c->cache[i].key, key) == 0)
			cache_clear(&c->cache[i]);
	pthread_mutex_unlock(&c->lock);
}

/* ---- one HTTP exchange ---- */

struct xfer {
	/* request */
	const char *method; /* "GET", "HEAD", "PUT", "POST" */
	const char *url;
	const char *auth;	  /* "Authorization: …" or NULL */
	const char *accept;	  /* NULL: none */
	const char *content_type; /* NULL: none */
	const void *body;	  /* PUT/POST body (may be empty) */
	size_t body_len;
	int body_fd; /* when >= 0: the PUT body is body_fd_size bytes read with pread from 0 */
	uint64_t body_fd_size, body_fd_off;
	const char *ca_file;
	/* body of a 2xx answer: to sink, else to ok_body (capped) */
	registry_sink_fn sink;
	void *sink_arg;
	struct strbuf *ok_body;
	struct err sink_err;
	int sink_rc;
	/* answer */
	long status;
	struct strbuf errbody; /* body of a non-2xx answer, up to REGISTRY_ERRBODY_MAX */
	bool errbody_over;
	char h_digest[128];
	char h_ctype[128];
	char h_location[URL_MAX];
	char h_www[REGISTRY_CHALLENGE_MAX + 1];
	bool h_www_over, h_location_over;
	uint64_t h_clen;
	bool h_has_clen;
	CURL *h;
};

/* Copies a header value v[n] into dst[size], trimmed; *over set when it did not fit. */
static void take_header(char *dst, size_t size, const char *v, size_t n, bool *over)
{
	while (n > 0 && (*v == ' ' || *v == '\t'))
		v++, n--;
	while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (n >= size) {
		if (over != NULL)
			*over = true;
		n = size - 1;
	}
	memcpy(dst, v, n);
	dst[n] = '\0';
}

/* curl header callback: a status line starts a new answer (interim 1xx ones are forgotten). */
static size_t on_header(char *p, size_t size, size_t nitems, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nitems, nl;
	const char *colon;

	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		x->h_digest[0] = x->h_ctype[0] = x->h_location[0] = x->h_www[0] = '\0';
		x->h_www_over = x->h_location_over = x->h_has_clen = false;
		x->h_clen = 0;
		return n;
	}
	if ((colon = memchr(p, ':', n)) == NULL)
		return n;
	nl = (size_t)(colon - p);
	colon++;
	if (nl == 21 && strncasecmp(p, "Docker-Content-Digest", 21) == 0)
		take_header(x->h_digest, sizeof(x->h_digest), colon, n - nl - 1, NULL);
	else if (nl == 12 && strncasecmp(p, "Content-Type", 12) == 0)
		take_header(x->h_ctype, sizeof(x->h_ctype), colon, n - nl - 1, NULL);
	else if (nl == 8 && strncasecmp(p, "Location", 8) == 0)
		take_header(x->h_location, sizeof(x->h_location), colon, n - nl - 1, &x->h_location_over);
	else if (nl == 16 && strncasecmp(p, "WWW-Authenticate", 16) == 0) {
		if (x->h_www[0] != '\0')
			x->h_www_over = true; /* several challenge headers: refuse rather than guess */
		take_header(x->h_www, sizeof(x->h_www), colon, n - nl - 1, &x->h_www_over);
	} else if (nl == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
		char v[32];
		bool over = false;
		take_header(v, sizeof(v), colon, n - nl - 1, &over);
		x->h_has_clen = !over && str_to_u64(v, 0, UINT64_MAX, &x->h_clen, "Content-Length", NULL) == 0;
	}
	return n;
}

/* curl write callback: a 2xx body goes to the sink or ok_body, any other to the capped error body. */
static size_t on_body(char *p, size_t size, size_t nitems, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nitems;
	long status = 0;
	int r;

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300) {
		if (x->sink != NULL) {
			if ((r = x->sink(x->sink_arg, p, n, &x->sink_err)) != 0) {
				x->sink_rc = r;
				return 0;
			}
			return n;
		}
		if (x->ok_body != NULL && (r = sb_append(x->ok_body, p, n)) != 0) {
			x->sink_rc = r;
			err_set(&x->sink_err, r,
			    r == ERR_TOO_LARGE ? "answer is over the limit of %zu bytes" : "out of memory (%zu bytes)",
			    x->ok_body->cap);
			return 0;
		}
		return n;
	}
	if (sb_append(&x->errbody, p, n) != 0) {
		x->errbody_over = true;
		return 0;
	}
	return n;
}

/* curl read callback of an upload from body_fd: pread at the running offset; a file that shrank aborts. */
static size_t on_read(char *buf, size_t size, size_t nitems, void *arg)
{
	struct xfer *x = arg;
	uint64_t left = x->body_fd_size - x->body_fd_off;
	size_t want = size * nitems;
	ssize_t n;

	if (left == 0)
		return 0;
	if (want > left)
		want = (size_t)left;
	n = pread(x->body_fd, buf, want, (off_t)x->body_fd_off);
	if (n <= 0) {
		x->sink_rc = ERR_IO;
		err_set(&x->sink_err, ERR_IO, "reading the blob at offset %llu failed (%s)",
		    (unsigned long long)x->body_fd_off, n == 0 ? "the file is shorter than its size" : "read error");
		return CURL_READFUNC_ABORT;
	}
	x->body_fd_off += (uint64_t)n;
	return (size_t)n;
}

/* True when v can go into a header line: printable ASCII and tabs only (no CR/LF to inject further headers). */
static bool header_value_ok(const char *v)
{
	for (; *v != '\0'; v++)
		if (((unsigned char)*v < 0x20 && *v != '\t') || (unsigned char)*v >= 0x7f)
			return false;
	return true;
}

/* Performs x until deadline_ms with the client's TLS and timeout settings. Returns 0 with x->status set when an
 * answer came, else ERR_TIMEOUT / ERR_NETWORK (e names the failure, without context) or the sink's error. */
static int xfer_run(struct registry_client *c, struct xfer *x, int64_t deadline_ms, struct err *e)
{
	struct curl_slist *hdrs = NULL, *t;
	char errbuf[CURL_ERROR_SIZE], line[256];
	int64_t left = deadline_ms - registry_now_ms();
	CURLcode rc;
	int r = ERR_NOMEM;

	x->status = 0;
	x->sink_rc = 0;
	err_clear(&x->sink_err);
	x->errbody_over = false;
	sb_init(&x->errbody, REGISTRY_ERRBODY_MAX);
	if (left <= 0)
		return err_set(e, ERR_TIMEOUT, "deadline passed before the request was sent");
	if ((x->accept != NULL && !header_value_ok(x->accept)) ||
	    (x->content_type != NULL && !header_value_ok(x->content_type)) ||
	    (x->auth != NULL && !header_value_ok(x->auth)))
		return err_set(e, ERR_INVALID, "a header value holds a control or non-ASCII byte; refusing to send it");
	if ((x->h = curl_easy_init()) == NULL)
		return err_set(e, ERR_NOMEM, "curl_easy_init failed");
	errbuf[0] = '\0';
	if (x->accept != NULL && str_fmt(line, sizeof(line), "Accept: %s", x->accept) == 0 &&
	    (t = curl_slist_append(hdrs, line)) != NULL)
		hdrs = t;
	else if (x->accept != NULL)
		goto out;
	if (x->content_type != NULL) {
		if (str_fmt(line, sizeof(line), "Content-Type: %s", x->content_type) != 0 ||
		    (t = curl_slist_append(hdrs, line)) == NULL)
			goto out;
		hdrs = t;
	}
	if (x->auth != NULL) {
		if ((t = curl_slist_append(hdrs, x->auth)) == NULL)
			goto out;
		hdrs = t;
	}
	if ((t = curl_slist_append(hdrs, "Expect:")) == NULL)
		goto out;
	hdrs = t;
	curl_easy_setopt(x->h, CURLOPT_URL, x->url);
	curl_easy_setopt(x->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(x->h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(x->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->h, CURLOPT_TIMEOUT_MS, (long)left);
	curl_easy_setopt(x->h, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(left < (int64_t)c->connect_timeout_ms ? left : (int64_t)c->connect_timeout_ms));
	curl_easy_setopt(x->h, CURLOPT_USERAGENT, c->user_agent);
	curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(x->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(x->h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(x->h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(x->h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(x->h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (x->ca_file != NULL)
		curl_easy_setopt(x->h, CURLOPT_CAINFO, x->ca_file);
	if (strcmp(x->method, "HEAD") == 0) {
		curl_easy_setopt(x->h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(x->method, "PUT") == 0 && x->body_fd >= 0) {
		x->body_fd_off = 0; /* a retry sends the whole body again */
		curl_easy_setopt(x->h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(x->h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(x->h, CURLOPT_READDATA, x);
		curl_easy_setopt(x->h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->body_fd_size);
	} else if (strcmp(x->method, "PUT") == 0 || strcmp(x->method, "POST") == 0) {
		curl_easy_setopt(x->h, CURLOPT_POST, 1L);
		curl_easy_setopt(x->h, CURLOPT_POSTFIELDS, x->body != NULL ? x->body : "");
		curl_easy_setopt(x->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->body_len);
		if (strcmp(x->method, "PUT") == 0)
			curl_easy_setopt(x->h, CURLOPT_CUSTOMREQUEST, "PUT");
	}
	rc = curl_easy_perform(x->h);
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->status);
	if (rc == CURLE_OK) {
		r = 0;
	} else if ((rc == CURLE_WRITE_ERROR || rc == CURLE_ABORTED_BY_CALLBACK || rc == CURLE_READ_ERROR) &&
	    x->sink_rc != 0) {
		r = x->sink_rc;
		err_set(e, r, "%s", x->sink_err.msg);
	} else if (rc == CURLE_WRITE_ERROR && x->errbody_over) {
		r = 0; /* an answer with an oversized error body: the status is what matters */
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		r = err_set(e, ERR_TIMEOUT, "no complete answer within the deadline");
	} else if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CONNECT_ERROR ||
	    rc == CURLE_SSL_CACERT_BADFILE) {
		r = err_set(e, ERR_NETWORK,
		    "TLS: %.300s; give the registry's CA with the CA file option (or certs dir)",
		    errbuf[0] ? errbuf : curl_easy_strerror(rc));
	} else {
		r = err_set(e, ERR_NETWORK, "%.300s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
	}
out:
	if (r == ERR_NOMEM && x->status == 0)
		err_set(e, ERR_NOMEM, "out of memory building the request");
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(x->h);
	x->h = NULL;
	return r;
}

/* ---- URLs and what may be contacted ---- */

struct url_parts {
	char scheme[8];
	char host[256];
	char port[8];
};

/* Splits url into its scheme, host and port (the default port when none is written). */
static int url_split(const char *url, struct url_parts *u)
{
	CURLU *h = curl_url();
	char *s = NULL, *host = NULL, *port = NULL;
	int r = -1;

	memset(u, 0, sizeof(*u));
	if (h == NULL)
		return -1;
	if (curl_url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(h, CURLUPART_SCHEME, &s, 0) == CURLUE_OK &&
	    curl_url_get(h, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(h, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
	    str_copy(u->scheme, sizeof(u->scheme), s) == 0 && str_copy(u->host, sizeof(u->host), host) == 0 &&
	    str_copy(u->port, sizeof(u->port), port) == 0)
		r = 0;
	curl_free(s);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(h);
	return r;
}

/* Whether the client may send a request to url: https, or http when insecure_http is set and the host is loopback. */
static int url_allowed(struct registry_client *c, const char *url, struct url_parts *u, struct err *e)
{
	char esc[200];

	str_escape(esc, sizeof(esc), url, strlen(url), 150);
	if (url_split(url, u) != 0)
		return err_set(e, ERR_INVALID, "malformed URL \"%s\"", esc);
	if (strcasecmp(u->scheme, "https") == 0)
		return 0;
	if (strcasecmp(u->scheme, "http") == 0 && c->insecure_http && imageref_host_is_loopback(u->host))
		return 0;
	if (strcasecmp(u->scheme, "http") == 0)
		return err_set(e, ERR_INVALID,
		    "refusing plain http to \"%s\": http is used only with the insecure-http "
		    "option and only for loopback hosts",
		    esc);
	return err_set(e, ERR_INVALID, "refusing URL \"%s\": only https (or http to loopback hosts)", esc);
}

/* Whether a and b are the same scheme, host and port (where credentials may go). */
static bool same_origin(const struct url_parts *a, const struct url_parts *b)
{
	return strcasecmp(a->scheme, b->scheme) == 0 && strcasecmp(a->host, b->host) == 0 &&
	    strcmp(a->port, b->port) == 0;
}

/* Resolves ref (absolute or relative, as in a Location header) against base into out[size]. */
static int url_resolve(const char *base, const char *ref, char *out, size_t size)
{
	CURLU *h = curl_url();
	char *s = NULL;
	int r = -1;

	if (h == NULL)
		return -1;
	if (curl_url_set(h, CURLUPART_URL, base, 0) == CURLUE_OK &&
	    curl_url_set(h, CURLUPART_URL, ref, 0) == CURLUE_OK && curl_url_get(h, CURLUPART_URL, &s, 0) == CURLUE_OK &&
	    str_copy(out, size, s) == 0)
		r = 0;
	curl_free(s);
	curl_url_cleanup(h);
	return r;
}

/* Appends "name=value" (value URL-encoded) to url's query, in place in url[size]. */
static int url_add_query(char *url, size_t size, const char *name, const char *value)
{
	CURLU *h = curl_url();
	char q[2048], *s = NULL;
	int r = -1;

	if (h == NULL)
		return -1;
	if (str_fmt(q, sizeof(q), "%s=%s", name, value) == 0 && curl_url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_set(h, CURLUPART_QUERY, q, CURLU_APPENDQUERY | CURLU_URLENCODE) == CURLUE_OK &&
	    curl_url_get(h, CURLUPART_URL, &s, 0) == CURLUE_OK && str_copy(url, size, s) == 0)
		r = 0;
	curl_free(s);
	curl_url_cleanup(h);
	return r;
}

/* ---- a registry request: auth, redirects, errors ---- */

struct request {
	const struct imageref *ref;
	const char *what;   /* "GET manifest", "HEAD blob", … for messages */
	const char *object; /* "shop/web:1" or "shop/web@sha256:…" for messages */
	bool push;	    /* needs the push scope */
	struct xfer x;
	char url[URL_MAX];  /* where the request goes (a redirect or an upload location may change it) */
	char base[URL_MAX]; /* the registry's own URL: credentials go only to its scheme/host/port */
	char ca_file[4096];
};

/* The CA file for the registry: certs_dir/<registry>/ca.crt when readable, else ca_file, else NULL (system CAs). */
static const char *pick_ca(struct registry_client *c, struct request *q)
{
	if (c->certs_dir != NULL &&
	    str_fmt(q->ca_file, sizeof(q->ca_file), "%s/%s/ca.crt", c->certs_dir, q->ref->registry) == 0 &&
	    access(q->ca_file, R_OK) == 0)
		return q->ca_file;
	return c->ca_file;
}

/* Prepares q for method on path ("manifests/<ref>", "blobs/<digest>", "blobs/uploads/") of ref's repository. */
static int request_init(struct registry_client *c, struct request *q, const struct imageref *ref, const char *method,
    const char *what, const char *path, struct err *e)
{
	memset(q, 0, sizeof(*q));
	q->x.body_fd = -1;
	q->ref = ref;
	q->what = what;
	q->x.method = method;
	q->x.ca_file = pick_ca(c, q);
	if (c->insecure_http && !imageref_host_is_loopback(ref->registry))
		return err_set(e, ERR_INVALID,
		    "registry %s: plain http is allowed only to loopback hosts (127.0.0.0/8, "
		    "::1, localhost); drop the insecure-http option and use TLS (with the CA file option for a private "
		    "CA)",
		    ref->registry);
	if (str_fmt(q->url, sizeof(q->url), "%s://%s/v2/%s/%s", c->insecure_http ? "http" : "https",
		imageref_api_host(ref), ref->repository, path) != 0)
		return err_set(e, ERR_TOO_LARGE, "registry %s: URL too long", ref->registry);
	str_copy(q->base, sizeof(q->base), q->url);
	q->x.url = q->url;
	return 0;
}

/* Summarizes an error body ({"errors":[{"code","message"}]}, or raw text) into out[size], escaped and truncated. */
static void describe_errbody(const struct xfer *x, char *out, size_t size)
{
	const char *code = NULL, *msg = NULL;
	char c1[80], c2[240];
	json_t *root = NULL, *errs, *first;
	struct err ignore;

	out[0] = '\0';
	if (x->errbody.len == 0)
		return;
	if (json_parse_buf(x->errbody.data, x->errbody.len, REGISTRY_ERRBODY_MAX, "error body", &root, &ignore) == 0 &&
	    json_is_object(root) && json_get_arr(root, "errors", &errs, "error body", &ignore) == 0 &&
	    (first = json_array_get(errs, 0)) != NULL && json_is_object(first)) {
		json_get_str(first, "code", &code, "error", &ignore);
		json_get_str(first, "message", &msg, "error", &ignore);
	}
	if (code != NULL || msg != NULL) {
		str_escape(c1, sizeof(c1), code ? code : "", code ? strlen(code) : 0, 60);
		str_escape(c2, sizeof(c2), msg ? msg : "", msg ? strlen(msg) : 0, 200);
		str_fmt(out, size, " %s%s%s", c1, c1[0] && c2[0] ? ": " : "", c2);
	} else {
		str_escape(c2, sizeof(c2), x->errbody.data, x->errbody.len, 100);
		str_fmt(out, size, " (not a registry error: \"%s\")", c2);
	}
	json_decref(root);
}

/* "Basic base64(user:pass)" header line for creds into a new string (free() after wiping). */
static char *basic_header(const struct registry_creds *cr)
{
	char raw[sizeof(cr->user) + sizeof(cr->pass) + 2], *b64 = NULL, *line = NULL;
	size_t n, b64len = 0;
	struct err ignore;
	int k;

	k = snprintf(raw, sizeof(raw), "%s:%s", cr->user, cr->pass);
	if (k < 0 || (size_t)k >= sizeof(raw))
		goto out;
	n = (size_t)k;
	if (base64_encode(raw, n, &b64, &b64len, &ignore) != 0)
		goto out;
	if ((line = malloc(b64len + 32)) != NULL)
		snprintf(line, b64len + 32, "Authorization: Basic %s", b64);
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	if (b64 != NULL) {
		OPENSSL_cleanse(b64, b64len);
		free(b64);
	}
	return line;
}

/* Wipes and frees a string that held a credential; accepts NULL. */
static void free_secret(char *s)
{
	if (s != NULL) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

/* Answers the challenge in q->x.h_www: Basic from the auth files, or a Bearer token from the realm. On success
 * *header is the new Authorization line (free_secret it), also cached under key. */
static int authenticate(struct registry_client *c, struct request *q, const char *scope, const char *key,
    int64_t deadline_ms, char **header, struct err *e)
{
	struct registry_challenge ch;
	struct registry_creds cr;
	struct url_parts u;
	struct strbuf body;
	struct xfer t;
	char *basic = NULL, *token = NULL, turl[URL_MAX], detail[400];
	bool have_creds = false;
	int64_t ttl = 60;
	int r;

	*header = NULL;
	memset(&cr, 0, sizeof(cr));
	sb_init(&body, REGISTRY_ERRBODY_MAX);
	if (q->x.h_www[0] == '\0') {
		r = err_set(e, ERR_DENIED, "401 without a WWW-Authenticate challenge");
		goto out;
	}
	if (q->x.h_www_over) {
		r = err_set(e, ERR_DENIED, "401 with an oversized or repeated WWW-Authenticate header");
		goto out;
	}
	if ((r = registry_challenge_parse(q->x.h_www, strlen(q->x.h_www), &ch, e)) != 0)
		goto out;
	if (!c->anonymous) {
		r = registry_auth_find(c->auth_file, q->ref->registry, q->ref->repository, &cr, e);
		if (r != 0 && r != ERR_NOT_FOUND)
			goto out;
		have_creds = r == 0;
		if (have_creds && (basic = basic_header(&cr)) == NULL) {
			r = err_set(e, ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	if (ch.scheme == REGISTRY_SCHEME_BASIC) {
		if (!have_creds) {
			r = err_set(e, ERR_DENIED,
			    "401 authentication required; add credentials for %s to an auth file "
			    "($REGISTRY_AUTH_FILE, ~/.docker/config.json or the auth file option)",
			    q->ref->registry);
			goto out;
		}
		cache_put(c, key, basic, registry_now_ms() + (int64_t)TOKEN_TTL_MAX_S * 1000);
		*header = basic;
		basic = NULL; /* transferred */
		r = 0;
		goto out;
	}
	/* Bearer: GET realm?service=…&scope=… (with Basic credentials when there are some) */
	if ((r = url_allowed(c, ch.realm, &u, e)) != 0) {
		err_prefix(e, "token realm");
		goto out;
	}
	r = ERR_TOO_LARGE;
	if (str_copy(turl, sizeof(turl), ch.realm) != 0 ||
	    (ch.service[0] && url_add_query(turl, sizeof(turl), "service", ch.service) != 0) ||
	    url_add_query(turl, sizeof(turl), "scope", ch.scope[0] ? ch.scope : scope) != 0) {
		err_set(e, ERR_TOO_LARGE, "token realm URL too long or malformed");
		goto out;
	}
	memset(&t, 0, sizeof(t));
	t.body_fd = -1;
	t.method = "GET";
	t.url = turl;
	t.auth = basic;
	t.ca_file = q->x.ca_file;
	t.accept = "application/json";
	t.ok_body = &body;
	if ((r = xfer_run(c, &t, deadline_ms, e)) != 0) {
		sb_cleanup(&t.errbody);
		err_prefix(e, "token request to %s", u.host);
		goto out;
	}
	if (t.status != 200) {
		describe_errbody(&t, detail, sizeof(detail));
		sb_cleanup(&t.errbody);
		r = err_set(e, ERR_DENIED, "token request to %s: %ld%s%s", u.host, t.status, detail,
		    have_creds ? "; check the credentials in the auth file" : "; no credentials were found for it");
		goto out;
	}
	sb_cleanup(&t.errbody);
	if ((r = registry_token_parse(body.data ? body.data : "", body.len, &token, &ttl, e)) != 0) {
		err_prefix(e, "token from %s", u.host);
		goto out;
	}
	if (ttl > TOKEN_TTL_MAX_S)
		ttl = TOKEN_TTL_MAX_S;
	r = ERR_NOMEM;
	if ((*header = malloc(strlen(token) + 32)) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	snprintf(*header, strlen(token) + 32, "Authorization: Bearer %s", token);
	/* expire a little early so that a token is not used in its last seconds */
	cache_put(c, key, *header, registry_now_ms() + ttl * 1000 - 5000);
	r = 0;
out:
	registry_creds_cleanup(&cr);
	free_secret(basic);
	free_secret(token);
	if (body.data != NULL)
		OPENSSL_cleanse(body.data, body.len);
	sb_cleanup(&body);
	return r;
}

/* Runs q: sends cached credentials to the registry's own host, answers one auth challenge, follows redirects of
 * GET/HEAD within the rules of url_allowed (dropping Authorization for another scheme/host/port). On return q->x has
 * the final answer; a non-2xx status is an error naming registry, operation, object and the registry's error.
 * want is the expected success status (0: any 2xx). */
static int request_run(struct registry_client *c, struct request *q, long want, int64_t deadline_ms, struct err *e)
{
	struct url_parts home, u;
	char scope[600], key[900], basic_key[300], next[URL_MAX], detail[400], *auth = NULL;
	bool same_host, fresh = false;
	const char *used_key = NULL;
	int redirects = 0, r;

	if ((r = url_allowed(c, q->base, &home, e)) != 0 || (r = url_allowed(c, q->url, &u, e)) != 0)
		goto fail;
	same_host = same_origin(&u, &home);
	str_fmt(scope, sizeof(scope), "repository:%s:%s", q->ref->repository, q->push ? "pull,push" : "pull");
	/* credentials are cached per origin (scheme, host and port) and scope */
	str_fmt(key, sizeof(key), "%s://%s:%s|%s", home.scheme, home.host, home.port, scope);
	str_fmt(basic_key, sizeof(basic_key), "%s://%s:%s|basic", home.scheme, home.host, home.port);
	for (;;) {
		if (auth == NULL && same_host && !c->anonymous) {
			if ((auth = cache_get(c, key)) != NULL)
				used_key = key;
			else if ((auth = cache_get(c, basic_key)) != NULL)
				used_key = basic_key;
		}
		q->x.auth = same_host ? auth : NULL;
		sb_cleanup(&q->x.errbody);
		if ((r = xfer_run(c, &q->x, deadline_ms, e)) != 0)
			goto fail;
		if (q->x.status == 401 && same_host && !fresh) {
			if (used_key != NULL)
				cache_drop(c, used_key);
			free_secret(auth);
			auth = NULL;
			fresh = true;
			if ((r = authenticate(c, q, scope, key, deadline_ms, &auth, e)) != 0)
				goto fail;
			used_key = NULL;
			continue;
		}
		if ((q->x.status == 301 || q->x.status == 302 || q->x.status == 303 || q->x.status == 307 ||
			q->x.status == 308) &&
		    (strcmp(q->x.method, "GET") == 0 || strcmp(q->x.method, "HEAD") == 0)) {
			if (++redirects > MAX_REDIRECTS) {
				r = err_set(e, ERR_NETWORK, "more than %d redirects", MAX_REDIRECTS);
				goto fail;
			}
			if (q->x.h_location[0] == '\0' || q->x.h_location_over ||
			    url_resolve(q->url, q->x.h_location, next, sizeof(next)) != 0) {
				r = err_set(e, ERR_NETWORK, "%ld redirect without a usable Location", q->x.status);
				goto fail;
			}
			if ((r = url_allowed(c, next, &u, e)) != 0) {
				err_prefix(e, "redirect");
				goto fail;
			}
			same_host = same_host && same_origin(&u, &home);
			str_copy(q->url, sizeof(q->url), next);
			continue;
		}
		break;
	}
	if ((want != 0 && q->x.status == want) || (want == 0 && q->x.status >= 200 && q->x.status < 300)) {
		free_secret(auth);
		sb_cleanup(&q->x.errbody);
		return 0;
	}
	describe_errbody(&q->x, detail, sizeof(detail));
	r = q->x.status == 404 ? ERR_NOT_FOUND : q->x.status == 401 || q->x.status == 403 ? ERR_DENIED : ERR_NETWORK;
	err_set(e, r, "%ld%s%s%s", q->x.status, detail, q->x.errbody_over ? " (error body over 64 KiB)" : "",
	    q->x.status == 401 ? "; the registry refused the credentials" : "");
fail:
	free_secret(auth);
	sb_cleanup(&q->x.errbody);
	err_prefix(e, "registry %s: %s %s", q->ref->registry, q->what, q->object);
	return r;
}

/* "repo:tag" or "repo@digest" for messages, into out[size]. */
static void object_name(const struct imageref *ref, const char *reference, char *out, size_t size)
{
	str_fmt(out, size, "%s%s%s", ref->repository, strncmp(reference, "sha256:", 7) == 0 ? "@" : ":", reference);
}

/* Copies a media type without parameters. */
static void media_type_of(const char *ctype, char *out, size_t size)
{
	size_t n = strcspn(ctype, "; \t");

	if (n >= size)
		n = 0;
	memcpy(out, ctype, n);
	out[n] = '\0';
}

/* Refuses a manifest body that is not a JSON object (with a short escaped excerpt of what came instead). */
static int check_manifest_json(const struct strbuf *body, struct err *e)
{
	json_t *root = NULL;
	char esc[120];
	int r;

	r = json_parse_buf(body->data ? body->data : "", body->len, REGISTRY_MANIFEST_MAX, "manifest", &root, e);
	if (r == 0 && !json_is_object(root))
		r = err_set(e, ERR_PARSE, "manifest: not a JSON object");
	json_decref(root);
	if (r != 0) {
		str_escape(esc, sizeof(esc), body->data ? body->data : "", body->len, 60);
		err_prefix(e, "the answer is not a manifest (starts \"%s\")", esc);
	}
	return r;
}

int registry_manifest_get(struct registry_client *c, const struct imageref *ref, int64_t deadline_ms,
    struct registry_manifest *out, struct err *e)
{
	const char *reference = imageref_reference(ref);
	char path[300], obj[600], digest[DIGEST_STR_LEN + 1];
	struct request q;
	struct strbuf body;
	int r;

	memset(out, 0, sizeof(*out));
	sb_init(&body, REGISTRY_MANIFEST_MAX);
	object_name(ref, reference, obj, sizeof(obj));
	str_fmt(path, sizeof(path), "manifests/%s", reference);
	if ((r = request_init(c, &q, ref, "GET", "GET manifest", path, e)) != 0)
		goto out;
	q.object = obj;
	q.x.accept = REGISTRY_MANIFEST_ACCEPT;
	q.x.ok_body = &body;
	if ((r = request_run(c, &q, 200, deadline_ms, e)) != 0)
		goto out;
	if ((r = sha256_digest_str(body.data ? body.data : "", body.len, digest, e)) != 0)
		goto out;
	if ((r = check_manifest_json(&body, e)) != 0) {
		err_prefix(e, "registry %s: GET manifest %s", ref->registry, obj);
		goto out;
	}
	r = ERR_VERIFY;
	if (ref->digest[0] != '\0' && strcmp(digest, ref->digest) != 0) {
		err_set(e, ERR_VERIFY,
		    "registry %s: GET manifest %s: the manifest served has digest %s; refusing it "
		    "(the registry or something in between altered it)",
		    ref->registry, obj, digest);
		goto out;
	}
	if (q.x.h_digest[0] != '\0' && strcmp(q.x.h_digest, digest) != 0) {
		char esc[100];
		str_escape(esc, sizeof(esc), q.x.h_digest, strlen(q.x.h_digest), 80);
		err_set(e, ERR_VERIFY,
		    "registry %s: GET manifest %s: Docker-Content-Digest \"%s\" is not the digest "
		    "of the manifest served (%s)",
		    ref->registry, obj, esc, digest);
		goto out;
	}
	media_type_of(q.x.h_ctype, out->media_type, sizeof(out->media_type));
	str_copy(out->digest, sizeof(out->digest), digest);
	out->data = sb_steal(&body, &out->len);
	if (out->data == NULL) {
		memset(out, 0, sizeof(*out));
		r = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	r = 0;
out:
	sb_cleanup(&body);
	return r;
}

void registry_manifest_cleanup(struct registry_manifest *m)
{
	if (m == NULL)
		return;
	free(m->data);
	memset(m, 0, sizeof(*m));
}

int registry_manifest_resolve(struct registry_client *c, const struct imageref *ref, int64_t deadline_ms,
    char digest[DIGEST_STR_LEN + 1], struct err *e)
{
	const char *reference = imageref_reference(ref);
	char path[300], obj[600];
	struct registry_manifest m;
	struct request q;
	int r;

	object_name(ref, reference, obj, sizeof(obj));
	str_fmt(path, sizeof(path), "manifests/%s", reference);
	if ((r = request_init(c, &q, ref, "HEAD", "HEAD manifest", path, e)) != 0)
		return r;
	q.object = obj;
	q.x.accept = REGISTRY_MANIFEST_ACCEPT;
	if ((r = request_run(c, &q, 200, deadline_ms, e)) != 0)
		return r;
	if (q.x.h_digest[0] != '\0') {
		if (digest_validate(q.x.h_digest, NULL) != 0 ||
		    (ref->digest[0] != '\0' && strcmp(q.x.h_digest, ref->digest) != 0)) {
			char esc[100];
			str_escape(esc, sizeof(esc), q.x.h_digest, strlen(q.x.h_digest), 80);
			return err_set(e, ERR_VERIFY,
			    "registry %s: HEAD manifest %s: unusable Docker-Content-Digest \"%s\"", ref->registry, obj,
			    esc);
		}
		str_copy(digest, DIGEST_STR_LEN + 1, q.x.h_digest);
		return 0;
	}
	/* no header: fetch and hash */
	if ((r = registry_manifest_get(c, ref, deadline_ms, &m, e)) != 0)
		return r;
	str_copy(digest, DIGEST_STR_LEN + 1, m.digest);
	registry_manifest_cleanup(&m);
	return 0;
}

int registry_manifest_put(struct registry_client *c, const struct imageref *ref, const char *media_type,
    const void *data, size_t len, int64_t deadline_ms, char digest[DIGEST_STR_LEN + 1], struct err *e)
{
	char d[DIGEST_STR_LEN + 1], path[300], obj[600];
	const char *reference;
	struct request q;
	int r;

	if (len > REGISTRY_MANIFEST_MAX)
		return err_set(e, ERR_TOO_LARGE, "registry %s: PUT manifest %s: %zu bytes is over the limit of %u",
		    ref->registry, ref->repository, len, REGISTRY_MANIFEST_MAX);
	if ((r = sha256_digest_str(data, len, d, e)) != 0)
		return r;
	if (ref->digest[0] != '\0' && strcmp(ref->digest, d) != 0)
		return err_set(e, ERR_VERIFY, "registry %s: PUT manifest %s@%s: the data has digest %s", ref->registry,
		    ref->repository, ref->digest, d);
	reference = ref->tag[0] != '\0' ? ref->tag : d;
	object_name(ref, reference, obj, sizeof(obj));
	str_fmt(path, sizeof(path), "manifests/%s", reference);
	if ((r = request_init(c, &q, ref, "PUT", "PUT manifest", path, e)) != 0)
		return r;
	q.object = obj;
	q.push = true;
	q.x.content_type = media_type;
	q.x.body = data;
	q.x.body_len = len;
	if ((r = request_run(c, &q, 201, deadline_ms, e)) != 0)
		return r;
	if (q.x.h_digest[0] != '\0' && strcmp(q.x.h_digest, d) != 0) {
		char esc[100];
		str_escape(esc, sizeof(esc), q.x.h_digest, strlen(q.x.h_digest), 80);
		return err_set(e, ERR_VERIFY, "registry %s: PUT manifest %s: the registry stored it as \"%s\", not %s",
		    ref->registry, obj, esc, d);
	}
	if (digest != NULL)
		str_copy(digest, DIGEST_STR_LEN + 1, d);
	return 0;
}

/* The sink wrapper of registry_blob_get: counts, caps and hashes before handing bytes on. */
struct blob_sink {
	registry_sink_fn sink;
	void *arg;
	uint64_t max, n;
	struct sha256 h;
};

/* registry_sink_fn of struct blob_sink: refuses bytes past max, hashes, then calls the caller's sink. */
static int blob_sink_write(void *arg, const void *p, size_t n, struct err *e)
{
	struct blob_sink *b = arg;

	if (n > b->max - b->n)
		return err_set(e, ERR_TOO_LARGE, "blob is over the limit of %llu bytes", (unsigned long long)b->max);
	b->n += n;
	sha256_update(&b->h, p, n);
	return b->sink(b->arg, p, n, e);
}

int registry_blob_get(struct registry_client *c, const struct imageref *ref, const char *digest, uint64_t max,
    registry_sink_fn sink, void *arg, int64_t deadline_ms, struct err *e)
{
	char path[300], obj[600], got[DIGEST_STR_LEN + 1];
	struct blob_sink b;
	struct request q;
	int r;

	if ((r = digest_validate(digest, e)) != 0)
		return err_prefix(e, "registry %s: GET blob of %s", ref->registry, ref->repository);
	object_name(ref, digest, obj, sizeof(obj));
	str_fmt(path, sizeof(path), "blobs/%s", digest);
	memset(&b, 0, sizeof(b));
	b.sink = sink;
	b.arg = arg;
	b.max = max;
	if ((r = sha256_init(&b.h, e)) != 0)
		return r;
	if ((r = request_init(c, &q, ref, "GET", "GET blob", path, e)) != 0)
		goto out;
	q.object = obj;
	q.x.sink = blob_sink_write;
	q.x.sink_arg = &b;
	if ((r = request_run(c, &q, 200, deadline_ms, e)) != 0)
		goto out;
	sha256_final(&b.h, NULL, got);
	if (strcmp(got, digest) != 0) {
		r = err_set(e, ERR_VERIFY,
		    "registry %s: GET blob %s: the %llu bytes served have digest %s; refusing them", ref->registry, obj,
		    (unsigned long long)b.n, got);
		goto out;
	}
	r = 0;
out:
	sha256_cleanup(&b.h);
	return r;
}

int registry_blob_head(struct registry_client *c, const struct imageref *ref, const char *digest, uint64_t *size,
    int64_t deadline_ms, struct err *e)
{
	char path[300], obj[600];
	struct request q;
	int r;

	if ((r = digest_validate(digest, e)) != 0)
		return err_prefix(e, "registry %s: HEAD blob of %s", ref->registry, ref->repository);
	object_name(ref, digest, obj, sizeof(obj));
	str_fmt(path, sizeof(path), "blobs/%s", digest);
	if ((r = request_init(c, &q, ref, "HEAD", "HEAD blob", path, e)) != 0)
		return r;
	q.object = obj;
	if ((r = request_run(c, &q, 200, deadline_ms, e)) != 0)
		return r;
	if (size != NULL)
		*size = q.x.h_has_clen ? q.x.h_clen : 0;
	return 0;
}

/* The upload of registry_blob_push and registry_blob_push_fd: the body is data[len], or size bytes of fd when
 * fd >= 0; d is its digest. */
static int blob_push(struct registry_client *c, const struct imageref *ref, const void *data, size_t len, int fd,
    uint64_t size, const char *d, int64_t deadline_ms, struct err *e)
{
	char obj[600], upload[URL_MAX];
	struct request q;
	int r;

	r = registry_blob_head(c, ref, d, NULL, deadline_ms, e);
	if (r != ERR_NOT_FOUND)
		return r; /* 0: already there */
	object_name(ref, d, obj, sizeof(obj));
	if ((r = request_init(c, &q, ref, "POST", "POST blob upload", "blobs/uploads/", e)) != 0)
		return r;
	q.object = obj;
	q.push = true;
	if ((r = request_run(c, &q, 202, deadline_ms, e)) != 0)
		return r;
	if (q.x.h_location[0] == '\0' || q.x.h_location_over ||
	    url_resolve(q.url, q.x.h_location, upload, sizeof(upload)) != 0 ||
	    url_add_query(upload, sizeof(upload), "digest", d) != 0)
		return err_set(e, ERR_NETWORK, "registry %s: POST blob upload %s: 202 without a usable Location",
		    ref->registry, obj);
	/* the PUT goes where the registry said; request_run sends credentials only if that is the registry itself */
	if ((r = request_init(c, &q, ref, "PUT", "PUT blob", "", e)) != 0)
		return r;
	str_copy(q.url, sizeof(q.url), upload);
	q.object = obj;
	q.push = true;
	q.x.content_type = "application/octet-stream";
	q.x.body = data;
	q.x.body_len = len;
	q.x.body_fd = fd;
	q.x.body_fd_size = size;
	return request_run(c, &q, 201, deadline_ms, e);
}

int registry_blob_push(struct registry_client *c, const struct imageref *ref, const void *data, size_t len,
    int64_t deadline_ms, char digest[DIGEST_STR_LEN + 1], struct err *e)
{
	char d[DIGEST_STR_LEN + 1];
	int r;

	if ((r = sha256_digest_str(data, len, d, e)) != 0 ||
	    (r = blob_push(c, ref, data, len, -1, 0, d, deadline_ms, e)) != 0)
		return r;
	if (digest != NULL)
		str_copy(digest, DIGEST_STR_LEN + 1, d);
	return 0;
}

int registry_blob_push_fd(struct registry_client *c, const struct imageref *ref, int fd, uint64_t size,
    const char *digest, int64_t deadline_ms, struct err *e)
{
	int r;

	if ((r = digest_validate(digest, e)) != 0)
		return err_prefix(e, "registry %s: PUT blob of %s", ref->registry, ref->repository);
	return blob_push(c, ref, NULL, 0, fd, size, digest, deadline_ms, e);
}
