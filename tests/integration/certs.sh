# shellcheck shell=bash
# certs.sh — the openssl test CA of the integration tests: one P-256 CA and server certificates it signs for a
# subjectAltName (IP:127.0.0.1, DNS:name). Source it after lib.sh; the files land in the directory given.

# certs_ca DIR [CN]: writes DIR/ca.key and DIR/ca.crt (self-signed, 2 days). Returns non-zero when openssl fails.
certs_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1/ca.key" -out "$1/ca.crt" \
		-days 2 -subj "/CN=${2:-hardline-test-ca}" >/dev/null 2>&1 && [ -s "$1/ca.crt" ]
}

# certs_server DIR NAME SERIAL SAN [CN]: writes DIR/NAME.key and DIR/NAME.crt, signed by DIR/ca.*, for serverAuth,
# valid one day for SAN (e.g. IP:127.0.0.1), with the given serial number. Returns non-zero when openssl fails.
certs_server() {
	local dir=$1 name=$2 serial=$3 san=$4 cn=${5:-hardline-webhook}
	printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$san" >"$dir/$name.ext"
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/$name.key" -out "$dir/$name.csr" \
		-subj "/CN=$cn" >/dev/null 2>&1 &&
		openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -set_serial "$serial" \
			-days 1 -extfile "$dir/$name.ext" -out "$dir/$name.crt" >/dev/null 2>&1 && [ -s "$dir/$name.crt" ]
}
