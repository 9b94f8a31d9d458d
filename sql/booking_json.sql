--
-- The booking area reads its jsonb arguments and columns with PostgreSQL's jsonb API
-- (pg/base/base_datums: jsonb_value) into the core's plain values: numbers and strings as jsonb
-- holds them, members in jsonb's order, nesting capped at 64 levels below the root (deeper is
-- 22P02, never a crash). Messages name values as before (switchboard._booking_rules is the
-- booking core's validation of hours and options).
\set VERBOSITY default
-- Valid rules, normalised; numbers jsonb writes as integers are integers (1e2 is 100).
SELECT switchboard._booking_rules('{"mon": [["12:00", "17:00"], ["09:00", "12:00"]]}',
                                  '{"slotMinutes": 1e2, "dailyCap": 1.0e1, "exceptions": {"2026-12-25": []}}');
-- A number is named as jsonb prints it; a string with its escapes.
SELECT switchboard._booking_rules('{}', '{"slotMinutes": 30.50}');
SELECT switchboard._booking_rules('{"mon": [["09:00", "a\"b\nc\u00e9"]]}', '{}');
-- The first offending key in jsonb's order (shorter keys first).
SELECT switchboard._booking_rules('{"xyzzy": [], "zz": []}', '{}');
-- A jsonb that is one scalar is that scalar.
SELECT switchboard._booking_rules('5', '{}');
SELECT switchboard._booking_rules('null', '{}');
SELECT switchboard._booking_rules('{}', '"slotMinutes"');
-- 64 levels below the root are read (and then found malformed); one more is refused, however deep
-- it goes.
SELECT switchboard._booking_rules(('{"mon": ' || repeat('[', 64) || repeat(']', 64) || '}')::jsonb, '{}');
SELECT switchboard._booking_rules(('{"mon": ' || repeat('[', 65) || repeat(']', 65) || '}')::jsonb, '{}');
SELECT switchboard._booking_rules('{}', ('{"exceptions": {"2026-12-25": ' || repeat('[', 5000) || repeat(']', 5000) || '}}')::jsonb);
