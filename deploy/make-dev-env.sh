#!/bin/sh
# Writes .env next to docker-compose.yml with fresh random secrets for a local or trial deployment:
#   REDIS_PASSWORD       Redis password (hex: it goes into the services' REDIS_URL)
#   TOKEN_HS256_SECRETS  signs (API) and verifies (edges) client tokens
#   API_KEYS             what back ends send to the HTTP API as `Authorization: Bearer <key>`
# An existing .env is never overwritten. For production, keep these in your secret store and
# export them (or write .env) on the host that runs `docker compose`.
set -eu

env_file="${1:-$(dirname "$0")/../.env}"
if [ -e "$env_file" ]; then
  echo "make-dev-env: $env_file exists; not touching it"
  exit 0
fi
command -v openssl >/dev/null 2>&1 || {
  echo "make-dev-env: openssl is required (Debian/Ubuntu: apt-get install openssl)" >&2
  exit 1
}

umask 077
{
  echo "REDIS_PASSWORD=$(openssl rand -hex 32)"
  echo "TOKEN_HS256_SECRETS=$(openssl rand -hex 32)"
  echo "API_KEYS=$(openssl rand -hex 32)"
} >"$env_file"
echo "make-dev-env: wrote $env_file (mode 600)"
