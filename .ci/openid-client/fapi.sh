#!/usr/bin/env bash
# examples/auth_server.rs (built by the tests) in FAPI 2.0 mode (pushed requests, DPoP with
# server nonces, private_key_jwt only) against openid-client, an independent OpenID Certified
# relying party library: a P-256 client key made here with openssl, its public JWK
# registered as the client's `jwks`.
# Usage: bash .ci/openid-client/fapi.sh <path to the auth_server example binary>
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
binary="$1"
. "$here/../node.sh" "$here" fapi.mjs

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/client.pem" 2>/dev/null
read -r x y < <(node -e '
  const jwk = require("crypto").createPrivateKey(require("fs").readFileSync(process.argv[1])).export({ format: "jwk" });
  console.log(jwk.x, jwk.y);' "$work/client.pem")

port="$(free_port)"
cat > "$work/Rocket.toml" <<TOML
[default]
address = "127.0.0.1"
port = $port
log_level = "critical"
secret_key = "hPRYyVRiMyxpw5sBB1XeCMN1kFsDCqKvBi2QJxBVHQk="

[default.oauth_server]
issuer = "http://127.0.0.1:$port"
signing_keys = ["$root/tests/keys/rsa1.pem"]
fapi2 = true
dpop_nonces = true

[default.oauth_server.scopes]
openid = "Sign you in"
profile = "Read your profile"

[[default.oauth_server.clients]]
id = "bank"
name = "A FAPI 2.0 client"
token_endpoint_auth_method = "private_key_jwt"
jwks = { keys = [ { kty = "EC", crv = "P-256", x = "$x", y = "$y", kid = "bank-1" } ] }
redirect_uris = ["http://127.0.0.1:9999/cb"]
scopes = ["openid", "profile"]
TOML
ROCKET_CONFIG="$work/Rocket.toml" "$binary" >/dev/null 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
OP="http://127.0.0.1:$port" CLIENT_ID=bank CLIENT_KEY="$work/client.pem" KID=bank-1 node "$work/fapi.mjs"
