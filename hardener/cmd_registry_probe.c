/* cmd_registry_probe — `hardline registry-probe`, a hidden debugging and test command over lib/registry: fetch or
 * resolve a manifest (also from N threads on one client, as the webhook uses it), download a blob (verified), push
 * a blob or a manifest. Output (bytes or a digest) goes to stdout, errors to stderr as "hardline: <message>". */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hardener/cli.h"
#include "hardener/command.h"
#include "lib/imageref.h"
#include "lib/json.h"
#include "lib/registry.h"
#include "lib/str.h"

#define PROBE_BUFFERED_MAX (256u << 20) /* push-blob --buffered reads its file into memory: cap it */
#define PROBE_BLOB_MAX (1ull << 36)	/* blob downloads are capped at 64 GiB */

int cmd_registry_probe(int argc, char **argv);

#define PROBE_THREADS_MAX 64

/* One worker of --threads: resolves (or fetches) ref on the shared client. */
struct worker {
	pthread_t tid;
	struct registry_client *c;
	const struct imageref *ref;
	bool fetch;
	int64_t deadline;
	char digest[DIGEST_STR_LEN + 1];
	struct err e;
	int rc;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct registry_manifest m;

	err_clear(&w->e);
	if (!w->fetch) {
		w->rc = registry_manifest_resolve(w->c, w->ref, w->deadline, w->digest, &w->e);
		return NULL;
	}
	if ((w->rc = registry_manifest_get(w->c, w->ref, w->deadline, &m, &w->e)) == 0) {
		str_copy(w->digest, sizeof(w->digest), m.digest);
		registry_manifest_cleanup(&m);
	}
	return NULL;
}

/* Runs n workers at once on one client (the webhook's use); all must succeed with the same digest, which is
 * printed. Returns 0 or an error in e. */
static int run_threads(struct registry_client *c, const struct imageref *ref, bool fetch, unsigned n, int64_t deadline,
    FILE *out, struct err *e)
{
	struct worker w[PROBE_THREADS_MAX];
	int64_t t0 = registry_now_ms();
	unsigned i, started = 0;
	int r = 0;

	memset(w, 0, sizeof(w));
	for (i = 0; i < n; i++) {
		w[i].c = c;
		w[i].ref = ref;
		w[i].fetch = fetch;
		w[i].deadline = deadline;
		if (pthread_create(&w[i].tid, NULL, worker_run, &w[i]) != 0) {
			r = err_set(e, ERR_INTERNAL, "pthread_create failed after %u threads", i);
			break;
		}
		started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(w[i].tid, NULL);
	for (i = 0; i < started && r == 0; i++) {
		if (w[i].rc != 0)
			r = err_set(e, w[i].rc, "thread %u: %s", i, w[i].e.msg);
		else if (strcmp(w[i].digest, w[0].digest) != 0)
			r = err_set(e, ERR_VERIFY, "thread %u got %s, thread 0 got %s", i, w[i].digest, w[0].digest);
	}
	if (r == 0) {
		fprintf(stderr, "hardline: %u concurrent %s calls in %lld ms\n", n, fetch ? "manifest" : "resolve",
		    (long long)(registry_now_ms() - t0));
		fprintf(out, "%s\n", w[0].digest);
	}
	return r;
}

/* Writes n bytes to the FILE* in arg; a sink of registry_blob_get. */
static int write_sink(void *arg, const void *p, size_t n, struct err *e)
{
	if (fwrite(p, 1, n, (FILE *)arg) != n)
		return err_set(e, ERR_IO, "write to the output failed");
	return 0;
}

/* Reads path (at most max bytes) into *out (free() it), *len its length. */
static int read_file(const char *path, size_t max, char **out, size_t *len, struct err *e)
{
	struct strbuf sb;
	char chunk[65536];
	ssize_t n;
	int fd, r = 0;

	*out = NULL;
	sb_init(&sb, max);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return err_errno(e, errno, "open %s", path);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			r = err_errno(e, errno, "read %s", path);
			break;
		}
		if ((r = sb_append(&sb, chunk, (size_t)n)) != 0) {
			err_set(e, r, "%s: over the limit of %zu bytes", path, max);
			break;
		}
	}
	close(fd);
	if (r == 0 && (*out = sb_steal(&sb, len)) == NULL)
		r = err_set(e, ERR_NOMEM, "out of memory");
	sb_cleanup(&sb);
	return r;
}

