#include "pg/tenancy/tenancy_org_versions.hpp"

#include <vector>

#include "pg/base/base_boundary.hpp"
#include "pg/base/base_callbacks.hpp"
#include "pg/base/base_shmem.hpp"

extern "C" {
#include "port/atomics.h"
}

namespace sb::pg {
namespace {

constexpr uint32 kBuckets = 16384;

struct Counters {
  pg_atomic_uint64 bucket[kBuckets];
};

Counters* counters = nullptr;

// The buckets this transaction changed: a bitmap for membership, a list to walk at commit.
struct Pending {
  std::vector<bool> marked = std::vector<bool>(kBuckets, false);
  std::vector<uint32> list;

  void add(uint32 b) {
    if (marked[b]) return;
    marked[b] = true;
    list.push_back(b);
  }
  void clear() noexcept {
    for (uint32 b : list) marked[b] = false;
    list.clear();
  }
};

Pending* pending = nullptr;  // made by _PG_init: the transaction callback never allocates

uint32 bucket_of(const Uuid& org) {
  return static_cast<uint32>(UuidHash{}(org) % kBuckets);
}

void attach(void* piece, bool fresh) {
  counters = static_cast<Counters*>(piece);
  for (uint32 i = 0; fresh && i < kBuckets; ++i) pg_atomic_init_u64(&counters->bucket[i], 0);
}

// Moves the counters of the organisations this transaction changed, once it has committed.
void publish(XactEvent event) noexcept {
  if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT) {
    if (counters)
      for (uint32 b : pending->list) pg_atomic_fetch_add_u64(&counters->bucket[b], 1);
    pending->clear();
  } else if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT) {
    pending->clear();
  }
}

}  // namespace

bool org_versions_available() {
  return shmem_enabled();
}

uint64_t org_version(const Uuid& org) {
  if (!counters) return 0;
  uint64_t v = pg_atomic_read_u64(&counters->bucket[bucket_of(org)]);
  pg_memory_barrier();  // the counter is read before the snapshot of the load that follows
  return v;
}

void note_org_change(const Uuid& org) {
  pending->add(bucket_of(org));
}

void init_org_versions() {
  if (!pending) pending = new Pending();
  register_shmem("org versions", sizeof(Counters), attach);
  // Should the handler fail all the same, publishing (no allocation, no PostgreSQL call) still
  // happens: a missed bump would leave other backends' caches of the organisation stale.
  register_xact_handler("org versions", publish, publish);
}

}  // namespace sb::pg
