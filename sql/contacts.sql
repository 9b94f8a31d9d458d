-- Contacts and calls: import with per-row rejections and merges, call events folded in any order
-- (Twilio, Vapi, Retell; through the inbound inbox too), dispositions, notes, stages, messages,
-- the dashboard's rollups, bad input, and every role of two organisations.
set client_min_messages = warning;
set timezone = 'UTC';
set datestyle = 'ISO, YMD';
\set A '00000000-0000-4000-8000-0000000ca000'
\set B '00000000-0000-4000-8000-0000000cb000'
\set owner_a '00000000-0000-4000-8000-0000000ca001'
\set manager_a '00000000-0000-4000-8000-0000000ca003'
\set agent_a '00000000-0000-4000-8000-0000000ca004'
\set viewer_a '00000000-0000-4000-8000-0000000ca005'
\set owner_b '00000000-0000-4000-8000-0000000cb001'
\set agent_b '00000000-0000-4000-8000-0000000cb004'
insert into switchboard.organizations (id, name, slug) values (:'A', 'Dialer A', 'dialer-a'), (:'B', 'Dialer B', 'dialer-b');
insert into switchboard.organization_members (org_id, user_id, role) values
  (:'A', :'owner_a', 'owner'), (:'A', :'manager_a', 'manager'), (:'A', :'agent_a', 'agent'),
  (:'A', :'viewer_a', 'viewer'), (:'B', :'owner_b', 'owner'), (:'B', :'agent_b', 'agent');

-- Runs a statement as a user (NULL: superuser) through role authenticated; returns its single
-- value, or the SQLSTATE, message and detail. Nothing of a failed statement stays.
create function pg_temp.as_user(who uuid, stmt text) returns text language plpgsql as $$
declare
  s text; m text; d text; result text;
begin
  begin
    if who is not null then
      perform set_config('request.jwt.claims', json_build_object('sub', who, 'role', 'authenticated')::text, true);
      perform set_config('role', 'authenticated', true);
    end if;
    execute stmt into result;
    perform set_config('role', 'none', true);
    perform set_config('request.jwt.claims', '', true);
    return coalesce(result, 'NULL');
  exception when others then
    get stacked diagnostics s = returned_sqlstate, m = message_text, d = pg_exception_detail;
    -- ids made by this run (not the fixed ones above) are shown as <id>
    return regexp_replace(s || ': ' || m || coalesce(' (' || nullif(d, '') || ')', ''),
                          '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}', '<id>', 'g');
  end;
end
$$;

--
-- Stages, dispositions, note tags (managers).
--
select pg_temp.as_user(:'manager_a', format('select switchboard.upsert_pipeline_stage(%L, %L) ->> ''reason''', :'A', s))
  from unnest(array['New', 'Contacted', 'Qualified']) s;
select pg_temp.as_user(:'agent_a', format('select switchboard.upsert_pipeline_stage(%L, %L)', :'A', 'Won'));
select pg_temp.as_user(:'manager_a', format('select switchboard.upsert_disposition(%L, %L, %L) ->> ''reason''', :'A', d, s))
  from (values ('interested', '{"stage": "Qualified", "contactStatus": "qualified"}'),
               ('booked', '{"stage": "Booked", "createMissingStage": true, "contactStatus": "booked", "countsAsBooked": true, "removesFromCampaign": true}'),
               ('callback', '{"stage": "Callback", "createMissingStage": true, "callbackAfterMinutes": 60}'),
               ('not-interested', '{"contactStatus": "lost", "removesFromCampaign": true}')) x(d, s);
select pg_temp.as_user(:'manager_a', format('select switchboard.upsert_disposition(%L, %L, %L)', :'A', 'Bad Name', '{}'));
select pg_temp.as_user(:'manager_a', format('select switchboard.upsert_disposition(%L, %L, %L)', :'A', 'x', '{"stages": 1}'));
select pg_temp.as_user(:'manager_a', format('select switchboard.upsert_disposition(%L, %L, %L)', :'A', 'x', '{"countsAsBooked": "yes"}'));
insert into switchboard.call_note_tags (org_id, name) values (:'A', 'follow-up'), (:'A', 'angry');

