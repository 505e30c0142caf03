#!/usr/bin/env bash
# The README's "Testing your app" in a new app: a fresh cargo project that depends on this
# crate (by path) with the `testing` feature, the README's test file in its tests/, `cargo test`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
app="$(mktemp -d)/my_app"
cargo new --quiet --lib "$app"
cat >> "$app/Cargo.toml" <<TOML
rocket = { version = "0.5.1", features = ["json"] }
rocket_oauth = { path = "$root" }

[dev-dependencies]
rocket_oauth = { path = "$root", features = ["testing"] }
TOML
# The versions this crate is tested with.
cp "$root/Cargo.lock" "$app/Cargo.lock"
mkdir -p "$app/tests"
# The README's block, extracted from README.md itself.
python3 - "$root/README.md" "$app/tests/login.rs" <<'PY'
import sys
readme = open(sys.argv[1]).read()
section = readme[readme.index("## Testing your app"):]
block = section[section.index("```rust\n") + len("```rust\n"):]
open(sys.argv[2], "w").write(block[:block.index("```")])
PY
cd "$app"
cargo test --test login
