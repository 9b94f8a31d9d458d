#!/usr/bin/env bash
# The connection string `make run` gives the shim reaches the cluster as switchboard_authenticator
# whatever the generated password holds (base64: '/', '+', '='), over the Unix socket and over TCP
# with password authentication. Needs SB_TEST_HOME and SB_TEST_PORT (set by tests/run_all.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../extension/tools/lib.sh"

HOME_DIR=${SB_TEST_HOME:?} PORT=${SB_TEST_PORT:?}
PASSWORD='x/Y+z=/9+/a=='
sb_psql "$HOME_DIR" "$PORT" -d switchboard_test \
  -c "alter role switchboard_authenticator with login password '$PASSWORD'" >/dev/null
trap 'sb_psql "$HOME_DIR" "$PORT" -d switchboard_test -c "alter role switchboard_authenticator password null" >/dev/null' EXIT
for host in "$HOME_DIR" 127.0.0.1; do
  who=$(psql -X -At "$(authenticator_conninfo "$host" "$PORT" switchboard_test "$PASSWORD")" \
    -c "select current_user")
  [ "$who" = switchboard_authenticator ] || { echo "connected through $host as '$who'"; exit 1; }
done
echo ok
