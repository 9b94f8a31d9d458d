# Deleting an organisation through the coordinator (last: it removes org2, which the files before
# filled with members, appointments, contacts, calls, endpoints and events): every row of it goes,
# on every tenant table but the entitlement audit (kept on purpose, as on one server: it records the
# deletion too), and the other organisation keeps all of its rows. The organisation's row is
# in a reference table; its members' rules lock per organisation on the node owning the members
# (a lock on the reference row from that node would wait for the coordinator's own delete).
# tenant_rows ORG: "table=count" for each tenant table with rows of ORG, one line.
tenant_rows() {
  local sql
  sql=$(citus_psql 0 -tA -c "select string_agg(format('select %L || ''='' || count(*) from switchboard.%I where org_id = %L having count(*) > 0', d.table_name, d.table_name, '$1'), ' union all ') from switchboard.distribution_layout d where d.kind = 'tenant'")
  citus_psql 0 -tA -c "select string_agg(x, ' ' order by x) from ($sql) t(x)"
}
before_other=$(tenant_rows "$org3")
before=$(tenant_rows "$org2")
if [ -n "$before" ] && [ "$(wc -w <<<"$before")" -ge 8 ]; then
  ok "org2 has rows in $(wc -w <<<"$before") tenant tables before its deletion"
else
  failed "org2 should have rows in many tenant tables before its deletion: '$before'"
fi
check "an organisation with members and data is deleted through the coordinator" 1 0 \
  "with d as (delete from switchboard.organizations where id = '$org2' returning 1) select count(*) from d"
after=$(tenant_rows "$org2")
check "none of its rows is left on any tenant table but the audit" "" 0 \
  "select '$(sed -E 's/entitlement_audit=[0-9]+ ?//' <<<"$after")'"
check "the entitlement audit records the deletion" t 0 \
  "select count(*) > 0 from switchboard.entitlement_audit where org_id = '$org2' and action = 'delete'"
check "the other organisation keeps every row" "$before_other" 0 "select '$(tenant_rows "$org3")'"