/* Pushes the file at path as a blob of ref, streamed: hashed in one pass, uploaded in another. digest gets it. */
static int push_file(struct registry_client *c, const struct imageref *ref, const char *path, int64_t deadline,
    char digest[DIGEST_STR_LEN + 1], struct err *e)
{
	char chunk[65536];
	struct sha256 h;
	struct stat st;
	ssize_t n;
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return err_errno(e, errno, "open %s", path);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(e, ERR_INVALID, "%s: not a regular file", path);
	}
	if ((r = sha256_init(&h, e)) != 0) {
		close(fd);
		return r;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		sha256_update(&h, chunk, (size_t)n);
	if (n < 0 || h.n != (uint64_t)st.st_size) {
		r = n < 0 ? err_errno(e, errno, "read %s", path) : err_set(e, ERR_IO, "%s changed while read", path);
		sha256_cleanup(&h);
		close(fd);
		return r;
	}
	sha256_final(&h, NULL, digest);
	r = registry_blob_push_fd(c, ref, fd, (uint64_t)st.st_size, digest, deadline, e);
	close(fd);
	return r;
}

/* The media type of a manifest file: its "mediaType", else the OCI image manifest type. */
static void manifest_media_type(const char *data, size_t len, char *out, size_t size)
{
	const char *mt = NULL;
	json_t *root = NULL;
	struct err ignore;

	str_copy(out, size, "application/vnd.oci.image.manifest.v1+json");
	if (json_parse_buf(data, len, REGISTRY_MANIFEST_MAX, "manifest", &root, &ignore) == 0 && json_is_object(root) &&
	    json_get_str(root, "mediaType", &mt, "manifest", &ignore) == 0)
		str_copy(out, size, mt);
	json_decref(root);
}

/* Entry point of `hardline registry-probe [options] manifest|resolve|blob|push-blob|put-manifest REF [ARG]`.
 * Returns 0 done, 1 failure, 2 usage. */
