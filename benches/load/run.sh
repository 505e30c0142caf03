#!/usr/bin/env bash
# The login load benchmark in one command: builds the apps (release) and runs the driver.
# Arguments go to the driver: --logins N --concurrency N --reps N --me-requests N
# --memory N (RSS after N logins too) --apps floor,rocket_oauth2,oauth2_login,oidc_login
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --quiet -p rocket_oauth_load --bins
cargo build --release --quiet -p rocket_oauth --example oauth2_login --example oidc_login
target="${CARGO_TARGET_DIR:-target}"
exec "$target/release/load" "$@"
