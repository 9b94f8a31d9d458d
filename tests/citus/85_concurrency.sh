# 8 clients through the coordinator, the invariants of the one-server concurrency tests:
# - a hard limit is never passed: 400 consume_feature attempts (pgbench, 8 clients) on two
#   organisations, one on each worker, each with a hard limit 100 calls above what it has used:
#   each ends exactly at its limit, and every attempt is answered (ok or LIMIT_EXCEEDED);
# - the booking storm: 8 clients book 240 times among 12 half-hour slots of one calendar: every slot
#   is booked once, no appointments overlap, and the other attempts answer SLOT_TAKEN.
# org2 and org3 come from 50_claims.sh.
storm_dir=$(mktemp -d)
chmod 755 "$storm_dir"
# pgbench_coordinator ARGS...: pgbench through the coordinator; prints "processed/failed".
pgbench_coordinator() {
  "$PG_BIN/pgbench" -n -c 8 -j 2 -h "${CITUS_HOME[0]}" -p "${CITUS_PORT[0]}" -U postgres "$@" "$CITUS_DB" 2>&1 |
    tee "$storm_dir/pgbench.log" | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p; s/^number of failed transactions: \([0-9]*\).*/\1/p' |
    paste -sd/
}
declare -A limit_of
for org in $org2 $org3; do
  limit_of[$org]=$(($(citus_psql 0 -tA -c "select switchboard.check_feature('$org', 'calls') ->> 'used'") + 100))
  citus_psql 0 -q -c "select switchboard.set_feature_override('$org', 'calls', true, ${limit_of[$org]}, 'hard')" >/dev/null
  echo "SELECT switchboard.consume_feature('$org', 'calls', 1);" >"$storm_dir/consume_$org.sql"
done
got=$(pgbench_coordinator -t 50 -f "$storm_dir/consume_$org2.sql@1" -f "$storm_dir/consume_$org3.sql@1")
check "8 clients on hard limits on both workers: no organisation passes its limit" "t" 0 \
  "select (switchboard.check_feature('$org2', 'calls') ->> 'used')::int <= ${limit_of[$org2]}
      and (switchboard.check_feature('$org3', 'calls') ->> 'used')::int <= ${limit_of[$org3]}"
ends=$(citus_psql 0 -tA -c "select (switchboard.check_feature('$org2', 'calls') ->> 'used') || '|' || (switchboard.check_feature('$org3', 'calls') ->> 'used')")
if [ "$got" = "400/0" ] && [ "$ends" = "${limit_of[$org2]}|${limit_of[$org3]}" ]; then
  ok "8 clients, 400 attempts on hard limits: all answered, each organisation ends exactly at its limit"
else
  failed "8 clients on hard limits: $got answered/failed of 400, used $ends of ${limit_of[$org2]}|${limit_of[$org3]}; $(grep -m3 -iE 'error|abort' "$storm_dir/pgbench.log" | tr '\n' ' ')"
fi
# consume_feature queues feature.limit_reached inside the call Citus delegated (written at once there:
# at the worker's pre-commit Citus refuses a write to a distributed table).
check "each organisation's outbox holds one feature.limit_reached from the storm" "1|1" 0 \
  "select count(*) filter (where org_id = '$org2') || '|' || count(*) filter (where org_id = '$org3')
     from switchboard.webhook_messages where event_type = 'feature.limit_reached'"
for org in $org2 $org3; do
  citus_psql 0 -q -c "select switchboard.clear_feature_override('$org', 'calls')" >/dev/null
done

# The booking storm on a calendar of org3 open all day: 12 half hours of one day, 8 clients.
all_day=$(for d in mon tue wed thu fri sat sun; do printf '"%s": [["00:00", "24:00"]], ' $d; done)
storm_cal=$(citus_psql 0 -tA -c "select switchboard.create_calendar('$org3', 'Storm desk', 'UTC', '{${all_day%, }}')")
storm_day=$(date -u -d '+3 days' +%F)
cat >"$storm_dir/book.sql" <<SQL
\\set s random(0, 11)
SELECT switchboard.book_appointment('$org3', '$storm_cal', '$storm_day 09:00+00'::timestamptz + :s * interval '30 minutes', 30);
SQL
got=$(pgbench_coordinator -t 30 -f "$storm_dir/book.sql")
booked=$(citus_psql 0 -tA -c "
  select count(*) || '|' || count(distinct starts_at) || '|' ||
         (select count(*) from switchboard.appointments a join switchboard.appointments b
            on a.org_id = b.org_id and a.calendar_id = b.calendar_id and a.id < b.id
           and tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)
          where a.org_id = '$org3' and a.calendar_id = '$storm_cal')
    from switchboard.appointments where org_id = '$org3' and calendar_id = '$storm_cal'")
IFS='|' read -r n distinct overlaps <<<"$booked"
check "the booking storm: no slot booked twice, no appointments overlapping" "t" 0 \
  "select $n = $distinct and $overlaps = 0 and $n <= 12"
if [ "$got" = "240/0" ] && [ "$booked" = "12|12|0" ]; then
  ok "the booking storm: 240 attempts by 8 clients all answered, each of the 12 slots booked once"
else
  failed "the booking storm: $got answered/failed of 240, booked|distinct|overlaps $booked; $(grep -m3 -iE 'error|abort' "$storm_dir/pgbench.log" | tr '\n' ' ')"
fi
rm -rf "$storm_dir"
