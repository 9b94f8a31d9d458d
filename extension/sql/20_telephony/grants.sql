-- Privileges of the telephony area. Members read numbers, verifications (never the code's digest)
-- and forwarding configurations through row-level security and change verifications and
-- configurations only through the functions (which keep the limits).
GRANT EXECUTE ON FUNCTION
  switchboard.normalize_phone(text, text),
  switchboard.phone_info(text, text),
  switchboard.forwarding_codes(text, text, text, integer),
  switchboard.start_caller_id_verification(uuid, text, text),
  switchboard.confirm_caller_id_verification(uuid, uuid, text),
  switchboard.list_verified_numbers(uuid),
  switchboard.remove_verified_number(uuid, uuid),
  switchboard.create_forwarding_config(uuid, uuid, text, text, integer, text),
  switchboard.get_forwarding_config(uuid, uuid),
  switchboard.confirm_forwarding_setup(uuid, uuid),
  switchboard.disable_forwarding(uuid, uuid),
  switchboard.list_phone_numbers(uuid),
  switchboard.add_phone_number(uuid, text, text, text, text, boolean, boolean, boolean, text, text),
  switchboard.update_phone_number(uuid, uuid, text, text, boolean, boolean, boolean, text, text),
  switchboard.remove_phone_number(uuid, uuid)
  TO authenticated, service_role;

GRANT SELECT, INSERT, UPDATE, DELETE ON switchboard.phone_numbers TO authenticated;
GRANT SELECT (org_id, id, phone_number, friendly_name, status, code_expires_at, checks,
              locked_until, verified_at, created_at, updated_at)
  ON switchboard.caller_id_verifications TO authenticated;
GRANT SELECT ON switchboard.forwarding_configs TO authenticated;
GRANT ALL ON switchboard.phone_numbers, switchboard.caller_id_verifications,
  switchboard.caller_id_sends, switchboard.forwarding_configs TO service_role;
