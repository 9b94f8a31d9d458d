-- REST routes of contacts and calls (switchboard-shim; the organisation comes from the JWT),
-- seed 002's disposition and notes endpoints among them.
INSERT INTO switchboard.api_routes (method, path, function_name, arg_names, org_arg, summary, area, builtin)
VALUES
  ('POST', '/api/contacts', 'upsert_contact', '{}', 'org_id',
   'create a contact, or merge into the one with the same phone', 'contacts', true),
  ('POST', '/api/contacts/import', 'import_contacts', '{}', 'org_id',
   'import contacts (per-row rejections; merges on phone)', 'contacts', true),
  ('PUT', '/api/contacts/{id}/stage', 'move_contact_stage', '{"id": "contact_id"}', 'org_id',
   'move a contact to a pipeline stage', 'contacts', true),
  ('POST', '/api/calls/events', 'record_call_event', '{}', 'org_id',
   'fold a provider call event into its call record', 'contacts', true),
  ('PUT', '/api/calls/{id}/disposition', 'set_disposition', '{"id": "call_id"}', 'org_id',
   'set a call''s disposition (moves the contact, schedules the callback)', 'contacts', true),
  ('POST', '/api/calls/{id}/notes', 'add_call_note', '{"id": "call_id"}', 'org_id',
   'add a note (at most 500 characters) to a call', 'contacts', true),
  ('GET', '/api/calls/{id}/notes', 'list_call_notes', '{"id": "call_id"}', 'org_id',
   'the notes of a call', 'contacts', true),
  ('PUT', '/api/pipeline-stages', 'upsert_pipeline_stage', '{}', 'org_id',
   'create or reorder a pipeline stage', 'contacts', true),
  ('PUT', '/api/dispositions/{name}', 'upsert_disposition', '{}', 'org_id',
   'create or change a disposition', 'contacts', true),
  ('POST', '/api/messages', 'log_message', '{}', 'org_id',
   'log an SMS or email sent or received', 'contacts', true),
  ('PATCH', '/api/messages/{provider}/{provider_message_id}', 'update_message_status', '{}', 'org_id',
   'move a message''s status forward (idempotent)', 'contacts', true),
  ('GET', '/api/metrics/dashboard', 'dashboard_metrics', '{"from": "from_ts", "to": "to_ts"}', 'org_id',
   'the dashboard: contacts, calls by outcome, dispositions, pipeline, messages, cost', 'contacts', true);

INSERT INTO switchboard.api_internal_functions (name, reason, builtin) VALUES
  ('contact_phone', 'an input check of the contacts functions', true),
  ('require_phone', 'an input check of the contacts functions', true),
  ('_contacts_time', 'an input check of the contacts functions', true),
  ('_contact_rows_checked', 'part of import_contacts()', true),
  ('contacts_emit_event', 'where contacts and calls emit outbound events', true),
  ('_call_event_facts', 'part of record_call_event()', true),
  ('call_event_facts', 'part of record_call_event()', true),
  ('call_fold', 'part of record_call_event()', true),
  ('call_outcome', 'part of record_call_event()', true),
  ('record_message_event', 'Twilio message webhooks, through process_webhook()', true),
  ('_call_for_update', 'part of the call commands', true),
  ('message_status_rank', 'part of update_message_status()', true);

