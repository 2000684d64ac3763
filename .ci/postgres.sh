#!/usr/bin/env bash
# Start the machine's PostgreSQL 15 and make sure role isseg/isseg and database isseg_test exist.
set -eu
command -v pg_ctlcluster >/dev/null || exit 1
pg_ctlcluster 15 main start 2>/dev/null || pg_lsclusters | grep -q 'online' || exit 1
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 && break; sleep 1; done
pg_isready -q -h 127.0.0.1 || exit 1
run() { su postgres -c "psql -qtAX -c \"$1\""; }
[ "$(run "SELECT 1 FROM pg_roles WHERE rolname='isseg'")" = "1" ] ||
    run "CREATE ROLE isseg LOGIN PASSWORD 'isseg' CREATEDB"
[ "$(run "SELECT 1 FROM pg_database WHERE datname='isseg_test'")" = "1" ] ||
    run "CREATE DATABASE isseg_test OWNER isseg"
# Tests drop their per-test databases WITH (FORCE), which needs to end other sessions.
run "GRANT pg_signal_backend TO isseg"
