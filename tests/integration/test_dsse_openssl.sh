#!/usr/bin/env bash
# Interoperability of hardline's DSSE signatures and key files with the openssl CLI, an independent implementation:
# openssl verifies our signatures over PAE bytes rebuilt here with printf, we verify envelopes signed by openssl with
# its own keys, openssl reads our (encrypted) private keys; then the refusals, each with its exact message.
source "$(dirname "$0")/lib.sh"

if ! command -v openssl >/dev/null || ! command -v jq >/dev/null; then
	t_skip "dsse openssl interop" "openssl or jq missing (make deps)"; t_done; exit
fi
t_tmpdir W
cd "$W" || exit 1
TYPE=application/vnd.in-toto+json

# pae TYPE PAYLOADFILE > pae.bin: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body
pae() { printf 'DSSEv1 %d %s %d ' "${#1}" "$1" "$(stat -c %s "$2")"; cat "$2"; }
# field ENVELOPE JQPATH OUT: decodes one base64 field of an envelope
field() { jq -j "$2" "$1" | base64 -d >"$3"; }
# envelope TYPE PAYLOADFILE SIGFILE [KEYID]: an envelope made with coreutils base64
envelope() {
	printf '{"payloadType":"%s","payload":"%s","signatures":[{"keyid":"%s","sig":"%s"}]}\n' "$1" \
	    "$(base64 -w0 "$2")" "${4:-}" "$(base64 -w0 "$3")"
}
# expect_fail NAME MESSAGE CMD...: CMD must exit 1 and print MESSAGE on stderr
expect_fail() {
	local name=$1 msg=$2 out rc; shift 2
	out=$("$@" 2>&1 >/dev/null); rc=$?
	if [ "$rc" -ne 1 ]; then t_fail "$name" "exit $rc, expected 1: $out"
	elif [[ "$out" != *"$msg"* ]]; then t_fail "$name" "message \"$out\" lacks \"$msg\""
	else t_ok "$name"; fi
}

cat >stmt.json <<'JSON'
{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"reg/app","digest":{"sha256":"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"}}],"predicateType":"https://hardline.dev/attestation/hardening/v1","predicate":{}}
JSON

# --- keygen: files, modes, keyid, openssl can read them
id_ec=$("$HARDLINE" keygen --out ec 2>/dev/null)
t_check "keygen ecdsa-p256 writes ec.key and ec.pub" test -s ec.key -a -s ec.pub
t_check "private key file is mode 0600" test "$(stat -c %a ec.key)" = 600
t_check "public key is PEM SPKI (cosign.pub format)" grep -q -- '-----BEGIN PUBLIC KEY-----' ec.pub
t_check "keyid is the SHA-256 of the SPKI DER" \
    test "$id_ec" = "$(openssl pkey -pubin -in ec.pub -outform DER | sha256sum | cut -d' ' -f1)"
t_check "openssl reads our unencrypted PKCS#8 key" openssl pkey -in ec.key -noout
t_check "openssl sees a P-256 key" bash -c "openssl pkey -in ec.key -text -noout | grep -q 'NIST CURVE: P-256'"
HARDLINE_KEY_PASSWORD=s3cret "$HARDLINE" keygen --out ed --algorithm ed25519 >/dev/null 2>&1
t_check "encrypted key is PEM ENCRYPTED PRIVATE KEY" grep -q -- '-----BEGIN ENCRYPTED PRIVATE KEY-----' ed.key
t_check "openssl decrypts our key with -passin env:HARDLINE_KEY_PASSWORD" \
    env HARDLINE_KEY_PASSWORD=s3cret openssl pkey -in ed.key -passin env:HARDLINE_KEY_PASSWORD -noout
t_refute "openssl refuses it with a wrong passphrase" \
    env HARDLINE_KEY_PASSWORD=nope openssl pkey -in ed.key -passin env:HARDLINE_KEY_PASSWORD -noout
expect_fail "keygen refuses to overwrite" "ec.key already exists; remove it or use --force" "$HARDLINE" keygen --out ec
t_check "keygen --force replaces" "$HARDLINE" keygen --out ec --force
t_check "new key after --force" test "$("$HARDLINE" keygen --out ec --force 2>/dev/null)" != "$id_ec"
out=$("$HARDLINE" keygen --algorithm rsa 2>&1); rc=$?
t_check "keygen: unknown algorithm is a usage error (exit 2)" test "$rc" -eq 2 -a -n "$(echo "$out" | grep ed25519)"

# --- our signatures, verified by openssl over PAE rebuilt in bash
"$HARDLINE" dsse-sign --key ec.key --payload-type "$TYPE" --out ec.env stmt.json
field ec.env .payload ec.payload; field ec.env '.signatures[0].sig' ec.sig
pae "$TYPE" ec.payload >ec.pae
t_check "payload round-trips byte for byte" cmp ec.payload stmt.json
t_check "PAE rebuilt with printf starts as the spec says" \
    bash -c "head -c 38 ec.pae | grep -qx 'DSSEv1 28 application/vnd.in-toto+json'"
t_check "ECDSA signature is ASN.1 DER" openssl asn1parse -inform DER -in ec.sig -noout
t_check "openssl dgst verifies our ECDSA P-256 signature" \
    openssl dgst -sha256 -verify ec.pub -signature ec.sig ec.pae
HARDLINE_KEY_PASSWORD=s3cret "$HARDLINE" dsse-sign --key ed.key --payload-type "$TYPE" --out ed.env stmt.json
field ed.env .payload ed.payload; field ed.env '.signatures[0].sig' ed.sig
pae "$TYPE" ed.payload >ed.pae
t_check "openssl pkeyutl verifies our Ed25519 signature" \
    openssl pkeyutl -verify -rawin -pubin -inkey ed.pub -sigfile ed.sig -in ed.pae
