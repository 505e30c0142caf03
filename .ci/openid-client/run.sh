#!/usr/bin/env bash
# examples/auth_server.rs (built by the tests) against openid-client, an independent OpenID
# Certified relying party library: with a configured RS256 key (and the device grant), then
# generated ES256 keys.
# Usage: bash .ci/openid-client/run.sh <path to the auth_server example binary>
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
binary="$1"
. "$here/../node.sh" "$here" rp.mjs device.mjs

run() { # $1: the signing lines of [default.oauth_server]; $2: ALG for the client, or ""
  local port
  port="$(free_port)"
  cat > "$work/Rocket.toml" <<TOML
[default]
address = "127.0.0.1"
port = $port
log_level = "critical"
secret_key = "hPRYyVRiMyxpw5sBB1XeCMN1kFsDCqKvBi2QJxBVHQk="

[default.oauth_server]
issuer = "http://127.0.0.1:$port"
$1

[default.oauth_server.scopes]
openid = "Sign you in"
profile = "Read your profile"

[[default.oauth_server.clients]]
id = "tv"
name = "A device"
scopes = ["profile"]
grant_types = ["device_code"]

[[default.oauth_server.clients]]
id = "rp"
secret = "rp-secret-0123456789"
name = "openid-client"
redirect_uris = ["http://127.0.0.1:9999/cb"]
scopes = ["openid", "profile"]
TOML
  ROCKET_CONFIG="$work/Rocket.toml" "$binary" >/dev/null 2>&1 &
  local server=$!
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  local status=0
  OP="http://127.0.0.1:$port" CLIENT_ID=rp CLIENT_SECRET=rp-secret-0123456789 ALG="$2" \
    node "$work/rp.mjs" || status=$?
  if [ "$status" = 0 ] && [ -z "$2" ]; then
    OP="http://127.0.0.1:$port" CLIENT_ID=tv node "$work/device.mjs" || status=$?
  fi
  kill "$server"
  wait "$server" 2>/dev/null || true
  return $status
}

run "signing_keys = [\"$root/tests/keys/rsa1.pem\"]" ""
run $'generate_signing_keys = true\nid_token_signing_alg = "ES256"' "ES256"
