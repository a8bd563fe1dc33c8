#!/usr/bin/env bash
# hardline attest / verify / harden --key end to end: oci: layouts (the cosign-style sha256-<hex>.att manifest),
# oci-archive sidecars, a real docker-registry on 127.0.0.1 with cosign v2 as the peer in both directions (cosign
# verify-attestation accepts ours, we accept cosign attest's, both survive in one .att manifest), and the refusals:
# wrong key, tampered payload and signature, wrong subject, wrong predicate type, no signatures, invalid base64,
# oversized envelope, a registry that answers garbage, --require failing on an image with a shell.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ocifix.sh"
source "$(dirname "$0")/registry.sh"

for tool in umoci skopeo jq python3; do
	if ! command -v "$tool" >/dev/null; then t_skip "attest" "$tool is not installed"; t_done; exit; fi
done
t_tmpdir W
cd "$W" || exit 1
PRED=https://hardline.dev/attestation/hardening/v1
H=$HARDLINE
unset HARDLINE_KEY_PASSWORD

# expect_fail NAME PATTERN CMD...: CMD exits 1 and its stderr contains PATTERN
expect_fail() {
	local name=$1 pat=$2 out rc; shift 2
	out=$("$@" 2>&1 >/dev/null); rc=$?
	if [ "$rc" -eq 1 ] && [[ "$out" == *"$pat"* ]]; then t_ok "$name"
	else t_fail "$name" "exit $rc, expected 1 with \"$pat\": $(echo "$out" | tail -3)"; fi
}
# digest_of REF: the manifest digest skopeo sees
digest_of() { skopeo inspect "$1" 2>/dev/null | jq -r .Digest; }
# att_layers DIR DIGEST: number of envelopes in the layout's .att manifest
att_layers() {
	local m
	m=$(jq -r --arg t "sha256-${2#sha256:}.att" \
	    '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' "$1/index.json")
	[ -n "$m" ] || { echo 0; return; }
	jq '[.layers[] | select(.mediaType == "application/vnd.dsse.envelope.v1+json")] | length' \
	    "$1/blobs/sha256/${m#sha256:}"
}

# --- a tiny image with a shell (busybox), built with umoci ---
BB=$(command -v busybox || echo /bin/busybox)
umoci init --layout img >/dev/null 2>&1 && umoci new --image img:t >/dev/null 2>&1 &&
	umoci unpack --rootless --image img:t b >/dev/null 2>&1 || { t_fail "umoci builds the fixture" "umoci failed"; t_done; exit; }
mkdir -p b/rootfs/bin b/rootfs/etc
cp "$BB" b/rootfs/bin/busybox && ln -s busybox b/rootfs/bin/sh
printf 'root:x:0:0:root:/root:/bin/sh\n' >b/rootfs/etc/passwd
printf 'root:x:0:\n' >b/rootfs/etc/group
umoci repack --image img:t b >/dev/null 2>&1
cp -r img img2
umoci config --image img2:t --config.label dev.example.copy=2 >/dev/null 2>&1   # same files, another digest
D=$(digest_of oci:img:t)
"$H" keygen --out ours >/dev/null 2>&1
"$H" keygen --out other >/dev/null 2>&1
"$H" keygen --out ed --algorithm ed25519 >/dev/null 2>&1
HARDLINE_KEY_PASSWORD=s3cret "$H" keygen --out enc >/dev/null 2>&1

# --- oci: layout ---
t_check "attest oci: (stored in the layout, --out)" "$H" attest --key ours.key --out env.json oci:img:t
t_check "the image still resolves without a tag beside its .att entry" "$H" scan oci:img
t_check "skopeo still reads the image" skopeo inspect oci:img:t
[ "$(att_layers img "$D")" = 1 ] && t_ok "the layout has sha256-<hex>.att with one envelope" ||
	t_fail "the layout has sha256-<hex>.att with one envelope" "$(att_layers img "$D") envelopes"
jq -e --arg p "$PRED" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] | test("^sha256-[0-9a-f]{64}\\.att$"))' \
	img/index.json >/dev/null && t_ok "index.json names it sha256-<hex>.att" || t_fail "index.json names it sha256-<hex>.att" "$(cat img/index.json)"
out=$("$H" verify --key ours.pub oci:img:t 2>&1)
if [[ "$out" == *"verified: oci:img:t $D"* && "$out" == *"key: ours.pub"* && "$out" == *"timestamp: "* ]]; then
	t_ok "verify: summary names digest, key and timestamp"
