#!/usr/bin/env bash
# examples/oidc_login.rs (built by the tests) as a FAPI 2.0 client of node oidc-provider, an
# OpenID Certified provider that requires pushed requests, DPoP (with nonces) and
# private_key_jwt: the app's key is made here with openssl and fetched by the provider from
# the app's JWKS route.
# Usage: bash .ci/oidc-provider/fapi.sh <path to the oidc_login example binary>
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
binary="$1"
. "$here/../node.sh" "$here" fapi.mjs browser.mjs

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/client.pem" 2>/dev/null
op_port="$(free_port)"
app_port="$(free_port)"
cat > "$work/Rocket.toml" <<TOML
[default]
address = "127.0.0.1"
port = $app_port
log_level = "critical"
secret_key = "hPRYyVRiMyxpw5sBB1XeCMN1kFsDCqKvBi2QJxBVHQk="

[default.oauth.idp]
client_id = "bank"
client_auth = "private_key_jwt"
client_key = "$work/client.pem"
client_key_id = "bank-1"
jwks_route = true
par = true
dpop = true
issuer = "http://127.0.0.1:$op_port"
redirect_uri = "http://127.0.0.1:$app_port/auth/idp/callback"
scopes = ["openid", "email", "profile", "offline_access"]
provider_logout = true
post_logout_redirect_uri = "http://127.0.0.1:$app_port/"
TOML
ROCKET_CONFIG="$work/Rocket.toml" "$binary" >/dev/null 2>&1 &
app=$!
trap 'kill "$app" 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$app_port") 2>/dev/null && break; sleep 0.1; done
OP_PORT="$op_port" APP="http://127.0.0.1:$app_port" node "$work/fapi.mjs"
