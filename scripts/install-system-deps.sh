#!/usr/bin/env bash
# Installs the Debian packages Coauthor needs, if any are missing. Idempotent.
#
#   scripts/install-system-deps.sh [runtime|test|bench]     (default: test)
#
# runtime: a font for rendered pages, and the libraries WeasyPrint will need for PDF reports.
# test:    runtime + PostgreSQL (initdb/pg_ctl) + Chromium (browser tests).
# bench:   test + wrk (the load generator of benchmarks/bench_live.py).
#
# As root, missing packages are installed with apt-get (after one `apt-get update`).
# Otherwise the script prints what to install; with CI=true it then exits 1.
set -euo pipefail

RUNTIME_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)
TEST_PACKAGES=(postgresql chromium)
BENCH_PACKAGES=(wrk)


has_postgres_server() {
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    return 0
  fi
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}

dpkg_installed() {
  command -v dpkg-query >/dev/null \
    && dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

is_present() {
  case "$1" in
    postgresql) has_postgres_server ;;
    chromium) [ -x /usr/bin/chromium ] ;;
    *) dpkg_installed "$1" ;;
  esac
}

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  local apt=(apt-get -o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0)
  echo "Installing Debian packages: $*"
  "${apt[@]}" update -qq
  "${apt[@]}" install -y -qq --no-install-recommends "$@" </dev/null
}

verify_installed() {
  local package
  for package in "$@"; do
    is_present "$package" || { echo "Still missing after install: $package" >&2; exit 1; }
  done
}

report_missing() {
  echo "Missing Debian packages: $*" >&2
  echo "Install them as root with: apt-get install --no-install-recommends $*" >&2
  if [ "${CI:-}" = "true" ]; then
    exit 1
  fi
}

main() {
  local profile="${1:-test}" wanted=() missing=() package
  case "$profile" in
    runtime) wanted=("${RUNTIME_PACKAGES[@]}") ;;
    test) wanted=("${RUNTIME_PACKAGES[@]}" "${TEST_PACKAGES[@]}") ;;
    bench) wanted=("${RUNTIME_PACKAGES[@]}" "${TEST_PACKAGES[@]}" "${BENCH_PACKAGES[@]}") ;;
    *) echo "usage: $0 [runtime|test|bench]" >&2; exit 2 ;;
  esac
  for package in "${wanted[@]}"; do
    is_present "$package" || missing+=("$package")
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    echo "System packages ($profile): all present"
  elif [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    apt_install "${missing[@]}"
    verify_installed "${missing[@]}"
  else
    report_missing "${missing[@]}"
  fi
}

main "$@"
