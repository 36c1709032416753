#!/bin/sh
# The container's start: import the F1 demo on first start when its CSVs are mounted and the database is
# the embedded DuckDB default, then serve. Listening on 0.0.0.0 needs DATAVOX_API_TOKEN: without it
# `datavox serve` refuses to start and says so.
set -eu

if [ -z "${DATAVOX_DATABASE_URL:-}" ] && [ -n "${DATAVOX_DEMO_F1_PATH:-}" ] && [ -d "$DATAVOX_DEMO_F1_PATH" ]; then
    datavox demo --if-missing
fi
exec datavox serve "$@"