else t_fail "verify: summary names digest, key and timestamp" "$out"; fi
st=$("$H" verify --key ours.pub --json oci:img:t 2>/dev/null)
[ "$(echo "$st" | jq -r '.subject[0].digest.sha256')" = "${D#sha256:}" ] && t_ok "verify --json: the subject is the manifest digest" ||
	t_fail "verify --json: the subject is the manifest digest" "$st"
[ "$(echo "$st" | jq -r '.predicate.hardener.name + " " + (.predicate.facts.shells.count|tostring)')" = "hardline 2" ] &&
	t_ok "the predicate carries hardener and the measured facts" || t_fail "the predicate carries hardener and the measured facts" "$st"
echo "$st" | jq -e '.predicate | has("policy") | not' >/dev/null && t_ok "no policy member for an image hardline did not harden" ||
	t_fail "no policy member for an image hardline did not harden" "$st"
t_check "verify --envelope (the --out file)" "$H" verify --key ours.pub --envelope env.json oci:img:t
t_check "verify --envelope reads a pretty-printed envelope" bash -c "jq . env.json >pretty.json && '$H' verify --key ours.pub --envelope pretty.json oci:img:t"
t_check "a directory of trusted keys" bash -c "mkdir -p keys && cp ours.pub other.pub keys/ && '$H' verify --key keys oci:img:t"
t_check "verify --require executables<=5" "$H" verify --key ours.pub --require 'executables<=5' oci:img:t
expect_fail "--require shells=0 fails on an image with a shell" "shells is 2, required = 0" \
	"$H" verify --key ours.pub --require shells=0 oci:img:t
out=$("$H" verify --key ours.pub --require nosuch=0 oci:img:t 2>&1); rc=$?
[ "$rc" = 2 ] && [[ "$out" == *'unknown fact "nosuch"'* ]] && t_ok "an unknown fact is a usage error" ||
	t_fail "an unknown fact is a usage error" "exit $rc: $out"
expect_fail "wrong key" "no signature verifies with the 1 trusted key" "$H" verify --key other.pub oci:img:t
expect_fail "no attestation" "no attestation for" "$H" verify --key ours.pub oci:img2:t

# dedup (Ed25519 and a fixed time make identical envelopes) and adding rather than replacing
SOURCE_DATE_EPOCH=1700000000 "$H" attest --key ed.key oci:img:t >/dev/null 2>&1
out=$(SOURCE_DATE_EPOCH=1700000000 "$H" attest --key ed.key oci:img:t 2>&1)
[[ "$out" == *"(already there)"* ]] && [ "$(att_layers img "$D")" = 2 ] && t_ok "an identical envelope is stored once" ||
	t_fail "an identical envelope is stored once" "$out; $(att_layers img "$D") envelopes"
t_check "each key verifies its own envelope among several" bash -c \
	"'$H' verify --key ed.pub oci:img:t && '$H' verify --key ours.pub oci:img:t"
expect_fail "a passphrase-protected key needs HARDLINE_KEY_PASSWORD" "HARDLINE_KEY_PASSWORD" "$H" attest --key enc.key oci:img2:t
t_check "with HARDLINE_KEY_PASSWORD it signs" env HARDLINE_KEY_PASSWORD=s3cret "$H" attest --key enc.key oci:img2:t
t_check "and verifies" "$H" verify --key enc.pub oci:img2:t

# --- refusals on crafted envelopes (each must say why) ---
P=$(jq -r .payload env.json | base64 -d)
tamper() { jq -c --arg p "$(printf '%s' "$1" | base64 -w0)" '.payload = $p' env.json; }
tamper "$(echo "$P" | jq -c '.predicate.facts.shells.count = 0')" >tampered.json
expect_fail "tampered payload" "does not verify: the payload or the signature was" \
	"$H" verify --key ours.pub --envelope tampered.json oci:img:t
jq -c '.signatures[0].sig |= (if startswith("M") then "N" else "M" end) + .[1:]' env.json >badsig.json
expect_fail "tampered signature" "does not verify" "$H" verify --key ours.pub --envelope badsig.json oci:img:t
"$H" attest --key ours.key --out env2.json oci:img2:t >/dev/null 2>&1
expect_fail "wrong subject digest" "is not about $D" "$H" verify --key ours.pub --envelope env2.json oci:img:t
echo "$P" | jq -c '.predicateType = "https://example.com/other/v1"' >other-type.json
"$H" dsse-sign --key ours.key --payload-type application/vnd.in-toto+json --out wrongtype.json other-type.json
expect_fail "wrong predicate type" 'predicateType is "https://example.com/other/v1"' \
	"$H" verify --key ours.pub --envelope wrongtype.json oci:img:t
