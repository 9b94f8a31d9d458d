#!/usr/bin/env bash
# The developer commands behind `make run`, `make test`, `make stop` ... (see README.md).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CLUSTER="$SB_HOME/cluster"
SECRETS="$SB_HOME/secrets"
DB=switchboard
SHIM="$SB_ROOT/build/switchboard-shim"
LISTEN=${SWITCHBOARD_LISTEN:-127.0.0.1:8080}

# Demo organisation and one user per role (fixed ids, so tokens and examples stay copy-pasteable).
DEMO_ORG=00000000-0000-4000-8000-00000000d000
DEMO_ROLES="owner admin manager agent viewer"
demo_user() {
  case $1 in
    owner) echo 00000000-0000-4000-8000-0000000000a1 ;;
    admin) echo 00000000-0000-4000-8000-0000000000a2 ;;
    manager) echo 00000000-0000-4000-8000-0000000000a3 ;;
    agent) echo 00000000-0000-4000-8000-0000000000a4 ;;
    viewer) echo 00000000-0000-4000-8000-0000000000a5 ;;
  esac
}

external_db() { [ -n "${SWITCHBOARD_DATABASE_URL:-}" ]; }

# Runs psql as a superuser of the database in use (the embedded cluster or SWITCHBOARD_DATABASE_URL).
db_psql() {
  if external_db; then
    psql -X -q -v ON_ERROR_STOP=1 "$SWITCHBOARD_DATABASE_URL" "$@"
  else
    sb_psql "$CLUSTER_DIR" "$SB_PORT" -d "$DB" "$@"
  fi
}

# Ensures: the embedded cluster exists, runs the freshly built library, and has database `switchboard`.
start_cluster() {
  ensure_os_user
  mkdir -p "$SB_HOME"
  CLUSTER_DIR=$(pg_owned_dir "$CLUSTER")
  init_instance "$CLUSTER_DIR" "$SB_PORT"
  local mode=""
  [ -f "$SB_HOME/library.stamp" ] && cmp -s "$SB_ROOT/switchboard.so" "$SB_HOME/library.stamp" || mode=restart
  start_instance "$CLUSTER_DIR" "$mode"
  cp "$SB_ROOT/switchboard.so" "$SB_HOME/library.stamp"
  if [ -z "$(sb_psql "$CLUSTER_DIR" "$SB_PORT" -d postgres -tAc "select 1 from pg_database where datname = '$DB'")" ]; then
    sb_psql "$CLUSTER_DIR" "$SB_PORT" -d postgres -c "create database $DB"
  fi
  revoke_temp "$CLUSTER_DIR" "$SB_PORT" "$DB"
}

# The install script this checkout built (extension/switchboard--VERSION.sql), as a short hash.
built_script() {
  local version
  version=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$SB_ROOT/extension/switchboard.control")
  sha256sum <"$SB_ROOT/extension/switchboard--$version.sql" | cut -c1-16
}

# Succeeds when the embedded database holds switchboard from this checkout's install script, or no
# switchboard yet. Until the first release, 0.1.0's script changes in place and ALTER EXTENSION
# UPDATE cannot follow it.
installed_build_current() {
  external_db && return 0
  local have
  have=$(db_psql -tAc "select coalesce(pg_catalog.shobj_description(d.oid, 'pg_database'), 'unknown')
    from pg_database d where d.datname = current_database()
      and exists (select 1 from pg_extension where extname = 'switchboard')")
  [ -z "$have" ] || [ "$have" = "switchboard install script $(built_script)" ]
}

STALE_CLUSTER="the embedded cluster holds switchboard from older sources (0.1.0 is unreleased and changes in place)"

# Ensures: the embedded cluster's extension was installed from this checkout's script.
check_installed_build() {
  external_db && return 0
  installed_build_current ||
    die "$STALE_CLUSTER: run 'make reset' (deletes the embedded cluster's data)"
  db_psql -c "comment on database $DB is 'switchboard install script $(built_script)'" >/dev/null
}

# Ensures: the extension is installed and current, the shim's login role has its password, and the
# demo organisation exists with one member per role.
setup_database() {
  check_installed_build
  ensure_secret "$SECRETS/authenticator_password" 24
  ensure_secret "$SECRETS/jwt_secret" 48
  local password
  password=$(cat "$SECRETS/authenticator_password")
  db_psql -v password="$password" -v org="$DEMO_ORG" \
    -v owner="$(demo_user owner)" -v admin="$(demo_user admin)" -v manager="$(demo_user manager)" \
    -v agent="$(demo_user agent)" -v viewer="$(demo_user viewer)" <<'SQL'
set client_min_messages = warning;
create extension if not exists switchboard cascade;
alter extension switchboard update;
alter role switchboard_authenticator with login password :'password';
insert into switchboard.organizations (id, name, slug) values (:'org', 'Demo Clinic', 'demo-clinic')
  on conflict do nothing;
insert into switchboard.organization_members (org_id, user_id, role)
  values (:'org', :'owner', 'owner'), (:'org', :'admin', 'admin'), (:'org', :'manager', 'manager'),
         (:'org', :'agent', 'agent'), (:'org', :'viewer', 'viewer')
  on conflict do nothing;
-- A plan and a calendar for the demo, created once (later changes are kept).
\o /dev/null
select switchboard.set_subscription(:'org', 'ai_powered_elite')
 where not exists (select 1 from switchboard.subscriptions where org_id = :'org');
select switchboard.create_calendar(:'org', 'Front desk', 'America/New_York',
         '{"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]], "wed": [["09:00", "17:00"]],
           "thu": [["09:00", "17:00"]], "fri": [["09:00", "17:00"]]}',
         '{"slotMinutes": 30, "bufferAfterMinutes": 10}')
 where not exists (select 1 from switchboard.calendars where org_id = :'org');
\o
SQL
}

