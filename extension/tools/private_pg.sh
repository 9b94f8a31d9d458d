#!/usr/bin/env bash
# Makes a private, relocated copy of the system's PostgreSQL 15 under DIR, so that several
# work trees can build, install and test the extension at once without overwriting each other:
#   extension/tools/private_pg.sh /opt/pg-mine
#   export PG_BIN=/opt/pg-mine/lib/postgresql/15/bin SWITCHBOARD_PORT=54500 SB_TEST_PORT_BASE=25510
set -euo pipefail
dir=${1:?usage: $0 DIR}
[ -x "$dir/lib/postgresql/15/bin/postgres" ] && exit 0
mkdir -p "$dir/lib/postgresql" "$dir/share/postgresql"
cp -a /usr/lib/postgresql/15 "$dir/lib/postgresql/"
cp -a /usr/share/postgresql/15 "$dir/share/postgresql/"
ln -sfn /usr/include "$dir/include"
echo "PG_BIN=$dir/lib/postgresql/15/bin"
