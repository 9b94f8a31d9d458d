--
-- Phone numbers with libphonenumber: normalize_phone (E.164 or 22023 naming the input and why)
-- and phone_info (reports, never raises for the input), time zones from the prefix data.
\set VERBOSITY default
-- US/Canada national formats, with the default region US; +44 and +91 in international form.
SELECT input, switchboard.normalize_phone(input) AS e164
  FROM (VALUES ('(650) 253-0000'), ('650.253.0000'), ('1-650-253-0000'), ('+1 650 253 0000'),
               ('6502530000'), ('(416) 555-0123'), ('+44 20 7946 0958'), ('+91 98765 43210'),
               ('+91-22-2266-1234'), ('+1 650-253-0000 ext. 123'), ('650 253 0000 x77'),
               ('1-800-FLOWERS')) AS t (input);
-- National input of other regions; the region is case-insensitive.
SELECT switchboard.normalize_phone('020 7946 0958', 'GB') AS gb,
       switchboard.normalize_phone('098765 43210', 'in') AS "in",
       switchboard.normalize_phone('(416) 555-0123', 'CA') AS ca;
-- Bad input: 22023 naming the input and why.
SELECT switchboard.normalize_phone('hello');
SELECT switchboard.normalize_phone('12');
SELECT switchboard.normalize_phone('+1 650 253 0000 0000 0000 0000');
SELECT switchboard.normalize_phone('+1 555 010 9999');
SELECT switchboard.normalize_phone('+999 1234 5678');
SELECT switchboard.normalize_phone('+44 20 7946 095');
SELECT switchboard.normalize_phone('650 253 0000', 'XX');
SELECT switchboard.normalize_phone('650 253 0000', '');
-- phone_info reports instead: valid numbers with their type, region and zones.
SELECT switchboard.phone_info('+1 650 253 0000');
SELECT switchboard.phone_info('+44 7911 123456');
SELECT switchboard.phone_info('+91 98765 43210');
-- A toll-free number has no place: the zones of country code 1 as a whole.
SELECT i ->> 'type' AS type, jsonb_array_length(i -> 'timeZones') AS zones,
       i -> 'timeZones' ? 'America/New_York' AS has_new_york
  FROM switchboard.phone_info('+1 800 356 9377') AS i;
SELECT switchboard.phone_info('+1 650-253-0000 ext. 123') ->> 'extension' AS extension;
-- and the invalid ones with a reason.
SELECT input, i ->> 'reason' AS reason, i ->> 'valid' AS valid, i ->> 'possible' AS possible,
       i ->> 'e164' AS e164, i -> 'timeZones' AS zones
  FROM (VALUES ('hello'), ('12'), ('+1 555 010 9999'), ('+999 1234 5678'), ('+44 20 7946 095'),
               ('+1 650 253 0000 0000 0000 0000'), ('')) AS t (input),
       LATERAL switchboard.phone_info(input) AS i;
-- Time zones: the longest prefix wins; a prefix that spans zones lists them all.
SELECT input, switchboard.phone_info(input) -> 'timeZones' AS zones
  FROM (VALUES ('+1 212 555 0100'), ('+1 208 201 1234'), ('+1 208 301 1234'), ('+1 208 215 1234'),
               ('+61 2 9374 4000'), ('+7 912 345 6789'), ('+49 30 901820')) AS t (input);
-- Every stored E.164 number normalises to itself; the phone domain takes what it returns.
SELECT switchboard.normalize_phone('+16502530000') = '+16502530000' AS same,
       switchboard.normalize_phone('650 253 0000')::switchboard.phone AS as_domain;
-- NULL in, NULL out.
SELECT switchboard.normalize_phone(NULL) IS NULL AS n1, switchboard.phone_info(NULL, 'US') IS NULL AS n2;
