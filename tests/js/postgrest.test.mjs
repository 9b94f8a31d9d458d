// switchboard-shim with @supabase/postgrest-js itself over real HTTP, and its /openapi.json with an
// OpenAPI 3.0 validator. Run by tests/integration/shim_postgrest_js.sh (which starts the shim with
// SWITCHBOARD_TX_END=commit-allow-override and creates the pgrsttest_* functions).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PostgrestClient } from '@supabase/postgrest-js';
import SwaggerParser from '@apidevtools/swagger-parser';

const url = process.env.SHIM_URL;
const prefix = process.env.NOTE_PREFIX;
const anon = new PostgrestClient(url, { schema: 'switchboard' });
const user = new PostgrestClient(url, {
  schema: 'switchboard',
  headers: { Authorization: `Bearer ${process.env.USER_TOKEN}` },
});
const names = (data) => data.map((row) => row.name);

test('rpc filters: eq, neq, gt, gte, lt, lte, in, is, like, ilike', async () => {
  const items = () => anon.rpc('pgrsttest_items').select('id,name').order('id');
  const cases = [
    [items().eq('score', 20), ['beta']],
    [items().neq('score', 20), ['Alpha', 'Gamma', 'delta', 'Epsilon']],
    [items().gt('score', 30), ['delta', 'Epsilon']],
    [items().gte('score', 30), ['Gamma', 'delta', 'Epsilon']],
    [items().lt('score', 20), ['Alpha']],
    [items().lte('score', 20), ['Alpha', 'beta']],
    [items().in('id', [1, 3, 5]), ['Alpha', 'Gamma', 'Epsilon']],
    [items().is('tag', null), ['beta', 'delta']],
    [items().is('done', true), ['Alpha', 'Gamma', 'Epsilon']],
    [items().not('tag', 'is', null), ['Alpha', 'Gamma', 'Epsilon']],
    [items().like('name', '%lta'), ['delta']],
    [items().ilike('name', 'E%'), ['Epsilon']],
    [items().gt('score', 10).lt('score', 50).eq('done', false), ['beta', 'delta']],
  ];
  for (const [query, expected] of cases) {
    const { data, error, status } = await query;
    assert.equal(error, null);
    assert.equal(status, 200);
    assert.deepEqual(names(data), expected);
    assert.deepEqual(Object.keys(data[0]), ['id', 'name']);
  }
});

test('rpc logical trees: or(), nested and() and not.or(), quoted values, side by side', async () => {
  const items = () => anon.rpc('pgrsttest_items').select('id,name').order('id');
  const cases = [
    [items().or('score.lt.20,score.gt.40'), ['Alpha', 'Epsilon']],
    [items().or('tag.is.null,and(done.is.true,score.gte.30)'), ['beta', 'Gamma', 'delta', 'Epsilon']],
    [items().eq('done', true).or('id.eq.1,name.eq."Epsilon"'), ['Alpha', 'Epsilon']],
    [items().or('not.or(id.in.(1,2),name.ilike.*ta)'), ['Gamma', 'Epsilon']],
    [items().or('score.gt.10').or('score.lt.40'), ['beta', 'Gamma']],
  ];
  for (const [query, expected] of cases) {
    const { data, error, status } = await query;
    assert.equal(error, null);
    assert.equal(status, 200);
    assert.deepEqual(names(data), expected);
  }
  const embedded = await anon.rpc('pgrsttest_items').select('id,other(name)');
  assert.equal(embedded.status, 400);
  assert.equal(embedded.error.code, 'PGRST100');
  assert.match(embedded.error.message, /resource embedding is not supported/);
});

test('rpc select, order, limit and range on POST and GET', async () => {
  let { data } = await anon.rpc('pgrsttest_items_above', { min_score: 15 })
    .select('name,points:score').order('score', { ascending: false }).limit(2);
  assert.deepEqual(data, [{ name: 'Epsilon', points: 50 }, { name: 'delta', points: 40 }]);
  ({ data } = await anon.rpc('pgrsttest_items_above', { min_score: 15 }, { get: true })
    .select('name').order('name').range(1, 2));
  assert.deepEqual(names(data), ['Gamma', 'beta']);  // C collation: capitals first
  ({ data } = await anon.rpc('pgrsttest_numbers', { n: 10 }, { get: true })
    .gt('pgrsttest_numbers', 7).order('pgrsttest_numbers', { ascending: false }));
  assert.deepEqual(data, [10, 9, 8]);
  const unknown = await anon.rpc('pgrsttest_items').eq('nope', 1);
  assert.equal(unknown.status, 400);
  assert.equal(unknown.error.code, '42703');
});

test('single() is one object or 406 PGRST116; maybeSingle() is null for no row', async () => {
  let { data, error, status } = await anon.rpc('pgrsttest_items').eq('id', 3).single();
  assert.equal(error, null);
  assert.deepEqual(data, { id: 3, name: 'Gamma', score: 30, tag: 'c', done: true });
  ({ data, error, status } = await anon.rpc('pgrsttest_items').gt('id', 3).single());
  assert.equal(status, 406);
  assert.equal(error.code, 'PGRST116');
  assert.equal(data, null);
  ({ data, error } = await anon.rpc('pgrsttest_items').eq('id', 99).maybeSingle());
  assert.equal(error, null);
  assert.equal(data, null);
});

