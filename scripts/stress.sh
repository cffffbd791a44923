#!/usr/bin/env bash
# `npm run test:stress [-- RUNS]`: runs `bash scripts/test.sh` RUNS times (default 3) on a deliberately
# busy machine (two CPU burners and scripts/stress-load.ts's nspawn machines), to find tests that only
# pass on an idle one. Logs: .stress-results/run-K.log; exits non-zero if any run failed. Needs root.
# Design notes: docs/architecture.md, "scripts/stress.sh".
set -uo pipefail
cd "$(dirname "$0")/.."

runs="${1:-${STRESS_RUNS:-3}}"
bound="${STRESS_MAX_SECONDS:-14400}" # the load never outlives this, even if this script is killed
out=.stress-results
rm -rf "$out" && mkdir -p "$out"

bash scripts/install-deps.sh >/dev/null || { echo "stress: install-deps failed"; exit 1; }

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for _ in 1 2; do
  timeout "$bound" bash -c 'while :; do :; done' &
  pids+=($!)
done
node --import tsx scripts/stress-load.ts "$bound" >"$out/load.log" 2>&1 &
pids+=($!)
echo "stress: $runs runs of bash scripts/test.sh; load: 2 busy loops (PIDs ${pids[0]} ${pids[1]}), cluster booter (PID ${pids[2]}, log $out/load.log)"

failed_runs=0
summary=()
for k in $(seq 1 "$runs"); do
  t0=$(date +%s)
  bash scripts/test.sh >"$out/run-$k.log" 2>&1
  rc=$?
  secs=$(($(date +%s) - t0))
  mkdir -p "$out/run-$k" && cp .test-results/*.json "$out/run-$k/" 2>/dev/null
  line="run $k: $(tail -n 1 "$out/run-$k.log") (exit $rc, ${secs} s)"
  failing=$(node -e '
    const fs = require("node:fs");
    for (const f of process.argv.slice(1)) {
      const r = JSON.parse(fs.readFileSync(f, "utf8"));
      for (const s of r.testResults ?? []) {
        const bad = (s.assertionResults ?? []).filter((a) => a.status === "failed");
        for (const a of bad) console.log(`  FAILED ${s.name.replace(process.cwd() + "/", "")} > ${a.fullName}`);
        if (s.status === "failed" && bad.length === 0) console.log(`  FAILED ${s.name.replace(process.cwd() + "/", "")} (${(s.message ?? "").split("\n")[0]})`);
      }
    }' "$out/run-$k"/*.json 2>/dev/null)
  echo "$line"
  [ -n "$failing" ] && echo "$failing"
  summary+=("$line")
  [ "$rc" -eq 0 ] || failed_runs=$((failed_runs + 1))
done

echo "stress: $((runs - failed_runs)) of $runs runs passed under load"
[ "$failed_runs" -eq 0 ]
