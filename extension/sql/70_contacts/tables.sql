-- Contacts and calls: leads (one per organisation and phone number), call records folded from
-- provider events, pipeline stages, dispositions and their history, call notes, messages, and the
-- rollups the dashboard reads. Every table is a tenant table: org_id leads every key and foreign key.
-- Foreign keys to contacts and stages are NO ACTION (Citus refuses ON DELETE SET NULL on keys with
-- the distribution column): deleting a contact or a stage first lets go of its references (triggers
-- in functions.sql), so call records and messages outlive the contact.

CREATE TABLE switchboard.pipeline_stages (
  org_id uuid NOT NULL REFERENCES switchboard.organizations (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  name text NOT NULL CONSTRAINT pipeline_stages_name_check CHECK (length(btrim(name)) BETWEEN 1 AND 100),
  position integer NOT NULL CONSTRAINT pipeline_stages_position_check CHECK (position >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, id),
  CONSTRAINT pipeline_stages_name_key UNIQUE (org_id, name)
);
COMMENT ON TABLE switchboard.pipeline_stages IS 'the ordered stages of an organisation''s pipeline';

CREATE TABLE switchboard.contacts (
  org_id uuid NOT NULL REFERENCES switchboard.organizations (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  phone switchboard.phone NOT NULL,
  other_phones switchboard.phone[] NOT NULL DEFAULT '{}',
  first_name text CONSTRAINT contacts_first_name_check CHECK (length(first_name) <= 200),
  last_name text CONSTRAINT contacts_last_name_check CHECK (length(last_name) <= 200),
  email text CONSTRAINT contacts_email_check CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
  status text NOT NULL DEFAULT 'new' CONSTRAINT contacts_status_check
    CHECK (status IN ('new', 'contacted', 'qualified', 'booked', 'converted', 'lost')),
  source text CONSTRAINT contacts_source_check CHECK (length(source) <= 100),
  tags text[] NOT NULL DEFAULT '{}',
  custom_fields jsonb NOT NULL DEFAULT '{}'
    CONSTRAINT contacts_custom_fields_check CHECK (jsonb_typeof(custom_fields) = 'object'),
  stage_id uuid,
  owner_id uuid,
  campaign_id uuid,
  timezone text,
  do_not_call boolean NOT NULL DEFAULT false,
  do_not_sms boolean NOT NULL DEFAULT false,
  do_not_email boolean NOT NULL DEFAULT false,
  consent_method text CONSTRAINT contacts_consent_method_check CHECK (length(consent_method) <= 100),
  consent_at timestamptz,
  callback_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, id),
  CONSTRAINT contacts_phone_key UNIQUE (org_id, phone),
  CONSTRAINT contacts_stage_fkey FOREIGN KEY (org_id, stage_id)
    REFERENCES switchboard.pipeline_stages (org_id, id)
);
COMMENT ON TABLE switchboard.contacts IS
  'leads and customers: one per (organisation, phone); a re-import merges into the existing row';
COMMENT ON COLUMN switchboard.contacts.timezone IS 'IANA zone; NULL until given (derivation from the number: telephony)';

CREATE TABLE switchboard.calls (
  org_id uuid NOT NULL REFERENCES switchboard.organizations (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  provider text NOT NULL CONSTRAINT calls_provider_check CHECK (provider ~ '^[a-z][a-z0-9_]{0,31}$'),
  provider_call_id text NOT NULL CONSTRAINT calls_provider_call_id_check
    CHECK (length(provider_call_id) BETWEEN 1 AND 200),
  contact_id uuid,
  direction text CONSTRAINT calls_direction_check CHECK (direction IN ('inbound', 'outbound')),
  from_number switchboard.phone,
  to_number switchboard.phone,
  campaign_id uuid,
  agent_id uuid,
  assistant_id text,
  status text NOT NULL DEFAULT 'queued' CONSTRAINT calls_status_check
    CHECK (status IN ('queued', 'ringing', 'in_progress', 'completed', 'busy', 'no_answer', 'failed',
                      'canceled')),
  outcome text CONSTRAINT calls_outcome_check
    CHECK (outcome IN ('connected', 'voicemail', 'no_answer', 'busy', 'failed')),
  started_at timestamptz,
  answered_at timestamptz,
  ended_at timestamptz,
  duration_seconds integer,
  answered_by text,
  ended_reason text,
  recording_url text,
  recording_duration_seconds integer,
  transcript text,
  summary text,
  cost numeric(14, 4),
  transferred_to text,
  fold jsonb NOT NULL DEFAULT '{}' CONSTRAINT calls_fold_check CHECK (jsonb_typeof(fold) = 'object'),
  disposition text,
  disposition_set_at timestamptz,
  disposition_set_by uuid,
  disposition_notes text,
  disposition_confidence numeric(4, 3) CONSTRAINT calls_disposition_confidence_check
    CHECK (disposition_confidence BETWEEN 0 AND 1),
  consent_method text,
  consent_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, id),
  CONSTRAINT calls_provider_key UNIQUE (org_id, provider, provider_call_id),
  CONSTRAINT calls_contact_fkey FOREIGN KEY (org_id, contact_id)
    REFERENCES switchboard.contacts (org_id, id)
);
-- Partial: a call without a contact is not in it, and a lookup of a call by its provider key
-- (record_call_event) cannot be planned on it: with stale statistics for a growing organisation
-- the planner chose this narrower index over calls_provider_key and filtered every call of the
-- organisation for each event (tests/bench/contacts_triggers.sh).
CREATE INDEX calls_contact_idx ON switchboard.calls (org_id, contact_id) WHERE contact_id IS NOT NULL;
COMMENT ON TABLE switchboard.calls IS
  'call records; the provider columns are projections of fold, the order-independent merge of every event';
COMMENT ON COLUMN switchboard.calls.fold IS
  'field -> [key, value] of the event that won it: the greatest (key, value) wins, whatever the order';

CREATE TABLE switchboard.call_note_tags (
  org_id uuid NOT NULL REFERENCES switchboard.organizations (id) ON DELETE CASCADE,
  name text NOT NULL CONSTRAINT call_note_tags_name_check CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,49}$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, name)
);
COMMENT ON TABLE switchboard.call_note_tags IS 'the tags an organisation''s call notes may carry';

