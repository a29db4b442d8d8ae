#!/usr/bin/env bash
# End to end, diffusion models as victims (issue #21) through the real executable on real Open MPI ranks:
#  1. a tiny DDPM and DCGAN on the same splits, every setting that applies to each, calibrated and with shadow
#     models, on 1 and 2 ranks: both results.h5 agree bit for bit, and the leak table has each model's rows;
#  2. a rerun resumes (nothing recomputed);
#  3. a diffusion setting asked of a GAN alone ends with one line naming the key and exit code 2.
# usage: run_diffusion.sh GANLEAKS_BINARY WORK_DIR
set -euo pipefail
bin="$1"; work="$2"
suite="e2e diffusion"
source "$(dirname "$0")/common.sh"
rm -rf "$work"; mkdir -p "$work"
config_for() {  # config_for NAME [sed expression]
  sed -e "s#RESULTS_DIR#$work/results#" -e "s/^name = \"diffusion\"/name = \"$1\"/" -e "${2:-s/^//}" \
    "$here/diffusion.toml" > "$work/$1.toml"
  echo "$work/$1.toml"
}

echo "== DDPM and DCGAN on 1 and 2 ranks"
one=$(config_for one); two=$(config_for two)
"$root/launch/mpi" -n 1 "$bin" run "$one" > "$work/one.log" 2>&1 || { cat "$work/one.log"; fail "1-rank run"; }
"$root/launch/mpi" -n 2 "$bin" run "$two" > "$work/two.log" 2>&1 || { cat "$work/two.log"; fail "2-rank run"; }
for row in "| ddpm | loss | no |" "| ddpm | secmi | yes |" "| ddpm | pia | no |" "| ddpm | fbb | yes |" \
           "| ddpm | mc | no |" "| dcgan | dis | yes |" "| dcgan | fbb | no |"; do
  grep -qF "$row" "$work/two.log" || { cat "$work/two.log"; fail "no row '$row' in the leak table"; }
done
! grep -qF "| ddpm | dis |" "$work/two.log" || fail "dis was run against the DDPM"
"$python" "$root/tests/tools/compare_h5.py" "$work/results/one/results.h5" "$work/results/two/results.h5" \
  --ignore experiment,config \
  || fail "1 and 2 ranks differ"

echo "== resume"
expect_resumed "$two"

echo "== bad input: exit code 2, one line naming the key"
bad=$(config_for bad 's/^name = \["ddpm", "dcgan"\]/name = "dcgan"/; s/^settings = .*/settings = ["fbb", "secmi"]/')
expect_user_error "secmi against a GAN" 'attack.settings lists "secmi", which applies to no model of model.name' \
  "$root/launch/mpi" -n 2 "$bin" run "$bad"
echo "e2e diffusion: all checks passed"
