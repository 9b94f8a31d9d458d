-- Inbound webhooks: facts per provider, organisation from provider_accounts, stored exactly once.
\set VERBOSITY terse
SET client_min_messages = warning;

SELECT * FROM switchboard.webhook_facts('standard', '{"type": "call.ended", "account_id": "a1"}', '{"webhook-id": "msg_1"}');
-- Svix's header names carry the signed id too; webhook-id wins when both are sent (as in the verifier).
SELECT * FROM switchboard.webhook_facts('standard', '{"type": "call.ended"}', '{"svix-id": "msg_svix"}');
SELECT * FROM switchboard.webhook_facts('standard', '{}', '{"webhook-id": "msg_w", "svix-id": "msg_s"}');
SELECT * FROM switchboard.webhook_facts('stripe', '{"id": "evt_1", "type": "customer.created", "account": "acct_1", "data": {"object": {"customer": "cus_1"}}}', '{}');
SELECT * FROM switchboard.webhook_facts('twilio', '{"CallSid": "CA1", "CallStatus": "completed", "AccountSid": "AC1", "To": "+15550001111"}', '{}');
SELECT * FROM switchboard.webhook_facts('twilio', '{"MessageSid": "SM1", "MessageStatus": "delivered"}', '{"i-twilio-idempotency-token": "tok-1"}');
-- Twilio ids come from signed parameters only, never the unsigned idempotency token header: a
-- status callback by call, status and sequence number; a recording by recording and status;
-- anything else has none (receive_webhook then uses the digest of the signed URL and parameters).
SELECT * FROM switchboard.webhook_facts('twilio', '{"CallSid": "CA1", "CallStatus": "in-progress", "SequenceNumber": "2", "AccountSid": "AC1", "Direction": "inbound", "From": "+15550009999", "To": "+15550001111", "Called": "+15550001111"}', '{"i-twilio-idempotency-token": "tok-2"}');
SELECT * FROM switchboard.webhook_facts('twilio', '{"CallSid": "CA1", "RecordingSid": "RE1", "RecordingStatus": "completed", "AccountSid": "AC1"}', '{}');
SELECT * FROM switchboard.webhook_facts('twilio', '{"CallSid": "CA1", "Digits": "1234", "Direction": "outbound-api", "From": "+15550001111", "Caller": "+15550001111", "To": "+15550009999"}', '{"i-twilio-idempotency-token": "tok-3"}');
SELECT * FROM switchboard.webhook_facts('ghl', '{"webhookId": "wh1", "type": "ContactCreate", "locationId": "loc1", "companyId": "co1"}', '{}');
SELECT * FROM switchboard.webhook_facts('vapi', '{"message": {"type": "end-of-call-report", "timestamp": 17, "call": {"id": "call1", "phoneNumberId": "pn1"}}}', '{}');
SELECT * FROM switchboard.webhook_facts('vapi', '{"message": {}}', '{}');
-- Two status updates of one call are two events.
SELECT (switchboard.webhook_facts('vapi', '{"message": {"type": "status-update", "status": "ringing", "timestamp": 1700000000000, "call": {"id": "call1"}}}', '{}')).event_id,
       (switchboard.webhook_facts('vapi', '{"message": {"type": "status-update", "status": "ended", "timestamp": 1700000000000, "call": {"id": "call1"}}}', '{}')).event_id;

SELECT switchboard.webhook_kept_headers('{"content-type": "application/json", "webhook-id": "m", "webhook-signature": "v1,x", "authorization": "Bearer t", "svix-id": "s", "svix-signature": "v1,y"}');

INSERT INTO switchboard.organizations (id, name, slug)
  VALUES ('00000000-0000-4000-8000-0000000c0001', 'Hook Org', 'hook-org'),
         ('00000000-0000-4000-8000-0000000c0002', 'Other Org', 'other-org');
INSERT INTO switchboard.organization_members (org_id, user_id, role)
  VALUES ('00000000-0000-4000-8000-0000000c0001', '00000000-0000-4000-8000-0000000d0001', 'owner'),
         ('00000000-0000-4000-8000-0000000c0002', '00000000-0000-4000-8000-0000000d0002', 'owner');
INSERT INTO switchboard.provider_accounts (org_id, provider, kind, external_id)
  VALUES ('00000000-0000-4000-8000-0000000c0001', 'twilio', 'phone_number', '+15550001111'),
         ('00000000-0000-4000-8000-0000000c0002', 'twilio', 'account', 'AC2'),
         ('00000000-0000-4000-8000-0000000c0002', 'twilio', 'phone_number', '+15550002222');
-- One external id belongs to one organisation.
INSERT INTO switchboard.provider_accounts (org_id, provider, kind, external_id)
  VALUES ('00000000-0000-4000-8000-0000000c0002', 'twilio', 'phone_number', '+15550001111');

-- The most specific key wins: AccountSid AC2 before the phone number.
SELECT switchboard.resolve_provider_org('twilio', ARRAY['AC2', '+15550001111']),
       switchboard.resolve_provider_org('twilio', ARRAY['AC9', '+15550001111']),
       switchboard.resolve_provider_org('twilio', ARRAY['AC9']),
       switchboard.resolve_provider_org('stripe', ARRAY['+15550001111']);

