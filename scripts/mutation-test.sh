#!/usr/bin/env bash
# Mutation testing of the science core, the search and the evaluation (mutmut 3):
# every mutant is a plausible single-line bug (a flipped comparison, a changed
# constant, a dropped argument); a mutant the tests do not catch ("survived") marks
# code whose behaviour no test pins down. Not part of CI: it runs the selected tests
# once per mutant (tens of minutes). Runs in a temporary copy of the working tree,
# so the checkout gets no mutants/ folder.
#
#   bash scripts/mutation-test.sh                       # modules and tests in pyproject
#   MODULES="deepstruc_gui/science/fitting.py" \
#   TESTS="tests/test_fitting.py" bash scripts/mutation-test.sh
#   JOBS=2 KEEP=1 bash scripts/mutation-test.sh         # 2 workers; keep the copy
#
# Prints the counts, the score (killed / mutants the tests reach) and every
# surviving mutant's diff. `mutmut show NAME` in the kept copy shows one.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
MUTMUT="$(dirname "$PY")/mutmut"
[ -x "$MUTMUT" ] || { echo "mutation-test: $MUTMUT missing: pip install -e '.[dev]'" >&2; exit 2; }
JOBS="${JOBS:-1}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/deepstruc-mutation.XXXXXX")"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$WORK"' EXIT
# the working tree as it is (tracked and new files), without ignored ones
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$WORK" 2>/dev/null || true
cd "$WORK"

if [ -n "${MODULES:-}" ] || [ -n "${TESTS:-}" ]; then
  "$PY" - "${MODULES:-}" "${TESTS:-}" <<'PY'
import re
import sys
from pathlib import Path

modules, tests = (a.split() for a in sys.argv[1:3])
path = Path("pyproject.toml")
text = path.read_text()
def toml_list(items):
    return "[" + ", ".join(f'"{x}"' for x in items) + "]"
if modules:
    text = re.sub(r"(?m)^only_mutate = .*$", f"only_mutate = {toml_list(modules)}", text)
if tests:
    text = re.sub(
        r"(?ms)^pytest_add_cli_args_test_selection = \[.*?\]",
        f"pytest_add_cli_args_test_selection = {toml_list(tests)}",
        text,
    )
path.write_text(text)
PY
fi
grep -A1 -E "^(only_mutate|pytest_add_cli_args_test_selection)" pyproject.toml | sed 's/^/mutation-test: /'

# the editable install points at the main checkout: mutmut puts mutants/ first on
# sys.path; PYTHONPATH must not point elsewhere
unset PYTHONPATH
export OMP_NUM_THREADS=1 QT_QPA_PLATFORM=offscreen
start=$(date +%s)
"$MUTMUT" run --max-children "$JOBS" > run.log 2>&1 || { tail -c 3000 run.log >&2; exit 1; }
"$MUTMUT" export-cicd-stats >/dev/null
"$PY" - "$(( $(date +%s) - start ))" <<'PY'
import json
import sys

s = json.load(open("mutants/mutmut-cicd-stats.json"))
reached = s["killed"] + s["survived"] + s.get("timeout", 0) + s.get("suspicious", 0)
print(f"mutation-test: {s['total']} mutants in {sys.argv[1]} s: killed {s['killed']}, "
      f"survived {s['survived']}, no test reaches {s['no_tests']}, "
      f"timeout {s.get('timeout', 0)}, suspicious {s.get('suspicious', 0)}")
if reached:
    print(f"mutation-test: score {s['killed'] / reached:.1%} of the mutants the tests reach, "
          f"{s['killed'] / max(s['total'], 1):.1%} of all")
PY
echo "mutation-test: surviving mutants:"
"$MUTMUT" results 2>/dev/null | grep -E "survived|no tests" | sed 's/^/  /' || true
if [ -n "${SHOW:-}" ]; then
  for name in $("$MUTMUT" results 2>/dev/null | awk -F: '/survived/ {print $1}'); do
    "$MUTMUT" show "$name" 2>/dev/null | sed -n '1,12p'
  done
fi
[ -z "${KEEP:-}" ] || echo "mutation-test: kept $WORK"
