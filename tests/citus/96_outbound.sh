# Outbound webhooks on Citus: events raised through the coordinator (a trigger on an appointments
# shard, a membership, a hard limit reached in a delegated consume_feature, emit_event itself) land
# in each organisation's outbox shard; rolled-back ones do not. Each worker node's delivery worker,
# woken by the commits there, serves the outbox shards it holds and delivers to a real sink on loopback:
# each message once per endpoint, signed; a failing endpoint gets the compressed retry schedule; a
# message sent again keeps its webhook-id; the attempts are readable through the coordinator by an
# admin and refused to a stranger; an ordered endpoint gets its messages in commit order, each
# retried before the next; the worker's claim and record run as SQL on a worker node (over its
# shards, as the worker runs them); while a worker node is down the other one's organisations are
# delivered, and once it is back its own lose nothing committed. Organisations org2 and org3 (50_claims.sh) are on different workers.
ob_q() { citus_psql 0 -tA -c "$1" 2>&1; }
ob_dir=$(mktemp -d)
ob_sink_log="$ob_dir/sink.log"
ob_sink_port=$(free_port $((CITUS_PORT_BASE + 50)))
python3 "$here/../integration/outbound_sink.py" serve "$ob_sink_port" "$ob_sink_log" &
ob_sink_pid=$!
wait_listening "$ob_sink_port" || failed "the sink listens on $ob_sink_port"
touch "$ob_sink_log"
ob_sink="http://127.0.0.1:$ob_sink_port"
# Every node: the loopback sink allowed over plain http (create_webhook_endpoint runs on the
# organisation's node); the coordinator: a retry schedule of 1 s, 1 s and a 2 s timeout.
for n in 0 1 2; do
  citus_psql $n -q -c "alter system set switchboard.outbound_allow_networks = '127.0.0.1/32'" \
    -c "alter system set switchboard.outbound_allow_http = on" -c "alter system set switchboard.retry_schedule = '1,1'" \
    -c "alter system set switchboard.outbound_timeout = '2s'" -c "select pg_reload_conf()" >/dev/null
done
sleep 1
check "each worker node serves its outbox shards; the coordinator holds none" "none|wake|wake" 0 \
  "select switchboard._outbound_service() || '|' || string_agg(result, '|' order by nodeport)
     from run_command_on_workers('select switchboard._outbound_service()')"
ob_coordinator_workers="select count(*) from pg_stat_activity where backend_type = 'switchboard webhooks'"
for ((i = 0; i < 50 && $(ob_q "$ob_coordinator_workers") != 0; i++)); do sleep 0.2; done
check "no delivery worker stays on the coordinator" 0 0 "$ob_coordinator_workers"

ob_start=$(ob_q "select now()")
ob_secrets=""
declare -A ob_ok ob_secret
for org in $org2 $org3; do
  ob_created=$(ob_q "select switchboard.create_webhook_endpoint('$org', '$ob_sink/ok/$org')")
  ob_ok[$org]=$(ob_q "select '$ob_created'::jsonb ->> 'endpointId'")
  ob_secret[$org]=$(ob_q "select '$ob_created'::jsonb ->> 'secret'")
  ob_secrets+=${ob_secret[$org]:0:6}
done
check "create_webhook_endpoint through the coordinator on both workers" "whsec_whsec_" 0 "select '$ob_secrets'"
# org2: an endpoint answering 500 (appointment.completed only); org3: one failing each message's
# first request (member.added only).
ob_failing=$(ob_q "select switchboard.create_webhook_endpoint('$org2', '$ob_sink/status/500/$org2', '{appointment.completed}') ->> 'endpointId'")
ob_flaky_created=$(ob_q "select switchboard.create_webhook_endpoint('$org3', '$ob_sink/flaky/1/$org3', '{member.added}')")
ob_flaky=$(ob_q "select '$ob_flaky_created'::jsonb ->> 'endpointId'")
ob_flaky_secret=$(ob_q "select '$ob_flaky_created'::jsonb ->> 'secret'")

