#!/usr/bin/env bash
# Install everything the test suite needs (Debian packages + Python packages), start the
# services it uses (PostgreSQL on loopback for the history tests) and run the suite.
# Usage: bash scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

APT_PACKAGES=(
  golang-go golang-github-vmware-govmomi-dev   # vcsim (govmomi's vCenter simulator), built by tests/conftest.py
  libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core   # WeasyPrint
  poppler-utils                                # pdftoppm / pdftotext for report tests
  libxlsxwriter4                               # report.xlsx's fast writer (reporter/render/xlsx_native.py)
  postgresql                                   # history store on PostgreSQL
  openssl
  chromium                                     # headless screenshots of the HTML report (layout checks at 1280 / 390 px)
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "==> pip install -e .[test]"
python3 -m pip install -q --disable-pip-version-check -e '.[test]' 2>&1 | grep -v -E '^(WARNING|DEPRECATION)' || true

# PostgreSQL on a private loopback port, in a throwaway data directory.
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
PGDIR=""
cleanup() {
  if [ -n "$PGDIR" ] && [ -d "$PGDIR" ]; then
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$PGDIR"
  fi
}
trap cleanup EXIT
if [ -n "$PGBIN" ] && [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then
  PGDIR=$(mktemp -d /tmp/vcreport-pg.XXXXXX)
  chown postgres "$PGDIR"
  PGPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  runuser -u postgres -- "$PGBIN/initdb" -D "$PGDIR/data" -A trust -U postgres >/dev/null
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDIR/data" -o "-h 127.0.0.1 -p $PGPORT -k $PGDIR" -l "$PGDIR/log" -w start >/dev/null
  export VCREPORT_TEST_PG_URL="postgresql+psycopg2://postgres@127.0.0.1:$PGPORT/postgres"
  echo "==> PostgreSQL on 127.0.0.1:$PGPORT"
fi

# The suite must exercise the simulator and PostgreSQL here, not skip them.
export VCREPORT_REQUIRE_VCSIM=1

echo "==> mypy (strict, see [tool.mypy])"
python3 -m mypy
echo "==> ruff check"
python3 -m ruff check reporter tests benchmarks scripts

# Two worker processes (pytest-xdist; the CI machine has 2 cores), each test file whole in one of
# them: what a file must do to stay isolated is in tests/conftest.py's docstring. Extra arguments
# come last and win (e.g. `-n 0` runs everything in this process).
echo "==> pytest"
python3 -m pytest -q -n "${VCREPORT_TEST_WORKERS:-2}" --dist loadfile "$@"
