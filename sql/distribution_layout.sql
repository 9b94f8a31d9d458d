-- switchboard.distribute() on a server without Citus: a no-op with a reason, bad options refused
-- (nothing changes); and switchboard.distribution_layout places every table of the schema.
set client_min_messages = warning;

-- Without Citus: the answer says why nothing happened; called twice, the same.
select switchboard.distribute();
select switchboard.distribute('{"shardCount": 8}');

-- Bad options: 22023 with the offending value.
\set VERBOSITY default
\set SHOW_CONTEXT never
select switchboard.distribute(null);
select switchboard.distribute('[]');
select switchboard.distribute('{"shards": 8}');
select switchboard.distribute('{"shardCount": 0}');
select switchboard.distribute('{"shardCount": "8"}');
select switchboard.distribute('{"shardCount": 1.5}');

-- Every table of schema switchboard has its place, and every place names a table.
select c.relname as table_without_a_place
  from pg_class c
 where c.relnamespace = 'switchboard'::regnamespace and c.relkind in ('r', 'p')
   and c.relname not in (select table_name from switchboard.distribution_layout)
 order by 1;
select d.table_name as place_without_a_table
  from switchboard.distribution_layout d
 where to_regclass(format('switchboard.%I', d.table_name)) is null;
-- Tenant tables have org_id NOT NULL leading their primary key; reference and local ones may not.
select d.table_name as tenant_table_without_org_key
  from switchboard.distribution_layout d
  join pg_constraint k on k.conrelid = format('switchboard.%I', d.table_name)::regclass and k.contype = 'p'
  join pg_attribute a on a.attrelid = k.conrelid and a.attnum = k.conkey[1]
 where d.kind = 'tenant' and (a.attname <> 'org_id' or not a.attnotnull);
select kind, count(*) from switchboard.distribution_layout group by kind order by kind;
-- Nothing above changed a table: everything is still local.
select count(*) as not_local from switchboard.distribution_layout d
 where switchboard.distribution_state(format('switchboard.%I', d.table_name)::regclass) <> 'local';
-- The tenant-scoped functions distribute() distributes by org_id (none of them distributed here).
select fn, switchboard.function_distributed(fn) as distributed
  from switchboard.distribution_functions order by fn::text;
