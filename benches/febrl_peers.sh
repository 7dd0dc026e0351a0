#!/usr/bin/env bash
# Side-by-side FEBRL deduplication: Python `recordlinkage` (0.16, from PyPI) with its documented
# unsupervised pipeline, and Bedside's `eval febrl`, on the same files, one after the other.
#
#   benches/febrl_peers.sh [dataset.csv ...]
#
# PYTHON names a Python that has `recordlinkage` installed (default: python3); the files default to
# ../shared/fixtures/febrl/dataset{1,2,3}.csv. recordlinkage's pipeline: union blocking on given
# name, surname, birth date and postcode; Jaro–Winkler (threshold 0.85) on names and address,
# exact comparisons on birth date, suburb, state and postcode; classified by the ECM (EM for
# binary features) classifier and by the "sum of agreements > 3" rule. Times include the CSV read.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ "$#" -eq 0 ]; then
  set -- ../shared/fixtures/febrl/dataset1.csv ../shared/fixtures/febrl/dataset2.csv ../shared/fixtures/febrl/dataset3.csv
fi
if ! "$PYTHON" -c "import recordlinkage" 2>/dev/null; then
  echo "febrl_peers: $PYTHON cannot import recordlinkage (pip install recordlinkage)" >&2
  exit 2
fi
cargo build -q --release -p bedside-benches --no-default-features --features records --bin eval
EVAL="${CARGO_TARGET_DIR:-target}/release/eval"

for f in "$@"; do
  echo "== $(basename "$f")"
  ( "$PYTHON" - "$f" <<'PY'
import sys, time, warnings
warnings.filterwarnings("ignore")
import pandas as pd
import recordlinkage as rl

path = sys.argv[1]

def score(pred, truth, seconds, label):
    tp = len(pred & truth)
    p = tp / len(pred) if pred else 1.0
    r = tp / len(truth) if truth else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    print(f"recordlinkage {label}: precision {p:.4f} recall {r:.4f} f1 {f1:.4f} seconds {seconds:.3f}")

def pairs_of(index):
    return {tuple(sorted(t)) for t in index}

start = time.perf_counter()
df = pd.read_csv(path, index_col="rec_id", skipinitialspace=True, dtype=str)
indexer = rl.Index()
for column in ("given_name", "surname", "date_of_birth", "postcode"):
    indexer.block(column)
candidates = indexer.index(df)
compare = rl.Compare()
compare.string("given_name", "given_name", method="jarowinkler", threshold=0.85, label="given_name")
compare.string("surname", "surname", method="jarowinkler", threshold=0.85, label="surname")
compare.exact("date_of_birth", "date_of_birth", label="date_of_birth")
compare.exact("suburb", "suburb", label="suburb")
compare.exact("state", "state", label="state")
compare.string("address_1", "address_1", method="jarowinkler", threshold=0.85, label="address_1")
compare.exact("postcode", "postcode", label="postcode")
features = compare.compute(candidates, df)
shared = time.perf_counter() - start

t = time.perf_counter()
ecm = rl.ECMClassifier(binarize=0.5)
ecm_pairs = pairs_of(ecm.fit_predict(features))
ecm_seconds = shared + time.perf_counter() - t

t = time.perf_counter()
sum_pairs = pairs_of(features[features.sum(axis=1) > 3].index)
sum_seconds = shared + time.perf_counter() - t

# Truth from rec_id, used only to score.
groups = {}
for rec in df.index:
    groups.setdefault(rec.split("-")[1], []).append(rec)
truth = set()
for members in groups.values():
    for i in range(len(members)):
        for j in range(i + 1, len(members)):
            truth.add(tuple(sorted((members[i], members[j]))))
print(f"recordlinkage blocking: pairs_compared {len(candidates)} blocking recall {len(pairs_of(candidates) & truth) / len(truth):.4f}")
score(ecm_pairs, truth, ecm_seconds, "ECM")
score(sum_pairs, truth, sum_seconds, "sum>3")
print(f"recordlinkage fastest seconds {min(ecm_seconds, sum_seconds):.3f}")
PY
  ) | tee /tmp/febrl_peers.$$
  peer=$(awk '/^recordlinkage fastest seconds/ {print $4}' /tmp/febrl_peers.$$)
  rm -f /tmp/febrl_peers.$$
  ours=$("$EVAL" febrl "$f" | tail -n 2)
  echo "$ours" | sed 's/^/bedside /'
  wall=$(echo "$ours" | awk '/^febrl:/ {print $NF}')
  awk -v p="$peer" -v o="$wall" 'BEGIN { if (o > 0) printf "ratio: recordlinkage fastest / bedside (wall) = %.1fx\n", p / o }'
done