jq -c '.signatures = []' env.json >nosig.json
expect_fail "no signatures" "no signatures" "$H" verify --key ours.pub --envelope nosig.json oci:img:t
jq -c '.payload = "!!!" + .payload' env.json >badb64.json
expect_fail "invalid base64" "invalid base64" "$H" verify --key ours.pub --envelope badb64.json oci:img:t
python3 -c 'import json; print(json.dumps({"payload": "A" * (5 << 20), "payloadType": "application/vnd.in-toto+json", "signatures": [{"sig": "AA=="}]}))' >huge.json
expect_fail "oversized envelope" "over the limit of 4194304 bytes" "$H" verify --key ours.pub --envelope huge.json oci:img:t

# --- oci-archive: the envelopes go to FILE.att.json ---
skopeo copy oci:img:t oci-archive:img.tar:t >/dev/null 2>&1
t_check "attest oci-archive: writes FILE.att.json" bash -c "'$H' attest --key ours.key oci-archive:img.tar:t && test -s img.tar.att.json"
t_check "verify oci-archive: reads FILE.att.json" "$H" verify --key ours.pub oci-archive:img.tar:t
SOURCE_DATE_EPOCH=1700000000 "$H" attest --key ed.key oci-archive:img.tar:t >/dev/null 2>&1
out=$(SOURCE_DATE_EPOCH=1700000000 "$H" attest --key ed.key oci-archive:img.tar:t 2>&1)
[[ "$out" == *"(already there)"* ]] && [ "$(wc -l <img.tar.att.json)" = 2 ] && t_ok "FILE.att.json: added to, an identical envelope once" ||
	t_fail "FILE.att.json: added to, an identical envelope once" "$out; $(wc -l <img.tar.att.json) lines"

# --- harden --key end to end ---
t_check "harden --key (oci:)" "$H" harden --quiet --key ours.key oci:img:t oci:hard:h
HD=$(digest_of oci:hard:h)
t_check "the hardened image verifies with --require shells=0 packageManagers=0" \
	"$H" verify --key ours.pub --require shells=0 --require packageManagers=0 --require setuid=0 oci:hard:h
st=$("$H" verify --key ours.pub --json oci:hard:h 2>/dev/null)
if [ "$(echo "$st" | jq -r .predicate.input.digest)" = "$D" ] && [ "$(echo "$st" | jq -r .subject[0].digest.sha256)" = "${HD#sha256:}" ] &&
	echo "$st" | jq -e '(.predicate.policy.digest | startswith("sha256:")) and (.predicate.steps | length > 0)' >/dev/null; then
	t_ok "harden --key: subject = output digest, input = source digest, policy and steps recorded"
else t_fail "harden --key: subject = output digest, input = source digest, policy and steps recorded" "$st"; fi
t_check "harden --key (oci-archive:) writes FILE.att.json" bash -c \
	"'$H' harden --quiet --key ours.key oci:img:t oci-archive:hard.tar:h >/dev/null && '$H' verify --key ours.pub oci-archive:hard.tar:h"
t_check "attest reads the policy label of a hardened image" bash -c \
	"'$H' attest --key other.key oci:hard:h >/dev/null && '$H' verify --key other.pub --json oci:hard:h | jq -e '.predicate.policy.digest | startswith(\"sha256:\")'"

# --- a multi-platform index (amd64 + an arm64 config made here): every platform is its own subject ---
cp -r img2 multi
ocifix_multi multi all
ix=$(jq -r '.manifests[0].digest' multi/index.json)
m1=$(jq -r '.manifests[0].digest' "multi/blobs/sha256/${ix#sha256:}")
m2=$(jq -r '.manifests[1].digest' "multi/blobs/sha256/${ix#sha256:}")
out=$("$H" attest --key ours.key oci:multi:all 2>&1)
[ "$(echo "$out" | grep -c '\.att$')" = 2 ] && [ "$(att_layers multi "$m1")" = 1 ] && [ "$(att_layers multi "$m2")" = 1 ] &&
	t_ok "attest of an index: one attestation per platform manifest" || t_fail "attest of an index: one attestation per platform manifest" "$out"
out=$("$H" verify --key ours.pub oci:multi:all 2>&1)
[ "$(echo "$out" | grep -c '^verified: ')" = 2 ] && t_ok "verify of an index: every platform verified" ||
	t_fail "verify of an index: every platform verified" "$out"
t_check "verify --platform linux/arm64 of the index" "$H" verify --key ours.pub --platform linux/arm64 oci:multi:all
t_check "harden --key of an index attests every hardened platform" bash -c \
	"'$H' harden --quiet --key ours.key oci:multi:all oci:hmulti:all >/dev/null && [ \$('$H' verify --key ours.pub --require shells=0 oci:hmulti:all | grep -c '^verified: ') = 2 ]"