-- Twilio's tenant: the account first, then the number on the organisation's own side of the call
-- (To/Called inbound, From/Caller outbound-api), never the other party's number. Hook Org owns
-- +15550001111, Other Org owns AC2 and +15550002222; AC9 is nobody's.
SELECT c.name, o.slug
  FROM (VALUES
    (1, 'spoofed From, inbound to an unmapped number', '{"AccountSid": "AC9", "Direction": "inbound", "From": "+15550001111", "Caller": "+15550001111", "To": "+15559999999", "Called": "+15559999999"}'),
    (2, 'Other calls Hook: the inbound leg is Hook''s', '{"AccountSid": "AC9", "Direction": "inbound", "From": "+15550002222", "Caller": "+15550002222", "To": "+15550001111", "Called": "+15550001111"}'),
    (3, 'Other calls Hook: the outbound-api leg is Other''s', '{"AccountSid": "AC9", "Direction": "outbound-api", "From": "+15550002222", "Caller": "+15550002222", "To": "+15550001111", "Called": "+15550001111"}'),
    (4, 'the account decides before any number', '{"AccountSid": "AC2", "Direction": "inbound", "From": "+15550009999", "To": "+15550001111"}'),
    (5, 'outbound-dial leg: the account only', '{"AccountSid": "AC9", "Direction": "outbound-dial", "From": "+15550001111", "To": "+15550002222"}'),
    (6, 'unknown direction: the account only', '{"AccountSid": "AC9", "Direction": "sideways", "From": "+15550001111", "To": "+15550002222"}'),
    (7, 'no direction: the account only', '{"AccountSid": "AC9", "CallSid": "CA7", "From": "+15550001111", "To": "+15550002222"}'),
    (8, 'inbound message: the To number', '{"AccountSid": "AC9", "MessageSid": "SM8", "SmsStatus": "received", "From": "+15550002222", "To": "+15550001111"}'),
    (9, 'outbound message status: the From number', '{"AccountSid": "AC9", "MessageSid": "SM9", "MessageStatus": "delivered", "From": "+15550002222", "To": "+15550001111"}')
  ) c(n, name, payload)
  LEFT JOIN switchboard.organizations o ON o.id = switchboard.resolve_provider_org('twilio',
    (switchboard.webhook_facts('twilio', c.payload::jsonb, '{}')).account_keys)
 ORDER BY c.n;

SET ROLE service_role;
SELECT switchboard.receive_webhook('twilio', '{"CallSid": "CA1", "CallStatus": "ringing", "SequenceNumber": "0", "Direction": "inbound", "To": "+15550001111"}', '{"content-type": "application/x-www-form-urlencoded", "i-twilio-idempotency-token": "t1"}', 'abc') - 'inboxId' - 'orgId';
-- A replay with a new idempotency token (unsigned) is the same event.
SELECT switchboard.receive_webhook('twilio', '{"CallSid": "CA1", "CallStatus": "ringing", "SequenceNumber": "0", "Direction": "inbound", "To": "+15550001111"}', '{"i-twilio-idempotency-token": "t2"}', 'abc');
SELECT switchboard.receive_webhook('twilio', '{"CallSid": "CA1", "CallStatus": "completed", "SequenceNumber": "1", "Direction": "inbound", "To": "+15550001111"}', '{}', 'abd') ->> 'reason';
-- Without signed ids, the digest of the signed request identifies it, whatever the token says.
SELECT switchboard.receive_webhook('twilio', '{"CallSid": "CA1", "Digits": "5", "Direction": "inbound", "To": "+15550001111"}', '{"i-twilio-idempotency-token": "t3"}', 'f00d') ->> 'eventId';
SELECT switchboard.receive_webhook('twilio', '{"CallSid": "CA1", "Digits": "5", "Direction": "inbound", "To": "+15550001111"}', '{"i-twilio-idempotency-token": "t4"}', 'f00d') ->> 'reason';
-- Unmatched events are kept (org NULL), and deduplicated too.
SELECT switchboard.receive_webhook('ghl', '{"webhookId": "wh-x", "type": "ContactCreate", "locationId": "nowhere"}', '{}', 'x1') - 'inboxId';
SELECT switchboard.receive_webhook('ghl', '{"webhookId": "wh-x", "type": "ContactCreate", "locationId": "nowhere"}', '{}', 'x1');
-- No provider id: the body hash identifies the event.
SELECT switchboard.receive_webhook('vapi', '{"message": {}}', '{}', 'deadbeef') ->> 'eventId';
SELECT switchboard.receive_webhook('vapi', '{"message": {}}', '{}', NULL);
SELECT switchboard.receive_webhook(NULL, '{}', '{}', 'x');
RESET ROLE;

SELECT org_id, provider, event_id, event_type, status, headers, processed_at IS NOT NULL AS processed
  FROM switchboard.webhook_inbox ORDER BY id;