CREATE TABLE switchboard.call_notes (
  org_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  call_id uuid NOT NULL,
  author_id uuid,
  note text NOT NULL CONSTRAINT call_notes_note_check CHECK (length(note) BETWEEN 1 AND 500),
  tags text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, id),
  CONSTRAINT call_notes_call_fkey FOREIGN KEY (org_id, call_id)
    REFERENCES switchboard.calls (org_id, id) ON DELETE CASCADE
);
CREATE INDEX call_notes_call_idx ON switchboard.call_notes (org_id, call_id, created_at);

CREATE TABLE switchboard.dispositions (
  org_id uuid NOT NULL REFERENCES switchboard.organizations (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  name text NOT NULL CONSTRAINT dispositions_name_check CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,49}$'),
  stage_name text CONSTRAINT dispositions_stage_name_check CHECK (length(btrim(stage_name)) BETWEEN 1 AND 100),
  create_missing_stage boolean NOT NULL DEFAULT false,
  contact_status text CONSTRAINT dispositions_contact_status_check
    CHECK (contact_status IN ('new', 'contacted', 'qualified', 'booked', 'converted', 'lost')),
  removes_from_campaign boolean NOT NULL DEFAULT false,
  callback_after interval,
  counts_as_booked boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, id),
  CONSTRAINT dispositions_name_key UNIQUE (org_id, name)
);
COMMENT ON TABLE switchboard.dispositions IS
  'an organisation''s call dispositions and what setting one does to the contact';
COMMENT ON COLUMN switchboard.dispositions.create_missing_stage IS
  'true: a missing stage_name is created; false: set_disposition refuses with PIPELINE_STAGE_NOT_FOUND';

