-- Privileges of contacts and calls: members read through row-level security and write through the
-- functions (agent and above; stages, dispositions and note tags: manager and above, by policy);
-- the rollups are written only by the owner's triggers.
GRANT EXECUTE ON FUNCTION
  switchboard.import_contacts(uuid, jsonb), switchboard.upsert_contact(uuid, jsonb),
  switchboard.record_call_event(uuid, text, jsonb), switchboard.record_message_event(uuid, text, jsonb),
  switchboard.upsert_pipeline_stage(uuid, text, integer), switchboard.upsert_disposition(uuid, text, jsonb),
  switchboard.move_contact_stage(uuid, uuid, text),
  switchboard.set_disposition(uuid, uuid, text, jsonb),
  switchboard.add_call_note(uuid, uuid, text, text[]), switchboard.list_call_notes(uuid, uuid),
  switchboard.log_message(uuid, jsonb), switchboard.update_message_status(uuid, text, text, text, jsonb),
  switchboard.dashboard_metrics(uuid, timestamptz, timestamptz, text),
  -- helpers the functions above call as the caller (never routable: api_internal_functions)
  switchboard.contact_phone(text), switchboard.require_phone(text, text), switchboard._contacts_time(text),
  switchboard._contact_rows_checked(uuid, jsonb), switchboard.contacts_emit_event(uuid, text, jsonb),
  switchboard._call_event_facts(text, jsonb), switchboard.call_event_facts(text, jsonb), switchboard.call_fold(jsonb, jsonb),
  switchboard.call_outcome(text, text), switchboard._call_for_update(uuid, uuid),
  switchboard.message_status_rank(text), switchboard.answer_time(timestamptz)
  TO authenticated, service_role;

GRANT SELECT ON switchboard.pipeline_stages, switchboard.contacts, switchboard.calls, switchboard.call_note_tags,
  switchboard.call_notes, switchboard.dispositions, switchboard.disposition_events, switchboard.messages,
  switchboard.contact_metrics TO authenticated;
GRANT INSERT, UPDATE, DELETE ON switchboard.pipeline_stages, switchboard.contacts, switchboard.calls,
  switchboard.call_note_tags, switchboard.call_notes, switchboard.dispositions, switchboard.messages
  TO authenticated;
GRANT INSERT ON switchboard.disposition_events TO authenticated;
GRANT ALL ON switchboard.pipeline_stages, switchboard.contacts, switchboard.calls, switchboard.call_note_tags,
  switchboard.call_notes, switchboard.dispositions, switchboard.disposition_events, switchboard.messages,
  switchboard.contact_metrics TO service_role;
