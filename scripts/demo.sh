#!/usr/bin/env bash
# The end-to-end demo. The pipeline subcommands land one by one; until then this runs what exists.
set -euo pipefail
cd "$(dirname "$0")/.."
CSM=.build/release/csm
$CSM --help
echo
echo "[demo] the preprocess → train → generate → merge pipeline is not implemented yet; see README.md"
