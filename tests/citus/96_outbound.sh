# Outbound webhooks on Citus: events raised through the coordinator (a trigger on an appointments
# shard, a membership, a hard limit reached in a delegated consume_feature, emit_event itself) land
# in each organisation's outbox shard; rolled-back ones do not; the delivery worker's claim runs
# through Citus, one router query per organisation. Organisations org2 and org3 (50_claims.sh)
# are on different workers. Not yet: delivery itself (switchboard._outbound_service() answers
# 'none' on Citus: recording an attempt is not router-planned yet; README, Citus).
ob_q() { citus_psql 0 -tA -c "$1" 2>&1; }
ob_start=$(ob_q "select now()")
ob_secrets="" ob_endpoints=""
for org in $org2 $org3; do
  ob_created=$(ob_q "select switchboard.create_webhook_endpoint('$org', 'https://hooks.example.com/$org')")
  ob_secrets+=$(ob_q "select left('$ob_created'::jsonb ->> 'secret', 6)")
  ob_endpoints+="${ob_endpoints:+,}'$(ob_q "select '$ob_created'::jsonb ->> 'endpointId'")'"
done
check "create_webhook_endpoint through the coordinator on both workers" "whsec_whsec_" 0 "select '$ob_secrets'"

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
                  where d.org_id = m.org_id and d.message_id = m.id)"
check "org2's outbox: the member, the direct event and the hard limit, queued for its endpoint" \
  "appointment.completed,feature.limit_reached,member.added" 0 "$(printf "$ob_types" "$org2")"
check "org3's outbox: the booking (a trigger on its shard) too" \
  "appointment.booked,appointment.completed,feature.limit_reached,member.added" 0 "$(printf "$ob_types" "$org3")"
check "nothing rolled back is in the outbox" 0 0 \
  "select count(*) from switchboard.webhook_messages where created_at >= '$ob_start'
      and (event_type = 'appointment.cancelled' or body like '%${ob_day}T12:00%')"
# The worker's claim through the coordinator: every pending delivery of the two organisations,
# leased (one router query per organisation), then none left to claim.
ob_due="select count(*) from switchboard.webhook_deliveries d join switchboard.webhook_endpoints e
          on e.org_id = d.org_id and e.id = d.endpoint_id
         where d.org_id in ('$org2', '$org3') and e.created_at >= '$ob_start'"
ob_want=$(ob_q "$ob_due")
check "the claim through the coordinator leases each of the $ob_want deliveries once" "$ob_want|0" 0 \
  "select (select count(*) from switchboard._claim_deliveries(1000) c where c.endpoint_id in ($ob_endpoints))
          || '|' || (select count(*) from switchboard._claim_deliveries(1000) c where c.endpoint_id in ($ob_endpoints))"
check "the worker's steps run through Citus: next due, prune" "true|0" 0 \
  "select (switchboard._next_delivery_in() is not null) || '|' || switchboard._prune_webhooks(100)"
check "on Citus no node delivers yet (recording an attempt is not router-planned)" "none" 0 \
  "select switchboard._outbound_service()"
