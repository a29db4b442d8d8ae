#!/usr/bin/env bash
# Submits a ganleaks sweep as a Slurm job array of N slices plus the job that merges them:
#
#   slurm/submit-array.sh CONFIG N [sbatch options] [-- ganleaks run options]
#   slurm/submit-array.sh configs/demo.toml 8 --ntasks=2 --time=04:00:00 --account=myproject
#   slurm/submit-array.sh configs/demo.toml 8 --array=0-7%2 --ntasks=2    # at most 2 slices at a time
#
# Array task i (--array=0-(N-1), output ganleaks-array-<array id>_<i>.out) runs
# `ganleaks run CONFIG --slice i/N` (slurm/ganleaks-array.sbatch); the merge job (slurm/ganleaks-merge.sbatch,
# output ganleaks-merge-<id>.out) waits for all of them (--dependency=afterok:<array id>), is cancelled if
# one fails (--kill-on-invalid-dep=yes), and runs `ganleaks run CONFIG`, which writes results.h5 and the
# report. The sbatch options apply to both submissions (an --array option only to the array). Prints both job
# ids; watch them with `squeue --me`, `scontrol show job <id>`. Run it from the checkout (or anywhere: the
# scripts are found beside this one; CONFIG and the config's results_dir are relative to where you run it).
set -euo pipefail

usage="usage: slurm/submit-array.sh CONFIG N [sbatch options] [-- ganleaks run options]"
[ $# -ge 2 ] || { echo "$usage" >&2; exit 2; }
config="$1" slices="$2"
shift 2
[[ "$slices" =~ ^[1-9][0-9]*$ ]] || { echo "submit-array.sh: N must be a positive number of slices, got '$slices'; $usage" >&2; exit 2; }
[ -f "$config" ] || { echo "submit-array.sh: config $config not found" >&2; exit 2; }
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The jobs find the checkout through this even when submitted from elsewhere.
export GANLEAKS_ROOT="${GANLEAKS_ROOT:-$(cd "$here/.." && pwd)}"

array="--array=0-$((slices - 1))"
sbatch_options=() run_options=()
while [ $# -gt 0 ]; do
  case "$1" in
    --) shift; run_options=("$@"); break ;;
    --array=*) array="$1" ;;
    -a|--array) [ $# -ge 2 ] || { echo "submit-array.sh: $1 needs a value" >&2; exit 2; }; array="--array=$2"; shift ;;
    *) sbatch_options+=("$1") ;;
  esac
  shift
done

array_job=$(sbatch --parsable "$array" "${sbatch_options[@]}" "$here/ganleaks-array.sbatch" "$config" "$slices" "${run_options[@]}")
array_job="${array_job%%;*}"  # "id;cluster" on federated clusters
merge_job=$(sbatch --parsable --dependency="afterok:$array_job" --kill-on-invalid-dep=yes "${sbatch_options[@]}" \
  "$here/ganleaks-merge.sbatch" "$config" "${run_options[@]}") ||
  { echo "submit-array.sh: the merge job was not submitted; cancelling array job $array_job" >&2; scancel "$array_job"; exit 1; }
merge_job="${merge_job%%;*}"
echo "array job $array_job: $slices slices of $config (${array#--array=})"
echo "merge job $merge_job: runs after every slice completed"