# The events: a booking (the appointments shard's trigger), a member added (the memberships
# shard's trigger), a hard limit reached (consume_feature, delegated), emit_event itself; and a
# rolled-back emit_event and booking, which leave nothing.
ob_cal=$(ob_q "select switchboard.create_calendar('$org3', 'Outbound desk', 'UTC', '{\"mon\": [[\"00:00\", \"24:00\"]], \"tue\": [[\"00:00\", \"24:00\"]], \"wed\": [[\"00:00\", \"24:00\"]], \"thu\": [[\"00:00\", \"24:00\"]], \"fri\": [[\"00:00\", \"24:00\"]], \"sat\": [[\"00:00\", \"24:00\"]], \"sun\": [[\"00:00\", \"24:00\"]]}')")
ob_day=$(date -u -d '+5 days' +%F)
ob_booked=$(ob_q "select switchboard.book_appointment('$org3', '$ob_cal', '$ob_day 10:00+00', 30) ->> 'reason'")
citus_psql 0 -q -c "begin" -c "select switchboard.book_appointment('$org3', '$ob_cal', '$ob_day 12:00+00', 30)" \
  -c "rollback" >/dev/null 2>&1
for org in $org2 $org3; do
  ob_q "select switchboard.add_member('$org', gen_random_uuid(), 'agent')" >/dev/null
  ob_q "select switchboard.emit_event('$org', 'appointment.completed', '{\"direct\": true}')" >/dev/null
  citus_psql 0 -q -c "begin" -c "select switchboard.emit_event('$org', 'appointment.cancelled', '{\"rolledBack\": true}')" \
    -c "rollback" >/dev/null 2>&1
  used=$(ob_q "select switchboard.check_feature('$org', 'calls') ->> 'used'")
  ob_q "select switchboard.set_feature_override('$org', 'calls', true, $((used + 1)), 'hard')" >/dev/null
  for n in 1 2; do ob_q "select switchboard.consume_feature('$org', 'calls', 1)" >/dev/null; done
  ob_q "select switchboard.clear_feature_override('$org', 'calls')" >/dev/null
done
check "book_appointment through the coordinator books" BOOKED 0 "select '$ob_booked'"
ob_types="select string_agg(m.event_type, ',' order by m.event_type) from switchboard.webhook_messages m
           where m.org_id = '%s' and m.created_at >= '$ob_start' and exists (
                 select 1 from switchboard.webhook_deliveries d
                  where d.org_id = m.org_id and d.message_id = m.id and d.endpoint_id = '%s')"
check "org2's outbox: the member, the direct event and the hard limit, queued for its endpoint" \
  "appointment.completed,feature.limit_reached,member.added" 0 "$(printf "$ob_types" "$org2" "${ob_ok[$org2]}")"
check "org3's outbox: the booking (a trigger on its shard) too" \
  "appointment.booked,appointment.completed,feature.limit_reached,member.added" 0 "$(printf "$ob_types" "$org3" "${ob_ok[$org3]}")"
check "nothing rolled back is in the outbox" 0 0 \
  "select count(*) from switchboard.webhook_messages where created_at >= '$ob_start'
      and (event_type = 'appointment.cancelled' or body like '%${ob_day}T12:00%')"

# ob_settle SECONDS: waits until no delivery to this file's endpoints is pending.
ob_pending="select count(*) from switchboard.webhook_deliveries d join switchboard.webhook_endpoints e
              on e.org_id = d.org_id and e.id = d.endpoint_id
             where d.org_id in ('$org2', '$org3') and e.created_at >= '$ob_start' and d.status = 'pending'"
