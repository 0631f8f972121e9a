#!/usr/bin/env bash
# `make run`: serve a demo publisher on 127.0.0.1:8000 (SQLite in ./demo-home).
# The first run creates the publisher home (authority, signing-service key and chain, log key,
# database) and prints an API key with scope `sign` once. Later runs reuse the home.
set -euo pipefail
cd "$(dirname "$0")/.."
prov=.venv/bin/prov
home=${PROVENANCE_DEMO_HOME:-demo-home}
# The demo's keys are encrypted with this passphrase; a real deployment sets its own secret
# (PROVENANCE_PASSPHRASE or PROVENANCE_PASSPHRASE_FILE) and keeps it out of the repository.
export PROVENANCE_PASSPHRASE=${PROVENANCE_PASSPHRASE:-demo-only-passphrase-not-for-production}

if [ ! -f "$home/settings.json" ]; then
  $prov init --home "$home" --name "Demo Reviews" --base-url https://demo-reviews.example
  key=$($prov serve create-key --home "$home" --scope sign --name demo 2>/dev/null)
  printf '%s\n' "$key" > "$home/demo-api-key"
  chmod 600 "$home/demo-api-key"
  printf '\n\033[1mYour API key (scope sign), shown once and saved in %s/demo-api-key:\033[0m\n%s\n\n' \
    "$home" "$key"
else
  printf 'Reusing the publisher in %s (API key in %s/demo-api-key).\n' "$home" "$home"
fi
# The demo review site at /demo signs for anyone who asks, without an API key: demo homes only.
export PROVENANCE_DEMO=1
printf 'Serving on http://127.0.0.1:8000: verify at /, write a demo review at /demo, API docs at /docs. Ctrl-C stops.\n'
exec $prov serve --home "$home" --host 127.0.0.1 --port 8000
