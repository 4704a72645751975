#!/usr/bin/env bash
# The test command: set up .venv if needed, lint, then run the whole test suite.
# Extra arguments go to pytest (for example: scripts/test.sh -k config -x).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/bootstrap.sh
# The --display test needs a virtual X display; without Xvfb it is skipped with a reason.
if ! command -v Xvfb >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  timeout 300 apt-get install -y -qq xvfb >/dev/null 2>&1 || echo "scripts/test.sh: could not install xvfb; display test will be skipped" >&2
fi
# The mqtt sink's tests start a real Mosquitto broker on 127.0.0.1; without it they are skipped with a reason.
if ! command -v mosquitto >/dev/null 2>&1 && [ ! -x /usr/sbin/mosquitto ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  { timeout 300 apt-get install -y -qq mosquitto >/dev/null 2>&1 \
    || { timeout 300 apt-get update -qq >/dev/null 2>&1 && timeout 300 apt-get install -y -qq mosquitto >/dev/null 2>&1; }; } \
    || echo "scripts/test.sh: could not install mosquitto; the MQTT sink tests will be skipped" >&2
fi
.venv/bin/python -m ruff check .
status=0
.venv/bin/python -m pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
  # pytest's "no tests collected": a selection that matched nothing is not a failure of the code.
  echo "scripts/test.sh: pytest collected no tests (exit 5); treating as success" >&2
  status=0
fi
exit "$status"
