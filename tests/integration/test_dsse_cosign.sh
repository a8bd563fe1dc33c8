#!/usr/bin/env bash
# Interoperability with cosign (the pinned Go peer of tests/peers/install.sh): cosign verify-blob-attestation accepts
# our keys and DSSE envelopes (ECDSA P-256 and Ed25519), and our dsse-verify accepts what cosign attest-blob signs
# with our key imported by cosign import-key-pair. Offline: no transparency log (--insecure-ignore-tlog, no upload).
source "$(dirname "$0")/lib.sh"

COSIGN=${HARDLINE_PEERS:-$HOME/.cache/hardline-peers}/bin/cosign
if [ ! -x "$COSIGN" ]; then
	t_skip "dsse cosign interop" "cosign peer not built (tests/peers/install.sh cosign)"; t_done; exit
fi
t_tmpdir W
cd "$W" || exit 1
TYPE=application/vnd.in-toto+json
PRED=https://hardline.dev/attestation/hardening/v1
export COSIGN_YES=true SIGSTORE_NO_CACHE=true TUF_ROOT="$W/tuf"

# cosign_verify KEY ENVELOPE BLOB: cosign's verdict on one of our envelopes
cosign_verify() {
	timeout 120 "$COSIGN" verify-blob-attestation --key "$1" --signature "$2" --type "$PRED" \
	    --insecure-ignore-tlog=true "$3" 2>&1
}
# statement BLOB: a hardening Statement whose subject is BLOB's sha256
statement() {
	printf '{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"%s","digest":{"sha256":"%s"}}],' \
	    "$1" "$(sha256sum "$1" | cut -d' ' -f1)"
	printf '"predicateType":"%s","predicate":{"hardener":{"name":"hardline","version":"0.1.0"}}}' "$PRED"
}

head -c 4096 /dev/urandom >blob
head -c 4096 /dev/urandom >other
statement blob >stmt.json
for alg in ecdsa-p256 ed25519; do
	"$HARDLINE" keygen --out "$alg" --algorithm "$alg" >/dev/null 2>&1
	"$HARDLINE" dsse-sign --key "$alg.key" --payload-type "$TYPE" --out "$alg.env" stmt.json
	out=$(cosign_verify "$alg.pub" "$alg.env" blob)
	if [[ "$out" == *"Verified OK"* ]]; then t_ok "cosign verifies our $alg envelope with our $alg.pub"
	else t_fail "cosign verifies our $alg envelope with our $alg.pub" "$(echo "$out" | tail -3)"; fi
	out=$(cosign_verify "$alg.pub" "$alg.env" other)
	if [[ "$out" != *"Verified OK"* ]]; then t_ok "cosign refuses our $alg envelope for another blob"
	else t_fail "cosign refuses our $alg envelope for another blob" "cosign accepted it"; fi
done
out=$(cosign_verify ed25519.pub ecdsa-p256.env blob)
if [[ "$out" != *"Verified OK"* ]]; then t_ok "cosign refuses our envelope under another key"
else t_fail "cosign refuses our envelope under another key" "cosign accepted it"; fi

# the other way: cosign signs with our key (imported into its own format), we verify with our .pub
echo '{"hardener":{"name":"hardline","version":"0.1.0"}}' >pred.json
if COSIGN_PASSWORD=pw timeout 120 "$COSIGN" import-key-pair --key ecdsa-p256.key --output-key-prefix imported \
    >import.log 2>&1; then
	t_ok "cosign import-key-pair reads our PKCS#8 private key"
else
	t_fail "cosign import-key-pair reads our PKCS#8 private key" "$(tail -3 import.log)"
fi
t_check "cosign's imported public key has our keyid" test \
    "$(openssl pkey -pubin -in imported.pub -outform DER | sha256sum | cut -d' ' -f1)" = \
    "$(openssl pkey -pubin -in ecdsa-p256.pub -outform DER | sha256sum | cut -d' ' -f1)"
COSIGN_PASSWORD=pw timeout 120 "$COSIGN" attest-blob --key imported.key --predicate pred.json --type "$PRED" \
    --tlog-upload=false --output-signature cosign.env blob >attest.log 2>&1
t_check "cosign attest-blob writes an envelope" test -s cosign.env
out=$("$HARDLINE" dsse-verify --key ecdsa-p256.pub --payload-type "$TYPE" --statement cosign.env 2>&1)
t_check "we verify cosign's envelope with our public key" test $? -eq 0
t_check "cosign's Statement (v0.1) parses, with its predicate type" \
    bash -c "grep -qx 'statement: https://in-toto.io/Statement/v0.1' <<<'$out' && grep -qx 'predicateType: $PRED' <<<'$out'"
t_check "its subject is the blob's sha256" \
    bash -c "grep -qx 'subject: sha256:$(sha256sum blob | cut -d' ' -f1) blob' <<<'$out'"
out=$("$HARDLINE" dsse-verify --key ed25519.pub cosign.env 2>&1)
if [ $? -eq 1 ] && [[ "$out" == *"no signature verifies with the 1 trusted key"* ]]; then
	t_ok "we refuse cosign's envelope under another key"
else
	t_fail "we refuse cosign's envelope under another key" "$out"
fi
t_done
