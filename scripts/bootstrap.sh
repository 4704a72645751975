#!/usr/bin/env bash
# Create .venv at the repository root if missing and install the project with its test tools
# and its optional supervision extra (the interop tests need it); ray too where a wheel exists
# (the batch-on-Ray test needs it, and skips with the reason where it cannot be installed).
# Safe to run again: the install is skipped while pyproject.toml is unchanged since the last one.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null 2>&1 || python=python3
if [ ! -x .venv/bin/python ]; then
  "$python" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required, found " + sys.version.split()[0])'
  "$python" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[test,supervision]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi
if ! .venv/bin/python -c "import ray" >/dev/null 2>&1; then
  .venv/bin/python -m pip install --quiet "ray>=2.9" \
    || echo "scripts/bootstrap.sh: could not install ray; the Ray batch test will be skipped" >&2
fi
