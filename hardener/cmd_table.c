/* cmd_table — the commands of the full hardline binary. */
#include <stddef.h>

#include "hardener/command.h"

int cmd_keygen(int argc, char **argv);
int cmd_harden_rootfs(int argc, char **argv);
int cmd_dsse_sign(int argc, char **argv);
int cmd_dsse_verify(int argc, char **argv);
int cmd_image_inspect(int argc, char **argv);
int cmd_image_copy(int argc, char **argv);
int cmd_harden(int argc, char **argv);
int cmd_scan(int argc, char **argv);
int cmd_registry_probe(int argc, char **argv);
int cmd_attest(int argc, char **argv);
int cmd_verify(int argc, char **argv);

const struct command hardline_commands[] = {
	{ "keygen", "keygen [--out PREFIX] [--algorithm ecdsa-p256|ed25519] [--force]",
	    "create a signing key pair (PREFIX.key, PREFIX.pub)", cmd_keygen },
	{ "dsse-sign", "dsse-sign --key KEY --payload-type TYPE [--out ENVELOPE] FILE",
	    "(test helper) sign FILE into a DSSE envelope", cmd_dsse_sign },
	{ "dsse-verify",
	    "dsse-verify --key PUB [--key PUB]... [--payload-type TYPE] [--payload-out FILE] [--statement] ENVELOPE",
	    "(test helper) verify a DSSE envelope", cmd_dsse_verify },
	{ "harden-rootfs", "harden-rootfs [--policy FILE] [--keep NAME]... [--report FILE] [--dry-run] [--quiet] DIR",
	    "harden a root filesystem directory in place (/ as the last build step)", cmd_harden_rootfs },
	{ "harden",
	    "harden [--policy FILE] [--keep NAME]... [--squash] [--compression gzip|zstd|none] [--max-expanded SIZE] "
	    "[--platform P] [--report FILE] [--dry-run] [--quiet] [--key KEY] SRC DST",
	    "harden an image (oci:, oci-archive:, docker-archive:) into a new image without running it", cmd_harden },
	{ "scan", "scan [--json] [--diff OTHER] [--platform P] [--max-expanded SIZE] IMAGE",
	    "measure an image's attack surface from its layers (or dir:PATH) without running it", cmd_scan },
	{ "attest",
	    "attest --key KEY [--out FILE] [--push [--push-to docker://REGISTRY/REPO]] [--platform P] [--quiet] IMAGE",
	    "sign a hardening attestation about an image's manifest digest and store it beside the image", cmd_attest },
	{ "verify",
	    "verify --key PUB [--key PUB]... [--envelope FILE] [--require FACT=N|FACT<=N]... [--platform P] [--json] "
	    "IMAGE",
	    "verify an image's hardening attestations and the facts they state", cmd_verify },
	{ "image-inspect", "image-inspect [--platform OS/ARCH[/VARIANT]] REF",
	    "(debug) list an image's platforms, manifests and layers, verifying every blob", cmd_image_inspect },
	{ "image-copy", "image-copy [--platform OS/ARCH[/VARIANT]] SRC DST",
	    "(debug) copy an image through the OCI writer", cmd_image_copy },
	{ "registry-probe",
	    "registry-probe [--auth-file F] [--ca-file F] [--certs-dir D] [--insecure-http] [--anonymous] [--timeout "
	    "DUR] [--out FILE] [--media-type T] [--threads N] [--buffered] manifest|resolve REF | blob REF DIGEST | "
	    "push-blob REF FILE | put-manifest REF FILE",
	    "(debug) talk to a registry: fetch, resolve, download, push", cmd_registry_probe },
	{ NULL, NULL, NULL, NULL },
};