CREATE TABLE switchboard.disposition_events (
  org_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  call_id uuid NOT NULL,
  contact_id uuid,
  disposition text NOT NULL,
  set_by_kind text NOT NULL CONSTRAINT disposition_events_kind_check CHECK (set_by_kind IN ('ai', 'manual', 'system')),
  set_by uuid,
  confidence numeric(4, 3) CONSTRAINT disposition_events_confidence_check CHECK (confidence BETWEEN 0 AND 1),
  seconds_to_disposition integer,
  previous_disposition text,
  previous_status text,
  new_status text,
  previous_stage_id uuid,
  new_stage_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, id),
  CONSTRAINT disposition_events_call_fkey FOREIGN KEY (org_id, call_id)
    REFERENCES switchboard.calls (org_id, id) ON DELETE CASCADE
);
CREATE INDEX disposition_events_call_idx ON switchboard.disposition_events (org_id, call_id);

CREATE TABLE switchboard.messages (
  org_id uuid NOT NULL REFERENCES switchboard.organizations (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  contact_id uuid,
  call_id uuid,
  direction text NOT NULL CONSTRAINT messages_direction_check CHECK (direction IN ('inbound', 'outbound')),
  channel text NOT NULL CONSTRAINT messages_channel_check CHECK (channel IN ('sms', 'email')),
  provider text NOT NULL CONSTRAINT messages_provider_check CHECK (provider ~ '^[a-z][a-z0-9_]{0,31}$'),
  provider_message_id text CONSTRAINT messages_provider_message_id_check
    CHECK (length(provider_message_id) BETWEEN 1 AND 200),
  status text NOT NULL CONSTRAINT messages_status_check
    CHECK (status IN ('queued', 'sent', 'delivered', 'received', 'read', 'undelivered', 'failed')),
  body text CONSTRAINT messages_body_check CHECK (length(body) <= 20000),
  error_code text,
  error_message text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, id),
  CONSTRAINT messages_provider_key UNIQUE (org_id, provider, provider_message_id),
  CONSTRAINT messages_contact_fkey FOREIGN KEY (org_id, contact_id)
    REFERENCES switchboard.contacts (org_id, id)
);
CREATE INDEX messages_contact_idx ON switchboard.messages (org_id, contact_id, created_at);
COMMENT ON TABLE switchboard.messages IS 'SMS and email sent or received: the audit trail per contact';

-- The dashboard's rollups, kept by the writes' own transactions (never by scanning calls).
CREATE TABLE switchboard.contact_metrics (
  org_id uuid NOT NULL REFERENCES switchboard.organizations (id) ON DELETE CASCADE,
  hour timestamptz NOT NULL,
  metric text NOT NULL,
  dimension text NOT NULL,
  count bigint NOT NULL DEFAULT 0,
  amount numeric NOT NULL DEFAULT 0,
  PRIMARY KEY (org_id, hour, metric, dimension)
);
COMMENT ON TABLE switchboard.contact_metrics IS
  'hourly rollups (UTC hours): contacts by source, calls by outcome with cost, dispositions by kind, '
  'stage moves, messages, bookings; maintained in the same transaction as the writes';

-- The outbound events contacts and calls emit (switchboard.contacts_emit_event).
INSERT INTO switchboard.event_types (name, description, builtin) VALUES
  ('lead.imported', 'contacts were imported (counts of inserted and merged rows)', true),
  ('lead.stage_changed', 'a contact moved to another pipeline stage', true),
  ('call.completed', 'a call reached its final status (its outcome is known)', true),
  ('call.disposition_set', 'a call''s disposition was set', true);

SELECT pg_catalog.pg_extension_config_dump('switchboard.pipeline_stages', '');
SELECT pg_catalog.pg_extension_config_dump('switchboard.contacts', '');
SELECT pg_catalog.pg_extension_config_dump('switchboard.calls', '');
SELECT pg_catalog.pg_extension_config_dump('switchboard.call_note_tags', '');
SELECT pg_catalog.pg_extension_config_dump('switchboard.call_notes', '');
SELECT pg_catalog.pg_extension_config_dump('switchboard.dispositions', '');
SELECT pg_catalog.pg_extension_config_dump('switchboard.disposition_events', '');
SELECT pg_catalog.pg_extension_config_dump('switchboard.messages', '');
SELECT pg_catalog.pg_extension_config_dump('switchboard.contact_metrics', '');