-- The answers of the contacts and calls commands, for /openapi.json.
INSERT INTO switchboard.api_result_schemas (function_name, schema, builtin) VALUES
  ('upsert_contact', '{"type": "object", "required": ["reason", "contactId"], "properties": {
     "reason": {"type": "string", "enum": ["INSERTED", "MERGED"]},
     "contactId": {"type": "string", "format": "uuid"}}}', true),
  ('import_contacts', '{"type": "object", "required": ["reason", "inserted", "merged", "rejected"], "properties": {
     "reason": {"type": "string", "enum": ["IMPORTED"]}, "inserted": {"type": "integer"},
     "merged": {"type": "integer"},
     "rejected": {"type": "array", "items": {"type": "object", "required": ["row", "reason"], "properties": {
       "row": {"type": "integer"}, "reason": {"type": "string"}}}}}}', true),
  ('record_call_event', '{"type": "object", "required": ["reason", "callId", "status"], "properties": {
     "reason": {"type": "string", "enum": ["FOLDED"]}, "callId": {"type": "string", "format": "uuid"},
     "status": {"type": "string"}, "outcome": {"type": "string", "nullable": true},
     "contactId": {"type": "string", "format": "uuid", "nullable": true}}}', true),
  ('upsert_pipeline_stage', '{"type": "object", "required": ["reason", "stageId"], "properties": {
     "reason": {"type": "string", "enum": ["STORED"]}, "stageId": {"type": "string", "format": "uuid"},
     "name": {"type": "string"}, "position": {"type": "integer"}}}', true),
  ('upsert_disposition', '{"type": "object", "required": ["reason", "dispositionId"], "properties": {
     "reason": {"type": "string", "enum": ["STORED"]}, "dispositionId": {"type": "string", "format": "uuid"},
     "name": {"type": "string"}}}', true),
  ('move_contact_stage', '{"type": "object", "required": ["moved", "reason"], "properties": {
     "moved": {"type": "boolean"},
     "reason": {"type": "string", "enum": ["MOVED", "UNCHANGED", "PIPELINE_STAGE_NOT_FOUND"]},
     "stage": {"type": "string"}, "stageId": {"type": "string", "format": "uuid"},
     "previousStageId": {"type": "string", "format": "uuid", "nullable": true}}}', true),
  ('set_disposition', '{"type": "object", "required": ["set", "reason"], "properties": {
     "set": {"type": "boolean"},
     "reason": {"type": "string", "enum": ["SET", "DISPOSITION_NOT_FOUND", "PIPELINE_STAGE_NOT_FOUND"]},
     "callId": {"type": "string", "format": "uuid"}, "disposition": {"type": "string"},
     "previousDisposition": {"type": "string", "nullable": true}, "stage": {"type": "string"},
     "eventId": {"type": "string", "format": "uuid"},
     "contactId": {"type": "string", "format": "uuid", "nullable": true},
     "stageId": {"type": "string", "format": "uuid", "nullable": true},
     "removedFromCampaign": {"type": "boolean"},
     "callbackAt": {"type": "string", "format": "date-time", "nullable": true}}}', true),
  ('add_call_note', '{"type": "object", "required": ["reason", "noteId"], "properties": {
     "reason": {"type": "string", "enum": ["ADDED"]}, "noteId": {"type": "string", "format": "uuid"},
     "callId": {"type": "string", "format": "uuid"}}}', true),
  ('log_message', '{"type": "object", "required": ["logged", "reason", "messageId"], "properties": {
     "logged": {"type": "boolean"}, "reason": {"type": "string", "enum": ["LOGGED", "DUPLICATE"]},
     "messageId": {"type": "string", "format": "uuid"},
     "contactId": {"type": "string", "format": "uuid", "nullable": true}}}', true),
  ('update_message_status', '{"type": "object", "required": ["updated", "reason"], "properties": {
     "updated": {"type": "boolean"}, "reason": {"type": "string", "enum": ["UPDATED", "UNCHANGED"]},
     "messageId": {"type": "string", "format": "uuid"}, "status": {"type": "string"},
     "previousStatus": {"type": "string"}}}', true),
  ('dashboard_metrics', '{"type": "object", "required": ["reason", "callsByOutcome", "series"], "properties": {
     "reason": {"type": "string", "enum": ["METRICS"]}, "from": {"type": "string", "format": "date-time"},
     "to": {"type": "string", "format": "date-time"}, "granularity": {"type": "string"},
     "contactsBySource": {"type": "object", "additionalProperties": {"type": "integer"}},
     "callsByOutcome": {"type": "object", "additionalProperties": {"type": "integer"}},
     "callCost": {"type": "number"},
     "dispositionsByKind": {"type": "object", "additionalProperties": {"type": "integer"}},
     "averageSecondsToDisposition": {"type": "number", "nullable": true},
     "stageMoves": {"type": "object", "additionalProperties": {"type": "integer"}},
     "messages": {"type": "object", "additionalProperties": {"type": "integer"}},
     "booked": {"type": "integer"}, "costPerBooked": {"type": "number", "nullable": true},
     "series": {"type": "array", "items": {"type": "object"}}}}', true);
