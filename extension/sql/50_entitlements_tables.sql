-- Plans and entitlements: the feature catalog, plan tiers and their grants (data, not code),
-- subscriptions, per-organisation overrides, global kill switches, metered usage and the audit.

-- Each feature's position in the subscriptions' effective_features bitmaps; never reused.
CREATE SEQUENCE switchboard.features_bit_seq AS smallint MINVALUE 0 START 0;
CREATE TABLE switchboard.features (
  key text PRIMARY KEY CONSTRAINT features_key_check CHECK (key ~ '^[a-z][a-z0-9_]{0,62}$'),
  bit smallint NOT NULL DEFAULT nextval('switchboard.features_bit_seq')
    CONSTRAINT features_bit_key UNIQUE CONSTRAINT features_bit_check CHECK (bit >= 0),
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  category text NOT NULL,
  kind text NOT NULL CONSTRAINT features_kind_check CHECK (kind IN ('boolean', 'metered')),
  unit text,
  shipped boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT features_unit_check CHECK ((kind = 'metered') = (unit IS NOT NULL))
);
COMMENT ON TABLE switchboard.features IS 'the feature catalog: adding a feature is an INSERT';
COMMENT ON COLUMN switchboard.features.bit IS
  'the feature''s bit in subscriptions.effective_features (assigned once, never reused)';
ALTER SEQUENCE switchboard.features_bit_seq OWNED BY switchboard.features.bit;

