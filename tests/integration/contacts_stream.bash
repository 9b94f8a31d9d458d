# The provider event stream of the contacts tests and benchmark, loaded and replayed one way
# (sourced by tests/integration/contacts_replay.sh and tests/bench/contacts.sh; not a test itself).
# Both take the psql function of the caller as their first argument (it runs psql -tA on the
# caller's database); the organisations must exist.

# Ensures: the build is current, a benchmark instance NAME is open at SB_TEST_PORT_BASE + OFFSET
# with q() as its psql, the working directory is the repository and the benchmarks' 100
# organisations exist (contacts_bench_orgs).
contacts_bench_open() {
  ensure_packages
  build_all
  open_bench_instance "$1" $((SB_TEST_PORT_BASE + $2)) "" switchboard_bench
  q() { sb_psql "$BENCH_HOME" "$BENCH_PORT" -d switchboard_bench -tA "$@"; }
  cd "$SB_ROOT"
  contacts_bench_orgs q
}

# Ensures: organisations 00000000-0000-4000-8000-000000000001 to ...100 exist (the benchmarks').
contacts_bench_orgs() {
  "$1" <<'SQL' >/dev/null
insert into switchboard.organizations (id, name, slug)
  select ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, 'Bench ' || i, 'bench-' || i
    from generate_series(1, 100) i;
SQL
}

# Ensures: table import_rows holds one row, r: a json array of $2 new contacts (the import benches').
contacts_import_rows() {
  "$1" -v rows="$2" <<'SQL' >/dev/null
create table import_rows as
select jsonb_agg(jsonb_build_object('phone', '+1212' || lpad(i::text, 7, '0'), 'firstName', 'Lead ' || i,
                                    'source', (array['csv', 'web', 'ads'])[1 + i % 3], 'tags', jsonb_build_array('t' || i % 10),
                                    'customFields', jsonb_build_object('n', i))) as r
  from generate_series(1, :rows) i;
SQL
}

# Ensures: tables stream and shuffled hold 10 events per call for $2 calls
# (tests/integration/contacts_stream.sql).
contacts_stream_load() {
  local psql_fn=$1 calls=$2
  "$psql_fn" -v calls="$calls" -f "$SB_ROOT/tests/integration/contacts_stream.sql" >/dev/null
}

# Ensures: the shuffled stream was folded through record_call_event by one client per remaining
# argument (an organisation id: client k folds every k-th event into that organisation), each
# event in a transaction of its own, the clients in parallel; fails when any client failed. The DO
# block reads its parameters from settings (psql does not expand variables inside $$); PGOPTIONS
# given by the caller (synchronous_commit) apply too. With STREAM_CPU_LOG set, each client appends
# its backend's CPU seconds for the replay (utime + stime of /proc/self/stat) to that file.
contacts_stream_replay() {
  local psql_fn=$1 clients=$(($# - 1)) k=0 org pids=() failed=0 pid report=off
  shift
  [ -n "${STREAM_CPU_LOG:-}" ] && report=on
  for org in "$@"; do
    PGOPTIONS="${PGOPTIONS:-} -c stream.org=$org -c stream.k=$k -c stream.clients=$clients -c stream.cpu=$report" \
      "$psql_fn" 2>>"${STREAM_CPU_LOG:-/dev/stderr}" >/dev/null <<'SQL' &
do $$
declare
  r record;
  cpu text := 'select (split_part(s, '' '', 14)::bigint + split_part(s, '' '', 15)::bigint) / 100.0'
              ' from pg_catalog.pg_read_file(''/proc/self/stat'') s';
  start numeric;
  done numeric;
begin
  if current_setting('stream.cpu') = 'on' then execute cpu into start; end if;
  for r in select provider, event from shuffled
            where n % current_setting('stream.clients')::int = current_setting('stream.k')::int order by n loop
    perform switchboard.record_call_event(current_setting('stream.org')::uuid, r.provider, r.event);
    commit;
  end loop;
  if current_setting('stream.cpu') = 'on' then
    execute cpu into done;
    raise notice 'backend cpu seconds: %', done - start;
  end if;
end
$$;
SQL
    pids+=($!)
    k=$((k + 1))
  done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  return "$failed"
}
