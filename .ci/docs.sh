#!/usr/bin/env bash
# Docs CI step: regenerate the CLI reference from the typer app, then build the
# mkdocs-material + mkdocstrings site with --strict (any warning fails the build).
#   usage: .ci/docs.sh   (in an environment with `pip install -e ".[docs]"`)
set -euo pipefail
cd "$(dirname "$0")/.."
python -m typer ssbml.cli utils docs --name ssbml --title "Command line" --output docs/cli.md
if ! git diff --quiet -- docs/cli.md 2>/dev/null; then
  echo "note: docs/cli.md was out of date with the CLI; regenerated (commit it)" >&2
fi
python -m mkdocs build --strict --site-dir "${SITE_DIR:-site}"
echo "docs built in ${SITE_DIR:-site}/"
