#!/usr/bin/env bash
# examples/resource_server.rs (built by the tests) accepts node oidc-provider's RFC 9068 JWT
# access tokens (resource indicators on) and refuses bad ones.
# Usage: bash .ci/oidc-provider/resource.sh <path to the resource_server example binary>
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
binary="$1"
. "$here/../node.sh" "$here" resource.mjs

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
