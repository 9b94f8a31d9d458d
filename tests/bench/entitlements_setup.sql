-- Data for tests/bench/entitlements.sh: :orgs organisations with subscriptions, 100,000 more
-- organisations for the sync benchmark, and seed 000's plan and toggle tables rebuilt from the seed
-- (its sync_plan_features_to_toggles trigger included) over the same organisations.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION switchboard CASCADE;

CREATE FUNCTION pg_temp.bench_uuid(prefix text, n bigint) RETURNS uuid LANGUAGE sql IMMUTABLE AS
  $$ SELECT (prefix || '-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid $$;

INSERT INTO switchboard.organizations (id, name, slug)
SELECT pg_temp.bench_uuid('00000000', n), 'Org ' || n, 'org-' || n FROM generate_series(1, :orgs) n;
INSERT INTO switchboard.subscriptions (org_id, tier)
SELECT pg_temp.bench_uuid('00000000', n),
       (ARRAY['broadcast_starter', 'smart_broadcast_pro', 'ai_powered_elite', 'autonomous_ferrari',
              'enterprise_pro', 'enterprise_elite', 'white_label'])[1 + n % 7]
  FROM generate_series(1, :orgs) n;
-- The sync benchmark inserts subscriptions for these.
INSERT INTO switchboard.organizations (id, name, slug)
SELECT pg_temp.bench_uuid('20000000', n), 'Sync ' || n, 'sync-' || n FROM generate_series(1, 100000) n;

-- Seed 000 (supabase/migrations/20260113_subscription_plans.sql), in schema seed.
CREATE SCHEMA seed;
CREATE TABLE seed.users (id uuid PRIMARY KEY);
CREATE TABLE seed.organizations (id uuid PRIMARY KEY);
INSERT INTO seed.users SELECT pg_temp.bench_uuid('00000000', n) FROM generate_series(1, :orgs) n;
INSERT INTO seed.users SELECT pg_temp.bench_uuid('20000000', n) FROM generate_series(1, 100000) n;
INSERT INTO seed.organizations SELECT id FROM seed.users;

CREATE TABLE seed.user_subscription_plans (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id UUID NOT NULL REFERENCES seed.users(id) ON DELETE CASCADE,
  organization_id UUID REFERENCES seed.organizations(id) ON DELETE CASCADE,
  plan_tier TEXT NOT NULL CHECK (plan_tier IN ('broadcast_starter', 'smart_broadcast_pro',
    'ai_powered_elite', 'autonomous_ferrari', 'enterprise_pro', 'enterprise_elite', 'white_label')),
  plan_status TEXT NOT NULL DEFAULT 'active' CHECK (plan_status IN ('active', 'cancelled', 'suspended', 'trial')),
  billing_cycle TEXT NOT NULL DEFAULT 'monthly' CHECK (billing_cycle IN ('monthly', 'annual')),
  monthly_price DECIMAL(10,2) NOT NULL,
  calls_included INTEGER NOT NULL DEFAULT 1000,
  calls_used INTEGER NOT NULL DEFAULT 0,
  overage_rate DECIMAL(10,4) NOT NULL DEFAULT 0.02,
  features JSONB NOT NULL DEFAULT '{}',
  addons JSONB NOT NULL DEFAULT '[]',
  trial_ends_at TIMESTAMP WITH TIME ZONE,
  current_period_start TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  current_period_end TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT (NOW() + INTERVAL '1 month'),
  cancelled_at TIMESTAMP WITH TIME ZONE,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_user_subscription_plans_user_id ON seed.user_subscription_plans(user_id);
CREATE INDEX idx_user_subscription_plans_org_id ON seed.user_subscription_plans(organization_id);
CREATE INDEX idx_user_subscription_plans_status ON seed.user_subscription_plans(plan_status);

CREATE TABLE seed.user_feature_toggles (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id UUID NOT NULL REFERENCES seed.users(id) ON DELETE CASCADE,
  organization_id UUID REFERENCES seed.organizations(id) ON DELETE CASCADE,
  plan_id UUID REFERENCES seed.user_subscription_plans(id) ON DELETE CASCADE,
  voice_broadcast BOOLEAN NOT NULL DEFAULT false, csv_import BOOLEAN NOT NULL DEFAULT false,
  audio_upload BOOLEAN NOT NULL DEFAULT false, tts_generation BOOLEAN NOT NULL DEFAULT false,
  press_1_transfer BOOLEAN NOT NULL DEFAULT false, press_2_transfer BOOLEAN NOT NULL DEFAULT false,
  number_rotation BOOLEAN NOT NULL DEFAULT false, ghl_contact_sync BOOLEAN NOT NULL DEFAULT false,
  basic_analytics BOOLEAN NOT NULL DEFAULT false, progressive_dialing BOOLEAN NOT NULL DEFAULT false,
  campaign_scheduler BOOLEAN NOT NULL DEFAULT false, multi_number_management BOOLEAN NOT NULL DEFAULT false,
  basic_pipeline_tracking BOOLEAN NOT NULL DEFAULT false, enhanced_ghl_sync BOOLEAN NOT NULL DEFAULT false,
  predictive_dialing BOOLEAN NOT NULL DEFAULT false, ai_script_optimization BOOLEAN NOT NULL DEFAULT false,
  ai_lead_scoring BOOLEAN NOT NULL DEFAULT false, ai_call_outcome_prediction BOOLEAN NOT NULL DEFAULT false,
  self_learning_ml BOOLEAN NOT NULL DEFAULT false, advanced_analytics BOOLEAN NOT NULL DEFAULT false,
  ai_tools_access BOOLEAN NOT NULL DEFAULT false, autonomous_agent_full BOOLEAN NOT NULL DEFAULT false,
  autonomous_follow_ups BOOLEAN NOT NULL DEFAULT false, autonomous_pipeline_movement BOOLEAN NOT NULL DEFAULT false,
  decision_tracking BOOLEAN NOT NULL DEFAULT false, lifecycle_management BOOLEAN NOT NULL DEFAULT false,
  multi_carrier_routing BOOLEAN NOT NULL DEFAULT false, intelligent_cost_optimization BOOLEAN NOT NULL DEFAULT false,
  real_time_carrier_monitoring BOOLEAN NOT NULL DEFAULT false, multi_ai_provider_support BOOLEAN NOT NULL DEFAULT false,
  custom_toggle_dashboard BOOLEAN NOT NULL DEFAULT false, white_label_capabilities BOOLEAN NOT NULL DEFAULT false,
  advanced_reporting BOOLEAN NOT NULL DEFAULT false, api_access BOOLEAN NOT NULL DEFAULT false,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  UNIQUE(user_id, organization_id)
);
CREATE INDEX idx_user_feature_toggles_user_id ON seed.user_feature_toggles(user_id);
CREATE INDEX idx_user_feature_toggles_org_id ON seed.user_feature_toggles(organization_id);
CREATE INDEX idx_user_feature_toggles_plan_id ON seed.user_feature_toggles(plan_id);

-- The seed's sync trigger, as the seed wrote it (search_path pinned to seed here so it runs).
SET search_path = seed, public;
CREATE OR REPLACE FUNCTION seed.sync_plan_features_to_toggles()
RETURNS TRIGGER AS $$
DECLARE
  feature_set JSONB;
BEGIN
  -- Define features for each tier
  CASE NEW.plan_tier
    WHEN 'broadcast_starter' THEN
      feature_set := jsonb_build_object(
        'voice_broadcast', true,
        'csv_import', true,
        'audio_upload', true,
        'tts_generation', true,
        'press_1_transfer', true,
        'press_2_transfer', true,
        'number_rotation', true,
        'ghl_contact_sync', true,
        'basic_analytics', true
      );
    WHEN 'smart_broadcast_pro' THEN
      feature_set := jsonb_build_object(
        'voice_broadcast', true,
        'csv_import', true,
        'audio_upload', true,
        'tts_generation', true,
        'press_1_transfer', true,
        'press_2_transfer', true,
        'number_rotation', true,
        'ghl_contact_sync', true,
        'basic_analytics', true,
        'progressive_dialing', true,
        'campaign_scheduler', true,
        'multi_number_management', true,
        'basic_pipeline_tracking', true,
        'enhanced_ghl_sync', true
      );
    WHEN 'ai_powered_elite' THEN
      feature_set := jsonb_build_object(
        -- All Tier 1 & 2 features plus:
        'voice_broadcast', true,
        'csv_import', true,
        'audio_upload', true,
        'tts_generation', true,
        'press_1_transfer', true,
        'press_2_transfer', true,
        'number_rotation', true,
        'ghl_contact_sync', true,
        'basic_analytics', true,
        'progressive_dialing', true,
        'campaign_scheduler', true,
        'multi_number_management', true,
        'basic_pipeline_tracking', true,
        'enhanced_ghl_sync', true,
        'predictive_dialing', true,
        'ai_script_optimization', true,
        'ai_lead_scoring', true,
        'ai_call_outcome_prediction', true,
        'self_learning_ml', true,
        'advanced_analytics', true,
        'ai_tools_access', true
      );
    WHEN 'autonomous_ferrari' THEN
      feature_set := jsonb_build_object(
        -- All Tier 1, 2, 3 features plus:
        'voice_broadcast', true,
        'csv_import', true,
        'audio_upload', true,
        'tts_generation', true,
        'press_1_transfer', true,
        'press_2_transfer', true,
        'number_rotation', true,
        'ghl_contact_sync', true,
        'basic_analytics', true,
        'progressive_dialing', true,
        'campaign_scheduler', true,
        'multi_number_management', true,
        'basic_pipeline_tracking', true,
        'enhanced_ghl_sync', true,
        'predictive_dialing', true,
        'ai_script_optimization', true,
        'ai_lead_scoring', true,
        'ai_call_outcome_prediction', true,
        'self_learning_ml', true,
        'advanced_analytics', true,
        'ai_tools_access', true,
        'autonomous_agent_full', true,
        'autonomous_follow_ups', true,
        'autonomous_pipeline_movement', true,
        'decision_tracking', true,
        'lifecycle_management', true
      );
    WHEN 'enterprise_pro', 'enterprise_elite', 'white_label' THEN
      feature_set := jsonb_build_object(
        -- All features enabled
        'voice_broadcast', true,
        'csv_import', true,
        'audio_upload', true,
        'tts_generation', true,
        'press_1_transfer', true,
        'press_2_transfer', true,
        'number_rotation', true,
        'ghl_contact_sync', true,
        'basic_analytics', true,
        'progressive_dialing', true,
        'campaign_scheduler', true,
        'multi_number_management', true,
        'basic_pipeline_tracking', true,
        'enhanced_ghl_sync', true,
        'predictive_dialing', true,
        'ai_script_optimization', true,
        'ai_lead_scoring', true,
        'ai_call_outcome_prediction', true,
        'self_learning_ml', true,
        'advanced_analytics', true,
        'ai_tools_access', true,
        'autonomous_agent_full', true,
        'autonomous_follow_ups', true,
        'autonomous_pipeline_movement', true,
        'decision_tracking', true,
        'lifecycle_management', true,
        'multi_carrier_routing', true,
        'intelligent_cost_optimization', true,
        'real_time_carrier_monitoring', true,
        'multi_ai_provider_support', true,
        'custom_toggle_dashboard', true,
        'white_label_capabilities', NEW.plan_tier = 'white_label',
        'advanced_reporting', true,
        'api_access', true
      );
  END CASE;

  -- Update or insert feature toggles
  INSERT INTO seed.user_feature_toggles (
    user_id,
    organization_id,
    plan_id,
    voice_broadcast,
    csv_import,
    audio_upload,
    tts_generation,
    press_1_transfer,
    press_2_transfer,
    number_rotation,
    ghl_contact_sync,
    basic_analytics,
    progressive_dialing,
    campaign_scheduler,
    multi_number_management,
    basic_pipeline_tracking,
    enhanced_ghl_sync,
    predictive_dialing,
    ai_script_optimization,
    ai_lead_scoring,
    ai_call_outcome_prediction,
    self_learning_ml,
    advanced_analytics,
    ai_tools_access,
    autonomous_agent_full,
    autonomous_follow_ups,
    autonomous_pipeline_movement,
    decision_tracking,
    lifecycle_management,
    multi_carrier_routing,
    intelligent_cost_optimization,
    real_time_carrier_monitoring,
    multi_ai_provider_support,
    custom_toggle_dashboard,
    white_label_capabilities,
    advanced_reporting,
    api_access
  )
  VALUES (
    NEW.user_id,
    NEW.organization_id,
    NEW.id,
    COALESCE((feature_set->>'voice_broadcast')::boolean, false),
    COALESCE((feature_set->>'csv_import')::boolean, false),
    COALESCE((feature_set->>'audio_upload')::boolean, false),
    COALESCE((feature_set->>'tts_generation')::boolean, false),
    COALESCE((feature_set->>'press_1_transfer')::boolean, false),
    COALESCE((feature_set->>'press_2_transfer')::boolean, false),
    COALESCE((feature_set->>'number_rotation')::boolean, false),
    COALESCE((feature_set->>'ghl_contact_sync')::boolean, false),
    COALESCE((feature_set->>'basic_analytics')::boolean, false),
    COALESCE((feature_set->>'progressive_dialing')::boolean, false),
    COALESCE((feature_set->>'campaign_scheduler')::boolean, false),
    COALESCE((feature_set->>'multi_number_management')::boolean, false),
    COALESCE((feature_set->>'basic_pipeline_tracking')::boolean, false),
    COALESCE((feature_set->>'enhanced_ghl_sync')::boolean, false),
    COALESCE((feature_set->>'predictive_dialing')::boolean, false),
    COALESCE((feature_set->>'ai_script_optimization')::boolean, false),
    COALESCE((feature_set->>'ai_lead_scoring')::boolean, false),
    COALESCE((feature_set->>'ai_call_outcome_prediction')::boolean, false),
    COALESCE((feature_set->>'self_learning_ml')::boolean, false),
    COALESCE((feature_set->>'advanced_analytics')::boolean, false),
    COALESCE((feature_set->>'ai_tools_access')::boolean, false),
    COALESCE((feature_set->>'autonomous_agent_full')::boolean, false),
    COALESCE((feature_set->>'autonomous_follow_ups')::boolean, false),
    COALESCE((feature_set->>'autonomous_pipeline_movement')::boolean, false),
    COALESCE((feature_set->>'decision_tracking')::boolean, false),
    COALESCE((feature_set->>'lifecycle_management')::boolean, false),
    COALESCE((feature_set->>'multi_carrier_routing')::boolean, false),
    COALESCE((feature_set->>'intelligent_cost_optimization')::boolean, false),
    COALESCE((feature_set->>'real_time_carrier_monitoring')::boolean, false),
    COALESCE((feature_set->>'multi_ai_provider_support')::boolean, false),
    COALESCE((feature_set->>'custom_toggle_dashboard')::boolean, false),
    COALESCE((feature_set->>'white_label_capabilities')::boolean, false),
    COALESCE((feature_set->>'advanced_reporting')::boolean, false),
    COALESCE((feature_set->>'api_access')::boolean, false)
  )
  ON CONFLICT (user_id, organization_id)
  DO UPDATE SET
    plan_id = NEW.id,
    voice_broadcast = COALESCE((feature_set->>'voice_broadcast')::boolean, false),
    csv_import = COALESCE((feature_set->>'csv_import')::boolean, false),
    audio_upload = COALESCE((feature_set->>'audio_upload')::boolean, false),
    tts_generation = COALESCE((feature_set->>'tts_generation')::boolean, false),
    press_1_transfer = COALESCE((feature_set->>'press_1_transfer')::boolean, false),
    press_2_transfer = COALESCE((feature_set->>'press_2_transfer')::boolean, false),
    number_rotation = COALESCE((feature_set->>'number_rotation')::boolean, false),
    ghl_contact_sync = COALESCE((feature_set->>'ghl_contact_sync')::boolean, false),
    basic_analytics = COALESCE((feature_set->>'basic_analytics')::boolean, false),
    progressive_dialing = COALESCE((feature_set->>'progressive_dialing')::boolean, false),
    campaign_scheduler = COALESCE((feature_set->>'campaign_scheduler')::boolean, false),
    multi_number_management = COALESCE((feature_set->>'multi_number_management')::boolean, false),
    basic_pipeline_tracking = COALESCE((feature_set->>'basic_pipeline_tracking')::boolean, false),
    enhanced_ghl_sync = COALESCE((feature_set->>'enhanced_ghl_sync')::boolean, false),
    predictive_dialing = COALESCE((feature_set->>'predictive_dialing')::boolean, false),
    ai_script_optimization = COALESCE((feature_set->>'ai_script_optimization')::boolean, false),
    ai_lead_scoring = COALESCE((feature_set->>'ai_lead_scoring')::boolean, false),
    ai_call_outcome_prediction = COALESCE((feature_set->>'ai_call_outcome_prediction')::boolean, false),
    self_learning_ml = COALESCE((feature_set->>'self_learning_ml')::boolean, false),
    advanced_analytics = COALESCE((feature_set->>'advanced_analytics')::boolean, false),
    ai_tools_access = COALESCE((feature_set->>'ai_tools_access')::boolean, false),
    autonomous_agent_full = COALESCE((feature_set->>'autonomous_agent_full')::boolean, false),
    autonomous_follow_ups = COALESCE((feature_set->>'autonomous_follow_ups')::boolean, false),
    autonomous_pipeline_movement = COALESCE((feature_set->>'autonomous_pipeline_movement')::boolean, false),
    decision_tracking = COALESCE((feature_set->>'decision_tracking')::boolean, false),
    lifecycle_management = COALESCE((feature_set->>'lifecycle_management')::boolean, false),
    multi_carrier_routing = COALESCE((feature_set->>'multi_carrier_routing')::boolean, false),
    intelligent_cost_optimization = COALESCE((feature_set->>'intelligent_cost_optimization')::boolean, false),
    real_time_carrier_monitoring = COALESCE((feature_set->>'real_time_carrier_monitoring')::boolean, false),
    multi_ai_provider_support = COALESCE((feature_set->>'multi_ai_provider_support')::boolean, false),
    custom_toggle_dashboard = COALESCE((feature_set->>'custom_toggle_dashboard')::boolean, false),
    white_label_capabilities = COALESCE((feature_set->>'white_label_capabilities')::boolean, false),
    advanced_reporting = COALESCE((feature_set->>'advanced_reporting')::boolean, false),
    api_access = COALESCE((feature_set->>'api_access')::boolean, false),
    updated_at = NOW();

  RETURN NEW;
END;
$$ LANGUAGE plpgsql SECURITY DEFINER;

CREATE TRIGGER sync_plan_to_features_trigger
  AFTER INSERT OR UPDATE OF plan_tier ON seed.user_subscription_plans
  FOR EACH ROW
  EXECUTE FUNCTION seed.sync_plan_features_to_toggles();
RESET search_path;

INSERT INTO seed.user_subscription_plans (user_id, organization_id, plan_tier, monthly_price)
SELECT id, id, (ARRAY['broadcast_starter', 'smart_broadcast_pro', 'ai_powered_elite', 'autonomous_ferrari',
              'enterprise_pro', 'enterprise_elite', 'white_label'])[1 + n % 7], 59
  FROM (SELECT pg_temp.bench_uuid('00000000', n) AS id, n FROM generate_series(1, :orgs) n) s;
VACUUM ANALYZE;
-- As on Supabase, the service role reads the public tables (the seed's edge function uses it).
GRANT USAGE ON SCHEMA seed TO service_role;
GRANT SELECT ON ALL TABLES IN SCHEMA seed TO service_role;
