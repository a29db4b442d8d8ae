#!/usr/bin/env bash
# Every shipped config (configs/*.toml, configs/paper/*.toml) is valid for this build: `ganleaks plan` reads
# it, expands its job graph and exits 0, in an empty folder so that no earlier results count.
# Usage: check_configs.sh GANLEAKS WORKDIR
set -euo pipefail
suite=configs
bin="$1"; work="$2"
source "$(dirname "$0")/common.sh"
rm -rf "$work" && mkdir -p "$work" && cd "$work"
count=0
for config in "$root"/configs/*.toml "$root"/configs/paper/*.toml; do
  set +e; "$bin" plan --no-estimate "$config" > plan.txt 2>&1; rc=$?; set -e
  [ $rc -eq 0 ] || { cat plan.txt; fail "${config#$root/}: plan exited $rc"; }
  grep -Eq '^[1-9][0-9]* jobs for experiment' plan.txt || { cat plan.txt; fail "${config#$root/}: no job count"; }
  count=$((count + 1))
done
[ $count -ge 12 ] || fail "found only $count configs"
[ -z "$(ls -A "$work" | grep -v '^plan.txt$')" ] || fail "plan wrote into the working folder: $(ls -A "$work")"
echo "$suite: $count configs plan"