--
-- Import: rejections per row, merges on phone, within-batch duplicates.
--
select pg_temp.as_user(:'agent_a', format('select switchboard.import_contacts(%L, %L)', :'A', $$[
  {"phone": "+14155550101", "firstName": "Ada", "source": "csv", "tags": ["vip"], "stage": "New"},
  {"phone": "+14155550102", "firstName": "Bob", "source": "csv", "customFields": {"plan": "gold"}},
  {"phone": "41555", "firstName": "Too short"},
  {"phone": "+14155550104", "email": "not-an-email"},
  {"phone": "+14155550105", "stage": "Nowhere"},
  {"phone": "+14155550106", "colour": "red"},
  {"firstName": "No phone"},
  "not an object",
  {"phone": "+14155550107", "consentAt": "2026-02-31T10:00:00Z"},
  {"phone": "+14155550108", "timezone": "Mars/Olympus"},
  {"phone": "+14155550102", "lastName": "Later", "tags": ["b"]}
]$$));
select pg_temp.as_user(:'agent_a', format('select switchboard.import_contacts(%L, %L)', :'A', $$[
  {"phone": "+14155550101", "lastName": "Lovelace", "tags": ["new"], "doNotCall": true, "customFields": {"x": 1}},
  {"phone": "+14155550109", "firstName": "Cy", "source": "web", "timezone": "America/Chicago", "consentMethod": "web form", "consentAt": "2026-01-02T03:04:05Z"}
]$$));
-- A key written twice in a row: jsonb keeps its last value, and so does the check (the fuzz finding
-- of contacts_import): the first row is refused, the second merges into +14155550109.
select pg_temp.as_user(:'agent_a', format('select switchboard.import_contacts(%L, %L)', :'A', $$[
  {"phone": "+14155550101", "phone": "a@b"},
  {"phone": "a@b", "phone": "+14155550109"}
]$$));
select phone, first_name, last_name, source, tags, custom_fields, do_not_call, status, timezone, consent_at,
       (select s.name from switchboard.pipeline_stages s where s.org_id = c.org_id and s.id = c.stage_id) as stage
  from switchboard.contacts c where org_id = :'A' order by phone;