shim_database_url() {
  if external_db; then
    printf '%s\n' "$SWITCHBOARD_DATABASE_URL"
  else
    # The cluster's Unix socket: cheaper per query than loopback TCP for the server and the shim.
    authenticator_conninfo "$CLUSTER_DIR" "$SB_PORT" "$DB" "$(cat "$SECRETS/authenticator_password")"
  fi
}

demo_calendar() {
  db_psql -tAc "select id from switchboard.calendars where org_id = '$DEMO_ORG' order by created_at limit 1"
}

jwt_secret() { printf '%s' "${SWITCHBOARD_JWT_SECRET:-$(cat "$SECRETS/jwt_secret")}"; }

# Demo tokens live 24 hours: the shim's default SWITCHBOARD_JWT_MAX_LIFETIME_SECONDS refuses longer.
demo_token() {
  SWITCHBOARD_JWT_SECRET=$(jwt_secret) "$SHIM" token --sub "$(demo_user "$1")" --org "$DEMO_ORG" \
    --ttl 86400
}

service_token() {
  SWITCHBOARD_JWT_SECRET=$(jwt_secret) "$SHIM" token --role service_role --ttl 86400
}

# Ensures: packages, build, cluster (unless SWITCHBOARD_DATABASE_URL) and database are ready; with
# $1 = run only what `make run` needs (no tests, no benchmarks), else everything.
set_up() {
  local what=${1:-all}
  step "checking packages" ensure_packages "$([ "$what" = run ] && echo run || echo test)"
  build_all "$what"
  external_db || step "starting the embedded cluster" start_cluster
  step "setting up database $DB" setup_database
}

# The `make psql` command line for this setup (SWITCHBOARD_PORT when it is not the default).
make_psql() {
  [ "$SB_PORT" = 54329 ] && echo "make psql" || echo "SWITCHBOARD_PORT=$SB_PORT make psql"
}

print_welcome() {
  local url="http://$LISTEN" r
  cat <<EOF

Switchboard is running.
  shim:      $url   (Ctrl-C stops the shim and the embedded cluster)
  database:  $(external_db && echo "\$SWITCHBOARD_DATABASE_URL" || echo "psql -h $CLUSTER_DIR -p $SB_PORT -U postgres $DB   (or: $(make_psql))")

Demo organisation $DEMO_ORG ("Demo Clinic"); signed demo JWTs, valid 24 hours (run make run again for new ones):
EOF
  for r in $DEMO_ROLES; do
    printf '  %-8s %s\n' "$r" "$(demo_token "$r")"
  done
  cat <<EOF

Try the HTTP API (paste the export line first):
  export SB_URL=$url OWNER=$(demo_token owner) AGENT=$(demo_token agent) SERVICE=$(service_token) CALENDAR=$(demo_calendar)
  curl -s \$SB_URL/readyz
  curl -s -X POST \$SB_URL/rpc/is_member -H "Authorization: Bearer \$AGENT" -d '{"org_id": "$DEMO_ORG"}'
  curl -s "\$SB_URL/rpc/member_role?org_id=$DEMO_ORG" -H "Authorization: Bearer \$AGENT"
  curl -s \$SB_URL/api/organizations -H "Authorization: Bearer \$OWNER"
  curl -s \$SB_URL/api/features -H "Authorization: Bearer \$AGENT"
  curl -s -X POST \$SB_URL/api/features/consume -H "Authorization: Bearer \$AGENT" -d '{"feature": "calls", "quantity": 1, "idempotency_key": "demo-call-1"}'
  curl -s "\$SB_URL/api/calendars/\$CALENDAR/slots?from=\$(date -u -d tomorrow +%F)T00:00:00Z&to=\$(date -u -d '+3 days' +%F)T00:00:00Z" -H "Authorization: Bearer \$AGENT"
  curl -s \$SB_URL/api/organizations/$DEMO_ORG/members -H "Authorization: Bearer \$AGENT"
  curl -s -X POST \$SB_URL/api/organizations -H "Authorization: Bearer \$OWNER" -d '{"name": "Second Clinic", "slug": "second-clinic"}'
  curl -s \$SB_URL/openapi.json
  curl -s \$SB_URL/metrics -H "Authorization: Bearer \$SERVICE"
  $(make_psql) ARGS='-c "select provider, event_id, status from switchboard.webhook_inbox order by id desc limit 5"'
Inbound webhooks need their provider secrets (README.md, switchboard-shim), e.g.
  SWITCHBOARD_STANDARD_WEBHOOK_SECRETS=whsec_... make run
Twilio also needs the public URL it calls and signs (the shim will not start without it):
  SWITCHBOARD_TWILIO_AUTH_TOKEN=... SWITCHBOARD_PUBLIC_URL=https://your.public.host make run

EOF
}

