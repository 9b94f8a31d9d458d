# Shared shell functions of the developer commands: packages, build, PostgreSQL instances.
# Sourced by extension/tools/switchboard.sh and the scripts under tests/.

SB_ROOT=${SB_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SB_HOME="$SB_ROOT/.switchboard"
# PG_BIN selects the PostgreSQL 15 installation (a relocated copy keeps parallel work apart).
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_CONFIG="$PG_BIN/pg_config"
# Throwaway instances listen below Linux's ephemeral range (32768-60999): a test restarts its
# instance, and while it is down any client socket may take a port in that range as its own.
SB_TEST_PORT_BASE=${SB_TEST_PORT_BASE:-25440}
SB_PORT=${SWITCHBOARD_PORT:-54329}
SB_PG_OS_USER=switchboard

# Debian packages `make run` needs (build, cluster, shim), and what only the tests add.
SB_RUN_PACKAGES="postgresql-15 postgresql-server-dev-15 postgresql-client-15 libpq-dev libssl-dev
  libcurl4-openssl-dev libcpp-httplib-dev nlohmann-json3-dev cmake g++ make pkg-config openssl
  libphonenumber-dev"
SB_TEST_PACKAGES="libgtest-dev clang libclang-rt-dev"
# Commands only the shim's client tests need (tests/js: postgrest-js and an OpenAPI validator;
# promtool checks /metrics; pgbouncer is the transaction-mode pooler of shim_pgbouncer.sh), as
# command:Debian package; a command found elsewhere (NodeSource's node and npm) is used as it is.
SB_TEST_COMMANDS="node:nodejs npm:npm promtool:prometheus pgbouncer:pgbouncer"

say() { printf '%s\n' "switchboard: $*" >&2; }
die() { say "$*"; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }

# The time since the command started, as [m:ss].
clock() { printf '[%d:%02d]' $((SECONDS / 60)) $((SECONDS % 60)); }

# Runs "$@" as one step of a developer command: says what it does, then how long it took
# ("switchboard: [1:42] building the shim: done in 63 s"); a failing step ends the command.
step() {
  local what=$1 start=$SECONDS
  shift
  say "$(clock) $what ..."
  "$@" || exit $?
  say "$(clock) $what: done in $((SECONDS - start)) s"
}

# Ensures: the packages of `make run` ($1 = run) or of everything (test, the default) are
# installed (as root), or says the exact command to run.
ensure_packages() {
  local wanted=$SB_RUN_PACKAGES missing=() p
  [ "${1:-test}" = run ] || wanted="$wanted $SB_TEST_PACKAGES"
  for p in $wanted; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ "${1:-test}" = run ] || for p in $SB_TEST_COMMANDS; do
    command -v "${p%%:*}" >/dev/null || missing+=("${p#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! is_root; then
    die "missing packages; run: sudo apt-get update && sudo apt-get install -y ${missing[*]}"
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || die "apt-get update failed"
  apt-get install -y -qq "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
}

# Ensures: switchboard.so is built and installed into PostgreSQL.
build_extension() {
  make -s -C "$SB_ROOT" -j2 PG_CONFIG="$PG_CONFIG" all >/dev/null || die "building the extension failed"
  local libdir
  libdir=$("$PG_BIN/pg_config" --pkglibdir)
  if [ -w "$libdir" ]; then
    make -s -C "$SB_ROOT" PG_CONFIG="$PG_CONFIG" install >/dev/null ||
      die "installing the extension failed"
  elif ! cmp -s "$SB_ROOT/switchboard.so" "$libdir/switchboard.so"; then
    die "the extension is not installed; run: sudo make -C '$SB_ROOT' install"
  fi
}

# Ensures: build/ holds the shim ($1 = run) or the shim, the tests and the benchmarks (all).
build_native() {
  cmake -S "$SB_ROOT" -B "$SB_ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null \
    || die "cmake configure failed"
  if [ "${1:-all}" = run ]; then
    cmake --build "$SB_ROOT/build" -j2 --target switchboard-shim >/dev/null || die "building the shim failed"
  else
    cmake --build "$SB_ROOT/build" -j2 >/dev/null || die "building the shim and tests failed"
  fi
}

# Ensures: the extension is built and installed, and the shim (run) or everything (all) is built.
build_all() {
  step "building the extension" build_extension
  if [ "${1:-all}" = run ]; then
    step "building the shim" build_native run
  else
    step "building the shim, the tests and the benchmarks" build_native all
  fi
}

# The connection string of the shim's login role on instance dir $1, port $2, database $3, with
# password $4: key/value form, since the generated password is base64 ('/', '+') that a URL would
# need escaped.
authenticator_conninfo() {
  printf "host='%s' port=%s dbname=%s user=switchboard_authenticator password='%s'\n" "$1" "$2" "$3" "$4"
}

# Ensures: the unprivileged OS user that owns and runs local clusters exists (when root).
ensure_os_user() {
  is_root || return 0
  id "$SB_PG_OS_USER" >/dev/null 2>&1 && return 0
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
    "$SB_PG_OS_USER" || die "could not create OS user $SB_PG_OS_USER"
}

# Runs a command as the cluster's OS user, from / : that user may not be able to read the current
# directory (a clone under /root), and PostgreSQL's programs start by changing back to it.
as_pg() {
  if is_root; then (cd / && runuser -u "$SB_PG_OS_USER" -- "$@"); else "$@"; fi
}

# Ensures: directory $1 exists and belongs to the cluster's OS user; prints a usable path
# (under /var/tmp when that user cannot reach the repository, e.g. a clone under /root).
pg_owned_dir() {
  local dir=$1
  mkdir -p "$dir"
  is_root && chown "$SB_PG_OS_USER" "$dir"
  if ! as_pg test -w "$dir" 2>/dev/null; then
    local alt
    alt=/var/tmp/switchboard-$(printf '%s' "$dir" | sha1sum | cut -c1-12)
    mkdir -p "$alt"
    is_root && chown "$SB_PG_OS_USER" "$alt"
    dir=$alt
  fi
  chmod 700 "$dir"
  printf '%s\n' "$dir"
}

# Ensures: an initialised, configured data directory for instance $1 (home dir) on port $2.
# Extra postgresql.conf lines may follow as $3.
init_instance() {
  local home=$1 port=$2 extra=${3:-}
  local data="$home/data"
  if [ ! -f "$data/PG_VERSION" ]; then
    as_pg "$PG_BIN/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      -E UTF8 --locale=C.UTF-8 >"$home/initdb.log" 2>&1 || die "initdb failed (see $home/initdb.log)"
  fi
  ensure_caller_id_secret "$data"
  as_pg tee "$data/switchboard.conf" >/dev/null <<EOF
include_if_exists = 'switchboard_secret.conf'
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$home'
shared_preload_libraries = 'switchboard'
max_connections = 100
$extra
EOF
  grep -q "^include_if_exists = 'switchboard.conf'" "$data/postgresql.conf" ||
    echo "include_if_exists = 'switchboard.conf'" | as_pg tee -a "$data/postgresql.conf" >/dev/null
}

# Ensures: data directory $1 has its own switchboard.caller_id_secret (the HMAC key of caller-ID
# verification codes) in switchboard_secret.conf: 32 random bytes from OpenSSL, generated once per
# cluster, readable by the cluster's OS user only (the setting itself is superuser-only). It lives
# in the data directory, never in the repository.
ensure_caller_id_secret() {
  local file="$1/switchboard_secret.conf"
  as_pg test -s "$file" && return 0
  as_pg sh -c 'umask 077 && printf "switchboard.caller_id_secret = '"'"'%s'"'"'\n" "$(openssl rand -hex 32)" >"$1"' \
    sh "$file" || die "could not write $file"
}

# Ensures: data directory $2 uses the caller-ID secret of data directory $1 (the nodes of one
# Citus cluster run the same distributed functions, so they must check codes with one key).
share_caller_id_secret() {
  as_pg sh -c 'umask 077 && cat "$1" >"$2"' sh "$1/switchboard_secret.conf" "$2/switchboard_secret.conf" ||
    die "could not copy the caller-ID secret to $2"
}

instance_running() { as_pg "$PG_BIN/pg_ctl" -D "$1/data" status >/dev/null 2>&1; }

# Ensures: instance $1 is running with its configuration files as they are now (reloaded when it
# was running; restarted when $2 = restart, to load a rebuilt library).
start_instance() {
  local home=$1 mode=${2:-}
  if instance_running "$home"; then
    if [ "$mode" != restart ]; then
      as_pg "$PG_BIN/pg_ctl" -D "$home/data" reload >/dev/null || die "reloading PostgreSQL failed"
      return 0
    fi
    as_pg "$PG_BIN/pg_ctl" -D "$home/data" -m fast -w restart -l "$home/postgres.log" >/dev/null ||
      die "restarting PostgreSQL failed (see $home/postgres.log)"
    return 0
  fi
  as_pg "$PG_BIN/pg_ctl" -D "$home/data" -w -t 60 start -l "$home/postgres.log" >/dev/null ||
    die "starting PostgreSQL failed (see $home/postgres.log)"
}

stop_instance() {
  instance_running "$1" || return 0
  as_pg "$PG_BIN/pg_ctl" -D "$1/data" -m fast -w stop >/dev/null 2>&1
}

# Ensures: a fresh throwaway instance in home $1 on port $2 (extra postgresql.conf lines $3) runs,
# with database $4 holding switchboard; the caller stops and removes it (trap).
start_bench_instance() {
  local home=$1 port=$2 db=$4
  stop_instance "$home"
  rm -rf "$home/data"
  init_instance "$home" "$port" "${3:-}"
  start_instance "$home"
  sb_psql "$home" "$port" -d postgres -c "create database $db"
  sb_psql "$home" "$port" -d "$db" -c "set client_min_messages = warning" \
    -c "create extension switchboard cascade"
}

# Ensures: a fresh throwaway benchmark instance under $SB_HOME/$1 on a free port at or above $2, with
# postgresql.conf lines $3 and database $4 holding the extension, named by BENCH_HOME and BENCH_PORT
# and removed when the script exits; prints the PostgreSQL version and core count, then $5.
open_bench_instance() {
  ensure_os_user
  mkdir -p "$SB_HOME"
  BENCH_HOME=$(pg_owned_dir "$SB_HOME/$1")
  BENCH_PORT=$(free_port "$2")
  trap 'stop_instance "$BENCH_HOME"; rm -rf "$BENCH_HOME/data"' EXIT
  start_bench_instance "$BENCH_HOME" "$BENCH_PORT" "$3" "$4"
  say "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}'), $(nproc) cores ($(cpu_model)), load $(cut -d' ' -f1 /proc/loadavg)${5:+, $5}"
}

# The processor's model name (machines of one kind differ: benchmark tables name it).
cpu_model() { awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo; }

# A free TCP port on 127.0.0.1 at or above $1.
free_port() {
  local port=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  printf '%s\n' "$port"
}

# Ensures: something listens on 127.0.0.1 port $1 (waits at most $2 seconds, default 30; fails after).
wait_listening() {
  local i
  for ((i = 0; i < ${2:-30} * 10; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  say "nothing listens on 127.0.0.1:$1 after ${2:-30} s"
  return 1
}

# Runs psql as the superuser of instance $1 (home dir) on port $2; the rest are psql arguments.
sb_psql() {
  local home=$1 port=$2
  shift 2
  psql -X -q -v ON_ERROR_STOP=1 -h "$home" -p "$port" -U postgres "$@"
}

# Ensures: database $3 of instance $1 (home dir) on port $2 grants no TEMP to PUBLIC: a session's
# pg_temp objects come first on its search_path, where they could shadow names in SQL that others
# run with more privileges. Superusers and roles granted TEMP explicitly keep it.
revoke_temp() {
  sb_psql "$1" "$2" -d "$3" -c "revoke temporary on database \"$3\" from public" >/dev/null
}

# Ensures: a random secret of $2 bytes (base64) stored in file $1, readable by its owner only.
ensure_secret() {
  local file=$1 bytes=$2
  [ -s "$file" ] && return 0
  mkdir -p "$(dirname "$file")"
  (umask 077 && openssl rand -base64 "$bytes" | tr -d '\n' >"$file")
}
