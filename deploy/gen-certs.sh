#!/usr/bin/env bash
# Bootstraps the webhook's TLS with the openssl CLI: a CA and a serving certificate for
# hardline-webhook.<namespace>.svc, the Secret hardline-webhook-tls, and the caBundle of every entry of the
# ValidatingWebhookConfiguration "hardline". For clusters without cert-manager; the Helm chart can do the same.
#
#   deploy/gen-certs.sh [--out DIR] [--namespace NS] [--service NAME] [--days N] [--apply] [--kubectl CMD]
#
#   --out DIR        where the files go (default ./hardline-certs; kept: ca.key signs the next certificate)
#                    ca.crt ca.key tls.crt tls.key secret.yaml cabundle.b64
#   --namespace NS   the webhook's namespace (default hardline-system)
#   --service NAME   the webhook's Service (default hardline-webhook)
#   --days N         validity of the serving certificate (default 365; the CA gets 10 years)
#   --apply          kubectl apply the Secret and patch the caBundle into validatingwebhookconfiguration/hardline
#                    (run it right after `kubectl apply -k deploy/`: until then calls to the webhook fail)
#   --kubectl CMD    kubectl to use (default "kubectl"; e.g. "kubectl --context prod")
#
# An existing DIR/ca.key is reused, so re-running renews the serving certificate without changing the caBundle.
# The webhook re-reads the certificate when the Secret's update reaches its pods (no restart).
set -euo pipefail

out=./hardline-certs ns=hardline-system svc=hardline-webhook days=365 apply=0 kubectl=kubectl
usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
	case "$1" in
	--out) out=${2:?--out needs a directory}; shift 2 ;;
	--namespace) ns=${2:?--namespace needs a name}; shift 2 ;;
	--service) svc=${2:?--service needs a name}; shift 2 ;;
	--days) days=${2:?--days needs a number}; shift 2 ;;
	--apply) apply=1; shift ;;
	--kubectl) kubectl=${2:?--kubectl needs a command}; shift 2 ;;
	-h | --help) usage ;;
	*) echo "gen-certs.sh: unknown option '$1'" >&2; usage ;;
	esac
done
[[ "$ns" =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ && "$svc" =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] ||
	{ echo "gen-certs.sh: namespace and service must be DNS labels (got '$ns', '$svc')" >&2; exit 2; }
[[ "$days" =~ ^[1-9][0-9]{0,4}$ ]] || { echo "gen-certs.sh: --days must be a number of days (got '$days')" >&2; exit 2; }
command -v openssl >/dev/null || { echo "gen-certs.sh: the openssl CLI is needed (apt-get install openssl)" >&2; exit 1; }

mkdir -p "$out"
chmod 700 "$out"
umask 077
log="$out/openssl.log"
: >"$log"
ossl() { openssl "$@" >>"$log" 2>&1 || { echo "gen-certs.sh: openssl $1 failed; see $log" >&2; exit 1; }; }

if [ ! -s "$out/ca.key" ] || [ ! -s "$out/ca.crt" ]; then
	ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 3650 \
		-keyout "$out/ca.key" -out "$out/ca.crt" -subj "/CN=hardline-webhook-ca" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
fi
host="$svc.$ns.svc"
cat >"$out/serving.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:$svc,DNS:$svc.$ns,DNS:$host,DNS:$host.cluster.local
EXT
ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -keyout "$out/tls.key.new" \
	-out "$out/serving.csr" -subj "/CN=$host"
ossl x509 -req -in "$out/serving.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial -days "$days" \
	-sha256 -extfile "$out/serving.ext" -out "$out/tls.crt.new"
ossl verify -CAfile "$out/ca.crt" -purpose sslserver "$out/tls.crt.new"
mv -f "$out/tls.key.new" "$out/tls.key"
mv -f "$out/tls.crt.new" "$out/tls.crt"
rm -f "$out/serving.csr" "$out/serving.ext"
base64 -w0 "$out/ca.crt" >"$out/cabundle.b64"

cat >"$out/secret.yaml" <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: hardline-webhook-tls
  namespace: $ns
  labels:
    app.kubernetes.io/name: hardline-webhook
    app.kubernetes.io/part-of: hardline
type: kubernetes.io/tls
data:
  tls.crt: $(base64 -w0 "$out/tls.crt")
  tls.key: $(base64 -w0 "$out/tls.key")
  ca.crt: $(cat "$out/cabundle.b64")
YAML
echo "gen-certs.sh: $out/tls.crt for $host (valid $days days), CA $out/ca.crt, Secret $out/secret.yaml"

if [ "$apply" = 1 ]; then
	$kubectl apply -f "$out/secret.yaml"
	if ! n=$($kubectl get validatingwebhookconfiguration hardline -o jsonpath='{range .webhooks[*]}x{end}'); then
		echo "gen-certs.sh: no validatingwebhookconfiguration/hardline yet: run kubectl apply -k deploy/ and then" \
			"this script again with --apply" >&2
		exit 1
	fi
	patch="["
	for ((i = 0; i < ${#n}; i++)); do
		[ "$i" -gt 0 ] && patch="$patch,"
		patch="$patch{\"op\":\"add\",\"path\":\"/webhooks/$i/clientConfig/caBundle\",\"value\":\"$(cat "$out/cabundle.b64")\"}"
	done
	$kubectl patch validatingwebhookconfiguration hardline --type=json -p "$patch]"
fi