# --- a registry that answers garbage for the .att manifest ---
cat >fake.py <<'EOF'
import http.server, os, sys
layout, port = sys.argv[1], int(sys.argv[2])
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_HEAD(self): self.do_GET(body=False)
    def do_GET(self, body=True):
        p = self.path.split("/")
        data, ct = b"{}", "application/json"
        if self.path == "/v2/":
            pass
        elif p[-2] == "blobs" and p[-1] == "sha256:" + "d" * 64:
            data, ct = b"garbage!!", "application/octet-stream"
        elif len(p) >= 5 and p[-2] in ("manifests", "blobs") and p[-1].startswith("sha256:"):
            f = os.path.join(layout, "blobs", "sha256", p[-1][7:])
            if not os.path.exists(f):
                self.send_response(404); self.end_headers(); return
            data = open(f, "rb").read()
            ct = "application/vnd.oci.image.manifest.v1+json" if p[-2] == "manifests" else "application/octet-stream"
        elif p[-2] == "manifests" and p[-1].endswith(".att") and p[2] == "liar":
            # a well-formed .att manifest whose envelope blob the registry then serves wrong
            data = ('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":'
                    '"application/vnd.oci.image.config.v1+json","digest":"sha256:' + "c" * 64 + '","size":2},"layers":[{'
                    '"mediaType":"application/vnd.dsse.envelope.v1+json","digest":"sha256:' + "d" * 64 + '","size":9}]}').encode()
            ct = "application/vnd.oci.image.manifest.v1+json"
        elif p[-2] == "blobs" and p[-1] == "sha256:" + "d" * 64:
            data, ct = b"garbage!!", "application/octet-stream"
        elif p[-2] == "manifests" and p[-1].endswith(".att"):
            data, ct = b"<html>garbage{{", "application/vnd.oci.image.manifest.v1+json"
        else:
            self.send_response(404); self.end_headers(); return
        self.send_response(200)
        self.send_header("Content-Type", ct)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body: self.wfile.write(data)
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
EOF
fport=$((20000 + RANDOM % 20000))
python3 fake.py img "$fport" >/dev/null 2>&1 &
t_bg $!
for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$fport/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
expect_fail "a registry answering garbage for the .att manifest" "malformed" \
	"$H" verify --key ours.pub "docker://127.0.0.1:$fport/hl/app@$D"
expect_fail "a registry serving an envelope blob that does not match its digest" "sha256:dddddddd" \
	"$H" verify --key ours.pub "docker://127.0.0.1:$fport/liar/app@$D"

# --- a real registry, and cosign as the peer ---
COSIGN=${HARDLINE_PEERS:-$HOME/.cache/hardline-peers}/bin/cosign
if ! command -v docker-registry >/dev/null; then
	t_skip "registry flows" "docker-registry is not installed"; t_done; exit
fi
port=$((20000 + RANDOM % 20000))
registry_start "$W/registry" "$port" || { t_fail "docker-registry starts" "see above"; t_done; exit; }
R=127.0.0.1:$port/hl/app
timeout 120 skopeo copy --dest-tls-verify=false oci:img2:t "docker://$R:t" >/dev/null 2>&1
RD=$(skopeo inspect --tls-verify=false "docker://$R:t" | jq -r .Digest)
[ "$RD" = "$(digest_of oci:img2:t)" ] && t_ok "skopeo pushes the image with its digest" || t_fail "skopeo pushes the image with its digest" "$RD"
t_check "attest --push docker://…@sha256" "$H" attest --key ours.key --push "docker://$R@$RD"
t_check "verify docker://…@sha256 (registry .att)" "$H" verify --key ours.pub --require 'executables<=2' "docker://$R@$RD"
expect_fail "verify docker:// with the wrong key" "no signature verifies" "$H" verify --key other.pub "docker://$R@$RD"
expect_fail "--push-to a repository without the image says so" "push the image there first" \
	"$H" attest --key ours.key --push --push-to "docker://127.0.0.1:$port/hl/empty" oci:img2:t
timeout 120 skopeo copy --dest-tls-verify=false oci:hard:h "docker://127.0.0.1:$port/hl/hard:h" >/dev/null 2>&1
t_check "attest --push --push-to for an oci: image" "$H" attest --key other.key --push --push-to "docker://127.0.0.1:$port/hl/hard" oci:hard:h
t_check "and it verifies from the registry" "$H" verify --key other.pub --require shells=0 "docker://127.0.0.1:$port/hl/hard@$HD"
if [ ! -x "$COSIGN" ]; then
	t_skip "cosign interop" "cosign peer not built (tests/peers/install.sh cosign)"; t_done; exit
