#!/usr/bin/env bash
# lib/registry against real peers through `hardline registry-probe`: a docker-registry on 127.0.0.1 (plain, with
# htpasswd basic auth, with TLS from a test CA), skopeo as the independent client, and a small python3 server for
# what a well-behaved registry never does (bearer challenges, redirects, garbage, oversized and slow answers).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/certs.sh"
source "$(dirname "$0")/registry.sh"

for tool in docker-registry skopeo umoci python3 openssl jq htpasswd; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		t_skip "registry tests" "$tool is not installed (make deps)"
		t_done
		exit 0
	fi
done

t_tmpdir T
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
probe() { "$HARDLINE" registry-probe "$@"; }

# start_registry NAME PORT [extra yaml under http:] [auth yaml]: registry_start in $T/NAME.
start_registry() { registry_start "$T/$1" "${@:2}"; }

# A tiny OCI image (one layer with two files) made by umoci.
mkdir -p "$T/src/app"
echo "hello from hardline" >"$T/src/app/hello.txt"
head -c 20000 /dev/urandom >"$T/src/app/random.bin"
umoci init --layout "$T/oci" >/dev/null 2>&1 && umoci new --image "$T/oci:t" >/dev/null 2>&1 &&
	umoci insert --rootless --image "$T/oci:t" "$T/src/app" /app >/dev/null 2>&1 ||
	{ t_fail "make a test image with umoci" "umoci failed"; t_done; exit 1; }

P1=$(free_port)
if ! start_registry plain "$P1"; then t_fail "start docker-registry" "see above"; t_done; exit 1; fi
R=127.0.0.1:$P1
skopeo copy -q --dest-tls-verify=false "oci:$T/oci:t" "docker://$R/shop/web:1" >/dev/null 2>&1 ||
	{ t_fail "skopeo copy to the registry" "skopeo failed"; t_done; exit 1; }
want_digest=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$R/shop/web:1")
skopeo inspect --tls-verify=false --raw "docker://$R/shop/web:1" >"$T/want.json"

# --- plain registry: manifests, tags, blobs, push
probe --insecure-http manifest "$R/shop/web:1" >"$T/got.json" 2>"$T/err" &&
	cmp -s "$T/got.json" "$T/want.json" && t_ok "GET manifest by tag returns the bytes skopeo sees" ||
	t_fail "GET manifest by tag returns the bytes skopeo sees" "$(cat "$T/err")"
got=$(probe --insecure-http resolve "$R/shop/web:1" 2>"$T/err")
[ "$got" = "$want_digest" ] && t_ok "HEAD resolves the tag to skopeo's digest" ||
	t_fail "HEAD resolves the tag to skopeo's digest" "got '$got' want '$want_digest': $(cat "$T/err")"
got=$(probe --insecure-http --threads 16 resolve "$R/shop/web:1" 2>"$T/err")
[ "$got" = "$want_digest" ] && t_ok "16 threads resolve on one client" ||
	t_fail "16 threads resolve on one client" "got '$got': $(cat "$T/err")"
t_check "GET manifest by digest (verified)" probe --insecure-http manifest "$R/shop/web@$want_digest"
other=sha256:$(printf 'x' | sha256sum | cut -d' ' -f1)
probe --insecure-http manifest "$R/shop/web@$other" >/dev/null 2>"$T/err"
grep -q "registry $R: GET manifest shop/web@$other: 404 MANIFEST_UNKNOWN" "$T/err" &&
	t_ok "unknown manifest: the message names registry, repository, digest and the registry's code" ||
	t_fail "unknown manifest: the message names registry, repository, digest and the registry's code" "$(cat "$T/err")"
probe --insecure-http manifest "$R/shop/nothere:1" >/dev/null 2>"$T/err"
grep -q "NAME_UNKNOWN\|MANIFEST_UNKNOWN" "$T/err" && t_ok "unknown repository is a clear 404" ||
	t_fail "unknown repository is a clear 404" "$(cat "$T/err")"

layer=$(jq -r '.layers[0].digest' "$T/want.json")
probe --insecure-http --out "$T/layer" blob "$R/shop/web" "$layer" 2>"$T/err" &&
	[ "sha256:$(sha256sum <"$T/layer" | cut -d' ' -f1)" = "$layer" ] && t_ok "GET blob streams the layer, verified" ||
	t_fail "GET blob streams the layer, verified" "$(cat "$T/err")"
probe --insecure-http blob "$R/shop/web" "$other" >/dev/null 2>"$T/err"
grep -q "GET blob shop/web@$other: 404 BLOB_UNKNOWN" "$T/err" && t_ok "unknown blob: 404 BLOB_UNKNOWN" ||
	t_fail "unknown blob: 404 BLOB_UNKNOWN" "$(cat "$T/err")"

printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{}}' >"$T/config.json"
cfg=$(probe --insecure-http push-blob "$R/shop/pushed" "$T/config.json" 2>"$T/err")
[ "$cfg" = "sha256:$(sha256sum <"$T/config.json" | cut -d' ' -f1)" ] && t_ok "push-blob (POST + PUT ?digest=)" ||
	t_fail "push-blob (POST + PUT ?digest=)" "got '$cfg': $(cat "$T/err")"
head -c 40000000 /dev/urandom >"$T/big.bin"
bigd=$(probe --insecure-http push-blob "$R/shop/pushed" "$T/big.bin" 2>"$T/err")
probe --insecure-http --out "$T/big.back" blob "$R/shop/pushed" "$bigd" 2>>"$T/err" && cmp -s "$T/big.bin" "$T/big.back" &&
	t_ok "push-blob streams a 40 MB file from disk and it comes back identical" ||
	t_fail "push-blob streams a 40 MB file from disk and it comes back identical" "$(cat "$T/err")"
printf 'in memory\n' >"$T/small.bin"
got=$(probe --insecure-http --buffered push-blob "$R/shop/pushed" "$T/small.bin" 2>"$T/err")
[ "$got" = "sha256:$(sha256sum <"$T/small.bin" | cut -d' ' -f1)" ] && t_ok "push-blob from memory" ||
	t_fail "push-blob from memory" "got '$got': $(cat "$T/err")"
t_check "push-blob again (already there: HEAD, no upload)" probe --insecure-http push-blob "$R/shop/pushed" "$T/config.json"
size=$(stat -c %s "$T/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[]}' \
	"$cfg" "$size" >"$T/manifest.json"
mdig=$(probe --insecure-http put-manifest "$R/shop/pushed:v1" "$T/manifest.json" 2>"$T/err")
seen=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$R/shop/pushed:v1" 2>&1)
[ -n "$mdig" ] && [ "$mdig" = "$seen" ] && t_ok "put-manifest: skopeo inspect sees the pushed image" ||
	t_fail "put-manifest: skopeo inspect sees the pushed image" "ours '$mdig' skopeo '$seen' $(cat "$T/err")"

# --- what is refused before any connection
probe --insecure-http --timeout 2s manifest "registry.example.com/shop/web:1" >/dev/null 2>"$T/err"
grep -q "plain http is allowed only to loopback hosts" "$T/err" && t_ok "plain http to a non-loopback host is refused" ||
	t_fail "plain http to a non-loopback host is refused" "$(cat "$T/err")"
probe --timeout 5s manifest "$R/shop/web:1" >/dev/null 2>"$T/err"
grep -q "registry $R: GET manifest shop/web:1: .*TLS\|SSL" "$T/err" && t_ok "https to a plain-http registry fails clearly" ||
	t_fail "https to a plain-http registry fails clearly" "$(cat "$T/err")"
t_refute "a malformed reference is a usage error" probe --insecure-http manifest "127.0.0.1:$P1/Shop/Web"

# --- basic auth (htpasswd) with credentials from REGISTRY_AUTH_FILE
htpasswd -Bbn alice s3cret >"$T/htpasswd" 2>/dev/null
P2=$(free_port)
if start_registry basic "$P2" "" "auth:
  htpasswd:
    realm: hardline-test
    path: $T/htpasswd"; then
	RB=127.0.0.1:$P2
	skopeo copy -q --dest-tls-verify=false --dest-creds alice:s3cret "oci:$T/oci:t" "docker://$RB/team/app:1" >/dev/null 2>&1
	printf '{"auths":{"%s":{"auth":"%s"}}}' "$RB" "$(printf 'alice:s3cret' | base64 -w0)" >"$T/auth.json"
	printf '{"auths":{"%s":{"auth":"%s"}}}' "$RB" "$(printf 'alice:wrong' | base64 -w0)" >"$T/bad-auth.json"
	got=$(REGISTRY_AUTH_FILE=$T/auth.json probe --insecure-http resolve "$RB/team/app:1" 2>"$T/err")
	[ "$got" = "$want_digest" ] && t_ok "basic auth: credentials from REGISTRY_AUTH_FILE" ||
		t_fail "basic auth: credentials from REGISTRY_AUTH_FILE" "got '$got': $(cat "$T/err")"
	got=$(REGISTRY_AUTH_FILE=$T/auth.json probe --insecure-http --threads 16 manifest "$RB/team/app:1" 2>"$T/err")
	[ "$got" = "$want_digest" ] && t_ok "basic auth: 16 threads on one client" ||
		t_fail "basic auth: 16 threads on one client" "got '$got': $(cat "$T/err")"
	t_check "basic auth: blob download with the explicit auth file option" \
		probe --insecure-http --auth-file "$T/auth.json" --out "$T/layer2" blob "$RB/team/app" "$layer"
	t_check "basic auth: push a blob" probe --insecure-http --auth-file "$T/auth.json" push-blob "$RB/team/app" "$T/config.json"
	probe --insecure-http --anonymous manifest "$RB/team/app:1" >/dev/null 2>"$T/err"
	grep -q "401 authentication required; add credentials for $RB" "$T/err" &&
		t_ok "basic auth: anonymous is told to add credentials" ||
		t_fail "basic auth: anonymous is told to add credentials" "$(cat "$T/err")"
	probe --insecure-http --auth-file "$T/bad-auth.json" manifest "$RB/team/app:1" >/dev/null 2>"$T/err"
	grep -q "401.*refused the credentials" "$T/err" && t_ok "basic auth: a wrong password is named as refused" ||
		t_fail "basic auth: a wrong password is named as refused" "$(cat "$T/err")"
else
	t_fail "start docker-registry with htpasswd" "see above"
fi

# --- TLS with a test CA
certs_ca "$T" "hardline test CA" && certs_server "$T" srv 4097 IP:127.0.0.1,DNS:localhost 127.0.0.1 ||
	t_fail "test certificates" "openssl could not make them"
P3=$(free_port)
if start_registry tls "$P3" "  tls:
    certificate: $T/srv.crt
    key: $T/srv.key"; then
	RT=127.0.0.1:$P3
	skopeo copy -q --dest-tls-verify=false "oci:$T/oci:t" "docker://$RT/tls/app:1" >/dev/null 2>&1
	got=$(probe --ca-file "$T/ca.crt" resolve "$RT/tls/app:1" 2>"$T/err")
	[ "$got" = "$want_digest" ] && t_ok "TLS registry with the CA file option" ||
		t_fail "TLS registry with the CA file option" "got '$got': $(cat "$T/err")"
	mkdir -p "$T/certs.d/$RT" && cp "$T/ca.crt" "$T/certs.d/$RT/ca.crt"
	t_check "TLS registry with a per-registry CA in the certs dir" probe --certs-dir "$T/certs.d" manifest "$RT/tls/app:1"
	probe manifest "$RT/tls/app:1" >/dev/null 2>"$T/err"
	grep -q "TLS: .*CA file option" "$T/err" && t_ok "TLS without the CA: certificate refused, message says what to do" ||
		t_fail "TLS without the CA: certificate refused, message says what to do" "$(cat "$T/err")"
else
	t_fail "start docker-registry with TLS" "see above"
fi

# --- a misbehaving server: bearer challenge, redirects, garbage, oversized, slow
cat >"$T/bad.py" <<'EOF'
import hashlib, http.server, json, sys, time, urllib.parse
port = int(sys.argv[1])
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + "0" * 64, "size": 2},
    "layers": []}).encode()
