#!/usr/bin/env bash
# Installs what geoplan needs, only what is missing.
#   scripts/deps.sh build   - to build and run: GDAL, PROJ, libclang, the
#                             label font, and MapLibre GL JS (npm, in web/)
#   scripts/deps.sh test    - also what the tests need: PostGIS, gdal-bin,
#                             Chromium (Debian), poppler-utils, xmllint, HAProxy and Playwright (npm)
set -euo pipefail
cd "$(dirname "$0")/.."
want=(libgdal-dev libclang-dev pkg-config fonts-dejavu-core)
command -v node >/dev/null && command -v npm >/dev/null || want+=(nodejs npm)
if [ "${1:-build}" = test ]; then
  want+=(gdal-bin chromium curl)
  # poppler-utils: tests/report.rs reads the PDFs back (pdftotext, pdffonts, pdftoppm).
  want+=(poppler-utils)
  # libxml2-utils: xmllint validates the OGC XML against the official schemas.
  want+=(libxml2-utils)
  # haproxy: the load balancer tests/multi_instance.rs puts in front of
  # two geoplan instances over one PostGIS.
  want+=(haproxy)
  # Real QGIS (3.22 on bookworm) for tests/qgis.rs: PyQGIS, headless.
  want+=(python3-qgis qgis-providers)
  # The Python test clients (OWSLib) live in a venv; Debian's python3 needs
  # python3-venv for that (a pyenv/other python brings its own).
  python3 -c 'import ensurepip' 2>/dev/null || want+=(python3-venv)
  # PostGIS for the PostgreSQL major version on this machine (15 on bookworm).
  pgv=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)
  want+=("postgresql-${pgv:-15}" "postgresql-${pgv:-15}-postgis-3")
fi
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# MapLibre GL JS (and, for tests, playwright-core) from the npm registry,
# pinned by web/package-lock.json; geoplan serves them itself (no CDN).
stamp=web/node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ web/package-lock.json -nt "$stamp" ]; then
  npm ci --prefix web --no-audit --no-fund --loglevel=error
fi
# Python test clients (OWSLib, pinned) in .venv, for tests/ogc_clients.rs.
if [ "${1:-build}" = test ]; then
  req=tests/clients/requirements.txt
  if [ ! -x .venv/bin/python ] || [ "$req" -nt .venv/.installed ]; then
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check -r "$req"
    touch .venv/.installed
  fi
fi
