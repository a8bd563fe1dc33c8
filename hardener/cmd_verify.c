/* cmd_verify — `hardline verify --key PUB [--key PUB]... [--envelope FILE] [--require FACT=N]... [--json] IMAGE`:
 * finds IMAGE's hardening attestations, verifies them against the trusted keys and checks the facts
 * (hardener/attest.h). Exit 0 only when each platform has one valid attestation. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hardener/attest.h"
#include "hardener/cli.h"
#include "hardener/command.h"

int cmd_verify(int argc, char **argv);

#define VERIFY_MAX_KEYS 64

static void help(const struct command *self)
{
	printf("usage: hardline %s\n\n"
	       "Verifies the hardening attestations of IMAGE (oci:DIR[:TAG], oci-archive:FILE[:TAG],\n"
	       "docker://REGISTRY/REPO@sha256:<hex>): found in the layout's or registry's sha256-<hex>.att manifest,\n"
	       "in FILE" ATTEST_SIDECAR_SUFFIX " beside an oci-archive, or given with --envelope.\n\n"
	       "  --key PUB          trusted public key file or directory of *.pub/*.pem (repeatable)\n"
	       "  --envelope FILE    the envelope(s) to check instead of the stored ones\n"
	       "  --require F=N      the attested facts must have count F equal to N (F<=N: at most N); F is one of\n"
	       "                     executables shells fetchTools interpreters packageManagers setuid setgid\n"
	       "                     worldWritable users groups files bytes loginShells (repeatable)\n"
	       "  --platform P       only this platform of an index (default: every platform must verify)\n"
	       "  --json             print the verified Statement(s) instead of the summary\n\n"
	       "Exit status: 0 verified, 1 not verified (each attestation's reason on stderr), 2 usage error.\n",
	    self->synopsis);
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "envelope", required_argument, NULL, 'e' },
		{ "require", required_argument, NULL, 'r' },
		{ "platform", required_argument, NULL, 'P' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct command *self = command_find("verify");
	const char *keys[VERIFY_MAX_KEYS];
	struct att_require reqs[ATTEST_MAX_REQUIRE];
	struct verify_opts o;
	char msg[160];
	struct err e;
	int c;

	memset(&o, 0, sizeof(o));
	err_clear(&e);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:k:e:r:P:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			if (o.n_keys == VERIFY_MAX_KEYS)
				return command_usage(self, "too many --key options (64 at most; use a directory)");
			keys[o.n_keys++] = optarg;
			break;
		case 'e':
			o.envelope_file = optarg;
			break;
		case 'r':
			if (o.n_reqs == ATTEST_MAX_REQUIRE)
				return command_usage(self, "too many --require options (32 at most)");
			if (att_require_parse(optarg, &reqs[o.n_reqs], &e) != 0)
				return command_usage(self, e.msg);
			o.n_reqs++;
			break;
		case 'P':
			o.platform = optarg;
			break;
		case 'j':
			o.json = true;
			break;
		case 'h':
			help(self);
			return 0;
		default:
			return command_usage(self, cli_opt_refused(argv, msg, sizeof(msg)));
		}
	}
	if (o.n_keys == 0)
		return command_usage(self, "--key PUB is required (a trusted public key file or directory)");
	if (argc - optind != 1)
		return command_usage(self, argc - optind < 1 ? "no image given (e.g. oci:out:app)" : "one image only");
	o.key_paths = keys;
	o.reqs = reqs;
	if (attest_verify(argv[optind], &o, stdout, stderr, &e) != 0) {
		fprintf(stderr, "hardline: %s\n", e.msg);
		return e.code == ERR_USAGE ? command_usage(self, NULL) : 1;
	}
	return 0;
}