ob_settle() {
  local i
  for ((i = 0; i < $1 * 5; i++)); do
    [ "$(ob_q "$ob_pending")" = 0 ] && return 0
    sleep 0.2
  done
  return 1
}
# ob_path_log PATH: the sink's requests to PATH, in a file of their own (printed: its name).
ob_path_log() {
  grep -F "\"path\": \"$1\"" "$ob_sink_log" >"$ob_dir/path.log"
  echo "$ob_dir/path.log"
}
# ob_ids_sent PATH / ob_ids_queued ENDPOINT: the distinct message ids, sorted, one per line.
ob_ids_sent() { python3 -c "import json,sys; print('\n'.join(sorted({json.loads(l)['id'] for l in open(sys.argv[1])})))" "$(ob_path_log "$1")"; }
ob_ids_queued() { ob_q "select string_agg(message_id, E'\n' order by message_id) from switchboard.webhook_deliveries where endpoint_id = '$1'"; }
ob_settled=yes
ob_settle 60 || ob_settled="no: $(ob_q "$ob_pending") pending"
check "every delivery settles (each node's worker delivers its organisations)" yes 0 "select '$ob_settled'"
for org in $org2 $org3; do
  read -r total distinct bad <<<"$(python3 "$here/../integration/outbound_sink.py" verify "$(ob_path_log "/ok/$org")" "${ob_secret[$org]}")"
  check "organisation $org: each message delivered once, signatures valid" "$distinct|$distinct|0|delivered" 0 \
    "select '$total|' || count(*) || '|$bad|' || string_agg(distinct status, ',')
       from switchboard.webhook_deliveries where endpoint_id = '${ob_ok[$org]}'"
  check "organisation $org: the messages sent are the ones queued" yes 0 \
    "select case when '$(ob_ids_sent "/ok/$org")' = '$(ob_ids_queued "${ob_ok[$org]}")' then 'yes' else 'no' end"
done
if grep -q 'rolledBack\|'"${ob_day}T12:00" "$ob_sink_log"; then failed "a rolled-back event was delivered"; else ok "nothing rolled back was delivered"; fi
# The failing endpoint: 3 attempts (the first and one after each of the schedule's 2 delays), then
# failed; an admin reads them through the coordinator, a stranger is refused.
ob_failed_msg=$(ob_q "select message_id from switchboard.webhook_deliveries where endpoint_id = '$ob_failing'")
check "the failing endpoint: retried per switchboard.retry_schedule, then failed" "failed|3" 0 \
  "select status || '|' || attempts from switchboard.webhook_deliveries where endpoint_id = '$ob_failing'"
check "an admin reads the attempts through the coordinator" "500:http_error,500:http_error,500:http_error" 0 \
  "select '$(as_request "$owner" "select string_agg(status_code || ':' || outcome, ',' order by attempted_at) from switchboard.list_webhook_attempts('$org2', '$ob_failed_msg') where endpoint_id = '$ob_failing'")'"
ob_refused=$(as_request "$stranger" "select count(*) from switchboard.list_webhook_attempts('$org2', '$ob_failed_msg')")
if [[ $ob_refused == *"permission denied for this organization"* ]]; then ok "a stranger is refused the attempts (42501)"; else failed "a stranger read the attempts: $ob_refused"; fi
check "the retries were spaced by the schedule (>= 0.8 s apart)" t 0 \
  "select bool_and(gap >= 0.8) from (select extract(epoch from attempted_at - lag(attempted_at) over (order by attempted_at)) gap
     from switchboard.webhook_attempts where endpoint_id = '$ob_failing') x where gap is not null"
# The flaky endpoint: the first request of the member.added message failed, the second was sent
# with the same webhook-id and accepted; both signed.
read -r total distinct bad <<<"$(python3 "$here/../integration/outbound_sink.py" verify "$(ob_path_log "/flaky/1/$org3")" "$ob_flaky_secret")"
check "a message sent again keeps its webhook-id, signed each time" "2|1|0|delivered" 0 \
  "select '$total|$distinct|$bad|' || string_agg(status, ',') from switchboard.webhook_deliveries where endpoint_id = '$ob_flaky'"

# Commit-to-2xx latency through the coordinator, woken on commit on the organisation's node
# (information, not a check): 20 events, one every 150 ms, each carrying its emit time; the sink
# notes the arrival.
for i in $(seq 1 20); do
  ob_q "select switchboard.emit_event('$org3', 'appointment.no_show', jsonb_build_object('latency', extract(epoch from clock_timestamp())))" >/dev/null
  sleep 0.15