select pg_temp.as_user(:'agent_a', format('select switchboard.upsert_contact(%L, %L) ->> ''reason''', :'A', '{"phone": "+14155550110", "firstName": "Dee"}'));
select pg_temp.as_user(:'agent_a', format('select switchboard.upsert_contact(%L, %L) ->> ''reason''', :'A', '{"phone": "+14155550110", "email": "dee@example.com"}'));
select pg_temp.as_user(:'agent_a', format('select switchboard.upsert_contact(%L, %L)', :'A', '{"phone": "(415) 555"}'));
-- A national number is read as a US one (switchboard.normalize_phone's rules) and stored in E.164;
-- the time zone comes from the number when the row gives none.
select pg_temp.as_user(:'agent_a', format('select switchboard.upsert_contact(%L, %L) ->> ''reason''', :'A', '{"phone": "(415) 555-0111"}'));
select phone, timezone from switchboard.contacts where org_id = :'A' and phone = '+14155550111';
select pg_temp.as_user(:'agent_a', format('select switchboard.import_contacts(%L, %L)', :'A', '{"phone": "+14155550111"}'));
select pg_temp.as_user(:'agent_a', format('select switchboard.import_contacts(%L, null)', :'A'));
select pg_temp.as_user(:'viewer_a', format('select switchboard.upsert_contact(%L, %L)', :'A', '{"phone": "+14155550112"}'));
select pg_temp.as_user(:'agent_b', format('select switchboard.upsert_contact(%L, %L)', :'A', '{"phone": "+14155550112"}'));
select count(*) as contacts_of_a from switchboard.contacts where org_id = :'A';

--
-- Call events: Twilio status callbacks in reverse order and duplicated end the same as in order.
--
create temp table twilio_events (seq int, event jsonb);
insert into twilio_events values
  (0, '{"CallSid": "CA100", "AccountSid": "ACa", "CallStatus": "initiated", "SequenceNumber": "0", "Direction": "outbound-api", "From": "+14155550000", "To": "+14155550101", "Timestamp": "Sat, 05 Dec 2026 10:00:00 +0000"}'),
  (1, '{"CallSid": "CA100", "AccountSid": "ACa", "CallStatus": "ringing", "SequenceNumber": "1", "Direction": "outbound-api", "From": "+14155550000", "To": "+14155550101", "Timestamp": "Sat, 05 Dec 2026 10:00:02 +0000"}'),
  (2, '{"CallSid": "CA100", "AccountSid": "ACa", "CallStatus": "in-progress", "SequenceNumber": "2", "Direction": "outbound-api", "From": "+14155550000", "To": "+14155550101", "Timestamp": "Sat, 05 Dec 2026 10:00:09 +0000", "AnsweredBy": "human"}'),
  (3, '{"CallSid": "CA100", "AccountSid": "ACa", "CallStatus": "completed", "SequenceNumber": "3", "Direction": "outbound-api", "From": "+14155550000", "To": "+14155550101", "Timestamp": "Sat, 05 Dec 2026 10:02:09 +0000", "CallDuration": "120", "AnsweredBy": "human"}'),
  (4, '{"CallSid": "CA100", "AccountSid": "ACa", "RecordingSid": "RE1", "RecordingStatus": "completed", "RecordingUrl": "https://api.twilio.com/rec/RE1", "RecordingDuration": "118"}');
select pg_temp.as_user(:'agent_a', format('select switchboard.record_call_event(%L, %L, %L) ->> ''status''', :'A', 'twilio', event))
  from twilio_events order by seq desc;
select pg_temp.as_user(:'agent_a', format('select switchboard.record_call_event(%L, %L, %L) ->> ''status''', :'A', 'twilio', event))
  from twilio_events where seq in (1, 2);
create temp table call_after_reverse as
  select status, outcome, direction, from_number, to_number, started_at, answered_at, ended_at, duration_seconds,
         answered_by, recording_url, recording_duration_seconds, contact_id is not null as linked
    from switchboard.calls where org_id = :'A' and provider_call_id = 'CA100';
select * from call_after_reverse;
-- The same events in order, into a fresh call id: the same row.
select pg_temp.as_user(:'agent_a', format('select switchboard.record_call_event(%L, %L, %L) ->> ''status''', :'A', 'twilio',
         jsonb_set(event, '{CallSid}', '"CA101"')))
  from twilio_events order by seq;
select (select row(c.status, c.outcome, c.direction, c.from_number, c.to_number, c.started_at, c.answered_at, c.ended_at,
                   c.duration_seconds, c.answered_by, c.recording_url, c.recording_duration_seconds, c.contact_id is not null)::text
          from switchboard.calls c where c.org_id = :'A' and c.provider_call_id = 'CA101')
     = (select row(r.*)::text from call_after_reverse r) as in_order_equals_reverse;
-- Voicemail (answering-machine detection), busy, no answer.
select pg_temp.as_user(:'agent_a', format('select switchboard.record_call_event(%L, %L, %L) ->> ''outcome''', :'A', 'twilio', e))
  from unnest(array[
    '{"CallSid": "CA102", "CallStatus": "completed", "SequenceNumber": "4", "AnsweredBy": "machine_end_beep", "Direction": "outbound-api", "To": "+14155550102"}',
    '{"CallSid": "CA103", "CallStatus": "busy", "SequenceNumber": "2", "Direction": "outbound-api"}',
    '{"CallSid": "CA104", "CallStatus": "no-answer", "SequenceNumber": "2", "Direction": "outbound-api"}']::jsonb[]) e;

-- Vapi: end-of-call-report before the status updates.
select pg_temp.as_user(:'agent_a', format('select switchboard.record_call_event(%L, %L, %L) ->> ''status''', :'A', 'vapi', e))
  from unnest(array[
    '{"message": {"type": "end-of-call-report", "timestamp": 1765000300000, "endedReason": "customer-ended-call", "cost": 0.42, "startedAt": "2026-12-05T11:00:00Z", "endedAt": "2026-12-05T11:05:00Z", "artifact": {"transcript": "AI: Hello", "recordingUrl": "https://vapi.example/rec.wav"}, "analysis": {"summary": "Booked a cleaning"}, "call": {"id": "vapi-1", "type": "inboundPhoneCall", "assistantId": "asst-1", "customer": {"number": "+14155550109"}}, "phoneNumber": {"number": "+14155550000"}}}',
    '{"message": {"type": "status-update", "status": "in-progress", "timestamp": 1765000000000, "call": {"id": "vapi-1", "type": "inboundPhoneCall", "customer": {"number": "+14155550109"}}}}',
    '{"message": {"type": "status-update", "status": "ended", "endedReason": "customer-ended-call", "timestamp": 1765000299000, "call": {"id": "vapi-1", "type": "inboundPhoneCall"}}}',
    '{"message": {"type": "status-update", "status": "ringing", "timestamp": 1765000000000, "call": {"id": "vapi-1"}}}']::jsonb[]) e;
select status, outcome, direction, from_number, to_number, assistant_id, cost, transcript, summary, recording_url,
       started_at, ended_at, (select first_name from switchboard.contacts k where k.org_id = c.org_id and k.id = c.contact_id) as contact
  from switchboard.calls c where org_id = :'A' and provider_call_id = 'vapi-1';

-- Retell: call_analyzed before call_ended before call_started.
select pg_temp.as_user(:'agent_a', format('select switchboard.record_call_event(%L, %L, %L) ->> ''status''', :'A', 'retell', e))
  from unnest(array[
    '{"event": "call_analyzed", "call": {"call_id": "rt-1", "agent_id": "ag-1", "call_status": "ended", "direction": "outbound", "from_number": "+14155550000", "to_number": "+14155550110", "start_timestamp": 1765000000000, "end_timestamp": 1765000090000, "duration_ms": 90000, "disconnection_reason": "user_hangup", "transcript": "Agent: Hi", "call_analysis": {"call_summary": "Wants a callback"}, "call_cost": {"combined_cost": 12.5}}}',
    '{"event": "call_ended", "call": {"call_id": "rt-1", "agent_id": "ag-1", "call_status": "ended", "direction": "outbound", "from_number": "+14155550000", "to_number": "+14155550110", "start_timestamp": 1765000000000, "end_timestamp": 1765000090000, "duration_ms": 90000, "disconnection_reason": "user_hangup", "transcript": "Agent: Hi"}}',
    '{"event": "call_started", "call": {"call_id": "rt-1", "agent_id": "ag-1", "call_status": "ongoing", "direction": "outbound", "from_number": "+14155550000", "to_number": "+14155550110", "start_timestamp": 1765000000000}}',
    '{"event": "call_ended", "call": {"call_id": "rt-2", "call_status": "ended", "disconnection_reason": "dial_no_answer"}}']::jsonb[]) e;
select provider_call_id, status, outcome, duration_seconds, cost, summary, started_at, ended_at, answered_at
  from switchboard.calls where org_id = :'A' and provider = 'retell' order by 1;

-- Bad events: nothing written.
select pg_temp.as_user(:'agent_a', format('select switchboard.record_call_event(%L, %L, %L)', :'A', p, e))
  from (values ('twilio', '{"CallStatus": "ringing", "SequenceNumber": "1"}'),
               ('twilio', '{"MessageSid": "SM1", "MessageStatus": "sent"}'),
               ('vapi', '{"message": {"type": "transcript", "call": {"id": "v"}}}'),
               ('retell', '{"event": "call_ended", "call": {}}'),
               ('plivo', '{"CallUUID": "x"}'),
               ('twilio', '[1, 2]')) x(p, e);
select pg_temp.as_user(:'viewer_a', format('select switchboard.record_call_event(%L, %L, %L)', :'A', 'twilio', '{"CallSid": "CA9", "CallStatus": "ringing"}'));
select pg_temp.as_user(:'agent_b', format('select switchboard.record_call_event(%L, %L, %L)', :'A', 'twilio', '{"CallSid": "CA9", "CallStatus": "ringing"}'));
select count(*) as calls_of_a from switchboard.calls where org_id = :'A';

-- Through the inbound inbox: a mapped Twilio account's status callback and a Retell webhook
-- become call rows of the organisation; a repeated delivery is a duplicate.
insert into switchboard.provider_accounts (org_id, provider, kind, external_id) values
  (:'B', 'twilio', 'account', 'ACb'), (:'B', 'retell', 'assistant', 'agent-b');
select switchboard.receive_webhook('twilio', '{"CallSid": "CAB1", "AccountSid": "ACb", "CallStatus": "ringing", "SequenceNumber": "1", "Direction": "inbound", "From": "+14155550199", "To": "+14155550198"}') ->> 'reason';
select switchboard.receive_webhook('twilio', '{"CallSid": "CAB1", "AccountSid": "ACb", "CallStatus": "ringing", "SequenceNumber": "1", "Direction": "inbound", "From": "+14155550199", "To": "+14155550198"}') ->> 'reason';
select switchboard.receive_webhook('retell', '{"event": "call_started", "call": {"call_id": "rtB", "agent_id": "agent-b", "call_status": "ongoing", "direction": "inbound", "from_number": "+14155550199", "to_number": "+14155550198"}}') ->> 'reason';
select provider, provider_call_id, status, direction, from_number from switchboard.calls where org_id = :'B' order by 1, 2;

--
-- Dispositions.
--
select id as call_ca100, contact_id as ada from switchboard.calls where org_id = :'A' and provider_call_id = 'CA100' \gset
select id as call_rt1 from switchboard.calls where org_id = :'A' and provider_call_id = 'rt-1' \gset
select id as call_rt2 from switchboard.calls where org_id = :'A' and provider_call_id = 'rt-2' \gset
update switchboard.contacts set campaign_id = '00000000-0000-4000-8000-0000000cc001' where org_id = :'A' and id = :'ada';
select pg_temp.as_user(:'agent_a', format('select switchboard.set_disposition(%L, %L, %L, %L) - ''eventId'' - ''callId'' - ''contactId'' - ''stageId''', :'A', :'call_ca100', d, o))
  from (values (1, 'unknown-one', '{}'), (2, 'interested', '{"notes": "likes it", "confidence": 0.9, "setBy": "ai"}'),
               (3, 'booked', '{}')) x(n, d, o) order by n;
select phone, status, campaign_id,
       (select s.name from switchboard.pipeline_stages s where s.org_id = c.org_id and s.id = c.stage_id) as stage
  from switchboard.contacts c where org_id = :'A' and id = :'ada';
select disposition, disposition_notes, disposition_confidence, disposition_set_by = :'agent_a' as by_agent
  from switchboard.calls where org_id = :'A' and id = :'call_ca100';
select disposition, set_by_kind, confidence, previous_disposition, previous_status, new_status,
       (select name from switchboard.pipeline_stages s where s.org_id = e.org_id and s.id = e.new_stage_id) as new_stage
  from switchboard.disposition_events e where org_id = :'A' order by created_at, disposition;
select name, position from switchboard.pipeline_stages where org_id = :'A' order by position;
-- A stage that must exist but does not: refused, nothing written.
select pg_temp.as_user(:'manager_a', format('select switchboard.upsert_disposition(%L, %L, %L) ->> ''reason''', :'A', 'escalate', '{"stage": "Escalated"}'));
select pg_temp.as_user(:'agent_a', format('select switchboard.set_disposition(%L, %L, %L)', :'A', :'call_rt1', 'escalate'));
select count(*) as events_after_refusal from switchboard.disposition_events where org_id = :'A';
-- Callback scheduling (one hour after now), a call without a contact, bad options.
select pg_temp.as_user(:'agent_a', format('select switchboard.set_disposition(%L, %L, %L) ->> ''reason''', :'A', :'call_rt1', 'callback'));
select callback_at between now() + interval '59 minutes' and now() + interval '61 minutes' as callback_in_an_hour
  from switchboard.contacts where org_id = :'A' and phone = '+14155550110';
select pg_temp.as_user(:'agent_a', format('select switchboard.set_disposition(%L, %L, %L) ->> ''reason''', :'A', :'call_rt2', 'not-interested'));
select pg_temp.as_user(:'agent_a', format('select switchboard.set_disposition(%L, %L, %L, %L)', :'A', :'call_rt1', 'callback', o))
  from unnest(array['{"notes": "' || repeat('x', 501) || '"}', '{"confidence": 2}', '{"setBy": "robot"}',
                    '{"callbackAt": "tomorrow-ish"}', '{"color": 1}', '[]']) o;
select pg_temp.as_user(:'agent_a', format('select switchboard.set_disposition(%L, %L, %L)', :'A', '00000000-0000-4000-8000-0000000cc0ff', 'callback'));
select pg_temp.as_user(:'viewer_a', format('select switchboard.set_disposition(%L, %L, %L)', :'A', :'call_rt1', 'callback'));
select pg_temp.as_user(:'agent_b', format('select switchboard.set_disposition(%L, %L, %L)', :'A', :'call_rt1', 'callback'));
select pg_temp.as_user(:'owner_b', format('select switchboard.set_disposition(%L, %L, %L)', :'B', :'call_rt1', 'callback'));

--
-- Notes.
--
select pg_temp.as_user(:'agent_a', format('select switchboard.add_call_note(%L, %L, %L, %L) ->> ''reason''', :'A', :'call_ca100', 'Asked for pricing', '{follow-up}'));
select pg_temp.as_user(:'agent_a', format('select switchboard.add_call_note(%L, %L, %L, %L)', :'A', :'call_ca100', n, t))
  from (values (repeat('x', 501), '{}'), ('', '{}'), ('ok', '{unknown-tag}')) x(n, t);
select pg_temp.as_user(:'agent_a', format('select switchboard.add_call_note(%L, %L, %L) ->> ''reason''', :'A', :'call_ca100', repeat('y', 500)));
select pg_temp.as_user(:'viewer_a', format('select string_agg(left(note, 20) || '' '' || tags::text, '', '' order by created_at) from switchboard.list_call_notes(%L, %L)', :'A', :'call_ca100'));
select pg_temp.as_user(:'owner_b', format('select count(*) from switchboard.list_call_notes(%L, %L)', :'B', :'call_ca100'));
select pg_temp.as_user(:'viewer_a', format('select switchboard.add_call_note(%L, %L, %L)', :'A', :'call_ca100', 'hi'));

--
-- Stages by hand.
--
select pg_temp.as_user(:'agent_a', format('select switchboard.move_contact_stage(%L, %L, %L) - ''stageId'' - ''previousStageId''', :'A', :'ada', s))
  from unnest(array['Contacted', 'Contacted', 'Nowhere']) s;
select pg_temp.as_user(:'agent_b', format('select switchboard.move_contact_stage(%L, %L, %L)', :'B', :'ada', 'Contacted'));

--
-- Messages: logged once per provider id; status only moves forward.
--
select pg_temp.as_user(:'agent_a', format('select switchboard.log_message(%L, %L) - ''messageId'' - ''contactId''', :'A', m))
  from unnest(array[
    '{"direction": "outbound", "channel": "sms", "provider": "twilio", "providerMessageId": "SM1", "status": "queued", "phone": "+14155550101", "body": "Your appointment"}',
    '{"direction": "outbound", "channel": "sms", "provider": "twilio", "providerMessageId": "SM1", "status": "queued", "phone": "+14155550101", "body": "Your appointment"}',
    '{"direction": "inbound", "channel": "sms", "provider": "twilio", "providerMessageId": "SM2", "status": "received", "phone": "+14155550101", "body": "Thanks"}']) m;
select pg_temp.as_user(:'agent_a', format('select switchboard.log_message(%L, %L)', :'A', m))
  from unnest(array['{"direction": "sideways", "channel": "sms", "provider": "twilio", "status": "sent"}',
                    '{"channel": "sms", "provider": "twilio", "status": "sent"}',
                    '{"direction": "outbound", "channel": "sms", "provider": "twilio", "status": "sent", "phone": "555"}',
                    '{"direction": "outbound", "channel": "fax", "provider": "twilio", "status": "sent"}']) m;
select pg_temp.as_user(:'agent_a', format('select switchboard.update_message_status(%L, %L, %L, %L) ->> ''reason''', :'A', 'twilio', 'SM1', s))
  from (values (1, 'delivered'), (2, 'sent'), (3, 'delivered'), (4, 'bogus')) x(n, s) order by n;
select pg_temp.as_user(:'agent_a', format('select switchboard.update_message_status(%L, %L, %L, %L)', :'A', 'twilio', 'SM404', 'sent'));
select provider_message_id, direction, status, (select first_name from switchboard.contacts k where k.org_id = m.org_id and k.id = m.contact_id)
  from switchboard.messages m where org_id = :'A' order by 1;
-- Twilio message webhooks through the inbox (organisation B, account ACb): a status callback moves
-- the logged message forward (an older one changes nothing), an inbound SMS is logged, a callback
-- for a message never logged writes nothing.
select switchboard.log_message(:'B', '{"direction": "outbound", "channel": "sms", "provider": "twilio", "providerMessageId": "SMB1", "status": "queued", "body": "Hi"}') ->> 'reason';
select switchboard.receive_webhook('twilio', '{"MessageSid": "SMB1", "AccountSid": "ACb", "MessageStatus": "delivered", "From": "+14155550198", "To": "+14155550199"}', '{}', 'smb1-delivered') ->> 'reason';
select switchboard.receive_webhook('twilio', '{"MessageSid": "SMB1", "AccountSid": "ACb", "MessageStatus": "sent", "From": "+14155550198", "To": "+14155550199"}', '{}', 'smb1-sent') ->> 'reason';
select switchboard.receive_webhook('twilio', '{"MessageSid": "SMB2", "AccountSid": "ACb", "SmsStatus": "received", "Body": "Call me", "From": "+14155550199", "To": "+14155550198"}', '{}', 'smb2') ->> 'reason';
select switchboard.record_message_event(:'B', 'twilio', '{"MessageSid": "SMB404", "MessageStatus": "delivered"}');
select pg_temp.as_user(null, format('select switchboard.record_message_event(%L, %L, %L)', :'B', 'vapi', '{"message": {}}'));
select provider_message_id, direction, status, body from switchboard.messages where org_id = :'B' order by 1;

--
-- The dashboard, from the rollups; the rollups equal a recount of the rows.
--
select pg_temp.as_user(:'viewer_a', format('select switchboard.dashboard_metrics(%L, %L, %L, %L) - ''series'' - ''from'' - ''to'' - ''stageMoves'' - ''averageSecondsToDisposition''',
         :'A', now() - interval '398 days', now() + interval '1 day', 'month'));
select pg_temp.as_user(:'viewer_a', format('select jsonb_array_length(switchboard.dashboard_metrics(%L, %L, %L, %L) -> ''series'')',
         :'A', '2026-12-05 10:00Z', '2026-12-05 12:00Z', 'hour'));
select pg_temp.as_user(:'viewer_a', format('select switchboard.dashboard_metrics(%L, %L, %L, %L)', :'A', '2026-12-05', '2026-12-04', 'day'));
select pg_temp.as_user(:'viewer_a', format('select switchboard.dashboard_metrics(%L, %L, %L, %L)', :'A', '2026-12-04', '2026-12-05', 'fortnight'));
select pg_temp.as_user(:'owner_b', format('select switchboard.dashboard_metrics(%L, %L, %L)', :'A', now() - interval '1 day', now()));
select (select jsonb_object_agg(outcome, n) from (select coalesce(outcome, 'open') as outcome, count(*) as n
          from switchboard.calls where org_id = :'A' group by 1) x)
     = (select jsonb_object_agg(dimension, n) from (select dimension, sum(count) as n from switchboard.contact_metrics
          where org_id = :'A' and metric = 'calls' group by 1 having sum(count) <> 0) y) as call_rollup_matches,
       (select sum(cost) from switchboard.calls where org_id = :'A')
     = (select sum(amount) from switchboard.contact_metrics where org_id = :'A' and metric = 'calls') as cost_rollup_matches,
       (select count(*) from switchboard.contacts where org_id = :'A')
     = (select sum(count) from switchboard.contact_metrics where org_id = :'A' and metric = 'contacts') as contact_rollup_matches;

--
-- Every role of both organisations reads only its own rows and writes only as far as its role.
--
select r.label,
       pg_temp.as_user(r.who, format('select count(*) from switchboard.contacts')) as contacts,
       pg_temp.as_user(r.who, format('select count(*) from switchboard.calls')) as calls,
       pg_temp.as_user(r.who, format('select count(*) from switchboard.messages')) as messages,
       pg_temp.as_user(r.who, format('select count(*) from switchboard.disposition_events')) as events,
       pg_temp.as_user(r.who, format('select count(*) from switchboard.contact_metrics where org_id = %L', :'A')) as metrics_a,
       pg_temp.as_user(r.who, format('select left(switchboard.upsert_contact(%L, %L) ->> ''reason'', 20)', :'A', '{"phone": "+14155550150"}')) as write_a,
       pg_temp.as_user(r.who, format('select left(switchboard.record_call_event(%L, %L, %L) ->> ''reason'', 20)', :'A', 'twilio', '{"CallSid": "CAX", "CallStatus": "ringing", "SequenceNumber": "1"}')) as call_a,
       pg_temp.as_user(r.who, format('with u as (update switchboard.calls set disposition = disposition where org_id = %L returning 1) select count(*) from u', :'A')) as raw_update_a
  from (values (1, 'owner_a', :'owner_a'::uuid), (2, 'manager_a', :'manager_a'::uuid), (3, 'agent_a', :'agent_a'::uuid),
               (4, 'viewer_a', :'viewer_a'::uuid), (5, 'owner_b', :'owner_b'::uuid), (6, 'agent_b', :'agent_b'::uuid),
               (7, 'stranger', '00000000-0000-4000-8000-0000000cdead'::uuid)) r(n, label, who)
 order by r.n;

-- Deleting a contact keeps its calls and messages (without it); deleting a stage empties it.
select pg_temp.as_user(:'owner_a', format('with d as (delete from switchboard.contacts where org_id = %L and id = %L returning 1) select count(*) from d', :'A', :'ada'));
select count(*) filter (where contact_id is null) as calls_without_contact, count(*) as calls from switchboard.calls where org_id = :'A' and provider_call_id in ('CA100', 'CA101');
select count(*) as messages_kept from switchboard.messages where org_id = :'A' and contact_id is null;
select pg_temp.as_user(:'owner_a', format('with d as (delete from switchboard.pipeline_stages where org_id = %L and name = %L returning 1) select count(*) from d', :'A', 'Callback'));
select count(*) as contacts_in_no_stage from switchboard.contacts where org_id = :'A' and stage_id is null;

-- The outbound events contacts and calls queued (switchboard.contacts_emit_event, in the writes'
-- transactions); then they go too, so later files see only their own.
select event_type, count(*) from switchboard.webhook_messages where org_id in (:'A', :'B') group by 1 order by 1;
delete from switchboard.webhook_messages where org_id in (:'A', :'B');
-- The inbox rows and mappings of this file go, so later files see only their own.
delete from switchboard.webhook_inbox where org_id in (:'A', :'B');
delete from switchboard.provider_accounts where org_id in (:'A', :'B');

-- An organisation with calls can be deleted: its calls go with it and leave no rollup behind
-- (the rollup of deleted calls skips an organisation being deleted).
insert into switchboard.organizations (id, name, slug) values ('00000000-0000-4000-8000-00000000c0de', 'Gone', 'contacts-gone');
select switchboard.record_call_event('00000000-0000-4000-8000-00000000c0de', 'twilio', '{"CallSid": "CA-gone", "CallStatus": "completed", "SequenceNumber": "1"}') ->> 'reason' as reason;
delete from switchboard.organizations where id = '00000000-0000-4000-8000-00000000c0de';
select (select count(*) from switchboard.calls where org_id = '00000000-0000-4000-8000-00000000c0de') as calls_left,
       (select count(*) from switchboard.contact_metrics where org_id = '00000000-0000-4000-8000-00000000c0de') as rollups_left;
