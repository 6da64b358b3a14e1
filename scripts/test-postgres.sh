#!/usr/bin/env bash
# Prints a PostgreSQL URL the tests can use: the local server on 5432 when
# it answers, else a throwaway cluster started here (as the postgres user).
# Fails loudly when neither can be had: PostGIS tests never skip.
set -euo pipefail
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "postgres://postgres@127.0.0.1:5432"; exit 0
fi
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "no PostgreSQL installed" >&2; exit 1; }
dir=/tmp/geoplan-test-pg port=55432
if ! pg_isready -q -h 127.0.0.1 -p $port 2>/dev/null; then
  rm -rf "$dir"; mkdir -p "$dir"; chown postgres "$dir" 2>/dev/null || true
  as=(); [ "$(id -u)" -eq 0 ] && as=(runuser -u postgres --)
  "${as[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -o "-p $port -k $dir -c listen_addresses=127.0.0.1" -l "$dir/log" -w start >/dev/null
fi
echo "postgres://postgres@127.0.0.1:$port"
