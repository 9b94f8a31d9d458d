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
-- The shipped catalog: seed 000's 7 tiers and 34 toggles, metered calls and minutes, and seed
-- 002's kill-switchable capabilities. Each tier includes every lower tier's features.
-- Call and minute allowances per billing period are ours (the seed ships 1,000 calls with $0.02
-- overage on its first tier): soft limits, billed as overage at the tier's rate.

INSERT INTO switchboard.features (key, name, category, kind, unit, shipped) VALUES
  ('voice_broadcast', 'Voice broadcast', 'core', 'boolean', NULL, true),
  ('csv_import', 'CSV import', 'core', 'boolean', NULL, true),
  ('audio_upload', 'Audio upload', 'core', 'boolean', NULL, true),
  ('tts_generation', 'Text-to-speech generation', 'core', 'boolean', NULL, true),
  ('press_1_transfer', 'Press 1 transfer', 'core', 'boolean', NULL, true),
  ('press_2_transfer', 'Press 2 transfer', 'core', 'boolean', NULL, true),
  ('number_rotation', 'Number rotation', 'core', 'boolean', NULL, true),
  ('ghl_contact_sync', 'GoHighLevel contact sync', 'core', 'boolean', NULL, true),
  ('basic_analytics', 'Basic analytics', 'core', 'boolean', NULL, true),
  ('progressive_dialing', 'Progressive dialing', 'smart', 'boolean', NULL, true),
  ('campaign_scheduler', 'Campaign scheduler', 'smart', 'boolean', NULL, true),
  ('multi_number_management', 'Multi-number management', 'smart', 'boolean', NULL, true),
  ('basic_pipeline_tracking', 'Basic pipeline tracking', 'smart', 'boolean', NULL, true),
  ('enhanced_ghl_sync', 'Enhanced GoHighLevel sync', 'smart', 'boolean', NULL, true),
  ('predictive_dialing', 'Predictive dialing', 'ai', 'boolean', NULL, true),
  ('ai_script_optimization', 'AI script optimisation', 'ai', 'boolean', NULL, true),
  ('ai_lead_scoring', 'AI lead scoring', 'ai', 'boolean', NULL, true),
  ('ai_call_outcome_prediction', 'AI call outcome prediction', 'ai', 'boolean', NULL, true),
  ('self_learning_ml', 'Self-learning models', 'ai', 'boolean', NULL, true),
  ('advanced_analytics', 'Advanced analytics', 'ai', 'boolean', NULL, true),
  ('ai_tools_access', 'AI tools access', 'ai', 'boolean', NULL, true),
  ('autonomous_agent_full', 'Fully autonomous agent', 'autonomous', 'boolean', NULL, true),
  ('autonomous_follow_ups', 'Autonomous follow-ups', 'autonomous', 'boolean', NULL, true),
  ('autonomous_pipeline_movement', 'Autonomous pipeline movement', 'autonomous', 'boolean', NULL, true),
  ('decision_tracking', 'Decision tracking', 'autonomous', 'boolean', NULL, true),
  ('lifecycle_management', 'Lifecycle management', 'autonomous', 'boolean', NULL, true),
  ('multi_carrier_routing', 'Multi-carrier routing', 'enterprise', 'boolean', NULL, true),
  ('intelligent_cost_optimization', 'Intelligent cost optimisation', 'enterprise', 'boolean', NULL, true),
  ('real_time_carrier_monitoring', 'Real-time carrier monitoring', 'enterprise', 'boolean', NULL, true),
  ('multi_ai_provider_support', 'Multiple AI providers', 'enterprise', 'boolean', NULL, true),
  ('custom_toggle_dashboard', 'Custom toggle dashboard', 'enterprise', 'boolean', NULL, true),
  ('white_label_capabilities', 'White-label capabilities', 'enterprise', 'boolean', NULL, true),
  ('advanced_reporting', 'Advanced reporting', 'enterprise', 'boolean', NULL, true),
  ('api_access', 'API access', 'enterprise', 'boolean', NULL, true),
  ('calls', 'Calls', 'usage', 'metered', 'call', true),
  ('minutes', 'Call minutes', 'usage', 'metered', 'minute', true),
  ('recording', 'Call recording', 'capability', 'boolean', NULL, true),
  ('transcription', 'Call transcription', 'capability', 'boolean', NULL, true),
  ('webhooks', 'Outbound webhooks', 'capability', 'boolean', NULL, true),
  ('webrtc_calling', 'WebRTC calling', 'capability', 'boolean', NULL, true),
  ('call_notes', 'Call notes', 'capability', 'boolean', NULL, true),
  ('sms', 'SMS', 'capability', 'boolean', NULL, true);

