#!/usr/bin/env bash
# Runs every OpenDcc test. Installs what the tests need (PostgreSQL, and for the interop tests a Java runtime and
# Node.js, from apt when missing; the public DCC Boxed tools from npm), starts a throw-away PostgreSQL cluster on
# loopback for the storage tests, runs `dotnet test`, and stops it again.
set -euo pipefail
cd "$(dirname "$0")"

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  if ((${#missing[@]})); then
    echo "test.sh: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}
apt_install postgresql
# The interop tests run the DCC Boxed signing tool (Java) and parser (Node.js) as external programs.
command -v java >/dev/null 2>&1 || apt_install default-jre-headless
command -v node >/dev/null 2>&1 || apt_install nodejs npm
# The @smartdcc packages (GPL-3.0) are test-time tools only: installed here from package-lock.json, never committed.
npm ci --no-audit --no-fund --prefer-offline
export OPENDCC_NODE_MODULES="$PWD/node_modules"

pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pg_data=$(mktemp -d /tmp/opendcc-test-pg.XXXXXX)
[ "$(id -u)" = 0 ] && chown postgres: "$pg_data"
pg_port=55432
while (exec 3<>"/dev/tcp/127.0.0.1/$pg_port") 2>/dev/null; do pg_port=$((pg_port + 1)); done

as_pg "$pg_bin/initdb" -D "$pg_data" -U postgres --auth=trust -E UTF8 >/dev/null
as_pg "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_data/server.log" -w \
  -o "-p $pg_port -k $pg_data -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200 -c max_prepared_transactions=8" start >/dev/null
cleanup() { as_pg "$pg_bin/pg_ctl" -D "$pg_data" -m fast stop >/dev/null 2>&1 || true; rm -rf "$pg_data"; }
trap cleanup EXIT
echo "test.sh: PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port"

export OPENDCC_TEST_POSTGRES="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres"
log=$(mktemp /tmp/opendcc-test-log.XXXXXX)
status=0
dotnet test OpenDcc.slnx -c Release "$@" 2>&1 | tee "$log" || status=$?
passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
rm -f "$log"
echo "tests: $passed passed, $failed failed"
exit "$status"
