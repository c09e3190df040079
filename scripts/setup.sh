#!/usr/bin/env bash
# Set-up shared by `make run` and `make test`: Python 3.10 venv, pinned packages, the widget's npm
# packages and the spaCy pipeline. Each step is skipped when its inputs have not changed.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
is_python310() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1; }

find_python310() {
  local candidate version path
  for candidate in python3.10 python3 python; do
    path=$(command -v "$candidate" 2>/dev/null) || continue
    if is_python310 "$path"; then echo "$path"; return 0; fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.[0-9]+)?$' | sort -t. -k3 -nr); do
      path=$(PYENV_VERSION="$version" pyenv which python 2>/dev/null) || continue
      if is_python310 "$path"; then echo "$path"; return 0; fi
    done
  fi
  return 1
}

if [ ! -x "$VENV/bin/python" ] || ! is_python310 "$VENV/bin/python"; then
  if ! PYTHON=$(find_python310); then
    cat >&2 <<'MSG'
Python 3.10 was not found (Rasa 3.6 does not run on 3.11 or newer).
Install it, then run this again, for example:
  pyenv install 3.10.13            # with pyenv; it is then found automatically
  sudo apt-get install python3.10 python3.10-venv   # Debian/Ubuntu with 3.10 packages
  brew install python@3.10         # macOS
MSG
    exit 1
  fi
  echo "Creating $VENV with $PYTHON"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
fi

lock_hash=$(sha256sum requirements.lock | cut -d' ' -f1)
if [ "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" != "$lock_hash" ]; then
  echo "Installing pinned Python packages (requirements.lock)"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -r requirements.lock
  echo "$lock_hash" > "$VENV/.requirements.sha256"
fi

if [ -f web/package-lock.json ]; then
  npm_hash=$(sha256sum web/package-lock.json | cut -d' ' -f1)
  if [ "$(cat web/node_modules/.lock.sha256 2>/dev/null)" != "$npm_hash" ]; then
    command -v npm >/dev/null 2>&1 || { echo "npm is needed for the chat widget: install Node.js 18+ and npm." >&2; exit 1; }
    echo "Installing the widget's npm packages (web/package-lock.json)"
    npm ci --prefix web --no-audit --no-fund --loglevel=error
    echo "$npm_hash" > web/node_modules/.lock.sha256
  fi
fi

"$VENV/bin/python" -m bot.nlu.spacy_pipeline var/spacy/en_kratom_lookup
