-------------------------------------------------------------------------------------------------
-- Provider accounts: which organisation a provider's account, location or phone number belongs
-- to. Webhooks find their organisation here, never in the payload alone. Managed by the platform
-- (service_role) until the credentials capability can prove that an organisation owns an account.
-------------------------------------------------------------------------------------------------
CREATE TABLE switchboard.provider_accounts (
  org_id uuid NOT NULL REFERENCES switchboard.organizations (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  provider text NOT NULL CONSTRAINT provider_accounts_provider_check
    CHECK (provider ~ '^[a-z][a-z0-9_]{0,31}$'),
  kind text NOT NULL CONSTRAINT provider_accounts_kind_check
    CHECK (kind IN ('account', 'location', 'company', 'phone_number', 'customer', 'assistant')),
  external_id text NOT NULL CONSTRAINT provider_accounts_external_id_check
    CHECK (length(external_id) BETWEEN 1 AND 200),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, id),
  CONSTRAINT provider_accounts_external_key UNIQUE (provider, external_id)
);
COMMENT ON TABLE switchboard.provider_accounts IS
  'provider account/location/phone number -> organisation; how inbound webhooks find their tenant';
COMMENT ON CONSTRAINT provider_accounts_external_key ON switchboard.provider_accounts IS
  'an external id belongs to one organisation at most';
SELECT pg_catalog.pg_extension_config_dump('switchboard.provider_accounts', '');

-------------------------------------------------------------------------------------------------
-- The inbound webhook inbox: every verified event exactly once.
-- Key choice: an event whose organisation cannot be resolved is kept with org_id NULL (status
-- 'unmatched') so nothing is lost, so org_id cannot be part of the primary key: the key is the
-- identity id, (org_id, id) stays unique for tenant references, and duplicates are refused per
-- (provider, org, event id) with NULLS NOT DISTINCT. RLS: tenants see their own matched events
-- (admins and owners: payloads may hold personal data); unmatched ones only service_role sees.
-------------------------------------------------------------------------------------------------
CREATE TABLE switchboard.webhook_inbox (
  org_id uuid REFERENCES switchboard.organizations (id) ON DELETE CASCADE,
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  provider text NOT NULL CONSTRAINT webhook_inbox_provider_check
    CHECK (provider ~ '^[a-z][a-z0-9_]{0,31}$'),
  event_id text NOT NULL CONSTRAINT webhook_inbox_event_id_check
    CHECK (length(event_id) BETWEEN 1 AND 500),
  event_type text,
  status text NOT NULL CONSTRAINT webhook_inbox_status_check
    CHECK (status IN ('received', 'processed', 'unmatched', 'failed')),
  payload jsonb NOT NULL,
  headers jsonb NOT NULL DEFAULT '{}',
  received_at timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz,
  -- The provider account keys the event named (most specific first): how an unmatched event finds
  -- its organisation once one of them is mapped.
  account_keys text[] NOT NULL DEFAULT '{}',
  CONSTRAINT webhook_inbox_event_key UNIQUE NULLS NOT DISTINCT (provider, org_id, event_id),
  CONSTRAINT webhook_inbox_org_key UNIQUE (org_id, id),
  CONSTRAINT webhook_inbox_unmatched_check CHECK ((org_id IS NULL) = (status = 'unmatched'))
);
CREATE INDEX webhook_inbox_org_received_idx ON switchboard.webhook_inbox (org_id, received_at);
CREATE INDEX webhook_inbox_unmatched_keys_idx ON switchboard.webhook_inbox USING gin (account_keys)
  WHERE status = 'unmatched';
COMMENT ON TABLE switchboard.webhook_inbox IS
  'verified inbound webhook events, stored once per (provider, org, event id); org NULL = unmatched';
SELECT pg_catalog.pg_extension_config_dump('switchboard.webhook_inbox', '');
SELECT pg_catalog.pg_extension_config_dump('switchboard.webhook_inbox_id_seq', '');
