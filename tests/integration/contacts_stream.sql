-- The provider event stream of the contacts tests and benchmark (tests/integration/contacts_replay.sh,
-- tests/bench/contacts.sh): per call (:calls of them) 9 distinct events of its provider (Twilio:
-- status callbacks with sequence numbers, repeats and a recording; Vapi: status updates and the
-- end-of-call report; Retell: call_started, call_ended, call_analyzed), then 1 duplicate delivery
-- of a random one: 10 per call, in table stream (in order) and table shuffled (n: random order).
create table stream (n bigserial, call int, step int, provider text, event jsonb);
insert into stream (call, step, provider, event)
select c, s, p, case p
  when 'twilio' then jsonb_strip_nulls(jsonb_build_object(
    'CallSid', 'CA' || c, 'AccountSid', 'ACreplay', 'Direction', 'outbound-api',
    'From', '+14155550000', 'To', '+1415556' || lpad(c::text, 4, '0'),
    'CallStatus', (array['queued', 'initiated', 'ringing', 'in-progress', 'completed', 'in-progress',
                         'completed', null, 'ringing'])[s],
    'SequenceNumber', (array[0, 1, 2, 3, 4, 3, 4, null, 2])[s]::text,
    'Timestamp', to_char(timestamptz '2026-12-01 09:00:00+00' + c * interval '1 minute' + s * interval '5 seconds',
                         'Dy, DD Mon YYYY HH24:MI:SS') || ' +0000',
    'CallDuration', case when s in (5, 7) then (30 + c % 300)::text end,
    'AnsweredBy', case when s >= 4 then (array['human', 'machine_end_beep'])[1 + c % 2] end,
    'RecordingSid', case when s = 8 then 'RE' || c end,
    'RecordingStatus', case when s = 8 then 'completed' end,
    'RecordingUrl', case when s = 8 then 'https://rec.example/' || c end))
  when 'vapi' then jsonb_build_object('message', jsonb_strip_nulls(jsonb_build_object(
    'type', case when s >= 8 then 'end-of-call-report' else 'status-update' end,
    'status', (array['scheduled', 'queued', 'ringing', 'in-progress', 'forwarding', 'in-progress', 'ended',
                     null, null])[s],
    'endedReason', case when s >= 7 then (array['customer-ended-call', 'customer-busy', 'voicemail'])[1 + c / 3 % 3] end,
    'timestamp', 1764579600000 + c * 60000 + s * 1000,
    'cost', case when s >= 8 then round((c % 97) / 100.0, 2) end,
    'startedAt', case when s >= 8 then '2026-12-01T09:00:00Z' end,
    'endedAt', case when s >= 8 then '2026-12-01T09:0' || (s - 5) || ':00Z' end,
    'artifact', case when s >= 8 then jsonb_build_object('transcript', 'call ' || c || ' v' || s) end,
    'call', jsonb_build_object('id', 'vapi-' || c, 'type', 'outboundPhoneCall', 'assistantId', 'asst',
                               'customer', jsonb_build_object('number', '+1415557' || lpad(c::text, 4, '0'))))))
  else jsonb_build_object('event', (array['call_started', 'call_started', 'call_ended', 'call_ended', 'call_analyzed',
                                          'call_analyzed', 'call_ended', 'call_started', 'call_analyzed'])[s],
    'call', jsonb_strip_nulls(jsonb_build_object('call_id', 'rt-' || c, 'agent_id', 'ag', 'direction', 'outbound',
      'call_status', case when s in (1, 2, 8) then 'ongoing' else 'ended' end,
      'from_number', '+14155550000', 'to_number', '+1415558' || lpad(c::text, 4, '0'),
      'start_timestamp', 1764579600000 + c * 60000,
      'end_timestamp', case when s not in (1, 2, 8) then 1764579600000 + c * 60000 + 90000 + (c % 7) * 1000 end,
      'duration_ms', case when s not in (1, 2, 8) then 90000 + (c % 7) * 1000 end,
      'disconnection_reason', case when s not in (1, 2, 8) then (array['user_hangup', 'dial_busy', 'voicemail_reached'])[1 + c / 3 % 3] end,
      'transcript', case when s not in (1, 2, 8) then 'rt ' || c end,
      'call_analysis', case when s in (5, 6, 9) then jsonb_build_object('call_summary', 'summary ' || c) end,
      'call_cost', case when s in (5, 6, 9) then jsonb_build_object('combined_cost', c % 50) end)))
  end
  from generate_series(1, :calls) c,
       lateral (select (array['twilio', 'vapi', 'retell'])[1 + c % 3] as p) pr,
       generate_series(1, 9) s;
-- one duplicate delivery per call
insert into stream (call, step, provider, event)
select distinct on (call) call, step, provider, event from stream order by call, random();
create table shuffled as select row_number() over (order by random()) as n, provider, event from stream;
