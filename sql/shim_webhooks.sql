-- Inbound webhooks: facts per provider, organisation from provider_accounts, stored exactly once.
\set VERBOSITY terse
SET client_min_messages = warning;

SELECT * FROM switchboard.webhook_facts('standard', '{"type": "call.ended", "account_id": "a1"}', '{"webhook-id": "msg_1"}');
SELECT * FROM switchboard.webhook_facts('stripe', '{"id": "evt_1", "type": "customer.created", "account": "acct_1", "data": {"object": {"customer": "cus_1"}}}', '{}');
SELECT * FROM switchboard.webhook_facts('twilio', '{"CallSid": "CA1", "CallStatus": "completed", "AccountSid": "AC1", "To": "+15550001111"}', '{}');
SELECT * FROM switchboard.webhook_facts('twilio', '{"MessageSid": "SM1", "MessageStatus": "delivered"}', '{"i-twilio-idempotency-token": "tok-1"}');
SELECT * FROM switchboard.webhook_facts('ghl', '{"webhookId": "wh1", "type": "ContactCreate", "locationId": "loc1", "companyId": "co1"}', '{}');
SELECT * FROM switchboard.webhook_facts('vapi', '{"message": {"type": "end-of-call-report", "timestamp": 17, "call": {"id": "call1", "phoneNumberId": "pn1"}}}', '{}');
SELECT * FROM switchboard.webhook_facts('vapi', '{"message": {}}', '{}');

SELECT switchboard.webhook_kept_headers('{"content-type": "application/json", "webhook-id": "m", "webhook-signature": "v1,x", "authorization": "Bearer t"}');

INSERT INTO switchboard.organizations (id, name, slug)
  VALUES ('00000000-0000-4000-8000-0000000c0001', 'Hook Org', 'hook-org'),
         ('00000000-0000-4000-8000-0000000c0002', 'Other Org', 'other-org');
INSERT INTO switchboard.organization_members (org_id, user_id, role)
  VALUES ('00000000-0000-4000-8000-0000000c0001', '00000000-0000-4000-8000-0000000d0001', 'owner'),
         ('00000000-0000-4000-8000-0000000c0002', '00000000-0000-4000-8000-0000000d0002', 'owner');
INSERT INTO switchboard.provider_accounts (org_id, provider, kind, external_id)
  VALUES ('00000000-0000-4000-8000-0000000c0001', 'twilio', 'phone_number', '+15550001111'),
         ('00000000-0000-4000-8000-0000000c0002', 'twilio', 'account', 'AC2');
-- One external id belongs to one organisation.
INSERT INTO switchboard.provider_accounts (org_id, provider, kind, external_id)
  VALUES ('00000000-0000-4000-8000-0000000c0002', 'twilio', 'phone_number', '+15550001111');

-- The most specific key wins: AccountSid AC2 before the phone number.
SELECT switchboard.resolve_provider_org('twilio', ARRAY['AC2', '+15550001111']),
       switchboard.resolve_provider_org('twilio', ARRAY['AC9', '+15550001111']),
       switchboard.resolve_provider_org('twilio', ARRAY['AC9']),
       switchboard.resolve_provider_org('stripe', ARRAY['+15550001111']);

SET ROLE service_role;
SELECT switchboard.receive_webhook('twilio', '{"CallSid": "CA1", "CallStatus": "ringing", "To": "+15550001111"}', '{"content-type": "application/x-www-form-urlencoded"}', 'abc') - 'inboxId' - 'orgId';
SELECT switchboard.receive_webhook('twilio', '{"CallSid": "CA1", "CallStatus": "ringing", "To": "+15550001111"}', '{}', 'abc');
SELECT switchboard.receive_webhook('twilio', '{"CallSid": "CA1", "CallStatus": "completed", "To": "+15550001111"}', '{}', 'abd') ->> 'reason';
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
SELECT switchboard.process_webhook(id) - 'inboxId' FROM switchboard.webhook_inbox WHERE event_id = 'CA1:ringing';
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
