#!/usr/bin/env bash
# Builds Postern and starts it in the foreground on 127.0.0.1:2525 (config/ → etc/, mail → data/maildir).
# Options after the script name go to bin/postern (--etc DIR, --data DIR, --deploy DIR).
set -euo pipefail
cd "$(dirname "$0")"
mvn -B -q -DskipTests install
exec distribution/target/postern/bin/postern "$@"
