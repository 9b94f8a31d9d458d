
-- Phone numbers with Google libphonenumber (C++: extension/src/core/telephony). National input is
-- read for default_region (ISO 3166, e.g. 'US', 'GB'); an extension is not part of E.164 and is
-- dropped by normalize_phone (phone_info reports it). Deterministic for one libphonenumber version.

-- Ensures: the E.164 form of a valid number; 22023 naming the input and why it is not one.
CREATE FUNCTION switchboard.normalize_phone(input text, default_region text DEFAULT 'US')
  RETURNS text LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'sb_normalize_phone';

-- Ensures: {e164, valid, possible, region, countryCode, type, extension, timeZones, reason} of the
-- input without raising for it (reason: null when valid, else NOT_A_NUMBER, INVALID_COUNTRY_CODE,
-- TOO_SHORT, TOO_LONG, INVALID_LENGTH, INVALID_FOR_REGION). timeZones: the IANA zones of the
-- longest matching prefix in libphonenumber's prefix data (several when the prefix spans them).
CREATE FUNCTION switchboard.phone_info(input text, default_region text DEFAULT 'US')
  RETURNS jsonb LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'sb_phone_info';

-- Ensures: the code the user dials on their mobile so its calls forward to destination, and the
-- code that undoes it: {carrier, forwardingType, destination, ringSeconds, activationCode,
-- deactivationCode, instructions[], notes[]}. Carriers: att, tmobile, sprint, other_gsm,
-- international (GSM/LTE: **21*DEST# for total_ai, **004*DEST*11*T# for safety_net, erased with
-- ##21# / ##004#), verizon, other_cdma (*72 / *71 with 10 digits, *73). ring_seconds only for GSM
-- safety_net: 5 to 30 in steps of 5 (25 when null). 22023 naming any bad value.
CREATE FUNCTION switchboard.forwarding_codes(carrier text, forwarding_type text, destination text,
  ring_seconds integer DEFAULT NULL)
  RETURNS jsonb LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'sb_forwarding_codes';
