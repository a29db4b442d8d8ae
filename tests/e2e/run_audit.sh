#!/usr/bin/env bash
# End to end, the privacy audit (issue #20) through the real executable on real Open MPI ranks:
#  1. a tiny audit (non-private and DP, multi-run and one-run, inverted canaries, fbb and dis) on 1 and 2 ranks:
#     both results.h5 agree bit for bit, every model trained on what the audit says, and every bound agrees with
#     scipy recomputed from the stored scores (check_audit.py);
#  2. a rerun resumes (nothing recomputed);
#  3. a null audit (noise canaries, never trained on) with a ceiling above 0: every ε_LB is 0;
#  4. bad audit input ends with one line naming the key and exit code 2.
# usage: run_audit.sh GANLEAKS_BINARY WORK_DIR
set -euo pipefail
bin="$1"; work="$2"
suite="e2e audit"
source "$(dirname "$0")/common.sh"
rm -rf "$work"; mkdir -p "$work"
config_for() {  # config_for NAME [sed expression]
  sed -e "s#RESULTS_DIR#$work/results#" -e "s/^name = \"audit\"/name = \"$1\"/" -e "${2:-s/^//}" "$here/audit.toml" \
    > "$work/$1.toml"
  echo "$work/$1.toml"
}

echo "== audit on 1 and 2 ranks"
one=$(config_for one); two=$(config_for two)
"$root/launch/mpi" -n 1 "$bin" run "$one" > "$work/one.log" 2>&1 || { cat "$work/one.log"; fail "1-rank run"; }
"$root/launch/mpi" -n 2 "$bin" run "$two" > "$work/two.log" 2>&1 || { cat "$work/two.log"; fail "2-rank run"; }
grep -q "| victim | accountant ε" "$work/two.log" || { cat "$work/two.log"; fail "no audit table printed"; }
"$python" "$root/tests/tools/compare_h5.py" "$work/results/one/results.h5" "$work/results/two/results.h5" \
  --ignore experiment,config \
  || fail "1 and 2 ranks differ"
"$python" "$here/check_audit.py" "$work/results/two/results.h5"
for f in report.md report.csv; do [ -s "$work/results/two/$f" ] || fail "missing $f"; done

echo "== resume"
expect_resumed "$two"

echo "== null audit: canaries never trained on"
null=$(config_for null 's/^canary = "inverted"/canary = "noise"\ntrain_on_canaries = false/; s/^runs = 4/runs = 12/; s/^threshold_runs = 2/threshold_runs = 4/; s/^canaries = 8/canaries = 40/; s/^guesses_in = 2/guesses_in = 10/; s/^guesses_out = 2/guesses_out = 10/; s/^noise_multipliers = .*//; s/^settings = .*/settings = ["dis"]/')
"$root/launch/mpi" -n 2 "$bin" run "$null" > "$work/null.log" 2>&1 || { cat "$work/null.log"; fail "null audit"; }
"$python" "$here/check_audit.py" "$work/results/null/results.h5" --null

echo "== bad input: exit code 2, one line naming the key"
bad=$(config_for bad 's/^threshold_runs = 2/threshold_runs = 4/')
expect_user_error "threshold runs leave none to count" "audit.threshold_runs = 4 must be below audit.runs = 4" \
  "$root/launch/mpi" -n 2 "$bin" run "$bad"
echo "e2e audit: all checks passed"
