-------------------------------------------------------------------------------------------------
-- Privileges (99_privileges revokes everything else from PUBLIC).
-------------------------------------------------------------------------------------------------
GRANT SELECT ON switchboard.api_routes, switchboard.api_functions, switchboard.api_internal_functions,
  switchboard.api_result_schemas TO anon, authenticated, service_role;
GRANT INSERT, UPDATE, DELETE ON switchboard.api_routes, switchboard.api_internal_functions,
  switchboard.api_result_schemas TO service_role;
GRANT EXECUTE ON FUNCTION
  switchboard.api_function_args(oid), switchboard.api_schema(), switchboard.api_path_params(text),
  switchboard.api_route_problems(), switchboard.api_json_schema(oid), switchboard.api_row_schema(oid),
  switchboard.api_shim_paths(),
  switchboard.api_result_schema(switchboard.api_functions),
  switchboard.api_operation(switchboard.api_functions, text, text, text, jsonb, text[], text[]),
  switchboard.openapi(text)
  TO anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION switchboard.notify_api_changed() TO anon, authenticated, service_role;
-- The shim writes the timestamptz columns of table-shaped results with the one time rule.
GRANT EXECUTE ON FUNCTION switchboard.answer_time(timestamptz) TO anon, authenticated, service_role;
