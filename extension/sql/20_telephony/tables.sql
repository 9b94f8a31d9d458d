-- Telephony: phone numbers. Every column that stores a phone number (contacts, caller IDs, DNC
-- entries) has the type switchboard.phone, so no table holds a number that is not E.164.

CREATE DOMAIN switchboard.phone AS text
  CONSTRAINT phone_e164 CHECK (VALUE ~ '^\+[1-9][0-9]{6,14}$');
COMMENT ON DOMAIN switchboard.phone IS
  'a phone number in E.164: "+", the country code and the national number, 7 to 15 digits in all; '
  'normalise input to it before storing';

-- The organisation's own numbers (caller IDs it places calls from): bought from a provider or
-- brought along, with what they can do and their STIR/SHAKEN attestation when known.
CREATE TABLE switchboard.phone_numbers (
  org_id uuid NOT NULL REFERENCES switchboard.organizations (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  phone_number switchboard.phone NOT NULL,
  friendly_name text CHECK (length(btrim(friendly_name)) BETWEEN 1 AND 200),
  provider text NOT NULL CHECK (provider ~ '^[a-z][a-z0-9_]{0,39}$'),
  provider_id text CHECK (length(provider_id) BETWEEN 1 AND 200),
  voice boolean NOT NULL DEFAULT true,
  sms boolean NOT NULL DEFAULT false,
  mms boolean NOT NULL DEFAULT false,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'released')),
  attestation text CHECK (attestation IN ('A', 'B', 'C')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, id),
  UNIQUE (org_id, phone_number)
);
COMMENT ON TABLE switchboard.phone_numbers IS
  'the organisation''s own numbers (caller IDs): provider, capabilities, STIR/SHAKEN attestation';

-- Numbers the organisation proved it owns (a 6-digit code sent to the number), one row per number:
-- a resend replaces the code, so there are never two live codes. Only the code's HMAC-SHA256
-- under switchboard.caller_id_secret is stored.
CREATE TABLE switchboard.caller_id_verifications (
  org_id uuid NOT NULL REFERENCES switchboard.organizations (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  phone_number switchboard.phone NOT NULL,
  friendly_name text CHECK (length(btrim(friendly_name)) BETWEEN 1 AND 200),
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'verified', 'failed')),
  code_digest bytea CHECK (length(code_digest) = 32),
  code_expires_at timestamptz,
  checks integer NOT NULL DEFAULT 0 CHECK (checks BETWEEN 0 AND 5),
  locked_until timestamptz,
  verified_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, id),
  UNIQUE (org_id, phone_number),
  CHECK (status <> 'verified' OR (verified_at IS NOT NULL AND code_digest IS NULL))
);
COMMENT ON TABLE switchboard.caller_id_verifications IS
  'caller-ID ownership: pending codes (keyed hash only), verified numbers, locks after failed checks';

-- Every code sent, for the rate limits (per number and per organisation, per hour).
CREATE TABLE switchboard.caller_id_sends (
  org_id uuid NOT NULL REFERENCES switchboard.organizations (id) ON DELETE CASCADE,
  id bigint GENERATED ALWAYS AS IDENTITY,
  phone_number switchboard.phone NOT NULL,
  sent_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, id)
);
CREATE INDEX caller_id_sends_recent ON switchboard.caller_id_sends (org_id, sent_at, phone_number);

-- How a verified number's calls forward to the AI (seed 004 section 17): the codes the user dials,
-- made by forwarding_codes; one configuration per verified number.
CREATE TABLE switchboard.forwarding_configs (
  org_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  verification_id uuid NOT NULL,
  sim_phone_number switchboard.phone NOT NULL,
  destination switchboard.phone NOT NULL,
  carrier text NOT NULL,
  forwarding_type text NOT NULL CHECK (forwarding_type IN ('total_ai', 'safety_net')),
  ring_seconds integer CHECK (ring_seconds BETWEEN 5 AND 30 AND ring_seconds % 5 = 0),
  activation_code text NOT NULL,
  deactivation_code text NOT NULL,
  status text NOT NULL DEFAULT 'pending_setup' CHECK (status IN ('pending_setup', 'active', 'disabled')),
  confirmed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, id),
  UNIQUE (org_id, verification_id),
  FOREIGN KEY (org_id, verification_id)
    REFERENCES switchboard.caller_id_verifications (org_id, id) ON DELETE CASCADE
);
