#!/usr/bin/env sh
# Regenerate docs/cli.md from the CLI's own --help (tests/test_docs.py fails when it is stale).
set -eu
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
"$PY" -m typer inhouse.cli.app utils docs --name inhouse --title "inhouse CLI reference" --output docs/cli.md
