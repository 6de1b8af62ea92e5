#!/bin/sh
# A self-signed certificate for trying Holdfast locally behind HAProxy (never for production:
# mount a real one instead, see docs/deploy.md).
#
# Usage: deploy/make-dev-cert.sh [output-dir] [host-name]
#   output-dir  default: deploy/certs (mounted into the haproxy container by docker-compose.yml)
#   host-name   default: localhost (127.0.0.1 and ::1 are always included)
#
# Writes:
#   holdfast.pem  certificate followed by its private key: what HAProxy's `crt` loads
#   holdfast.crt  the certificate alone: what clients trust (e.g. NODE_EXTRA_CA_CERTS=holdfast.crt)
# An existing holdfast.pem is kept, so re-running is harmless.
set -eu

dir="${1:-$(dirname "$0")/certs}"
host="${2:-localhost}"
pem="$dir/holdfast.pem"
crt="$dir/holdfast.crt"

if [ -s "$pem" ] && [ -s "$crt" ]; then
  echo "make-dev-cert: $pem exists; delete it to make a new one"
  exit 0
fi
command -v openssl >/dev/null 2>&1 || {
  echo "make-dev-cert: openssl is required (Debian/Ubuntu: apt-get install openssl)" >&2
  exit 1
}

mkdir -p "$dir"
key="$(mktemp)"
trap 'rm -f "$key"' EXIT

# P-256: small, fast handshakes, accepted everywhere. 825 days is the longest validity that
# Apple platforms accept for a TLS server certificate.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 \
  -subj "/CN=$host" \
  -addext "subjectAltName=DNS:$host,IP:127.0.0.1,IP:::1" \
  -addext "keyUsage=critical,digitalSignature" \
  -addext "extendedKeyUsage=serverAuth" \
  -keyout "$key" -out "$crt" 2>/dev/null

cat "$crt" "$key" >"$pem"
# The haproxy image runs as an unprivileged user, which must be able to read the key.
chmod 644 "$crt" "$pem"
echo "make-dev-cert: wrote $pem (for HAProxy) and $crt (for clients to trust), CN=$host"
