-- Privileges of the inbound webhooks: the service role (the shim, after verifying a signature)
-- stores events; members read their organisation's rows.
GRANT EXECUTE ON FUNCTION
  switchboard.twilio_event_id(jsonb), switchboard.twilio_direction(jsonb),
  switchboard.twilio_account_keys(jsonb),
  switchboard.webhook_facts(text, jsonb, jsonb), switchboard.webhook_kept_headers(jsonb),
  switchboard.resolve_provider_org(text, text[]), switchboard.process_webhook(bigint),
  switchboard.receive_webhook(text, jsonb, jsonb, text), switchboard.rematch_webhooks(text, text[])
  TO service_role;
GRANT SELECT ON switchboard.provider_accounts, switchboard.webhook_inbox TO authenticated;
GRANT ALL ON switchboard.provider_accounts, switchboard.webhook_inbox TO service_role;