done
ob_settle 30 || true
echo "info: commit-to-2xx latency on Citus (the node's worker woken on commit), ms: $(python3 -c "
import json, statistics, sys
ms = sorted(1000 * (r['at'] - json.loads(r['body'])['data']['latency']) for r in map(json.loads, open(sys.argv[1]))
            if r['path'] == '/ok/$org3' and 'latency' in r['body'])
print('n %d, p50 %.0f, max %.0f' % (len(ms), statistics.median(ms), ms[-1]) if ms else 'none arrived')" "$ob_sink_log")"

# An ordered endpoint on Citus: each message's first request fails, and a failing message holds
# back the endpoint's later ones, so the sink sees every message twice, in commit order.
ob_ordered=$(ob_q "select switchboard.create_webhook_endpoint('$org2', '$ob_sink/flaky/1/ordered/$org2',
  '{appointment.rescheduled}', '{\"ordered\": true}') ->> 'endpointId'")
for i in 1 2 3; do ob_q "select switchboard.emit_event('$org2', 'appointment.rescheduled', '{\"order\": $i}')" >/dev/null; done
ob_settle 30 || true
check "an ordered endpoint on Citus: each message retried before the next is sent, in commit order" \
  "1,1,2,2,3,3|delivered" 0 \
  "select '$(python3 -c "import json, sys
print(','.join(str(json.loads(r['body'])['data']['order']) for r in map(json.loads, open(sys.argv[1]))))" \
    "$(ob_path_log "/flaky/1/ordered/$org2")")|' || string_agg(distinct status, ',')
     from switchboard.webhook_deliveries where endpoint_id = '$ob_ordered'"

# The worker's steps as SQL on the worker node holding org2 (_claim_deliveries and
# _record_attempt run the worker's statements over that node's shards): while paused, a message
# for an endpoint of its own is claimed there, leased once, and settled.
ob_node2=$(ob_q "select n from (values (1), (2)) v(n) where (select p.groupid from pg_dist_placement p
                   where p.shardid = get_shard_id_for_distribution_column('switchboard.webhook_deliveries', '$org2'))
                 = (select groupid from pg_dist_node where nodeport = (array[${CITUS_PORT[1]}, ${CITUS_PORT[2]}])[n])")
ob_by_sql=$(ob_q "select switchboard.create_webhook_endpoint('$org2', '$ob_sink/ok/by-sql',
  '{caller_id.verification_started}') ->> 'endpointId'")
ob_q "select switchboard.set_outbound_paused(true)" >/dev/null
ob_q "select switchboard.emit_event('$org2', 'caller_id.verification_started', '{\"bySql\": true}')" >/dev/null
check "nothing else is pending before the worker's steps run as SQL" 0 0 \
  "select count(*) from switchboard.webhook_deliveries where status = 'pending' and endpoint_id <> '$ob_by_sql'"
check "the worker's claim and record as SQL on org2's node: its message claimed once and delivered" \
  "$ob_by_sql|1|delivered" "$ob_node2" \
  "select string_agg(c.endpoint_id || '|' || c.attempt || '|'
                     || switchboard._record_attempt(c.org_id, c.message_id, c.endpoint_id, 200, 'success'), ',')
     from switchboard._claim_deliveries(10) c"
ob_q "select switchboard.set_outbound_paused(false)" >/dev/null

# A worker node crashes mid-delivery and comes back: 150 events per organisation committed
# through the coordinator while delivery is paused (the switch reaches every node), each for the
# fast endpoint and for a slow one (100 ms an answer, 10 at once); delivery resumes, and once the
# sink has seen the first of them worker 1 is stopped with -m immediate (a crash). While it is
# down, the organisation on worker 2 is served to the end; then worker 1 starts again. Every
# committed message arrives at both (one in flight when its node went down is sent again with the
# same webhook-id).
declare -A ob_slow ob_slow_secret
for org in $org2 $org3; do
  ob_created=$(ob_q "select switchboard.create_webhook_endpoint('$org', '$ob_sink/slow/100/$org', '{appointment.confirmed}')")
  ob_slow[$org]=$(ob_q "select '$ob_created'::jsonb ->> 'endpointId'")
  ob_slow_secret[$org]=$(ob_q "select '$ob_created'::jsonb ->> 'secret'")
