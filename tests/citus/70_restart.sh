# A worker goes down and comes back: while it is down, calls for its organisations fail with an
# error and those of the other worker are answered; once it is back, answers resume. Every
# consume_feature that answered ok is counted exactly once, none that failed is.
orgs_on() {  # orgs_on OP PORT: the first citus- organisation on a node whose port is (OP) PORT
  citus_psql 0 -tA -c "
    select min(o.id::text) from switchboard.organizations o
      join pg_dist_placement p on p.shardid = get_shard_id_for_distribution_column('switchboard.organization_members', o.id)
      join pg_dist_node n on n.groupid = p.groupid
     where o.slug like 'citus-%' and n.nodeport $1 $2"
}
down_org=$(orgs_on = "${CITUS_PORT[1]}") up_org=$(orgs_on '<>' "${CITUS_PORT[1]}")
used_of() { citus_psql 0 -tA -c "select switchboard.check_feature('$1', 'calls') ->> 'used'"; }
before_down=$(used_of "$down_org") before_up=$(used_of "$up_org")
declare -A answered=([ok.$down_org]=0 [ok.$up_org]=0 [failed.$down_org]=0 [failed.$up_org]=0)
# consume_rounds TAG: 5 rounds of one consume_feature per organisation, answers counted under TAG.
consume_rounds() {
  local i org got
  for i in 1 2 3 4 5; do
    for org in $down_org $up_org; do
      got=$(citus_psql 0 -tA -c "select switchboard.consume_feature('$org', 'calls', 1) ->> 'ok'" 2>&1)
      if [ "$got" = true ]; then
        answered[ok.$org]=$((answered[ok.$org] + 1))
      else
        answered[failed.$org]=$((answered[failed.$org] + 1))
        answered[$1.$org]=$((${answered[$1.$org]:-0} + 1))
      fi
    done
  done
}
consume_rounds before
stop_instance "${CITUS_HOME[1]}"
consume_rounds down
start_instance "${CITUS_HOME[1]}"
consume_rounds after
check "while worker 1 is down its organisation's calls fail, the other's are answered" "5|0" 0 \
  "select '${answered[down.$down_org]:-0}|${answered[down.$up_org]:-0}'"
check "before and after the restart every call is answered" "0|0" 0 \
  "select '$((${answered[before.$down_org]:-0} + ${answered[after.$down_org]:-0}))|$((${answered[before.$up_org]:-0} + ${answered[after.$up_org]:-0}))'"
check "every answered consume_feature counted once, no failed one counted" \
  "${answered[ok.$down_org]}|${answered[ok.$up_org]}" 0 \
  "select ((switchboard.check_feature('$down_org', 'calls') ->> 'used')::int - $before_down)
          || '|' || ((switchboard.check_feature('$up_org', 'calls') ->> 'used')::int - $before_up)"
