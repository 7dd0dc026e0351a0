#!/usr/bin/env bash
# Side-by-side: our solver (eval schedule) against OR-Tools CP-SAT (both models of
# ../shared/bench/scheduling/solve_cpsat.py) with equal time limits and one worker, on the
# clinic-slots-v1 instances. Every solution is verified with the family's score.py.
#
# Usage: benches/scheduling_peers.sh [SECONDS...]   (default: 1 10)
# Needs: a Python with `ortools` (pip install ortools). Env: PYTHON, BEDSIDE_SHARED, INSTANCES.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${BEDSIDE_SHARED:-../shared}"
BENCH="$SHARED/bench/scheduling"
PYTHON="${PYTHON:-python3}"
LIMITS=("$@")
[ ${#LIMITS[@]} -eq 0 ] && LIMITS=(1 10)
INSTANCES="${INSTANCES:-cs-s1-p20-r600 cs-s2-p20-r600 cs-s3-p20-r600 cs-s4-p20-r600 cs-s5-p20-r600 cs-s1-p20-r1100}"
"$PYTHON" -c "import ortools" 2>/dev/null || { echo "scheduling_peers: $PYTHON has no ortools (pip install ortools)" >&2; exit 2; }
cargo build --release -q -p bedside-benches --no-default-features --features schedule --bin eval
EVAL="${CARGO_TARGET_DIR:-target}/release/eval"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

score() { # instance solution -> objective or "invalid"
  "$PYTHON" "$BENCH/score.py" "$1" "$2" 2>/dev/null | "$PYTHON" -c 'import json,sys; d=json.loads(sys.stdin.read()); print(d["objective"] if d.get("valid") else "invalid")' || echo invalid
}

printf "%-18s %5s %10s %8s %14s %14s %10s\n" instance sec best-known greedy bedside cpsat-timeidx cpsat-interval
for name in $INSTANCES; do
  inst="$BENCH/instances/$name.json"
  best=$("$PYTHON" -c "import json; print(json.load(open('$BENCH/best-known.json')).get('$name','-'))")
  greedy=$(cd "$BENCH" && "$PYTHON" greedy.py "instances/$name.json" | "$PYTHON" -c 'import json,sys; print(json.loads(sys.stdin.read())["objective"])')
  for t in "${LIMITS[@]}"; do
    "$EVAL" schedule "$inst" --seconds "$t" --out "$TMP/ours.json" >/dev/null
    ours=$(score "$inst" "$TMP/ours.json")
    rm -f "$TMP/ti.json" "$TMP/iv.json"
    (cd "$BENCH" && "$PYTHON" solve_cpsat.py "instances/$name.json" --time "$t" --workers 1 --model timeidx --out "$TMP/ti.json" >/dev/null 2>&1) || true
    ti=$([ -s "$TMP/ti.json" ] && score "$inst" "$TMP/ti.json" || echo none)
    (cd "$BENCH" && "$PYTHON" solve_cpsat.py "instances/$name.json" --time "$t" --workers 1 --model interval --out "$TMP/iv.json" >/dev/null 2>&1) || true
    iv=$([ -s "$TMP/iv.json" ] && score "$inst" "$TMP/iv.json" || echo none)
    printf "%-18s %5s %10s %8s %14s %14s %10s\n" "$name" "$t" "$best" "$greedy" "$ours" "$ti" "$iv"
  done
done