done
ob_q "select switchboard.set_outbound_paused(true)" >/dev/null
ob_burst=$(ob_q "select now()")
for org in $org2 $org3; do
  for i in $(seq 1 150); do echo "select switchboard.emit_event('$org', 'appointment.confirmed', '{\"burst\": $i}');"; done |
    citus_psql 0 -q -tA >/dev/null 2>&1
done
ob_q "select switchboard.set_outbound_paused(false)" >/dev/null
ob_seen_burst() { grep -c '"burst' "$ob_sink_log"; }
for ((i = 0; i < 300 && $(ob_seen_burst) == 0; i++)); do sleep 0.05; done
as_pg "$PG_BIN/pg_ctl" -D "${CITUS_HOME[1]}/data" -m immediate -w stop >/dev/null 2>&1
ob_at_crash=$(ob_seen_burst)
ob_alive=$(ob_q "select o from unnest(array['$org2', '$org3']::uuid[]) o
                  where (select p.groupid from pg_dist_placement p
                          where p.shardid = get_shard_id_for_distribution_column('switchboard.webhook_deliveries', o))
                        = (select groupid from pg_dist_node where nodeport = ${CITUS_PORT[2]})")
ob_alive_pending="select count(*) from switchboard.webhook_deliveries
                   where org_id = '$ob_alive' and status = 'pending'"
for ((i = 0; i < 300 && $(ob_q "$ob_alive_pending") != 0; i++)); do sleep 0.2; done
check "while worker 1 is down, worker 2's organisation is delivered to the end" 0 0 "$ob_alive_pending"
start_instance "${CITUS_HOME[1]}"
ob_t0=$SECONDS
ob_settle 180 || true
ob_committed="select string_agg(id, E'\n' order by id) from switchboard.webhook_messages
                where org_id in ('$org2', '$org3') and created_at >= '$ob_burst'"
ob_sent_burst() { for org in $org2 $org3; do ob_ids_sent "$1/$org"; done | sort -u | grep -Fxf <(ob_q "$ob_committed") | wc -l; }
check "a worker node crashed mid-delivery ($ob_at_crash of 600 requests made by then; settled $((SECONDS - ob_t0)) s after its restart): every committed message arrives at both endpoints" \
  "300|300|300|0" 0 \
  "select (select count(*) from switchboard.webhook_messages where org_id in ('$org2', '$org3') and created_at >= '$ob_burst')
          || '|$(ob_sent_burst /ok)|$(ob_sent_burst /slow/100)|' || ($ob_pending)"
for org in $org2 $org3; do
  for ep in "/ok/$org ${ob_ok[$org]} ${ob_secret[$org]}" "/slow/100/$org ${ob_slow[$org]} ${ob_slow_secret[$org]}"; do
    read -r ob_path ob_endpoint ob_key <<<"$ep"
    read -r total distinct bad <<<"$(python3 "$here/../integration/outbound_sink.py" verify "$(ob_path_log "$ob_path")" "$ob_key")"
    check "$ob_path after the crash: every request signed, a message sent twice only under its one id" "0|0" 0 \
      "select '$bad|' || ($distinct - (select count(*) from switchboard.webhook_deliveries where endpoint_id = '$ob_endpoint'))"
  done
done
kill "$ob_sink_pid" 2>/dev/null
for n in 0 1 2; do
  citus_psql $n -q -c "alter system reset switchboard.outbound_allow_networks" -c "alter system reset switchboard.outbound_allow_http" \
    -c "alter system reset switchboard.retry_schedule" -c "alter system reset switchboard.outbound_timeout" \
    -c "select pg_reload_conf()" >/dev/null 2>&1
done
rm -rf "$ob_dir"
