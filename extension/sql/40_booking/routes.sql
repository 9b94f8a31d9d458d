-- REST routes of the booking area (switchboard-shim; the organisation comes from the JWT).
INSERT INTO switchboard.api_routes (method, path, function_name, arg_names, org_arg, summary, area, builtin)
VALUES
  ('GET', '/api/calendars/{id}/slots', 'available_slots',
   '{"id": "calendar_id", "from": "from_ts", "to": "to_ts"}', 'org_id',
   'free slots of a calendar between two times', 'booking', true),
  ('POST', '/api/appointments', 'book_appointment', '{}', 'org_id',
   'book an appointment (atomic; alternatives when the slot is taken)', 'booking', true),
  ('POST', '/api/appointments/{id}/confirm', 'confirm_appointment', '{"id": "appointment_id"}', 'org_id',
   'confirm a held appointment', 'booking', true),
  ('PATCH', '/api/appointments/{id}', 'reschedule_appointment',
   '{"id": "appointment_id", "starts_at": "new_starts_at"}', 'org_id',
   'move an appointment atomically', 'booking', true),
  ('DELETE', '/api/appointments/{id}', 'cancel_appointment', '{"id": "appointment_id"}', 'org_id',
   'cancel an appointment (idempotent)', 'booking', true),
  ('POST', '/api/appointments/{id}/complete', 'complete_appointment', '{"id": "appointment_id"}', 'org_id',
   'record that a confirmed appointment took place (once it has started; idempotent)', 'booking', true),
  ('POST', '/api/appointments/{id}/no-show', 'mark_no_show', '{"id": "appointment_id"}', 'org_id',
   'record that the customer did not come (once it has started; idempotent)', 'booking', true);

-- The answers of the booking commands, for /openapi.json: the appointment as it now is, or a
-- refusal with up to three alternative start times (in the calendar's zone).
INSERT INTO switchboard.api_result_schemas (function_name, schema, builtin)
SELECT c.function_name, pg_catalog.jsonb_build_object('type', 'object', 'required', ARRAY[c.verb, 'reason'],
         'properties', '{
           "reason": {"type": "string"},
           "appointmentId": {"type": "string", "format": "uuid"},
           "calendarId": {"type": "string", "format": "uuid"},
           "status": {"type": "string", "enum": ["held", "confirmed", "cancelled", "completed", "no_show"]},
           "startsAt": {"type": "string", "format": "date-time"},
           "endsAt": {"type": "string", "format": "date-time"},
           "expiresAt": {"type": "string", "format": "date-time"},
           "previousStartsAt": {"type": "string", "format": "date-time"},
           "previousEndsAt": {"type": "string", "format": "date-time"},
           "slotReason": {"type": "string"},
           "replayed": {"type": "boolean"},
           "alternatives": {"type": "array", "items": {"type": "string", "format": "date-time"}}}'::jsonb
           || pg_catalog.jsonb_build_object(c.verb, '{"type": "boolean"}'::jsonb)), true
  FROM (VALUES ('book_appointment', 'booked'), ('confirm_appointment', 'confirmed'),
               ('reschedule_appointment', 'rescheduled'), ('cancel_appointment', 'cancelled'),
               ('complete_appointment', 'completed'), ('mark_no_show', 'noShow')) c(function_name, verb);

-- The rows of available_slots, for /openapi.json: times as every booking answer writes them.
INSERT INTO switchboard.api_result_schemas (function_name, schema, builtin) VALUES
  ('available_slots', '{"type": "object", "required": ["starts_at", "ends_at"], "properties": {
     "starts_at": {"type": "string", "format": "date-time"},
     "ends_at": {"type": "string", "format": "date-time"}}}', true);
