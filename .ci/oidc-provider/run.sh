#!/usr/bin/env bash
# examples/oidc_login.rs (built by the tests), two instances sharing Redis, logged out over the
# back channel by node oidc-provider (an OpenID Certified provider with Back-Channel Logout).
# Usage: REDIS_URL=redis://… bash .ci/oidc-provider/run.sh <path to the oidc_login example binary>
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
binary="$1"
: "${REDIS_URL:?a Redis server for the shared sessions}"
. "$here/../node.sh" "$here" logout.mjs browser.mjs

op_port="$(free_port)"
one_port="$(free_port)"
two_port="$(free_port)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

for port in "$one_port" "$two_port"; do
  cat > "$work/Rocket-$port.toml" <<TOML
[default]
address = "127.0.0.1"
port = $port
log_level = "critical"
secret_key = "hPRYyVRiMyxpw5sBB1XeCMN1kFsDCqKvBi2QJxBVHQk="

[default.oauth.idp]
client_id = "rocket"
client_secret = "rocket-secret-0123456789"
issuer = "http://127.0.0.1:$op_port"
redirect_uri = "http://127.0.0.1:$one_port/auth/idp/callback"
scopes = ["openid", "email", "profile"]
backchannel_logout = true

[default.oauth.session]
store = "redis"
url = "$REDIS_URL"
TOML
  ROCKET_CONFIG="$work/Rocket-$port.toml" "$binary" >/dev/null 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
done

OP_PORT="$op_port" APP_ONE="http://127.0.0.1:$one_port" APP_TWO="http://127.0.0.1:$two_port" \
  node "$work/logout.mjs"