int cmd_registry_probe(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "auth-file", required_argument, NULL, 'a' },
		{ "ca-file", required_argument, NULL, 'c' },
		{ "certs-dir", required_argument, NULL, 'd' },
		{ "insecure-http", no_argument, NULL, 'i' },
		{ "anonymous", no_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "out", required_argument, NULL, 'o' },
		{ "media-type", required_argument, NULL, 'm' },
		{ "threads", required_argument, NULL, 'T' },
		{ "buffered", no_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct command *self = command_find("registry-probe");
	const char *op, *out_path = NULL, *media_type = NULL;
	char digest[DIGEST_STR_LEN + 1], mt[128], msg[200];
	struct registry_client *client = NULL;
	struct registry_manifest m;
	struct registry_opts o;
	struct imageref ref;
	uint64_t timeout_ms = 30000, threads = 1;
	bool buffered = false;
	int64_t deadline;
	char *data = NULL;
	size_t len = 0;
	FILE *out = stdout;
	struct err e;
	int c, rc = 1;

	memset(&o, 0, sizeof(o));
	memset(&m, 0, sizeof(m));
	err_clear(&e);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			o.auth_file = optarg;
			break;
		case 'c':
			o.ca_file = optarg;
			break;
		case 'd':
			o.certs_dir = optarg;
			break;
		case 'i':
			o.insecure_http = true;
			break;
		case 'n':
			o.anonymous = true;
			break;
		case 't':
			if (str_to_duration_ms(optarg, &timeout_ms, "--timeout", &e) != 0 || timeout_ms == 0)
				return command_usage(self, "--timeout takes a positive duration such as 10s or 500ms");
			break;
		case 'b':
			buffered = true;
			break;
		case 'T':
			if (str_to_u64(optarg, 1, PROBE_THREADS_MAX, &threads, "--threads", &e) != 0)
				return command_usage(self, e.msg);
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'm':
			media_type = optarg;
			break;
		case 'h':
			command_usage(self, NULL);
			return 0;
		default:
			return command_usage(self, cli_opt_refused(argv, msg, sizeof(msg)));
		}
	}
	if (argc - optind < 2)
		return command_usage(self, "expected an operation and an image reference");
	op = argv[optind];
	if (!((strcmp(op, "manifest") == 0 || strcmp(op, "resolve") == 0) ? argc - optind == 2
		    : (strcmp(op, "blob") == 0 || strcmp(op, "push-blob") == 0 || strcmp(op, "put-manifest") == 0)
		    ? argc - optind == 3
		    : false))
		return command_usage(self,
		    "operations: manifest REF, resolve REF, blob REF DIGEST, push-blob REF FILE, "
		    "put-manifest REF FILE");
	if (imageref_parse(argv[optind + 1], &ref, &e) != 0)
		return command_usage(self, e.msg);
	if (registry_client_new(&o, &client, &e) != 0)
		goto out;
	deadline = registry_now_ms() + (int64_t)timeout_ms;
	if (out_path != NULL && (out = fopen(out_path, "wbx")) == NULL) {
		err_errno(&e, errno, "create %s (it must not exist)", out_path);
		out = stdout;
		goto out;
	}
	if (threads > 1 && (strcmp(op, "manifest") == 0 || strcmp(op, "resolve") == 0)) {
		if (run_threads(client, &ref, strcmp(op, "manifest") == 0, (unsigned)threads, deadline, out, &e) != 0)
			goto out;
	} else if (threads > 1) {
		err_set(&e, ERR_USAGE, "--threads is for manifest and resolve");
		goto out;
	} else if (strcmp(op, "manifest") == 0) {
		if (registry_manifest_get(client, &ref, deadline, &m, &e) != 0)
			goto out;
		fprintf(stderr, "hardline: %s %s (%zu bytes)\n", m.digest, m.media_type, m.len);
		if (fwrite(m.data, 1, m.len, out) != m.len)
			goto write_failed;
	} else if (strcmp(op, "resolve") == 0) {
		if (registry_manifest_resolve(client, &ref, deadline, digest, &e) != 0)
			goto out;
		fprintf(out, "%s\n", digest);
	} else if (strcmp(op, "blob") == 0) {
		if (registry_blob_get(client, &ref, argv[optind + 2], PROBE_BLOB_MAX, write_sink, out, deadline, &e) !=
		    0) {
			if (out_path != NULL)
				unlink(out_path);
			goto out;
		}
	} else if (strcmp(op, "push-blob") == 0) {
		if (buffered ? read_file(argv[optind + 2], PROBE_BUFFERED_MAX, &data, &len, &e) != 0 ||
			    registry_blob_push(client, &ref, data, len, deadline, digest, &e) != 0
			     : push_file(client, &ref, argv[optind + 2], deadline, digest, &e) != 0)
			goto out;
		fprintf(out, "%s\n", digest);
	} else {
		if (read_file(argv[optind + 2], REGISTRY_MANIFEST_MAX, &data, &len, &e) != 0)
			goto out;
		if (media_type == NULL)
			manifest_media_type(data, len, mt, sizeof(mt));
		if (registry_manifest_put(client, &ref, media_type != NULL ? media_type : mt, data, len, deadline,
			digest, &e) != 0)
			goto out;
		fprintf(out, "%s\n", digest);
	}
	if (fflush(out) != 0)
		goto write_failed;
	rc = 0;
	goto out;
write_failed:
	err_set(&e, ERR_IO, "writing the output failed");
out:
	if (rc != 0)
		fprintf(stderr, "hardline: registry-probe %s: %s\n", op, e.msg);
	if (out != stdout && fclose(out) != 0 && rc == 0) {
		fprintf(stderr, "hardline: registry-probe: closing %s failed\n", out_path);
		rc = 1;
	}
	registry_manifest_cleanup(&m);
	registry_client_free(client);
	free(data);
	return rc;
}
