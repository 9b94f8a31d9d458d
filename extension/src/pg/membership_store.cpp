#include "membership_store.hpp"

#include "boundary.hpp"
#include "claims.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "executor/spi.h"
#include "storage/sinval.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/uuid.h"
}

namespace sb::pg {
namespace {

constexpr std::size_t kCachedUsers = 1024;

MembershipCache& cache() {
  static MembershipCache instance(kCachedUsers);
  return instance;
}

// Bumped by every invalidation, so a load that raced with one is not cached.
uint64_t generation = 0;
Oid members_relid = InvalidOid;
SPIPlanPtr members_plan = nullptr;

// One row of the membership query, in palloc'd memory of the caller's context.
struct RawRows {
  uint64 count = 0;
  pg_uuid_t* orgs = nullptr;
  char** roles = nullptr;
};

Oid relation_owner(Oid relid) {
  HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
  if (!HeapTupleIsValid(tuple)) elog(ERROR, "cache lookup failed for relation %u", relid);
  Oid owner = ((Form_pg_class)GETSTRUCT(tuple))->relowner;
  ReleaseSysCache(tuple);
  return owner;
}

SPIPlanPtr membership_plan() {
  if (members_plan) return members_plan;
  Oid types[1] = {UUIDOID};
  SPIPlanPtr plan = SPI_prepare(
      "select org_id, role::text from switchboard.organization_members where user_id = $1", 1,
      types);
  if (!plan) elog(ERROR, "switchboard: could not prepare membership query");
  SPI_keepplan(plan);
  members_plan = plan;
  return plan;
}

// Copies the SPI result rows into memory that outlives SPI_finish.
void copy_rows(RawRows* out) {
  out->count = SPI_processed;
  out->orgs = static_cast<pg_uuid_t*>(SPI_palloc(sizeof(pg_uuid_t) * (out->count + 1)));
  out->roles = static_cast<char**>(SPI_palloc(sizeof(char*) * (out->count + 1)));
  for (uint64 i = 0; i < out->count; ++i) {
    HeapTuple row = SPI_tuptable->vals[i];
    bool isnull = false;
    Datum org = SPI_getbinval(row, SPI_tuptable->tupdesc, 1, &isnull);
    memcpy(&out->orgs[i], DatumGetUUIDP(org), sizeof(pg_uuid_t));
    out->roles[i] = SPI_getvalue(row, SPI_tuptable->tupdesc, 2);
  }
}

// Reads the memberships of `user` as the table's owner (no RLS recursion), with a fresh snapshot.
void query_memberships(const pg_uuid_t* user, RawRows* out) {
  members_relid =
      get_relname_relid("organization_members", get_namespace_oid("switchboard", false));
  if (!OidIsValid(members_relid)) elog(ERROR, "switchboard.organization_members is missing");
  Oid saved_user;
  int saved_context;
  GetUserIdAndSecContext(&saved_user, &saved_context);
  SetUserIdAndSecContext(relation_owner(members_relid),
                         saved_context | SECURITY_LOCAL_USERID_CHANGE);
  SPI_connect();
  Datum args[1] = {UUIDPGetDatum(const_cast<pg_uuid_t*>(user))};
  int rc = SPI_execute_snapshot(membership_plan(), args, nullptr, GetLatestSnapshot(),
                                InvalidSnapshot, true, false, 0);
  if (rc != SPI_OK_SELECT) elog(ERROR, "switchboard: membership query failed: %d", rc);
  copy_rows(out);
  SPI_finish();
  SetUserIdAndSecContext(saved_user, saved_context);
}

// Restores the caller's user id if a guarded query failed half-way.
class UserRestorer {
 public:
  UserRestorer() { GetUserIdAndSecContext(&user_, &context_); }
  ~UserRestorer() { SetUserIdAndSecContext(user_, context_); }

 private:
  Oid user_;
  int context_;
};

Memberships load_memberships(const Uuid& user) {
  RawRows rows;
  pg_uuid_t key;
  memcpy(key.data, user.bytes.data(), 16);
  {
    UserRestorer restorer;
    guard([&] { query_memberships(&key, &rows); });
  }
  Memberships list;
  for (uint64 i = 0; i < rows.count; ++i) {
    std::optional<Role> role = parse_role(rows.roles[i]);
    if (role) list.push_back({Uuid::from_raw(rows.orgs[i].data), *role});
  }
  return list;
}

void on_relcache_inval(Datum, Oid relid) {
  if (relid == InvalidOid || relid == members_relid) forget_memberships();
}

void on_xact(XactEvent event, void*) {
  if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT) forget_memberships();
}

void on_subxact(SubXactEvent event, SubTransactionId, SubTransactionId, void*) {
  if (event == SUBXACT_EVENT_ABORT_SUB) forget_memberships();
}

}  // namespace

void forget_memberships() noexcept {
  ++generation;
  cache().clear();
}

const Memberships& caller_memberships() {
  static const Memberships none;
  const Caller& caller = current_caller();
  if (!caller.user) return none;
  if (const Memberships* hit = cache().find(*caller.user)) return *hit;
  guard([] { AcceptInvalidationMessages(); });
  uint64_t before = generation;
  static Memberships uncached;
  uncached = load_memberships(*caller.user);
  if (generation != before) return uncached;
  return cache().store(*caller.user, std::move(uncached));
}

void init_membership_store() {
  CacheRegisterRelcacheCallback(on_relcache_inval, 0);
  RegisterXactCallback(on_xact, nullptr);
  RegisterSubXactCallback(on_subxact, nullptr);
}

}  // namespace sb::pg
