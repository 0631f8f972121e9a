#!/usr/bin/env bash
# A narrated demo of the prov command: make a key, sign a review, verify it, tamper, see it fail.
set -euo pipefail
cd "$(dirname "$0")/.."
prov=.venv/bin/prov
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "1. Make a signing key pair (P-256; unencrypted here only because this is a throwaway demo)"
$prov key generate --out "$work/author.key" --unencrypted

say "2. Write a review and sign it under the text profile (survives copy and paste)"
printf 'The desk lamp is sturdy and bright.\nFive stars, would buy again.\n' > "$work/review.txt"
cat "$work/review.txt"
$prov sign "$work/review.txt" --key "$work/author.key" --text --claim verifiedPurchase=true

say "3. Verify it with the author's public key"
$prov verify "$work/review.txt" --key "$work/author.key.pub"

say "4. Change one word (five -> four) and verify again: it must fail"
sed -i 's/Five stars/Four stars/' "$work/review.txt"
cat "$work/review.txt"
if $prov verify "$work/review.txt" --key "$work/author.key.pub"; then
  echo "the tampered review verified: this is a bug" >&2
  exit 1
fi
say "The change was detected (exit code 1, digest.mismatch)."