CREATE TABLE switchboard.plan_tiers (
  key text PRIMARY KEY CONSTRAINT plan_tiers_key_check CHECK (key ~ '^[a-z][a-z0-9_]{0,62}$'),
  rank integer NOT NULL UNIQUE,
  name text NOT NULL,
  monthly_price numeric(12, 2) NOT NULL CHECK (monthly_price >= 0),
  annual_price numeric(12, 2) NOT NULL CHECK (annual_price >= 0),
  overage_rate numeric(12, 4) NOT NULL DEFAULT 0 CHECK (overage_rate >= 0),
  shipped boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE switchboard.plan_tiers IS 'plan tiers, cheapest first by rank';

CREATE TABLE switchboard.plan_tier_features (
  tier text NOT NULL REFERENCES switchboard.plan_tiers (key) ON UPDATE CASCADE ON DELETE CASCADE,
  feature text NOT NULL REFERENCES switchboard.features (key) ON UPDATE CASCADE ON DELETE CASCADE,
  usage_limit bigint CHECK (usage_limit >= 0),
  period text CHECK (period IN ('day', 'month', 'billing_period')),
  mode text NOT NULL DEFAULT 'hard' CHECK (mode IN ('hard', 'soft')),
  shipped boolean NOT NULL DEFAULT false,
  PRIMARY KEY (tier, feature),
  CONSTRAINT plan_tier_features_limit_period_check CHECK ((usage_limit IS NULL) = (period IS NULL))
);
COMMENT ON TABLE switchboard.plan_tier_features IS
  'which tier grants which feature; metered grants carry a limit per period (NULL = unlimited)';
COMMENT ON COLUMN switchboard.plan_tier_features.mode IS
  'hard: deny beyond the limit; soft: allow and count overage at the tier''s overage rate';

CREATE TABLE switchboard.subscriptions (
  org_id uuid NOT NULL REFERENCES switchboard.organizations (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  tier text NOT NULL REFERENCES switchboard.plan_tiers (key) ON UPDATE CASCADE,
  status text NOT NULL DEFAULT 'active'
    CHECK (status IN ('active', 'trialing', 'cancelled', 'suspended', 'past_due')),
  billing_cycle text NOT NULL DEFAULT 'monthly' CHECK (billing_cycle IN ('monthly', 'annual')),
  trial_ends_at timestamptz,
  current_period_start timestamptz NOT NULL DEFAULT now(),
  current_period_end timestamptz NOT NULL DEFAULT now() + interval '1 month',
  cancelled_at timestamptz,
  addons jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(addons) = 'object'),
  -- Written by the sync trigger from the tier's grants and the add-ons: a bitmap over
  -- features.bit (switchboard.feature_keys() lists it) and the metered grants' limits.
  effective_features bytea NOT NULL DEFAULT '\x',
  effective_limits jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- One current subscription per organisation; id names it in the audit and the API.
  CONSTRAINT subscriptions_one_per_org PRIMARY KEY (org_id),
  CONSTRAINT subscriptions_period_check CHECK (current_period_end > current_period_start),
  CONSTRAINT subscriptions_trial_check CHECK (status <> 'trialing' OR trial_ends_at IS NOT NULL)
);
COMMENT ON TABLE switchboard.subscriptions IS
  'the current subscription of each organisation (history is in entitlement_audit)';
COMMENT ON COLUMN switchboard.subscriptions.addons IS
  '{"feature": true} grants a feature; {"metered_feature": n} adds n to its limit';
COMMENT ON COLUMN switchboard.subscriptions.effective_features IS
  'bitmap over features.bit of the features granted by tier and add-ons (kept by the sync trigger; '
  'overrides and kill switches apply on top); switchboard.feature_keys() lists it';

CREATE TABLE switchboard.feature_overrides (
  org_id uuid NOT NULL REFERENCES switchboard.organizations (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  feature text NOT NULL REFERENCES switchboard.features (key) ON UPDATE CASCADE ON DELETE CASCADE,
  enabled boolean NOT NULL,
  usage_limit bigint CHECK (usage_limit >= 0),
  limit_mode text CHECK (limit_mode IN ('hard', 'soft')),
  expires_at timestamptz,
  reason text,
  set_by uuid,
  source text NOT NULL DEFAULT 'billing' CONSTRAINT feature_overrides_source_check
    CHECK (source IN ('billing', 'tenant')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, id),
  CONSTRAINT feature_overrides_one_per_feature UNIQUE (org_id, feature)
);
COMMENT ON COLUMN switchboard.feature_overrides.source IS
  'billing: set by the billing backend (service role), grants or denies as it says; tenant: set '
  'by an admin of the organisation, only disables the feature or caps it below the plan''s limit';

-- Plan changes an owner asked for; the billing backend applies them (set_subscription) or rejects
-- them. At most one pending request per organisation.
CREATE TABLE switchboard.plan_change_requests (
  org_id uuid NOT NULL REFERENCES switchboard.organizations (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  tier text NOT NULL REFERENCES switchboard.plan_tiers (key) ON UPDATE CASCADE,
  current_tier text,
  status text NOT NULL DEFAULT 'pending' CONSTRAINT plan_change_requests_status_check
    CHECK (status IN ('pending', 'applied', 'rejected', 'superseded')),
  requested_by uuid NOT NULL,
  requested_at timestamptz NOT NULL DEFAULT now(),
  decided_at timestamptz,
  decision_reason text,
  PRIMARY KEY (org_id, id),
  CONSTRAINT plan_change_requests_decided_check CHECK ((status = 'pending') = (decided_at IS NULL))
);
CREATE UNIQUE INDEX plan_change_requests_one_pending ON switchboard.plan_change_requests (org_id)
  WHERE status = 'pending';
CREATE INDEX plan_change_requests_pending_idx ON switchboard.plan_change_requests (requested_at)
  WHERE status = 'pending';
COMMENT ON TABLE switchboard.plan_change_requests IS
  'plan changes owners asked for (request_plan_change); nothing is granted until the billing '
  'backend applies one with set_subscription';

CREATE TABLE switchboard.global_feature_flags (
  feature text PRIMARY KEY REFERENCES switchboard.features (key) ON UPDATE CASCADE ON DELETE CASCADE,
  enabled boolean NOT NULL,
  reason text NOT NULL,
  set_by uuid,
  updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE switchboard.global_feature_flags IS
  'platform-wide kill switches: enabled = false switches a feature off for every organisation';

CREATE TABLE switchboard.feature_usage (
  org_id uuid NOT NULL REFERENCES switchboard.organizations (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  feature text NOT NULL REFERENCES switchboard.features (key) ON UPDATE CASCADE ON DELETE CASCADE,
  period_start timestamptz NOT NULL,
  period_end timestamptz NOT NULL,
  used bigint NOT NULL DEFAULT 0 CHECK (used >= 0),
  reserved bigint NOT NULL DEFAULT 0 CHECK (reserved >= 0),
  overage bigint NOT NULL DEFAULT 0 CHECK (overage >= 0),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, id),
  CONSTRAINT feature_usage_period_key UNIQUE (org_id, feature, period_start)
);
COMMENT ON TABLE switchboard.feature_usage IS
  'metered usage per organisation, feature and period; reserved = live reservations';

CREATE TABLE switchboard.feature_reservations (
  org_id uuid NOT NULL REFERENCES switchboard.organizations (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  feature text NOT NULL REFERENCES switchboard.features (key) ON UPDATE CASCADE ON DELETE CASCADE,
  period_start timestamptz NOT NULL,
  quantity bigint NOT NULL CHECK (quantity > 0),
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'settled', 'released', 'expired')),
  expires_at timestamptz NOT NULL,
  settled_quantity bigint,
  result jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, id)
);
CREATE INDEX feature_reservations_active_idx ON switchboard.feature_reservations
  (org_id, feature, period_start, expires_at) WHERE status = 'active';

CREATE TABLE switchboard.usage_events (
  org_id uuid NOT NULL REFERENCES switchboard.organizations (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  idempotency_key text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
  feature text NOT NULL,
  quantity bigint NOT NULL,
  result jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, id),
  CONSTRAINT usage_events_key UNIQUE (org_id, idempotency_key)
);
CREATE INDEX usage_events_created_idx ON switchboard.usage_events (created_at);
COMMENT ON TABLE switchboard.usage_events IS
  'answers of consume_feature calls made with an idempotency key (kept at least 48 hours)';

CREATE TABLE switchboard.entitlement_audit (
  org_id uuid NOT NULL,
  id bigint GENERATED ALWAYS AS IDENTITY,
  entity text NOT NULL,
  action text NOT NULL,
  actor_user uuid,
  actor_role text NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  before jsonb,
  after jsonb,
  PRIMARY KEY (org_id, id)
);
COMMENT ON TABLE switchboard.entitlement_audit IS
  'every change to subscriptions and feature overrides: who, when, before, after';

CREATE TABLE switchboard.kill_switch_audit (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  feature text NOT NULL,
  action text NOT NULL,
  actor_user uuid,
  actor_role text NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  before jsonb,
  after jsonb
);
COMMENT ON TABLE switchboard.kill_switch_audit IS 'every change to global kill switches';

CREATE TRIGGER features_touch BEFORE UPDATE ON switchboard.features
  FOR EACH ROW EXECUTE FUNCTION switchboard.touch_updated_at();
CREATE TRIGGER plan_tiers_touch BEFORE UPDATE ON switchboard.plan_tiers
  FOR EACH ROW EXECUTE FUNCTION switchboard.touch_updated_at();
CREATE TRIGGER subscriptions_touch BEFORE UPDATE ON switchboard.subscriptions
  FOR EACH ROW EXECUTE FUNCTION switchboard.touch_updated_at();
CREATE TRIGGER feature_overrides_touch BEFORE UPDATE ON switchboard.feature_overrides
  FOR EACH ROW EXECUTE FUNCTION switchboard.touch_updated_at();

SELECT switchboard.protect('switchboard.subscriptions', 'org_id', 'viewer', 'owner', 'owner', 'owner');
SELECT switchboard.protect('switchboard.feature_overrides', 'org_id', 'viewer', 'admin', 'admin', 'admin');
SELECT switchboard.protect('switchboard.feature_usage', 'org_id', 'viewer', 'owner', 'owner', 'owner');
SELECT switchboard.protect('switchboard.feature_reservations', 'org_id', 'viewer', 'owner', 'owner', 'owner');
SELECT switchboard.protect('switchboard.usage_events', 'org_id', 'viewer', 'owner', 'owner', 'owner');
SELECT switchboard.protect('switchboard.entitlement_audit', 'org_id', 'admin', 'owner', 'owner', 'owner');
SELECT switchboard.protect('switchboard.plan_change_requests', 'org_id', 'admin', 'owner', 'owner', 'owner');

-- Catalog rows shipped with the extension come back with CREATE EXTENSION; pg_dump keeps the rest.
SELECT pg_catalog.pg_extension_config_dump('switchboard.features', 'WHERE NOT shipped');
SELECT pg_catalog.pg_extension_config_dump('switchboard.features_bit_seq', '');
SELECT pg_catalog.pg_extension_config_dump('switchboard.plan_tiers', 'WHERE NOT shipped');
SELECT pg_catalog.pg_extension_config_dump('switchboard.plan_tier_features', 'WHERE NOT shipped');
SELECT pg_catalog.pg_extension_config_dump('switchboard.subscriptions', '');
SELECT pg_catalog.pg_extension_config_dump('switchboard.feature_overrides', '');
SELECT pg_catalog.pg_extension_config_dump('switchboard.global_feature_flags', '');
SELECT pg_catalog.pg_extension_config_dump('switchboard.feature_usage', '');
SELECT pg_catalog.pg_extension_config_dump('switchboard.feature_reservations', '');
SELECT pg_catalog.pg_extension_config_dump('switchboard.usage_events', '');
SELECT pg_catalog.pg_extension_config_dump('switchboard.entitlement_audit', '');
SELECT pg_catalog.pg_extension_config_dump('switchboard.plan_change_requests', '');
SELECT pg_catalog.pg_extension_config_dump('switchboard.kill_switch_audit', '');
SELECT pg_catalog.pg_extension_config_dump('switchboard.entitlement_audit_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('switchboard.kill_switch_audit_id_seq', '');
