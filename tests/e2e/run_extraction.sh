#!/usr/bin/env bash
# End to end, model extraction (Stealing GANs) through the real executable on real Open MPI ranks:
#  1. a tiny extraction experiment (every method, prior and defense, the transfer study) on 1 and 2 ranks: each
#     results.h5 follows the contract, every FID agrees with pytorch-fid and every JS with scipy on the stored
#     statistics, and the two runs have bitwise-identical numbers and answers;
#  2. a rerun resumes (nothing recomputed) and the classifier is trained once per setting (cache);
#  3. bad extraction input ends with one line naming the cause and exit code 2.
# usage: run_extraction.sh GANLEAKS_BINARY WORK_DIR
set -euo pipefail
bin="$1"; work="$2"
suite="e2e extraction"
source "$(dirname "$0")/common.sh"
rm -rf "$work"; mkdir -p "$work"
config_for() {  # config_for NAME RESULTS_DIR [sed expression]
  sed -e "s#RESULTS_DIR#$2#" -e "${3:-s/^//}" "$here/extraction.toml" > "$work/$1.toml"
  echo "$work/$1.toml"
}

echo "== extraction on 1 and 2 ranks"
one=$(config_for one "$work/results")
two=$(config_for two "$work/results" 's/^name = "steal"/name = "steal-two"/')
"$root/launch/mpi" -n 1 "$bin" run "$one" > "$work/one.log" 2>&1 || { cat "$work/one.log"; fail "1-rank run"; }
"$root/launch/mpi" -n 2 "$bin" run "$two" > "$work/two.log" 2>&1 || { cat "$work/two.log"; fail "2-rank run"; }
grep -q "Fidelity: FID(attack, target)" "$work/two.log" || { cat "$work/two.log"; fail "no extraction table printed"; }
"$python" "$here/check_extraction.py" "$work/results/steal/results.h5" "$work/results/steal-two/results.h5"
for f in report.md report.csv report.tex plots/fid_vs_queries.dat; do
  [ -s "$work/results/steal-two/$f" ] || fail "missing $f"
done
# Both experiments share results_dir, so the second found the classifier in the cache.
[ "$(ls -d "$work"/results/cache/classifier-* | wc -l)" -eq 1 ] || fail "classifier not shared through the cache"
grep -q "classifier: training" "$work/results/steal-two/logs/rank-0.log" "$work/results/steal-two/logs/rank-1.log" \
  && fail "the second experiment trained the classifier again"

echo "== resume"
expect_resumed "$two"

echo "== bad input: exit code 2, one line naming the cause"
noscript=$(config_for noscript "$work/bad" 's#^\[features\]#[features]\nextractor = "torchscript"\ntorchscript_model = "/nonexistent/inception.pt"#')
expect_user_error "missing TorchScript feature network" "/nonexistent/inception.pt" "$root/launch/mpi" -n 2 "$bin" run "$noscript"
toofew=$(config_for toofew "$work/bad" 's/^target_train_size = 240/target_train_size = 40000/')
expect_user_error "too few records of the target classes" "extraction.target_train_size = 40000" "$root/launch/mpi" -n 2 "$bin" run "$toofew"
echo "e2e extraction: all checks passed"
