# A Citus cluster on loopback for the tests and benchmarks: a coordinator and two workers, each a
# throwaway instance run by the cluster's OS user, with database $CITUS_DB on every node and the
# workers added to the coordinator. Sourced after extension/tools/lib.sh.
#   citus_installed                 the PostgreSQL in PG_BIN has the citus library
#   citus_start                     sets CITUS_HOME[0..2] and CITUS_PORT[0..2] (0 = coordinator)
#   citus_psql N args...            psql as superuser into node N's $CITUS_DB
#   citus_stop

CITUS_DB=${CITUS_DB:-switchboard_citus}
CITUS_PORT_BASE=${SB_CITUS_PORT_BASE:-$((SB_TEST_PORT_BASE + 400))}
CITUS_NODES="coordinator worker1 worker2"

citus_installed() { [ -f "$("$PG_CONFIG" --pkglibdir)/citus.so" ]; }

citus_psql() {
  local n=$1
  shift
  sb_psql "${CITUS_HOME[$n]}" "${CITUS_PORT[$n]}" -d "$CITUS_DB" "$@"
}

# Ensures: node $1 (index) is a fresh instance on a free port that preloads citus before switchboard
# and lets the other nodes of this loopback cluster connect as any role without a password (a
# throwaway test cluster; production uses passwords in .pgpass or certificates, as Citus documents).
citus_init_node() {
  local n=$1 name home port
  name=$(echo $CITUS_NODES | cut -d' ' -f$((n + 1)))
  home=$(pg_owned_dir "$SB_HOME/citus/$name")
  stop_instance "$home"
  rm -rf "$home/data"
  port=$(free_port $((CITUS_PORT_BASE + n * 10)))
  init_instance "$home" "$port" "shared_preload_libraries = 'citus,switchboard'
fsync = off
synchronous_commit = off
full_page_writes = off
max_prepared_transactions = 100
citus.log_remote_commands = off"
  as_pg sed -i '1i host all all 127.0.0.1/32 trust' "$home/data/pg_hba.conf"
  [ "$n" -gt 0 ] && share_caller_id_secret "${CITUS_HOME[0]}/data" "$home/data"
  start_instance "$home"
  CITUS_HOME[$n]=$home
  CITUS_PORT[$n]=$port
  sb_psql "$home" "$port" -d postgres -c "create database $CITUS_DB"
  revoke_temp "$home" "$port" "$CITUS_DB"
  citus_psql "$n" -c "set client_min_messages = warning" -c "create extension citus"
}

citus_start() {
  ensure_os_user
  mkdir -p "$SB_HOME/citus"
  CITUS_HOME=() CITUS_PORT=()
  local n
  for n in 0 1 2; do citus_init_node "$n"; done
  citus_psql 0 -c "select citus_set_coordinator_host('127.0.0.1', ${CITUS_PORT[0]})" >/dev/null
  for n in 1 2; do
    citus_psql 0 -c "select citus_add_node('127.0.0.1', ${CITUS_PORT[$n]})" >/dev/null
  done
}

citus_stop() {
  local n
  for n in 0 1 2; do
    [ -n "${CITUS_HOME[$n]:-}" ] || continue
    stop_instance "${CITUS_HOME[$n]}"
    rm -rf "${CITUS_HOME[$n]}/data"
  done
}
