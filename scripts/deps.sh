#!/usr/bin/env bash
# Installs the Debian packages geoplan needs, only those missing.
#   scripts/deps.sh build   - to build and run (GDAL, PROJ, libclang)
#   scripts/deps.sh test    - also what the tests need (PostGIS, gdal-bin)
set -euo pipefail
want=(libgdal-dev libclang-dev pkg-config)
if [ "${1:-build}" = test ]; then
  want+=(gdal-bin)
  # PostGIS for the PostgreSQL major version on this machine (15 on bookworm).
  pgv=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)
  want+=("postgresql-${pgv:-15}" "postgresql-${pgv:-15}-postgis-3")
fi
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
