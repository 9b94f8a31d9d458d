--
-- Carrier call-forwarding codes (../shared/domain/telephony.md): every carrier x forwarding type x
-- ring time, valid and invalid, against the domain's table.
\set VERBOSITY default
-- Every valid combination: the codes and the ring time they carry.
SELECT c.carrier, t.forwarding_type, r.ring,
       f ->> 'activationCode' AS activation, f ->> 'deactivationCode' AS deactivation,
       f ->> 'ringSeconds' AS ring_seconds
  FROM unnest(array['att', 'tmobile', 'sprint', 'other_gsm', 'international', 'verizon',
                    'other_cdma']) AS c (carrier),
       unnest(array['total_ai', 'safety_net']) AS t (forwarding_type),
       unnest(array[NULL, 5, 10, 15, 20, 25, 30]) AS r (ring),
       LATERAL (SELECT switchboard.forwarding_codes(c.carrier, t.forwarding_type, '+1 212 555 0100',
                                                    r.ring) AS f
                 WHERE (r.ring IS NULL OR (t.forwarding_type = 'safety_net'
                                           AND c.carrier NOT IN ('verizon', 'other_cdma')))) AS q
 ORDER BY 1, 2, 3;
-- Every invalid ring time for every carrier and type: the error's message, one per row.
CREATE FUNCTION pg_temp.refusal(carrier text, forwarding_type text, dest text, ring int)
  RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM switchboard.forwarding_codes(carrier, forwarding_type, dest, ring);
  RETURN 'ok';
EXCEPTION WHEN others THEN
  RETURN SQLSTATE || ' ' || SQLERRM;
END $$;
SELECT c.carrier, t.forwarding_type, r.ring,
       pg_temp.refusal(c.carrier, t.forwarding_type, '+12125550100', r.ring) AS outcome
  FROM unnest(array['att', 'tmobile', 'verizon']) AS c (carrier),
       unnest(array['total_ai', 'safety_net']) AS t (forwarding_type),
       unnest(array[0, 4, 7, 35, 60, -5]) AS r (ring)
 ORDER BY 1, 2, 3;
-- Destinations: international format for GSM, 11 digits for T-Mobile, 10 for CDMA; T-Mobile and
-- CDMA carriers refuse a number outside North America.
SELECT switchboard.forwarding_codes('att', 'total_ai', '+44 20 7946 0958') ->> 'activationCode' AS att_uk,
       switchboard.forwarding_codes('tmobile', 'total_ai', '212-555-0100') ->> 'activationCode' AS tmo,
       switchboard.forwarding_codes('verizon', 'safety_net', '(212) 555-0100') ->> 'activationCode' AS vzw;
SELECT switchboard.forwarding_codes('tmobile', 'total_ai', '+44 20 7946 0958');
SELECT switchboard.forwarding_codes('verizon', 'total_ai', '+91 98765 43210');
-- The whole answer: instructions, and the voicemail warning of ##004#.
SELECT jsonb_pretty(switchboard.forwarding_codes('tmobile', 'safety_net', '+12125550100', 20));
SELECT jsonb_pretty(switchboard.forwarding_codes('verizon', 'safety_net', '+12125550100'));
-- Bad input: unknown carrier, unknown type, invalid destination, NULLs.
SELECT switchboard.forwarding_codes('vodafone', 'total_ai', '+12125550100');
SELECT switchboard.forwarding_codes('att', 'no_answer', '+12125550100');
SELECT switchboard.forwarding_codes('att', 'total_ai', 'not a number');
SELECT switchboard.forwarding_codes(NULL, 'total_ai', '+12125550100');
SELECT switchboard.forwarding_codes('att', 'total_ai', NULL);
