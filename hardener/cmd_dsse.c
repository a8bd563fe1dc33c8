/* cmd_dsse — `hardline dsse-sign` and `hardline dsse-verify`: sign any file into a DSSE envelope and verify an
 * envelope against trusted public keys. Test and interoperability helpers; the attest/verify commands build on the
 * same library calls (lib/dsse.h). */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hardener/cli.h"
#include "hardener/command.h"
#include "lib/dsse.h"
#include "lib/fileio.h"
#include "lib/intoto.h"
#include "lib/keys.h"
#include "lib/str.h"

#define DSSE_CMD_MAX_KEYS 32

int cmd_dsse_sign(int argc, char **argv);
int cmd_dsse_verify(int argc, char **argv);

/* Reads path ("-" = stdin) whole into sb, at most sb's cap (fileio.h errors, named after path). */
static int read_input(const char *path, struct strbuf *sb, struct err *e)
{
	if (strcmp(path, "-") == 0)
		return fileio_read_fd(STDIN_FILENO, sb, path, e);
	return fileio_read_capped(path, sb, path, e);
}

/* Writes data[n] to path ("-" or NULL = stdout). */
static int write_output(const char *path, const char *data, size_t n, struct err *e)
{
	bool to_stdout = path == NULL || strcmp(path, "-") == 0;
	FILE *f = to_stdout ? stdout : fopen(path, "wbe");
	int ok;

	if (f == NULL)
		return err_errno(e, errno, "create %s", path);
	ok = fwrite(data, 1, n, f) == n && fputc('\n', f) != EOF;
	ok = (to_stdout ? fflush(f) : fclose(f)) == 0 && ok;
	if (!ok)
		return err_set(e, ERR_IO, "write %s failed", to_stdout ? "stdout" : path);
	return 0;
}

/* `hardline dsse-sign --key KEY --payload-type TYPE [--out ENVELOPE] FILE`: signs FILE's bytes as the payload.
 * The key's passphrase comes from HARDLINE_KEY_PASSWORD. Exit 0 written, 1 failure, 2 usage. */
int cmd_dsse_sign(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "payload-type", required_argument, NULL, 't' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct command *self = command_find("dsse-sign");
	const char *keypath = NULL, *type = NULL, *outpath = NULL;
	struct dsse_envelope *env = NULL;
	struct key *k = NULL;
	struct strbuf in;
	char *json = NULL, msg[160];
	size_t len;
	struct err e;
	int c, rc = 1;

	err_clear(&e);
	sb_init(&in, DSSE_ENVELOPE_MAX / 2);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+k:t:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			keypath = optarg;
			break;
		case 't':
			type = optarg;
			break;
		case 'o':
			outpath = optarg;
			break;
		case 'h':
			command_usage(self, NULL);
			return 0;
		default:
			return command_usage(self, cli_opt_refused(argv, msg, sizeof(msg)));
		}
	}
	if (keypath == NULL || type == NULL)
		return command_usage(self, "--key and --payload-type are required");
	if (optind + 1 != argc)
		return command_usage(self, "give exactly one payload FILE (- for stdin)");
	if (read_input(argv[optind], &in, &e) != 0 ||
	    key_load_private(keypath, key_passphrase_from_env(), &k, &e) != 0 ||
	    dsse_sign(type, in.data ? in.data : "", in.len, k, &env, &e) != 0 || dsse_fmt(env, &json, &len, &e) != 0 ||
	    write_output(outpath, json, len, &e) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "hardline: dsse-sign: %s\n", e.msg);
	free(json);
	dsse_envelope_free(env);
	key_free(k);
	sb_cleanup(&in);
	return rc;
}

/* `hardline dsse-verify --key PUB [--key PUB]... [--payload-type TYPE] [--payload-out FILE] [--statement] ENVELOPE`:
 * PUB is a public key file or a directory of them. Prints "payloadType: T", "keyid: ID" and "key: FILE" of the key
 * that verified; with --payload-out writes the verified payload bytes; with --statement also parses the payload as an
 * in-toto Statement (v1 or v0.1) and prints "statement: TYPE", "predicateType: URI" and one "subject: DIGEST NAME"
 * line per subject. Exit 0 only when valid; 1 invalid or failure; 2 usage. */
int cmd_dsse_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "payload-type", required_argument, NULL, 't' },
		{ "payload-out", required_argument, NULL, 'p' },
		{ "statement", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct command *self = command_find("dsse-verify");
	const char *keys[DSSE_CMD_MAX_KEYS], *type = NULL, *payload_out = NULL;
	struct dsse_envelope *env = NULL;
	struct intoto_statement *st = NULL;
	struct keyring *kr = NULL;
	const struct key *signer = NULL;
	size_t nkeys = 0, i;
	bool statement = false;
	char esc[300], msg[160];
	struct err e;
	FILE *f;
	int c, rc = 1;

	err_clear(&e);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+k:t:p:sh", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			if (nkeys == DSSE_CMD_MAX_KEYS)
				return command_usage(self, "too many --key options");
			keys[nkeys++] = optarg;
			break;
		case 't':
			type = optarg;
			break;
		case 'p':
			payload_out = optarg;
			break;
		case 's':
			statement = true;
			break;
		case 'h':
			command_usage(self, NULL);
			return 0;
		default:
			return command_usage(self, cli_opt_refused(argv, msg, sizeof(msg)));
		}
	}
	if (nkeys == 0)
		return command_usage(self, "give at least one trusted public key with --key");
	if (optind + 1 != argc)
		return command_usage(self, "give exactly one ENVELOPE file");
	if (keyring_load_paths(keys, nkeys, &kr, &e) != 0 || dsse_load_file(argv[optind], &env, &e) != 0 ||
	    dsse_verify(env, kr, type, &signer, &e) != 0)
		goto out;
	if (payload_out != NULL) {
		if ((f = fopen(payload_out, "wbe")) == NULL) {
			err_errno(&e, errno, "create %s", payload_out);
			goto out;
		}
		size_t w = fwrite(env->payload, 1, env->payload_len, f);

		if (fclose(f) != 0 || w != env->payload_len) {
			err_set(&e, ERR_IO, "write %s failed", payload_out);
			goto out;
		}
	}
	if (statement && intoto_parse(env->payload, env->payload_len, &st, &e) != 0) {
		err_prefix(&e, "%s: the verified payload", argv[optind]);
		goto out;
	}
	str_escape(esc, sizeof(esc), env->payload_type, strlen(env->payload_type), 256);
	printf("payloadType: %s\nkeyid: %s\nkey: %s\n", esc, key_id(signer), key_label(signer));
	if (st != NULL) {
		str_escape(esc, sizeof(esc), st->predicate_type, strlen(st->predicate_type), 256);
		printf("statement: %s\npredicateType: %s\n", st->type, esc);
		for (i = 0; i < st->nsubjects; i++) {
			str_escape(esc, sizeof(esc), st->subjects[i].name, strlen(st->subjects[i].name), 256);
			printf("subject: %s %s\n", st->subjects[i].digest, esc);
		}
	}
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "hardline: dsse-verify: %s\n", e.msg);
	intoto_statement_free(st);
	dsse_envelope_free(env);
	keyring_unref(kr);
	return rc;
}
