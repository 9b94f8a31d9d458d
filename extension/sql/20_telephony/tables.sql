-- Telephony: phone numbers. Every column that stores a phone number (contacts, caller IDs, DNC
-- entries) has the type switchboard.phone, so no table holds a number that is not E.164.

CREATE DOMAIN switchboard.phone AS text
  CONSTRAINT phone_e164 CHECK (VALUE ~ '^\+[1-9][0-9]{6,14}$');
COMMENT ON DOMAIN switchboard.phone IS
  'a phone number in E.164: "+", the country code and the national number, 7 to 15 digits in all; '
  'normalise input to it before storing';