test('count and head: the total in Content-Range', async () => {
  let { data, count, error, status } = await anon
    .rpc('pgrsttest_items', {}, { count: 'exact' }).gt('score', 10).order('id').range(0, 1);
  assert.equal(error, null);
  assert.equal(count, 4);
  assert.equal(status, 206);
  assert.equal(data.length, 2);
  ({ data, count, error, status } = await anon
    .rpc('pgrsttest_items', {}, { head: true, count: 'exact' }));
  assert.equal(error, null);
  assert.equal(status, 200);
  assert.equal(count, 5);
  assert.equal(data, null);
  const res = await fetch(`${url}/rpc/pgrsttest_items?id=gt.2`, { method: 'HEAD' });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-range'), '0-2/*');
  assert.equal(await res.text(), '');
});

test('writes: committed, rolled back on request, rolled back when single() refuses', async () => {
  let { data, error } = await user.rpc('pgrsttest_note', { note: `${prefix}kept` }).single();
  assert.equal(error, null);
  assert.equal(data.note, `${prefix}kept`);
  ({ data, error } = await user.rpc('pgrsttest_note', { note: `${prefix}rolled-back` }).rollback());
  assert.equal(error, null);
  assert.equal(data[0].note, `${prefix}rolled-back`);
  ({ data, error } = await user
    .rpc('pgrsttest_note', { note: `${prefix}two`, copies: 2 }).single());
  assert.equal(error.code, 'PGRST116');
  assert.match(error.details, /2 rows/);
});

test('an unknown schema is 406 PGRST106; tables are not served, the 404 says what serves them', async () => {
  const pub = new PostgrestClient(url, { schema: 'public' });
  let { error, status } = await pub.rpc('pgrsttest_items');
  assert.equal(status, 406);
  assert.equal(error.code, 'PGRST106');
  ({ error, status } = await anon.from('organization_members').select('*'));
  assert.equal(status, 404);
  assert.equal(error.code, 'PGRST205');
  assert.match(error.message, /does not serve tables/);
  assert.match(error.details, /\/api\/organizations\/\{id\}\/members|list_members|none/);
  ({ error, status } = await anon.from('no_such_table').select('*'));
  assert.equal(status, 404);
  assert.equal(error.code, 'PGRST205');
});

test('Prefer: return=minimal, params=single-object and Preference-Applied', async () => {
  let res = await fetch(`${url}/rpc/pgrsttest_note`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Prefer: 'return=minimal, tx=rollback' },
    body: JSON.stringify({ note: `${prefix}rolled-back` }),
  });
  assert.equal(res.status, 204);
  assert.equal(await res.text(), '');
  assert.equal(res.headers.get('preference-applied'), 'tx=rollback, return=minimal');
  res = await fetch(`${url}/rpc/pgrsttest_echo`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Prefer: 'params=single-object' },
    body: JSON.stringify({ any: ['shape'] }),
  });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { got: { any: ['shape'] } });
  assert.equal(res.headers.get('preference-applied'), 'params=single-object');
  assert.match(res.headers.get('x-request-id'), /^[0-9a-f]{32}$/);
});

// The OpenAPI document as `token` (or anon) sees it, validated.
async function validDocument(token) {
  const res = await fetch(`${url}/openapi.json`, {
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });
  assert.equal(res.status, 200);
  const doc = await res.json();
  await SwaggerParser.validate(structuredClone(doc));
  return doc;
}

test('/openapi.json is valid OpenAPI 3.0, complete and consistent with the routes', async () => {
  for (const token of [undefined, process.env.USER_TOKEN, process.env.SERVICE_TOKEN]) {
    const doc = await validDocument(token);
    const paths = Object.keys(doc.paths);
    for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json', '/webhooks/{provider}'])
      assert.ok(paths.includes(path), path);
    assert.deepEqual(paths.filter((p) => /^\/rpc\/(api_|notify_)/.test(p)), []);
    const slots = doc.paths['/api/calendars/{id}/slots'].get.parameters.map((p) => p.name);
    for (const name of ['id', 'from', 'to']) assert.ok(slots.includes(name), name);
    for (const name of ['calendar_id', 'from_ts', 'to_ts', 'org_id']) assert.ok(!slots.includes(name), name);
    const check = doc.paths['/api/features/check'].post.responses['200'].content['application/json'];
    assert.equal(check.schema.properties.hasAccess.type, 'boolean');
    const members = doc.paths['/api/organizations/{id}/members'].get.responses['200'];
    assert.equal(members.content['application/json'].schema.items.properties.role.type, 'string');
  }
  const anonDoc = await validDocument();
  assert.ok(!('/rpc/create_organization' in anonDoc.paths));
  const userDoc = await validDocument(process.env.USER_TOKEN);
  assert.ok('/rpc/create_organization' in userDoc.paths);
});
