// Data and functions the shim integration tests call: test-only functions in schema switchboard
// (created in the throwaway test database), organisations, members and tokens.
#pragma once

#include <ctime>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "core/http/http_jwt.hpp"
#include "pg.hpp"
#include "shim_harness.hpp"

namespace sbtest {

// Ensures: the shimtest_* functions and the RLS-protected table public.shimtest_notes exist.
inline void ensure_shim_fixtures() {
  static std::once_flag once;
  std::call_once(once, [] {
    Connection c;
    const char* statements[] = {
        R"SQL(CREATE TABLE IF NOT EXISTS public.shimtest_notes ( org_id uuid NOT NULL REFERENCES switchboard.organizations (id) ON DELETE CASCADE, id bigint GENERATED ALWAYS AS IDENTITY, body text, PRIMARY KEY (org_id, id)))SQL",
        R"SQL(SELECT switchboard.protect('public.shimtest_notes'))SQL",
        R"SQL(GRANT SELECT ON public.shimtest_notes TO anon, authenticated)SQL",
        R"SQL(CREATE OR REPLACE FUNCTION switchboard.shimtest_notes() RETURNS SETOF public.shimtest_notes LANGUAGE sql STABLE AS 'SELECT * FROM public.shimtest_notes ORDER BY id')SQL",
        R"SQL(CREATE OR REPLACE FUNCTION switchboard.shimtest_add(a integer, b integer DEFAULT 10) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT a + b')SQL",
        R"SQL(CREATE OR REPLACE FUNCTION switchboard.shimtest_echo(jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS 'SELECT $1')SQL",
        R"SQL(CREATE OR REPLACE FUNCTION switchboard.shimtest_touch(note text) RETURNS text LANGUAGE sql VOLATILE AS 'SELECT upper(note)')SQL",
        R"SQL(CREATE OR REPLACE FUNCTION switchboard.shimtest_nothing() RETURNS void LANGUAGE sql VOLATILE AS 'SELECT')SQL",
        R"SQL(CREATE OR REPLACE FUNCTION switchboard.shimtest_secret() RETURNS integer LANGUAGE sql STABLE AS 'SELECT 42')SQL",
        R"SQL(CREATE OR REPLACE FUNCTION switchboard.shimtest_whoami() RETURNS jsonb LANGUAGE sql STABLE AS $$ SELECT jsonb_build_object('role', current_user, 'sub', auth.uid(), 'method', current_setting('request.method', true), 'path', current_setting('request.path', true), 'headers', current_setting('request.headers', true)::jsonb, 'readOnly', current_setting('transaction_read_only')) $$)SQL",
        R"SQL(CREATE OR REPLACE FUNCTION switchboard.shimtest_sleep(seconds float8) RETURNS text LANGUAGE sql VOLATILE AS 'SELECT pg_sleep(seconds)::text || ''slept''')SQL",
        R"SQL(CREATE OR REPLACE FUNCTION switchboard.shimtest_raise(state text) RETURNS void LANGUAGE plpgsql AS $$ BEGIN IF state = 'P0001' THEN RAISE EXCEPTION 'plain raise'; END IF; RAISE EXCEPTION 'raised %', state USING ERRCODE = state, DETAIL = 'detail of ' || state, HINT = 'hint of ' || state; END $$)SQL",
        R"SQL(CREATE TABLE IF NOT EXISTS public.shimtest_log (note text))SQL",
        R"SQL(CREATE OR REPLACE FUNCTION switchboard.shimtest_record(note text) RETURNS text LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS 'INSERT INTO public.shimtest_log VALUES (note) RETURNING note')SQL",
        R"SQL(REVOKE ALL ON FUNCTION switchboard.shimtest_secret() FROM PUBLIC)SQL",
        R"SQL(GRANT EXECUTE ON FUNCTION switchboard.shimtest_notes(), switchboard.shimtest_add(integer, integer), switchboard.shimtest_echo(jsonb), switchboard.shimtest_touch(text), switchboard.shimtest_nothing(), switchboard.shimtest_whoami(), switchboard.shimtest_sleep(float8), switchboard.shimtest_raise(text), switchboard.shimtest_record(text) TO anon, authenticated)SQL",
    };
    for (const char* sql : statements) c.must(sql);
  });
}

// An HS256 token for `sub` (role authenticated unless given), valid for `seconds` (an hour).
inline std::string token(const std::string& sub, const std::string& org = "",
                         const std::string& role = "authenticated", long seconds = 3600) {
  long now = static_cast<long>(std::time(nullptr));
  nlohmann::json claims = {
      {"role", role}, {"aud", "authenticated"}, {"iat", now}, {"exp", now + seconds}};
  if (!sub.empty()) claims["sub"] = sub;
  if (!org.empty()) claims["app_metadata"] = {{"org_id", org}};
  return sb::sign_hs256(claims.dump(), kJwtSecret);
}

// A new organisation owned by `owner` (made by the superuser); returns its id.
inline std::string new_org(Connection& admin, const std::string& owner) {
  std::string slug = "shim-" + admin.must("select substr(md5(random()::text), 1, 12)").value();
  std::string org = admin
                        .must(
                            "insert into switchboard.organizations (name, slug) values ('Shim "
                            "test', $1) returning id",
                            {slug})
                        .value();
  admin.must(
      "insert into switchboard.organization_members (org_id, user_id, role) values ($1, $2, "
      "'owner')",
      {org, owner});
  return org;
}

// The number of rows switchboard.shimtest_record has written with `note`.
inline std::string recorded(Connection& admin, const std::string& note) {
  return admin.must("select count(*) from public.shimtest_log where note = $1", {note}).value();
}

inline nlohmann::json parse(const std::string& body) {
  return nlohmann::json::parse(body);
}

}  // namespace sbtest