fi
export COSIGN_YES=true SIGSTORE_NO_CACHE=true TUF_ROOT="$W/tuf" COSIGN_PASSWORD=cpw
out=$(timeout 120 "$COSIGN" verify-attestation --key ours.pub --type "$PRED" --insecure-ignore-tlog \
	--allow-insecure-registry "$R@$RD" 2>&1)
if [[ "$out" == *"The signatures were verified against the specified public key"* ]]; then
	t_ok "cosign verify-attestation accepts our pushed attestation"
else t_fail "cosign verify-attestation accepts our pushed attestation" "$(echo "$out" | tail -3)"; fi
out=$(timeout 120 "$COSIGN" verify-attestation --key other.pub --type "$PRED" --insecure-ignore-tlog \
	--allow-insecure-registry "$R@$RD" 2>&1)
[[ "$out" != *"verified against the specified public key"* ]] && t_ok "cosign refuses it with another key" ||
	t_fail "cosign refuses it with another key" "accepted"
(cd "$W" && "$COSIGN" generate-key-pair >/dev/null 2>&1)
"$H" verify --key ours.pub --json "docker://$R@$RD" 2>/dev/null | jq .predicate >pred.json
out=$(timeout 120 "$COSIGN" attest --key cosign.key --type "$PRED" --predicate pred.json --tlog-upload=false \
	--allow-insecure-registry "$R@$RD" 2>&1)
[ $? -eq 0 ] && t_ok "cosign attest (legacy .att layout) adds to our .att manifest" || t_fail "cosign attest" "$(echo "$out" | tail -3)"
t_check "hardline verify accepts cosign's attestation (Statement v0.1) with cosign.pub" \
	"$H" verify --key cosign.pub --require 'shells<=2' "docker://$R@$RD"
t_check "ours is still there next to cosign's" "$H" verify --key ours.pub "docker://$R@$RD"
n=$(curl -fsS -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
	"http://127.0.0.1:$port/v2/hl/app/manifests/sha256-${RD#sha256:}.att" | jq '.layers | length')
[ "$n" = 2 ] && t_ok "the registry .att manifest holds both attestations" || t_fail "the registry .att manifest holds both attestations" "$n layers"
timeout 120 skopeo copy --all --dest-tls-verify=false oci:multi:all "docker://127.0.0.1:$port/hl/multi:all" >/dev/null 2>&1
t_check "attest --push of a registry index (each platform)" "$H" attest --key other.key --push "docker://127.0.0.1:$port/hl/multi@$ix"
out=$("$H" verify --key other.pub "docker://127.0.0.1:$port/hl/multi:all" 2>&1)
[ "$(echo "$out" | grep -c '^verified: ')" = 2 ] && t_ok "verify of a registry index by tag: both platforms" ||
	t_fail "verify of a registry index by tag: both platforms" "$out"
timeout 120 skopeo copy --format v2s2 --dest-tls-verify=false oci:img2:t "docker://127.0.0.1:$port/hl/docker2:t" >/dev/null 2>&1
t_check "attest --push and verify of a Docker v2 schema 2 image by tag" bash -c "'$H' attest --key ours.key --push \
	docker://127.0.0.1:$port/hl/docker2:t >/dev/null && '$H' verify --key ours.pub docker://127.0.0.1:$port/hl/docker2:t >/dev/null"
# the layout's .att manifest is cosign's layout: skopeo copies it to a registry, cosign verifies it there
skopeo copy --dest-tls-verify=false oci:img:t "docker://127.0.0.1:$port/hl/copy:t" >/dev/null 2>&1
skopeo copy --dest-tls-verify=false "oci:img:sha256-${D#sha256:}.att" "docker://127.0.0.1:$port/hl/copy:sha256-${D#sha256:}.att" >/dev/null 2>&1
t_check "cosign verifies the layout's .att manifest copied by skopeo" bash -c "timeout 120 '$COSIGN' verify-attestation --key ours.pub \
	--type '$PRED' --insecure-ignore-tlog --allow-insecure-registry '127.0.0.1:$port/hl/copy@$D' >/dev/null 2>&1"
t_check "attest --push again adds a third (ours, re-signed)" "$H" attest --key other.key --push "docker://$R@$RD"
t_check "cosign still verifies after our append" bash -c "timeout 120 '$COSIGN' verify-attestation --key cosign.pub --type '$PRED' \
	--insecure-ignore-tlog --allow-insecure-registry '$R@$RD' >/dev/null 2>&1"
t_done
