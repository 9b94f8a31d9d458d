# Telephony through the coordinator, on organisations of both workers (org2 and org3 from
# 50_claims.sh): caller-ID verification (a code started, a wrong code counted, the right code
# verifying, the third start refused as ALREADY_VERIFIED), a forwarding configuration created twice
# (the second replaces the first), confirmed and disabled, and the organisation's numbers added,
# listed, changed and removed. The workers verify with the coordinator's caller-ID secret, so a code
# sent by one node checks on the node holding the organisation.
# tele SQL: the single value SQL answers through the coordinator (errors included).
tele() { citus_psql 0 -tA -c "$1" 2>&1; }
for org in $org2 $org3; do
  started=$(tele "select switchboard.start_caller_id_verification('$org', '+1 415 555 0134', 'desk')")
  vid=$(tele "select '$started'::jsonb ->> 'verificationId'")
  code=$(tele "select '$started'::jsonb ->> 'code'")
  if [[ $vid =~ ^[0-9a-f-]{36}$ && $code =~ ^[0-9]{6}$ ]]; then
    ok "telephony on $org: a verification started, its code answered to the service role"
  else
    failed "telephony on $org: start_caller_id_verification: $started"
    continue
  fi
  wrong=$(printf '%06d' $(((10#$code + 1) % 1000000)))
  check "telephony on $org: a wrong code is counted" "WRONG_CODE|2" 0 \
    "select d ->> 'reason' || '|' || (d ->> 'attemptsRemaining')
       from switchboard.confirm_caller_id_verification('$org', '$vid', '$wrong') d"
  check "telephony on $org: the right code verifies the number" "VERIFIED|+14155550134" 0 \
    "select d ->> 'reason' || '|' || (d ->> 'phoneNumber')
       from switchboard.confirm_caller_id_verification('$org', '$vid', '$code') d"
  check "telephony on $org: a verified number is not sent another code" "ALREADY_VERIFIED" 0 \
    "select switchboard.start_caller_id_verification('$org', '+14155550134') ->> 'reason'"
  check "telephony on $org: the organisation's number added" "+14155550199" 0 \
    "select (switchboard.add_phone_number('$org', '(415) 555-0199', 'twilio', 'AI line')).phone_number"
  for ring in 20 25; do
    config=$(tele "select concat_ws('|', d ->> 'reason', d -> 'config' ->> 'ringTimeSeconds',
                                      d -> 'config' ->> 'status', d -> 'config' ->> 'id')
                     from switchboard.create_forwarding_config('$org', '$vid', 'att', 'safety_net', $ring) d")
  done
  cid=${config##*|}
  check "telephony on $org: a second forwarding configuration replaces the first" \
    "CREATED|25|pending_setup|$cid|1" 0 \
    "select '${config//\'/}|' || count(*) from switchboard.forwarding_configs where org_id = '$org'"
  check "telephony on $org: the forwarding setup confirmed" "ACTIVE" 0 \
    "select switchboard.confirm_forwarding_setup('$org', '$cid') ->> 'reason'"
  check "telephony on $org: the forwarding disabled, its deactivation code answered" "DISABLED|##004#" 0 \
    "select d ->> 'reason' || '|' || (d ->> 'deactivationCode') from switchboard.disable_forwarding('$org', '$cid') d"
  check "telephony on $org: the verified number listed with its configuration" "verified|true" 0 \
    "select n ->> 'status' || '|' || (n ->> 'hasForwardingConfig')
       from jsonb_array_elements(switchboard.list_verified_numbers('$org') -> 'numbers') n"
  pid=$(tele "select id from switchboard.list_phone_numbers('$org')")
  check "telephony on $org: the number changed" "AI desk" 0 \
    "select (switchboard.update_phone_number('$org', '$pid', friendly_name => 'AI desk')).friendly_name"
  check "telephony on $org: the number removed" "REMOVED" 0 \
    "select switchboard.remove_phone_number('$org', '$pid') ->> 'reason'"
  check "telephony on $org: no number left" "0" 0 \
    "select count(*) from switchboard.phone_numbers where org_id = '$org'"
done
# A member's and a stranger's request (as_request from 50_claims.sh) on the organisation's node.
for org in $org2 $org3; do
  got=$(as_request "$owner" "select switchboard.list_verified_numbers('$org') ->> 'reason'")
  if [ "$got" = "LISTED" ]; then ok "telephony on $org: a member lists the verified numbers"; else failed "telephony member on $org: $got"; fi
  got=$(as_request "$stranger" "select switchboard.start_caller_id_verification('$org', '+14155550177')")
  if [[ $got == *"permission denied for this organization"* ]]; then
    ok "telephony on $org: a stranger may not start a verification (42501)"
  else
    failed "telephony stranger on $org: $got"
  fi
done