expect_fail "encrypted key without HARDLINE_KEY_PASSWORD" \
    "ed.key: the private key is encrypted; set HARDLINE_KEY_PASSWORD to its passphrase" \
    env -u HARDLINE_KEY_PASSWORD "$HARDLINE" dsse-sign --key ed.key --payload-type "$TYPE" stmt.json
expect_fail "encrypted key with a wrong passphrase" "wrong passphrase in HARDLINE_KEY_PASSWORD" \
    env HARDLINE_KEY_PASSWORD=wrong "$HARDLINE" dsse-sign --key ed.key --payload-type "$TYPE" stmt.json

# --- openssl's signatures and keys, verified by us
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out o_ec.key 2>/dev/null
openssl pkey -in o_ec.key -pubout -out o_ec.pub
openssl genpkey -algorithm ED25519 -out o_ed.key 2>/dev/null
openssl pkey -in o_ed.key -pubout -out o_ed.pub
pae "$TYPE" stmt.json >stmt.pae
openssl dgst -sha256 -sign o_ec.key -out o_ec.sig stmt.pae
openssl pkeyutl -sign -rawin -inkey o_ed.key -in stmt.pae -out o_ed.sig
envelope "$TYPE" stmt.json o_ec.sig >o_ec.env
envelope "$TYPE" stmt.json o_ed.sig some-hint >o_ed.env
out=$("$HARDLINE" dsse-verify --key o_ec.pub --payload-type "$TYPE" o_ec.env 2>&1)
t_check "we verify an ECDSA envelope signed by openssl dgst" test $? -eq 0
t_check "dsse-verify prints the payload type and the keyid used" \
    bash -c "grep -qx 'payloadType: $TYPE' <<<'$out' && grep -qx \"keyid: \$(openssl pkey -pubin -in o_ec.pub -outform DER | sha256sum | cut -d' ' -f1)\" <<<'$out'"
t_check "we verify an Ed25519 envelope signed by openssl pkeyutl (keyid hint misses)" \
    "$HARDLINE" dsse-verify --key o_ed.pub o_ed.env
t_check "our private key files load after openssl wrote them (openssl genpkey keys sign)" \
    "$HARDLINE" dsse-sign --key o_ec.key --payload-type "$TYPE" --out o_ec2.env stmt.json
mkdir keys && cp o_ec.pub keys/a.pub && cp o_ed.pub keys/b.pem && cp ec.pub keys/c.pub
t_check "a key directory: every *.pub / *.pem is trusted" "$HARDLINE" dsse-verify --key keys o_ed.env
t_check "several --key: a valid signature under any trusted key" \
    "$HARDLINE" dsse-verify --key ed.pub --key o_ec.pub o_ec2.env
"$HARDLINE" dsse-verify --key ec.pub --payload-out got.json ec.env >/dev/null
t_check "--payload-out writes exactly the verified bytes" cmp got.json stmt.json
# URL-safe, unpadded base64 (verifiers must accept both alphabets)
jq -c '.payload |= (gsub("\\+";"-") | gsub("/";"_") | gsub("=";"")) | .signatures[0].sig |= (gsub("\\+";"-") | gsub("/";"_") | gsub("=";""))' ec.env >url.env
t_check "URL-safe unpadded envelope verifies" "$HARDLINE" dsse-verify --key ec.pub url.env

# --- refusals, each with its message
expect_fail "wrong key" "no signature verifies with the 1 trusted key" \
    "$HARDLINE" dsse-verify --key o_ec.pub ec.env
jq -c --arg p "$(printf '%s' '{"_type":"evil"}' | base64 -w0)" '.payload = $p' ec.env >tampered_payload.env
expect_fail "tampered payload" "does not verify: the payload or the signature was modified after signing" \
    "$HARDLINE" dsse-verify --key ec.pub tampered_payload.env
jq -c --arg s "$(base64 -w0 ed.sig | sed 's/^A/B/; s/^[^B]/A/')" '.signatures[0].sig = $s' ed.env >tampered_sig.env
expect_fail "tampered signature" "does not verify: the payload or the signature was modified after signing" \
    "$HARDLINE" dsse-verify --key ed.pub tampered_sig.env
jq -c '.signatures = []' ec.env >nosig.env
expect_fail "no signatures" "envelope has no signatures; it was never signed" \
    "$HARDLINE" dsse-verify --key ec.pub nosig.env
jq -c '.payload = "eyJf*dHlwZSI6"' ec.env >badb64.env
expect_fail "invalid base64" "payload: invalid base64: character 0x2a at offset 4" \
    "$HARDLINE" dsse-verify --key ec.pub badb64.env
head -c $((4 * 1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >big.env
expect_fail "oversized envelope" "big.env: envelope is over the limit of 4194304 bytes" \
    "$HARDLINE" dsse-verify --key ec.pub big.env
expect_fail "wrong payloadType" \
    "envelope payloadType is \"application/vnd.in-toto+json\", expected \"application/vnd.other+json\"" \
    "$HARDLINE" dsse-verify --key ec.pub --payload-type application/vnd.other+json ec.env
jq -c '.payloadType = "application/vnd.in-toto.x+json"' ec.env >retyped.env
expect_fail "payloadType changed after signing" "does not verify" \
    "$HARDLINE" dsse-verify --key ec.pub retyped.env
printf '{"payload":"","payload":"","payloadType":"t","signatures":[{"sig":"AA=="}]}' >dup.env
expect_fail "duplicate JSON keys" "duplicate" "$HARDLINE" dsse-verify --key ec.pub dup.env
expect_fail "missing key file" "nope.pub: no such file or directory" \
    "$HARDLINE" dsse-verify --key nope.pub ec.env
t_done
