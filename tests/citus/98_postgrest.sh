# Requests as PostgREST (v12) sends them to the coordinator: in one transaction, the role and the
# JWT claims set with set_config(..., true) (not SET LOCAL, which Citus would carry by itself), then
# the /rpc call in PostgREST's query shape (a CTE over json_to_record of the body, which Citus does
# not delegate, so the function runs on the coordinator and re-issues its work to the node holding
# the organisation with the claims). A member is answered and counted once, a stranger refused, on
# both workers. org2, org3, owner and stranger come from 50_claims.sh.
# as_postgrest USER FUNCTION BODY COLUMNS: PostgREST's /rpc/FUNCTION with the JSON BODY as USER; COLUMNS
# are the body's columns with their types, as PostgREST reads them from the function's signature.
as_postgrest() {
  local claims="{\"sub\": \"$1\", \"role\": \"authenticated\"}" names columns
  names=$(sed -E 's/"([a-z_]+)" [a-z]+/"\1" := pgrst_body."\1"/g' <<<"$4")
  columns=$(sed -E 's/("[a-z_]+") [a-z]+/\1/g' <<<"$4")
  citus_psql 0 -U switchboard_authenticator -tA -c "begin" -c "
    select set_config('search_path', 'switchboard', true), set_config('role', 'authenticated', true),
           set_config('request.jwt.claims', '$claims', true), set_config('request.method', 'POST', true),
           set_config('request.path', '/rpc/$2', true)" -c "
    WITH pgrst_source AS (
      SELECT pgrst_call.pgrst_scalar
        FROM (SELECT '$3'::json AS json_data) pgrst_payload,
             LATERAL (SELECT $columns FROM json_to_record(pgrst_payload.json_data) AS _($4) LIMIT 1) pgrst_body,
             LATERAL (SELECT \"switchboard\".\"$2\"($names) pgrst_scalar) pgrst_call)
    SELECT coalesce(json_agg(_postgrest_t.pgrst_scalar) -> 0, 'null') AS body
      FROM (SELECT pgrst_source.* FROM pgrst_source) _postgrest_t" -c "commit" 2>&1 |
    grep -v '^COMMIT$' | tail -n +2
}
for org in $org2 $org3; do
  before=$(citus_psql 0 -tA -c "select switchboard.check_feature('$org', 'calls') ->> 'used'")
  got=$(as_postgrest "$owner" consume_feature "{\"org_id\": \"$org\", \"feature\": \"calls\", \"quantity\": 3}" \
    '"org_id" uuid, "feature" text, "quantity" integer')
  if [[ $got == *'"ok": true'* || $got == *'"ok":true'* ]]; then
    ok "PostgREST on $org: a member's consume_feature is answered"
  else
    failed "PostgREST on $org: a member's consume_feature: $got"
  fi
  check "PostgREST on $org: the consume counted once on the organisation's node" 3 0 \
    "select (switchboard.check_feature('$org', 'calls') ->> 'used')::int - $before"
  got=$(as_postgrest "$stranger" check_feature "{\"org_id\": \"$org\", \"feature\": \"calls\"}" \
    '"org_id" uuid, "feature" text')
  if [[ $got == *"permission denied for this organization"* ]]; then
    ok "PostgREST on $org: a stranger's check_feature is refused (42501)"
  else
    failed "PostgREST on $org: a stranger's check_feature: $got"
  fi
done
