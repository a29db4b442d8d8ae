# Sourced by the end-to-end scripts after they set `suite` (the name failures start with): the project's
# environment, and the helpers they share.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
source "$root/launch/common.sh"
python="$root/.venv/bin/python"

fail() { echo "$suite: FAILED: $*" >&2; exit 1; }

# expect_user_error WHAT PATTERN COMMAND...: the command ends with exit code 2 and one line on stderr that
# contains PATTERN (the file, key or value at fault).
expect_user_error() {
  local what="$1" pattern="$2"; shift 2
  set +e; "$@" > "$work/err.out" 2> "$work/err.txt"; local rc=$?; set -e
  [ $rc -eq 2 ] || { cat "$work/err.txt"; fail "$what: exit code $rc, expected 2"; }
  grep -q -- "$pattern" "$work/err.txt" || { cat "$work/err.txt"; fail "$what: message lacks '$pattern'"; }
  [ "$(grep -c . "$work/err.txt")" -eq 1 ] || { cat "$work/err.txt"; fail "$what: not one line"; }
}

# expect_run_error WHAT PATTERN COMMAND...: as expect_user_error, for a run that logs progress on stderr before it
# fails: exit code 2, exactly one "ganleaks: error:" line, containing PATTERN, and no crash report or trace.
expect_run_error() {
  local what="$1" pattern="$2"; shift 2
  set +e; "$@" > "$work/err.out" 2> "$work/err.txt"; local rc=$?; set -e
  [ $rc -eq 2 ] || { cat "$work/err.txt"; fail "$what: exit code $rc, expected 2"; }
  [ "$(grep -c "^ganleaks: error: .*$pattern" "$work/err.txt")" -eq 1 ] \
    || { cat "$work/err.txt"; fail "$what: not one 'ganleaks: error:' line with '$pattern'"; }
  ! grep -Eq "frame #|terminate called|Signal:|exited on signal|internal error" "$work/err.txt" \
    || { cat "$work/err.txt"; fail "$what: a crash or trace"; }
}

# expect_resumed CONFIG: a rerun of a finished run on 2 ranks recomputes nothing (every job of the plan already done).
expect_resumed() {
  "$root/launch/mpi" -n 2 "$bin" run "$1" > "$work/rerun.log" 2>&1 || { cat "$work/rerun.log"; fail "rerun"; }
  local total
  total=$("$bin" plan "$1" | sed -n 's/^\([0-9]*\) jobs for.*/\1/p')
  grep -q "$total already done" "$work/rerun.log" || { cat "$work/rerun.log"; fail "rerun did not skip the $total finished jobs"; }
}
