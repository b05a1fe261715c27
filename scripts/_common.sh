# Shared by scripts/run-local and scripts/test: a virtualenv kept in step with requirements.txt,
# and a clear stop when the Firestore emulator cannot run here.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

die() { echo "error: $*" >&2; exit 1; }

ensure_venv() {
  local py
  py="$(command -v python3.11 || command -v python3 || true)"
  [ -n "$py" ] || die "python3 (3.11 or newer) is required"
  # An older Python would only fail later, inside pip, with a resolver error about hashes.
  "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
    || die "Python 3.11 or newer is required; $py is $("$py" --version 2>&1 || echo "unknown")"
  local stamp="$VENV/.requirements.sha256"
  local want
  want="$(cat "$ROOT/requirements.txt" "$ROOT/functions/requirements.txt" | sha256sum | cut -d' ' -f1)"
  if [ ! -x "$VENV/bin/python" ]; then
    echo "creating virtualenv in .venv" >&2
    "$py" -m venv "$VENV"
  fi
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "installing requirements into .venv" >&2
    # requirements.txt pins every package with its hashes (scripts/lock), so pip checks each
    # download against them. --no-deps: the lock already lists every dependency, and pip's own
    # resolving fails in hash mode once a dependency asked for with an extra (pytest-cov's
    # coverage[toml]) has a release newer than the pin.
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes \
      --no-deps -r "$ROOT/requirements.txt"
    echo "$want" > "$stamp"
  fi
}

# The infra checks' own virtualenv (checkov, terraform fmt): their dependencies never meet the
# functions'. It lives in the user's cache, named by the lock's hash, so worktrees and CI runs on
# one machine share it (a first install takes minutes, a check 15 s); a changed lock makes a new
# one. Set INFRA_VENV to put it elsewhere.
ensure_infra_tools() {
  local want
  want="$(sha256sum "$ROOT/scripts/infra-tools.txt" | cut -d' ' -f1)"
  INFRA_VENV="${INFRA_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/booking-infra-tools/${want:0:16}}"
  local stamp="$INFRA_VENV/.requirements.sha256"
  if [ ! -x "$INFRA_VENV/bin/python" ]; then
    mkdir -p "$(dirname "$INFRA_VENV")"
    "$(command -v python3.11 || command -v python3)" -m venv "$INFRA_VENV"
  fi
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "installing checkov and terraform into .venv-infra" >&2
    "$INFRA_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes \
      --no-deps -r "$ROOT/scripts/infra-tools.txt"
    echo "$want" > "$stamp"
  fi
}

check_emulator() {
  if [ -n "${FIRESTORE_EMULATOR_HOST:-}" ]; then return 0; fi
  command -v java >/dev/null 2>&1 \
    || die "Java is missing: the Firestore emulator needs a Java runtime (apt-get install default-jre-headless)"
  command -v gcloud >/dev/null 2>&1 \
    || die "the Google Cloud CLI (gcloud) is missing: install it with the cloud-firestore-emulator component"
  local sdk
  sdk="$(gcloud info --format='value(installation.sdk_root)' 2>/dev/null || true)"
  if [ -n "$sdk" ] && [ ! -d "$sdk/platform/cloud-firestore-emulator" ]; then
    die "the Firestore emulator is missing: gcloud components install cloud-firestore-emulator (or apt-get install google-cloud-cli-firestore-emulator)"
  fi
}

# The browser tests drive Debian's chromium (Playwright's own browser builds cannot be fetched
# here, and the distribution's is the one CI machines can install). CHROMIUM names another
# binary (tests/browser/conftest.py reads it too).
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
export CHROMIUM

ensure_chromium() {
  if [ -x "$CHROMIUM" ]; then return 0; fi
  echo "installing chromium (apt) for the browser tests" >&2
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "chromium is missing: apt-get install chromium (as root)"
    sudo="sudo"
  fi
  $sudo apt-get update -qq >&2 \
    && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >&2 \
    || die "could not install chromium: apt-get install chromium"
}

# Whether pytest, given these arguments, would run any browser test: asked of pytest itself,
# since `-k walks`, `-m ...`, a node id or no path at all (testpaths) can all select them.
# The forced verbosity after the caller's -v / -q makes it list node ids, one a line.
selects_browser_tests() {
  local listed
  listed="$("$VENV/bin/python" -m pytest --collect-only "$@" --verbosity=-1 2>/dev/null || true)"
  grep -q '^tests/browser/' <<<"$listed"
}
