#!/usr/bin/env python3
"""MSRV check: no locked dependency may declare a rust-version above the workspace's.

The machine has one toolchain, so the MSRV cannot be proven by building with it here. What is
checked instead, in `.ci/run`:
  1. this script: every package in Cargo.lock (as `cargo metadata` resolves it) declares a
     `rust-version` no newer than the workspace's (packages that declare none are reported);
  2. clippy's `incompatible_msrv` lint (on by default, run with -D warnings in the clippy step):
     no std API stabilised after the declared MSRV is used;
  3. the language features the code uses: let-chains (stable in 1.88) are the newest, which is
     why the workspace declares 1.88.
"""
import json
import subprocess
import sys


def version(text):
    parts = [int(p) for p in text.split(".")[:3]]
    return tuple(parts + [0] * (3 - len(parts)))


meta = json.loads(
    subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
)
members = set(meta["workspace_members"])
declared = {p["rust_version"] for p in meta["packages"] if p["id"] in members}
if len(declared) != 1 or None in declared:
    sys.exit(f"msrv: workspace members declare {sorted(map(str, declared))}; expected one rust-version")
msrv = declared.pop()
too_new = []
undeclared = 0
for p in meta["packages"]:
    if p["id"] in members:
        continue
    rv = p.get("rust_version")
    if rv is None:
        undeclared += 1
    elif version(rv) > version(msrv):
        too_new.append(f"{p['name']} {p['version']} needs {rv}")
if too_new:
    sys.exit(f"msrv: the workspace declares {msrv} but " + "; ".join(sorted(too_new)))
deps = len(meta["packages"]) - len(members)
print(f"msrv: {msrv}; {deps} locked dependencies, none newer ({undeclared} declare no rust-version)")