-- process_webhook is idempotent; unknown ids are P0002.
SET ROLE service_role;
SELECT switchboard.process_webhook(id) - 'inboxId' FROM switchboard.webhook_inbox WHERE event_id = 'CA1:ringing:0';
SELECT switchboard.process_webhook(-1);
RESET ROLE;

-- Row-level security: admins of an organisation see its events; nobody but service_role sees
-- unmatched ones; tenants cannot write mappings or events.
BEGIN;
SET LOCAL ROLE authenticated;
SELECT set_config('request.jwt.claims', '{"sub": "00000000-0000-4000-8000-0000000d0001"}', true);
SELECT event_id, status FROM switchboard.webhook_inbox ORDER BY id;
SELECT provider, external_id FROM switchboard.provider_accounts ORDER BY external_id;
SAVEPOINT s;
INSERT INTO switchboard.provider_accounts (org_id, provider, kind, external_id)
  VALUES ('00000000-0000-4000-8000-0000000c0001', 'stripe', 'customer', 'cus_steal');
ROLLBACK TO s;
SELECT switchboard.receive_webhook('ghl', '{"webhookId": "w"}', '{}', 'x');
ROLLBACK;
BEGIN;
SET LOCAL ROLE authenticated;
SELECT set_config('request.jwt.claims', '{"sub": "00000000-0000-4000-8000-0000000d0002"}', true);
SELECT event_id, status FROM switchboard.webhook_inbox ORDER BY id;
ROLLBACK;

-- A status outside the list, or an unmatched row with an org, is refused.
INSERT INTO switchboard.webhook_inbox (org_id, provider, event_id, status, payload)
  VALUES ('00000000-0000-4000-8000-0000000c0001', 'ghl', 'e', 'unmatched', '{}');
INSERT INTO switchboard.webhook_inbox (org_id, provider, event_id, status, payload)
  VALUES (NULL, 'ghl', 'e', 'lost', '{}');

-- An unmatched event finds its organisation once its account is mapped; a copy of an event the
-- organisation already holds is dropped as a duplicate; rematch_webhooks() reports what is left.
SET ROLE service_role;
SELECT switchboard.receive_webhook('ghl', '{"webhookId": "wh-y", "type": "ContactCreate", "locationId": "later"}', '{}', 'y1') ->> 'reason';
SELECT switchboard.receive_webhook('ghl', '{"webhookId": "wh-z", "type": "ContactCreate", "companyId": "co-later"}', '{}', 'z1') ->> 'reason';
SELECT switchboard.receive_webhook('stripe', '{"id": "evt_q", "type": "invoice.paid", "account": "acct_later"}', '{}', 'q1') ->> 'reason';
INSERT INTO switchboard.provider_accounts (org_id, provider, kind, external_id)
  VALUES ('00000000-0000-4000-8000-0000000c0001', 'ghl', 'location', 'loc-hook');
SELECT switchboard.receive_webhook('ghl', '{"webhookId": "wh-d", "type": "ContactCreate", "locationId": "loc-hook"}', '{}', 'd1') ->> 'reason';
SELECT switchboard.receive_webhook('ghl', '{"webhookId": "wh-d", "type": "ContactCreate", "locationId": "later"}', '{}', 'd2') ->> 'reason';
SELECT event_id, account_keys, org_id, status FROM switchboard.webhook_inbox
 WHERE provider IN ('ghl', 'stripe') ORDER BY id;
INSERT INTO switchboard.provider_accounts (org_id, provider, kind, external_id)
  VALUES ('00000000-0000-4000-8000-0000000c0001', 'ghl', 'location', 'later'),
         ('00000000-0000-4000-8000-0000000c0002', 'ghl', 'company', 'co-later');
UPDATE switchboard.provider_accounts SET external_id = 'acct_later'
 WHERE provider = 'twilio' AND external_id = 'AC2';
SELECT event_id, org_id, status, event_type, processed_at IS NOT NULL AS processed
  FROM switchboard.webhook_inbox WHERE provider IN ('ghl', 'stripe') ORDER BY id;
UPDATE switchboard.provider_accounts SET provider = 'stripe'
 WHERE provider = 'twilio' AND external_id = 'acct_later';
SELECT event_id, org_id, status FROM switchboard.webhook_inbox WHERE event_id = 'evt_q';
RESET ROLE;
-- Without the triggers (a mapping committed while the event was being stored), the function
-- catches up.
ALTER TABLE switchboard.provider_accounts DISABLE TRIGGER provider_accounts_rematch_insert;
INSERT INTO switchboard.provider_accounts (org_id, provider, kind, external_id)
  VALUES ('00000000-0000-4000-8000-0000000c0002', 'ghl', 'location', 'nowhere');
ALTER TABLE switchboard.provider_accounts ENABLE TRIGGER provider_accounts_rematch_insert;
SET ROLE service_role;
SELECT switchboard.rematch_webhooks('stripe');
SELECT switchboard.rematch_webhooks();
SELECT event_id, org_id, status FROM switchboard.webhook_inbox WHERE event_id = 'wh-x';
RESET ROLE;
-- Tenants cannot re-match.
BEGIN;
SET LOCAL ROLE authenticated;
SELECT switchboard.rematch_webhooks();
ROLLBACK;
