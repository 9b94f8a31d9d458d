-------------------------------------------------------------------------------------------------
-- Outbound webhooks: a durable outbox written in the business transaction (emit_event) and
-- delivered by the background worker. Event types are a catalog; endpoints, their secrets,
-- messages, deliveries (one per message and endpoint) and attempts are tenant tables.
-------------------------------------------------------------------------------------------------
CREATE TABLE switchboard.event_types (
  name text PRIMARY KEY CONSTRAINT event_types_name_check
    CHECK (name ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$' AND length(name) <= 100),
  description text NOT NULL,
  builtin boolean NOT NULL DEFAULT false,
  -- true: delivered only to endpoints that name the type itself, never to an endpoint taking every
  -- type or a wildcard (events carrying a secret, such as a caller-ID verification code)
  explicit_only boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE switchboard.event_types IS
  'the event types emit_event accepts and endpoints subscribe to (capabilities add theirs)';
SELECT pg_catalog.pg_extension_config_dump('switchboard.event_types', 'WHERE NOT builtin');
INSERT INTO switchboard.event_types (name, description, builtin) VALUES
  ('appointment.booked', 'an appointment was booked', true),
  ('appointment.held', 'a slot is held for a customer', true),
  ('appointment.confirmed', 'a held appointment was confirmed', true),
  ('appointment.rescheduled', 'an appointment moved', true),
  ('appointment.cancelled', 'an appointment was cancelled', true),
  ('appointment.completed', 'an appointment took place', true),
  ('appointment.no_show', 'the customer did not come', true),
  ('subscription.changed', 'the organisation''s plan changed', true),
  ('feature.limit_reached', 'a feature''s usage reached its plan limit', true),
  ('member.added', 'a member joined the organisation', true),
  ('member.removed', 'a member left or was removed', true),
  ('member.role_changed', 'a member''s role changed', true),
  ('webhook.test', 'a test message sent by send_test_webhook', true);
INSERT INTO switchboard.event_types (name, description, builtin, explicit_only) VALUES
  ('caller_id.verification_started',
   'a caller-ID verification code was issued (the event does not carry it)', true, true);

CREATE TABLE switchboard.webhook_endpoints (
  org_id uuid NOT NULL REFERENCES switchboard.organizations (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  url text NOT NULL CONSTRAINT webhook_endpoints_url_check
    CHECK (url ~ '^https?://[^/?#@\s]+' AND length(url) <= 2000),
  description text NOT NULL DEFAULT '',
  -- NULL: every event type; else names or prefixes ending in .* (appointment.*)
  event_types text[],
  enabled boolean NOT NULL DEFAULT true,
  disabled_reason text,
  rate_limit integer CONSTRAINT webhook_endpoints_rate_limit_check CHECK (rate_limit > 0),
  max_concurrency integer NOT NULL DEFAULT 10
    CONSTRAINT webhook_endpoints_max_concurrency_check CHECK (max_concurrency BETWEEN 1 AND 100),
  ordered boolean NOT NULL DEFAULT false,
  signing text NOT NULL DEFAULT 'v1' CONSTRAINT webhook_endpoints_signing_check
    CHECK (signing IN ('v1', 'v1a')),
  -- the first failure of the current run of failures; NULL after a success
  failing_since timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, id),
  CONSTRAINT webhook_endpoints_disabled_check CHECK (enabled OR disabled_reason IS NOT NULL)
);
COMMENT ON TABLE switchboard.webhook_endpoints IS
  'where an organisation''s outbound webhooks go, with the event types each endpoint wants';
SELECT pg_catalog.pg_extension_config_dump('switchboard.webhook_endpoints', '');

-- Signing secrets, readable by no client role (shown once at creation and rotation).
CREATE TABLE switchboard.webhook_endpoint_secrets (
  org_id uuid NOT NULL,
  endpoint_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  -- whsec_ (v1, HMAC-SHA256) or whsk_ (v1a, the Ed25519 secret key)
  secret text NOT NULL CONSTRAINT webhook_endpoint_secrets_secret_check CHECK (secret ~ '^(whsec|whsk)_'),
  -- NULL: the current secret; else a rotated-out secret that keeps signing until then
  expires_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, id),
  FOREIGN KEY (org_id, endpoint_id) REFERENCES switchboard.webhook_endpoints (org_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_endpoint_secrets_endpoint_idx
  ON switchboard.webhook_endpoint_secrets (org_id, endpoint_id);
COMMENT ON TABLE switchboard.webhook_endpoint_secrets IS
  'signing secrets of webhook endpoints: the current one and rotated ones within their grace period';
SELECT pg_catalog.pg_extension_config_dump('switchboard.webhook_endpoint_secrets', '');

-- The outbox: one row per emitted event; body holds the exact bytes every delivery sends.
CREATE TABLE switchboard.webhook_messages (
  org_id uuid NOT NULL REFERENCES switchboard.organizations (id) ON DELETE CASCADE,
  -- msg_ and 32 lowercase hex digits (checked without a regular expression: it cost about 3 us
  -- an event)
  id text NOT NULL CONSTRAINT webhook_messages_id_check
    CHECK (octet_length(id) = 36 AND starts_with(id, 'msg_')
           AND ltrim(substr(id, 5), '0123456789abcdef') = ''),
  -- a name from event_types when emitted (emit_event checks it against its cached catalog; no
  -- foreign key: its check per event cost more than the rest of the message's write)
  event_type text NOT NULL,
  body text NOT NULL,
  idempotency_key text CONSTRAINT webhook_messages_idempotency_key_check
    CHECK (length(idempotency_key) BETWEEN 1 AND 200),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, id)
);
-- Only keyed messages enter the index (most events have no key: one index entry fewer each).
CREATE UNIQUE INDEX webhook_messages_idempotency_key
  ON switchboard.webhook_messages (org_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
-- The retention pruning's order (oldest first, across organisations).
CREATE INDEX webhook_messages_created_idx ON switchboard.webhook_messages (created_at);
COMMENT ON TABLE switchboard.webhook_messages IS
  'the outbox: events emitted in committed transactions, with the exact body sent';
SELECT pg_catalog.pg_extension_config_dump('switchboard.webhook_messages', '');

-- One row per message and endpoint: its state, attempts so far and when it is next due.
CREATE TABLE switchboard.webhook_deliveries (
  org_id uuid NOT NULL,
  message_id text NOT NULL,
  endpoint_id uuid NOT NULL,
  -- commit order within the organisation (ordered endpoints are served in it)
  seq bigint GENERATED ALWAYS AS IDENTITY,
  status text NOT NULL DEFAULT 'pending' CONSTRAINT webhook_deliveries_status_check
    CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_status_code integer,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, message_id, endpoint_id),
  FOREIGN KEY (org_id, message_id) REFERENCES switchboard.webhook_messages (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, endpoint_id) REFERENCES switchboard.webhook_endpoints (org_id, id) ON DELETE CASCADE
) WITH (fillfactor = 80);
-- No index on next_attempt_at: the claim's lease (next_attempt_at, attempts) is then a HOT update
-- in the page's free space (fillfactor), adding no index entry next to the ones the claim scans
-- (a queue's churn of dead entries there cost each claim a pass over them). The claim reads each
-- endpoint's pending deliveries by seq (webhook_deliveries_endpoint_idx).
CREATE INDEX webhook_deliveries_endpoint_idx
  ON switchboard.webhook_deliveries (org_id, endpoint_id, status, seq);
COMMENT ON TABLE switchboard.webhook_deliveries IS
  'one row per message and endpoint: pending (due at next_attempt_at), delivered or failed';
SELECT pg_catalog.pg_extension_config_dump('switchboard.webhook_deliveries', '');

-- Every HTTP attempt and its outcome (response bodies truncated).
CREATE TABLE switchboard.webhook_attempts (
  org_id uuid NOT NULL,
  id bigint GENERATED ALWAYS AS IDENTITY,
  message_id text NOT NULL,
  endpoint_id uuid NOT NULL,
  attempted_at timestamptz NOT NULL DEFAULT now(),
  status_code integer,
  outcome text NOT NULL CONSTRAINT webhook_attempts_outcome_check
    CHECK (outcome IN ('success', 'http_error', 'redirect', 'timeout', 'connect_error', 'refused',
                       'error')),
  response_body text,
  duration_ms integer,
  PRIMARY KEY (org_id, id),
  FOREIGN KEY (org_id, message_id, endpoint_id)
    REFERENCES switchboard.webhook_deliveries (org_id, message_id, endpoint_id) ON DELETE CASCADE
);
CREATE INDEX webhook_attempts_delivery_idx
  ON switchboard.webhook_attempts (org_id, message_id, endpoint_id, attempted_at);
COMMENT ON TABLE switchboard.webhook_attempts IS 'every delivery attempt with its HTTP outcome';
SELECT pg_catalog.pg_extension_config_dump('switchboard.webhook_attempts', '');
SELECT pg_catalog.pg_extension_config_dump('switchboard.webhook_attempts_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('switchboard.webhook_deliveries_seq_seq', '');

-- Delivery in this database: paused (the worker claims nothing) or running. No row means running,
-- so a dump restored into a new database (which has no row) brings the switch back as it was.
CREATE TABLE switchboard.outbound_state (
  singleton boolean PRIMARY KEY DEFAULT true CONSTRAINT outbound_state_singleton_check CHECK (singleton),
  paused boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE switchboard.outbound_state IS 'whether webhook delivery in this database is paused';
SELECT pg_catalog.pg_extension_config_dump('switchboard.outbound_state', '');
