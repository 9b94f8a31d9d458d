# Booking through the coordinator, delegated to the node holding the organisation: a calendar, a
# booking, the same slot again (SLOT_TAKEN with alternatives, not the shard's exclusion constraint),
# the free slots around it.
org=e0000000-0000-4000-8000-000000000003
cal=$(citus_psql 0 -tA -c "select switchboard.create_calendar('$org', 'Citus desk', 'UTC',
  '{\"mon\": [[\"09:00\", \"17:00\"]], \"tue\": [[\"09:00\", \"17:00\"]], \"wed\": [[\"09:00\", \"17:00\"]],
    \"thu\": [[\"09:00\", \"17:00\"]], \"fri\": [[\"09:00\", \"17:00\"]]}')" 2>&1)
if [[ $cal =~ ^[0-9a-f-]{36}$ ]]; then
  ok "create_calendar through the coordinator"
else
  failed "create_calendar through the coordinator: $cal"
fi
check "update_calendar through the coordinator" "UPDATED|Citus front desk" 0 \
  "select d ->> 'reason' || '|' || (d -> 'calendar' ->> 'name')
     from switchboard.update_calendar('$org', '$cal', '{\"name\": \"Citus front desk\"}') d"
at=$(citus_psql 0 -tA -c "select (date_trunc('week', now()) + interval '8 days 10 hours')::text")
reasons=""
for n in 1 2; do
  answer=$(citus_psql 0 -tA -c "select switchboard.book_appointment('$org', '$cal', '$at', 30)" 2>&1)
  reasons+="$(citus_psql 0 -tA -c "select '$answer'::jsonb ->> 'reason'" 2>&1) "
done
check "book_appointment books, then answers SLOT_TAKEN" "BOOKED SLOT_TAKEN " 0 "select '$reasons'"
slots=$(citus_psql 0 -tA -c "select starts_at::timestamptz from switchboard.available_slots('$org', '$cal', '$at', '$at'::timestamptz + interval '2 hours')" 2>&1)
check "available_slots leaves the booked slot out" "3 free, none at the booked time" 0 \
  "select count(*) || ' free, ' || case when bool_or(s like '$at%') then 'one' else 'none' end || ' at the booked time'
     from unnest(string_to_array('$slots', E'\\n')) s where s ~ '^[0-9]'"
# The free slots where Citus does not delegate the call (a sub-select, a join, a SQL function with
# parameters): the call re-issues itself to the organisation's node and returns its rows. Before,
# each answered "the organization's rows are on another node".
check "available_slots inside a sub-select and a join" "3|3" 0 \
  "select (select count(*) from switchboard.available_slots('$org', '$cal', '$at', '$at'::timestamptz + interval '2 hours'))
     || '|' || (select count(*) from (values (1)) v(n)
       cross join lateral switchboard.available_slots('$org', '$cal', '$at', '$at'::timestamptz + interval '2 hours') s)"
check "available_slots in a SQL function with parameters" "3" 0 \
  "set citus.enable_ddl_propagation = off;
   create function pg_temp.free(o uuid, c uuid, f timestamptz) returns bigint language sql as
     \$\$ select count(*) from switchboard.available_slots(o, c, f, f + interval '2 hours') \$\$;
   select pg_temp.free('$org', '$cal', '$at')"
# A hold confirmed, then cancelled (each an UPDATE ... RETURNING the appointment on its worker, whose
# columns Citus requires to be immutable expressions: before, both failed with "non-IMMUTABLE
# functions are not allowed in the RETURNING clause").
held=$(citus_psql 0 -tA -c "select switchboard.hold_slot('$org', '$cal', '$at'::timestamptz + interval '3 hours', 30) ->> 'appointmentId'" 2>&1)
check "confirm_appointment of a hold through the coordinator" "CONFIRMED|confirmed" 0 \
  "select a ->> 'reason' || '|' || (a ->> 'status') from switchboard.confirm_appointment('$org', '$held') a"
check "cancel_appointment through the coordinator" "CANCELLED|cancelled" 0 \
  "select a ->> 'reason' || '|' || (a ->> 'status') from switchboard.cancel_appointment('$org', '$held', 'citus') a"
