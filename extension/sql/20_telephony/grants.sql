-- Privileges of the telephony area.
GRANT EXECUTE ON FUNCTION
  switchboard.normalize_phone(text, text),
  switchboard.phone_info(text, text),
  switchboard.forwarding_codes(text, text, text, integer)
  TO authenticated, service_role;
