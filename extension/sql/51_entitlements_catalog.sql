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