INSERT INTO switchboard.plan_tiers (key, rank, name, monthly_price, annual_price, overage_rate, shipped)
VALUES
  ('broadcast_starter', 1, 'Broadcast Starter', 59, 590, 0.02, true),
  ('smart_broadcast_pro', 2, 'Smart Broadcast Pro', 149, 1490, 0.02, true),
  ('ai_powered_elite', 3, 'AI-Powered Elite', 299, 2990, 0.018, true),
  ('autonomous_ferrari', 4, 'Autonomous Ferrari', 499, 4990, 0.015, true),
  ('enterprise_pro', 5, 'Enterprise Pro', 1000, 10000, 0.012, true),
  ('enterprise_elite', 6, 'Enterprise Elite', 1500, 15000, 0.01, true),
  ('white_label', 7, 'White Label', 3000, 30000, 0.008, true);

-- Boolean grants: a feature of tier rank r is granted by every tier of rank >= r.
INSERT INTO switchboard.plan_tier_features (tier, feature, shipped)
SELECT t.key, f.feature, true
  FROM switchboard.plan_tiers t
  JOIN (VALUES
    (1, 'voice_broadcast'), (1, 'csv_import'), (1, 'audio_upload'), (1, 'tts_generation'),
    (1, 'press_1_transfer'), (1, 'press_2_transfer'), (1, 'number_rotation'),
    (1, 'ghl_contact_sync'), (1, 'basic_analytics'),
    (1, 'recording'), (1, 'transcription'), (1, 'webhooks'), (1, 'webrtc_calling'),
    (1, 'call_notes'), (1, 'sms'),
    (2, 'progressive_dialing'), (2, 'campaign_scheduler'), (2, 'multi_number_management'),
    (2, 'basic_pipeline_tracking'), (2, 'enhanced_ghl_sync'),
    (3, 'predictive_dialing'), (3, 'ai_script_optimization'), (3, 'ai_lead_scoring'),
    (3, 'ai_call_outcome_prediction'), (3, 'self_learning_ml'), (3, 'advanced_analytics'),
    (3, 'ai_tools_access'),
    (4, 'autonomous_agent_full'), (4, 'autonomous_follow_ups'),
    (4, 'autonomous_pipeline_movement'), (4, 'decision_tracking'), (4, 'lifecycle_management'),
    (5, 'multi_carrier_routing'), (5, 'intelligent_cost_optimization'),
    (5, 'real_time_carrier_monitoring'), (5, 'multi_ai_provider_support'),
    (5, 'custom_toggle_dashboard'), (5, 'advanced_reporting'), (5, 'api_access'),
    (7, 'white_label_capabilities')
  ) AS f (min_rank, feature) ON t.rank >= f.min_rank;

-- Metered grants per billing period (soft: overage billed at the tier's rate).
INSERT INTO switchboard.plan_tier_features (tier, feature, usage_limit, period, mode, shipped)
SELECT a.tier, m.feature, CASE m.feature WHEN 'calls' THEN a.calls ELSE a.minutes END,
       'billing_period', 'soft', true
  FROM (VALUES
    ('broadcast_starter', 1000, 2000),
    ('smart_broadcast_pro', 3000, 6000),
    ('ai_powered_elite', 7500, 15000),
    ('autonomous_ferrari', 15000, 30000),
    ('enterprise_pro', 40000, 80000),
    ('enterprise_elite', 75000, 150000),
    ('white_label', 200000, 400000)
  ) AS a (tier, calls, minutes)
  CROSS JOIN (VALUES ('calls'), ('minutes')) AS m (feature);