# Waits until the shim (process $1) accepts connections on $LISTEN; fails when it exits first or
# after 60 s.
wait_for_shim() {
  local pid=$1 host=${LISTEN%:*} port=${LISTEN##*:} i
  host=${host#[}
  host=${host%]}
  for i in $(seq 1 600); do
    kill -0 "$pid" 2>/dev/null || return 1
    (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

cmd_run() {
  set_up run
  STARTED_CLUSTER=0 # global: the EXIT trap may run after cmd_run has returned
  external_db || STARTED_CLUSTER=1
  cleanup() {
    trap - INT TERM EXIT
    [ -n "${SHIM_PID:-}" ] && kill "$SHIM_PID" 2>/dev/null && wait "$SHIM_PID" 2>/dev/null
    if [ "$STARTED_CLUSTER" = 1 ]; then
      stop_instance "$CLUSTER_DIR"
      say "stopped the shim and the embedded cluster"
    fi
  }
  trap cleanup INT TERM EXIT
  say "$(clock) starting the shim on $LISTEN ..."
  SWITCHBOARD_DATABASE_URL=$(shim_database_url) SWITCHBOARD_JWT_SECRET=$(jwt_secret) \
    SWITCHBOARD_LISTEN="$LISTEN" "$SHIM" &
  SHIM_PID=$!
  if ! wait_for_shim "$SHIM_PID"; then
    wait "$SHIM_PID" 2>/dev/null
    SHIM_PID=""
    die "the shim did not start (its messages are above)"
  fi
  say "$(clock) the shim is listening"
  print_welcome
  wait "$SHIM_PID" || true
  SHIM_PID=""
}

cmd_test() {
  local was_running=0
  ensure_os_user
  instance_running "$(pg_owned_dir "$CLUSTER")" && was_running=1
  step "checking packages" ensure_packages test
  build_all all
  external_db || step "starting the embedded cluster" start_cluster
  # The suites run on their own instance: a stale embedded cluster only needs 'make reset' for 'make run'.
  if installed_build_current; then
    setup_database
  else
    say "$STALE_CLUSTER; the tests run on their own instance, 'make run' needs 'make reset' first"
  fi
  local status=0
  "$SB_ROOT/tests/run_all.sh" || status=$?
  [ "$was_running" = 1 ] || external_db || stop_instance "$CLUSTER_DIR"
  return $status
}

cmd_stop() {
  ensure_os_user
  stop_instance "$(pg_owned_dir "$CLUSTER")"
}

# Ensures: the embedded cluster and its data are gone (the next `make run` starts afresh).
cmd_reset() {
  ensure_os_user
  local dir
  dir=$(pg_owned_dir "$CLUSTER")
  stop_instance "$dir"
  rm -rf "$dir/data" "$SB_HOME/library.stamp"
  say "removed the embedded cluster's data"
}

cmd_psql() {
  external_db && exec psql "$SWITCHBOARD_DATABASE_URL" "$@"
  CLUSTER_DIR=$(pg_owned_dir "$CLUSTER")
  exec psql -X -h "$CLUSTER_DIR" -p "$SB_PORT" -U postgres "$DB" "$@"
}

case ${1:-} in
  deps) ensure_packages ;;
  build) ensure_packages && build_all ;;
  run) cmd_run ;;
  test) cmd_test ;;
  stop) cmd_stop ;;
  reset) cmd_reset ;;
  psql) shift && cmd_psql "$@" ;;
  setup) set_up ;;
  bench) set_up && SB_SET_UP=1 exec "$SB_ROOT/tests/bench/run_all.sh" ;;
  *) die "usage: $0 deps|build|run|test|stop|reset|psql|setup|bench" ;;
esac
