#!/usr/bin/env bash
# examples/resource_server.rs (built by the tests) accepts node oidc-provider's RFC 9068 JWT
# access tokens (resource indicators on) and refuses bad ones.
# Usage: bash .ci/oidc-provider/resource.sh <path to the resource_server example binary>
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
binary="$1"
if ! command -v npm >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
work="$(mktemp -d)"
cp "$here/package.json" "$here/resource.mjs" "$work/"
(cd "$work" && npm install --silent --no-audit --no-fund >/dev/null)

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
op_port="$(free_port)"
other_port="$(free_port)"
api_port="$(free_port)"
audience="https://api.example/api"
cat > "$work/Rocket.toml" <<TOML
[default]
address = "127.0.0.1"
port = $api_port
log_level = "critical"

[default.oauth.resource.idp]
issuer = "http://127.0.0.1:$op_port"
audience = "$audience"
leeway = 1
TOML
ROCKET_CONFIG="$work/Rocket.toml" "$binary" >/dev/null 2>&1 &
api_pid=$!
trap 'kill $api_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$api_port") 2>/dev/null && break; sleep 0.1; done

OP_PORT="$op_port" OTHER_PORT="$other_port" API_URL="http://127.0.0.1:$api_port" AUDIENCE="$audience" \
  node "$work/resource.mjs"
