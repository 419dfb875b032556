#!/usr/bin/env bash
# `make test`: every stage in order, stopping at the first failure, and a ledger of wall time
# per stage printed at the end either way, so each change can see its share of the budget.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p _build
ledger=_build/test-ledger.tsv
: > "$ledger"
status=0
started=$(date +%s)

print_ledger() {
  echo
  echo "== make test: wall time per stage (budget: 40 min on 2 cores) =="
  printf '%-12s %9s  %s\n' stage seconds result
  awk -F'\t' '{printf "%-12s %9.1f  %s\n", $1, $2, $3}' "$ledger"
  printf '%-12s %9d\n' total "$(( $(date +%s) - started ))"
}
trap print_ledger EXIT

# Python and make are all the project may need: npm and npx are stubs that fail for every stage,
# so a fresh clone on a machine that has npm still proves the book builds without it.
no_npm=$PWD/_build/no-npm
mkdir -p "$no_npm"
for tool in npm npx; do
  printf '#!/bin/sh\necho "%s was called, but make book and make test must need only Python and make" >&2\nexit 127\n' \
    "$tool" > "$no_npm/$tool"
  chmod +x "$no_npm/$tool"
done
export PATH="$no_npm:$PATH"

for stage in install lint unit experiments book site lowest colab-like; do
  echo "== stage: $stage =="
  t0=$(date +%s.%N)
  make --no-print-directory "$stage"
  rc=$?
  t1=$(date +%s.%N)
  result=$([ "$rc" -eq 0 ] && echo ok || echo "FAILED (exit $rc)")
  printf '%s\t%s\t%s\n' "$stage" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" "$result" >> "$ledger"
  if [ "$rc" -ne 0 ]; then status=$rc; break; fi
done
exit "$status"
