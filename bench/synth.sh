#!/usr/bin/env bash
# Synth throughput: tuneline's runner versus a minimal direct client loop
# sending the same requests to the same real ollama (the project's own, with
# the tiny random-weight model), at parallel 1, 2 and 4, in one run.
#
# usage: bench/synth.sh [-chunks N] [-levels 1,2,4]
set -euo pipefail
cd "$(dirname "$0")/.."
go run ./bench/synthbench -shared "${SHARED:-$PWD/../shared}" "$@"
