"""Fails unless every workspace crate's rust-version is the highest one its dependencies
declare (reads `cargo metadata` on stdin)."""
import json
import sys

meta = json.load(sys.stdin)


def version(text):
    return tuple(int(x) for x in text.split("."))[:2]


need, by = max(
    (version(p["rust_version"]), p["name"])
    for p in meta["packages"]
    if p.get("rust_version") and p["source"] is not None
)
for p in meta["packages"]:
    if p["source"] is None:
        declared = p.get("rust_version") or "none"
        if declared == "none" or version(declared) != need:
            sys.exit(f"{p['name']} declares rust-version {declared}, but {by} needs {need}")
print(f"rust-version {need[0]}.{need[1]} (from {by})")