mdig = "sha256:" + hashlib.sha256(manifest).hexdigest()
blob = b"blob bytes behind a redirect\n"
bdig = "sha256:" + hashlib.sha256(blob).hexdigest()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def send(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers: self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD": self.wfile.write(body)
    def do_HEAD(self): self.do_GET()
    def do_GET(self):
        u = urllib.parse.urlparse(self.path); q = urllib.parse.parse_qs(u.query); p = u.path
        auth = self.headers.get("Authorization")
        if p == "/token":
            ok = q.get("service") == ["fake"] and q.get("scope") == ["repository:tok/app:pull"]
            return self.send(200 if ok else 400, json.dumps({"token": "tok-123", "expires_in": 300}).encode())
        if p.startswith("/v2/tok/"):
            if auth != "Bearer tok-123":
                return self.send(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                    [("WWW-Authenticate", 'Bearer realm="http://127.0.0.1:%d/token",service="fake",scope="repository:tok/app:pull"' % port)])
            if p == "/v2/tok/app/manifests/1":
                return self.send(200, manifest, [("Content-Type", "application/vnd.oci.image.manifest.v1+json"), ("Docker-Content-Digest", mdig)])
            if p == "/v2/tok/app/blobs/" + bdig:
                return self.send(307, b"", [("Location", "http://localhost:%d/storage/blob" % port)])
        if p == "/storage/blob":
            # blob storage on another host: must not receive the registry's token
            return self.send(400 if auth else 200, b"credentials leaked" if auth else blob)
        if p == "/v2/garbage/app/manifests/1":
            return self.send(200, b"<html>this is not json</html>", [("Content-Type", "text/html")])
        if p == "/v2/big/app/manifests/1":
            return self.send(200, b"{" + b" " * (5 << 20) + b"}")
        if p == "/v2/lying/app/manifests/1":
            return self.send(200, manifest, [("Docker-Content-Digest", "sha256:" + "1" * 64)])
        if p == "/v2/lying/app/blobs/" + bdig:
            return self.send(200, blob + b"tampered")
        if p == "/v2/err/app/manifests/1":
            return self.send(500, b"\x01\x7f internal \x1b[31m boom" + b"x" * 500)
        if p == "/v2/badchallenge/app/manifests/1":
            return self.send(401, b"", [("WWW-Authenticate", 'Bearer realm="unterminated')])
        if p == "/v2/evilrealm/app/manifests/1":
            return self.send(401, b"", [("WWW-Authenticate", 'Bearer realm="http://198.51.100.7/token",service="x"')])
        if p == "/v2/slow/app/manifests/1":
            time.sleep(8)
            return self.send(200, manifest)
        self.send(404, b'{"errors":[{"code":"NAME_UNKNOWN","message":"no such repository"}]}')
class S(http.server.ThreadingHTTPServer):
    daemon_threads = True
S(("127.0.0.1", port), H).serve_forever()
EOF
P4=$(free_port)
python3 "$T/bad.py" "$P4" 2>"$T/bad.log" &
t_bg $!
for i in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$P4/" && break; sleep 0.1; done
RX=127.0.0.1:$P4
t_check "bearer: challenge, token from the realm, retry with the token" probe --insecure-http --anonymous manifest "$RX/tok/app:1"
t_check "bearer: 16 threads share one client" probe --insecure-http --anonymous --threads 16 manifest "$RX/tok/app:1"
bdig=sha256:$(printf 'blob bytes behind a redirect\n' | sha256sum | cut -d' ' -f1)
t_check "bearer + redirect to another host: followed, token not sent there" \
	probe --insecure-http --anonymous --out "$T/rblob" blob "$RX/tok/app" "$bdig"
probe --insecure-http manifest "$RX/garbage/app:1" >/dev/null 2>"$T/err"
grep -q 'the answer is not a manifest (starts "<html>this is not json' "$T/err" && t_ok "garbage manifest: clear error" ||
	t_fail "garbage manifest: clear error" "$(cat "$T/err")"
probe --insecure-http manifest "$RX/big/app:1" >/dev/null 2>"$T/err"
grep -q "over the limit of 4194304 bytes" "$T/err" && t_ok "oversized manifest: refused at 4 MiB" ||
	t_fail "oversized manifest: refused at 4 MiB" "$(cat "$T/err")"
probe --insecure-http manifest "$RX/lying/app:1" >/dev/null 2>"$T/err"
grep -q "Docker-Content-Digest .* is not the digest of the manifest served" "$T/err" &&
	t_ok "a Docker-Content-Digest that does not match the body is refused" ||
	t_fail "a Docker-Content-Digest that does not match the body is refused" "$(cat "$T/err")"
probe --insecure-http --out "$T/lblob" blob "$RX/lying/app" "$bdig" >/dev/null 2>"$T/err"
grep -q "have digest sha256:.*refusing them" "$T/err" && [ ! -e "$T/lblob" ] &&
	t_ok "a tampered blob is refused (and its output removed)" ||
	t_fail "a tampered blob is refused (and its output removed)" "$(cat "$T/err")"
probe --insecure-http manifest "$RX/err/app:1" >/dev/null 2>"$T/err"
grep -q 'GET manifest err/app:1: 500 (not a registry error: "\\x01\\x7f internal \\x1b\[31m boomxxx.*\.\.\.")' "$T/err" &&
	[ "$(wc -c <"$T/err")" -lt 600 ] && t_ok "a garbage error body is escaped and truncated" ||
	t_fail "a garbage error body is escaped and truncated" "$(cat "$T/err")"
probe --insecure-http manifest "$RX/badchallenge/app:1" >/dev/null 2>"$T/err"
grep -q "WWW-Authenticate: parameter \"realm\": unterminated quoted string" "$T/err" &&
	t_ok "a malformed challenge is named" || t_fail "a malformed challenge is named" "$(cat "$T/err")"
probe --insecure-http manifest "$RX/evilrealm/app:1" >/dev/null 2>"$T/err"
grep -q "token realm: refusing plain http" "$T/err" && t_ok "a plain-http token realm off loopback is refused" ||
	t_fail "a plain-http token realm off loopback is refused" "$(cat "$T/err")"
start=$(date +%s%N)
probe --insecure-http --timeout 1s manifest "$RX/slow/app:1" >/dev/null 2>"$T/err"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
grep -q "no complete answer within the deadline" "$T/err" && [ "$ms" -lt 3000 ] &&
	t_ok "slow registry: the 1 s deadline holds (${ms} ms)" ||
	t_fail "slow registry: the 1 s deadline holds" "${ms} ms: $(cat "$T/err")"

t_done
