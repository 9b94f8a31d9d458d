-- Privileges of the booking area: clients read calendars and appointments through row-level
-- security and change them only through the booking functions (which keep the invariants).
GRANT EXECUTE ON FUNCTION
  switchboard.create_calendar(uuid, text, text, jsonb, jsonb),
  switchboard.update_calendar(uuid, uuid, jsonb),
  switchboard.available_slots(uuid, uuid, timestamptz, timestamptz, integer),
  switchboard.hold_slot(uuid, uuid, timestamptz, integer, uuid, integer, text),
  switchboard.book_appointment(uuid, uuid, timestamptz, integer, uuid, jsonb, text),
  switchboard.confirm_appointment(uuid, uuid),
  switchboard.reschedule_appointment(uuid, uuid, timestamptz, integer),
  switchboard.cancel_appointment(uuid, uuid, text),
  switchboard.complete_appointment(uuid, uuid),
  switchboard.mark_no_show(uuid, uuid)
  TO authenticated, service_role;

GRANT SELECT ON switchboard.calendars, switchboard.appointments TO authenticated;
GRANT ALL ON switchboard.calendars, switchboard.appointments TO service_role;
