#!/usr/bin/env bash
# Install the Debian packages the course needs, when they are missing:
#   bubblewrap   the sandbox that student code runs in at grading time (grader/sandbox.py)
#   postgresql   only for the test that grades a class against a real PostgreSQL gradebook
#   chromium     headless browser that checks the built book (tests/test_book_browser.py)
# Run as root (CI and course servers) or with sudo; without either it prints what to install and fails.
set -euo pipefail

declare -A need_for=(
  [bwrap]=bubblewrap
  [prlimit]=util-linux
  [/usr/lib/postgresql]=postgresql
  [chromium]=chromium
)
missing=()
for probe in "${!need_for[@]}"; do
  if [[ $probe == /* ]]; then [[ -e $probe ]] || missing+=("${need_for[$probe]}")
  else command -v "$probe" >/dev/null || missing+=("${need_for[$probe]}"); fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -eq 0 ]]; then sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo=(sudo)
else
  echo "missing Debian packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
