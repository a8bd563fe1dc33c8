/* cmd_attest — `hardline attest --key KEY [--out FILE] [--push [--push-to docker://REG/REPO]] [--platform P] IMAGE`:
 * measures IMAGE, signs a hardening attestation about its manifest digest and stores it (hardener/attest.h). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "hardener/attest.h"
#include "hardener/cli.h"
#include "hardener/command.h"

int cmd_attest(int argc, char **argv);

static void help(const struct command *self)
{
	printf(
	    "usage: hardline %s\n\n"
	    "Signs an in-toto hardening attestation (DSSE) about the manifest digest of each platform of IMAGE, with\n"
	    "the facts measured from its layers. IMAGE: oci:DIR[:TAG], oci-archive:FILE[:TAG],\n"
	    "docker://REGISTRY/REPO@sha256:<hex>. An oci: layout keeps it in its sha256-<hex>.att manifest; an\n"
	    "oci-archive in FILE" ATTEST_SIDECAR_SUFFIX ".\n\n"
	    "  --key KEY          private key (passphrase from HARDLINE_KEY_PASSWORD)\n"
	    "  --out FILE         also write the envelope(s) to FILE, one JSON per line\n"
	    "  --push             add it to the registry's sha256-<hex>.att manifest (cosign's layout)\n"
	    "  --push-to REF      docker://REGISTRY/REPO holding the same image, for --push of an oci: image\n"
	    "  --platform P       only this platform of an index\n"
	    "  --quiet            no progress lines\n\n"
	    "SOURCE_DATE_EPOCH sets the timestamp. Exit status: 0 done, 1 failure, 2 usage error.\n",
	    self->synopsis);
}

/* Exit 0 attested, 1 failure, 2 usage. */
int cmd_attest(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "out", required_argument, NULL, 'o' },
		{ "push", no_argument, NULL, 'p' },
		{ "push-to", required_argument, NULL, 't' },
		{ "platform", required_argument, NULL, 'P' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct command *self = command_find("attest");
	struct attest_opts o;
	char msg[160];
	struct err e;
	int c;

	memset(&o, 0, sizeof(o));
	err_clear(&e);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:k:o:pt:P:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			o.key_path = optarg;
			break;
		case 'o':
			o.out_file = optarg;
			break;
		case 'p':
			o.push = true;
			break;
		case 't':
			o.push_to = optarg;
			break;
		case 'P':
			o.platform = optarg;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'h':
			help(self);
			return 0;
		default:
			return command_usage(self, cli_opt_refused(argv, msg, sizeof(msg)));
		}
	}
	if (o.key_path == NULL)
		return command_usage(self, "--key KEY is required (make one with hardline keygen)");
	if (argc - optind != 1)
		return command_usage(self, argc - optind < 1 ? "no image given (e.g. oci:out:app)" : "one image only");
	if (o.push_to != NULL && !o.push)
		return command_usage(self, "--push-to is a destination for --push; add --push");
	if (attest_image(argv[optind], &o, NULL, stdout, &e) != 0) {
		fprintf(stderr, "hardline: %s\n", e.msg);
		return e.code == ERR_USAGE ? command_usage(self, NULL) : 1;
	}
	return 0;
}
