# Sourced by the node-based checks: makes sure node and npm are there, and installs the
# check's package.json with the given files into a fresh directory, `$work`.
# Usage: . "$(dirname "$0")/../node.sh" <the check's folder> <file>...
if ! command -v npm >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
node_dir="$1"; shift
work="$(mktemp -d)"
cp "$node_dir/package.json" "${@/#/$node_dir/}" "$work/"
(cd "$work" && npm install --silent --no-audit --no-fund >/dev/null)
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
