#!/usr/bin/env bash
# The official MCP TypeScript SDK's client authorization against examples/auth_server.rs
# (built by the tests), with dynamic registration on and nothing else configured for it.
# Usage: bash .ci/mcp/run.sh <path to the auth_server example binary>
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
binary="$1"
. "$here/../node.sh" "$here" client.mjs

port="$(free_port)"
cat > "$work/Rocket.toml" <<TOML
[default]
address = "127.0.0.1"
port = $port
log_level = "critical"
secret_key = "hPRYyVRiMyxpw5sBB1XeCMN1kFsDCqKvBi2QJxBVHQk="

[default.oauth_server]
issuer = "http://127.0.0.1:$port"
dynamic_registration = true
registration_scopes = ["profile"]

[default.oauth_server.scopes]
profile = "Read your profile"
TOML
ROCKET_CONFIG="$work/Rocket.toml" "$binary" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
SERVER="http://127.0.0.1:$port" node "$work/client.mjs"
