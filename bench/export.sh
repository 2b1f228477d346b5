#!/usr/bin/env bash
# Benchmark: tuneline validate+dedup+export hf versus DuckDB converting the
# same JSONL to Snappy Parquet, in the same run, on ../shared/bench/gen-chat-jsonl data.
#
# usage: bench/export.sh [N_EXAMPLES ...]      (default: 200000)
# Prints wall time and peak RSS of both, and the ratios. Needs python3, node, npm.
# ROUNDS=N (default 5) runs both tools N times, alternating, and compares
# the medians: a single run of either varies by 10-30% on a shared VM.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SHARED=${SHARED:-$ROOT/../shared}
OUT=${BENCH_OUT:-$ROOT/bench/out}
CACHE=${TUNELINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tuneline}
DUCK_VERSION=1.5.6-r.1
DUCK=$CACHE/duckdb-node-$DUCK_VERSION
mkdir -p "$OUT"

if [ ! -f "$DUCK/node_modules/@duckdb/node-api/package.json" ]; then
  npm install --no-audit --no-fund --prefix "$DUCK" "@duckdb/node-api@$DUCK_VERSION" >&2
fi
cat > "$OUT/duck.cjs" <<'JS'
const duckdb = require(process.argv[2] + '/node_modules/@duckdb/node-api');
(async () => {
  const inst = await duckdb.DuckDBInstance.create(':memory:');
  const conn = await inst.connect();
  await conn.run(`COPY (SELECT * FROM read_json('${process.argv[3]}', format='newline_delimited', ignore_errors=true))
                  TO '${process.argv[4]}' (FORMAT parquet, COMPRESSION snappy)`);
})().catch(e => { console.error(e); process.exit(1); });
JS

go build -o "$OUT/tuneline" ./cmd/tuneline

# measure LABEL CMD... -> prints "LABEL seconds rss_kib"
measure() {
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$OUT/time.txt" "$@" > "$OUT/$label.stdout" 2> "$OUT/$label.stderr"
  read -r secs rss < "$OUT/time.txt"
  echo "$label $secs $rss"
}

for N in "${@:-200000}"; do
  DATA=$OUT/gen-$N.jsonl
  if [ ! -f "$DATA" ]; then
    python3 "$SHARED/bench/gen-chat-jsonl" "$N" "$DATA" 2> "$DATA.stats"
  fi
  echo "== $N examples, $(du -m "$DATA" | cut -f1) MB; planted: $(cat "$DATA.stats")"
  ts=(); tr=(); ds=(); dr=()
  for r in $(seq "${ROUNDS:-5}"); do
    rm -rf "$OUT/hf-$N" "$OUT/duck-$N.parquet"
    read -r _ a b < <(measure tuneline-$N "$OUT/tuneline" -q export --format hf --json --out "$OUT/hf-$N" "$DATA")
    ts+=("$a"); tr+=("$b")
    read -r _ a b < <(measure duckdb-$N node "$OUT/duck.cjs" "$DUCK" "$DATA" "$OUT/duck-$N.parquet")
    ds+=("$a"); dr+=("$b")
  done
  med() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
  echo "   tuneline runs: ${ts[*]} s; duckdb runs: ${ds[*]} s"
  t_secs=$(med "${ts[@]}"); t_rss=$(printf '%s\n' "${tr[@]}" | sort -g | tail -1)
  d_secs=$(med "${ds[@]}"); d_rss=$(printf '%s\n' "${dr[@]}" | sort -g | tail -1)
  python3 - "$OUT/tuneline-$N.stdout" "$DATA.stats" <<'PY'
import json, sys
rep = json.load(open(sys.argv[1])); planted = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])
d = rep["dropped"]
inv = sum(v for k, v in d.items() if k.startswith("invalid:"))
print(f"   found: invalid {inv} (planted {planted['invalid']}), exact+near duplicates "
      f"{d.get('exact_duplicate',0)}+{d.get('near_duplicate',0)} = {d.get('exact_duplicate',0)+d.get('near_duplicate',0)} "
      f"(planted {planted['exact_dups']}+{planted['near_dups']} = {planted['exact_dups']+planted['near_dups']}); "
      f"dedup index {rep['dedup']['index_bytes']/1e6:.1f} MB for {rep['examples_written']} kept")
PY
  awk -v ts="$t_secs" -v tr="$t_rss" -v ds="$d_secs" -v dr="$d_rss" 'BEGIN {
    printf "   tuneline export hf: %6.2f s (median)  %6.0f MiB peak RSS (max)\n", ts, tr/1024
    printf "   duckdb to parquet:  %6.2f s (median)  %6.0f MiB peak RSS (max)\n", ds, dr/1024
    printf "   ratio tuneline/duckdb: time %.2f, RSS %.2f\n", ts/ds, tr/dr }'
done
