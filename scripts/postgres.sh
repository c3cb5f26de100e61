#!/usr/bin/env bash
# A throwaway PostgreSQL server for the test suite's second run.
#   scripts/postgres.sh start DIR   makes a cluster in DIR (an empty directory), starts it on a
#                                   free loopback port as an unprivileged user, and prints
#                                   its URL (postgres://wardline@127.0.0.1:PORT)
#   scripts/postgres.sh createdb URL NAME
#                                   makes database NAME on the server at URL; prints its URL
#   scripts/postgres.sh stop DIR    stops it (the caller removes DIR)
# Debian's `postgresql` package is installed first if it is missing. The cluster trusts local
# connections and does not sync to disk (fsync off): it lives for one test run and is
# thrown away. PG_DURABLE=1 keeps PostgreSQL's durable defaults (fsync, synchronous
# commit), for benchmarks.
set -euo pipefail

cmd="${1:?start or stop}"
dir="${2:?a directory for the cluster}"

pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

# PostgreSQL refuses to run as root: as root, run it as `nobody`.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u nobody -- "$@"
  else
    "$@"
  fi
}

case "$cmd" in
  start)
    if [ -z "$(pg_bin)" ]; then
      echo "Installing Debian's postgresql for the PostgreSQL run of the tests" >&2
      SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
      $SUDO apt-get update -qq >&2
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >&2
    fi
    bin="$(pg_bin)"
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown nobody "$dir"
    chmod 700 "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U wardline --auth=trust -E UTF8 \
      --locale=C.UTF-8 --no-instructions >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    # A free port: one nothing listens on, tried until the server starts on it.
    for _ in $(seq 1 20); do
      port=$((20000 + RANDOM % 40000))
      if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        continue
      fi
      fast="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
      [ "${PG_DURABLE:-0}" = 1 ] && fast=""
      if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 $fast" \
        start >/dev/null; then
        echo "postgres://wardline@127.0.0.1:$port"
        exit 0
      fi
    done
    echo "PostgreSQL did not start; its log:" >&2
    cat "$dir/server.log" >&2 || true
    exit 1
    ;;
  createdb)
    name="${3:?a database name}"
    "$(pg_bin)/psql" -q -v ON_ERROR_STOP=1 "$dir/postgres" -c "DROP DATABASE IF EXISTS $name" \
      -c "CREATE DATABASE $name" >&2
    echo "$dir/$name"
    ;;
  stop)
    bin="$(pg_bin)"
    [ -d "$dir/data" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
