/* cmd_keygen — `hardline keygen`: creates a signing key pair for attestations, PREFIX.key (PEM PKCS#8, mode 0600,
 * encrypted when HARDLINE_KEY_PASSWORD is set) and PREFIX.pub (PEM SPKI, the cosign.pub format); prints the keyid. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hardener/cli.h"
#include "hardener/command.h"
#include "lib/keys.h"
#include "lib/str.h"

int cmd_keygen(int argc, char **argv);

/* Entry point of `hardline keygen [--out PREFIX] [--algorithm ecdsa-p256|ed25519] [--force]`. Returns the exit
 * status: 0 written, 1 failure (nothing is left half-written), 2 usage. */
int cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "algorithm", required_argument, NULL, 'a' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct command *self = command_find("keygen");
	const char *prefix = "hardline", *pass;
	char keypath[4096], pubpath[4096], msg[160];
	enum key_alg alg = KEY_ALG_ECDSA_P256;
	struct key *k = NULL;
	bool force = false;
	struct err e;
	int c, rc = 1;

	err_clear(&e);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+o:a:fh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			prefix = optarg;
			break;
		case 'a':
			if (key_alg_parse(optarg, &alg, &e) != 0)
				return command_usage(self, e.msg);
			break;
		case 'f':
			force = true;
			break;
		case 'h':
			command_usage(self, NULL);
			return 0;
		default:
			return command_usage(self, cli_opt_refused(argv, msg, sizeof(msg)));
		}
	}
	if (optind != argc)
		return command_usage(self, "keygen takes no arguments besides its options");
	if (prefix[0] == '\0' || str_fmt(keypath, sizeof(keypath), "%s.key", prefix) != 0 ||
	    str_fmt(pubpath, sizeof(pubpath), "%s.pub", prefix) != 0)
		return command_usage(self, "--out PREFIX is empty or too long");
	if (!force && (access(keypath, F_OK) == 0 || access(pubpath, F_OK) == 0)) {
		fprintf(stderr, "hardline: %s already exists; remove it or use --force to replace it\n",
		    access(keypath, F_OK) == 0 ? keypath : pubpath);
		return 1;
	}
	pass = key_passphrase_from_env();
	if (key_generate(alg, &k, &e) != 0 || key_write_private(k, keypath, pass, force, &e) != 0)
		goto out;
	if (key_write_public(k, pubpath, force, &e) != 0) {
		unlink(keypath);
		goto out;
	}
	fprintf(stderr, "hardline: wrote %s (%s private key, mode 0600, %s) and %s\n", keypath, key_alg_name(alg),
	    pass != NULL ? "encrypted with $" KEY_PASSWORD_ENV : "NOT encrypted: set " KEY_PASSWORD_ENV " to encrypt",
	    pubpath);
	printf("%s\n", key_id(k));
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "hardline: keygen: %s\n", e.msg);
	key_free(k);
	return rc;
}
