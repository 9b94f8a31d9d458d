#include "pg/tenancy/tenancy_org_versions.hpp"

#include <vector>

#include "pg/base/base_boundary.hpp"

extern "C" {
#include "access/xact.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
}

namespace sb::pg {
namespace {

constexpr uint32 kBuckets = 16384;

struct Counters {
  pg_atomic_uint64 bucket[kBuckets];
};

Counters* counters = nullptr;
bool preloaded = false;
shmem_request_hook_type previous_request = nullptr;
shmem_startup_hook_type previous_startup = nullptr;

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

Pending& pending() {
  static Pending changed;
  return changed;
}

uint32 bucket_of(const Uuid& org) {
  return static_cast<uint32>(UuidHash{}(org) % kBuckets);
}

void request_memory() {
  if (previous_request) previous_request();
  RequestAddinShmemSpace(sizeof(Counters));
}

void attach_memory() {
  if (previous_startup) previous_startup();
  LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
  bool found = false;
  counters =
      static_cast<Counters*>(ShmemInitStruct("switchboard org versions", sizeof(Counters), &found));
  if (!found)
    for (uint32 i = 0; i < kBuckets; ++i) pg_atomic_init_u64(&counters->bucket[i], 0);
  LWLockRelease(AddinShmemInitLock);
}

// Moves the counters of the organisations this transaction changed, once it has committed.
void on_xact(XactEvent event, void*) {
  if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT) {
    if (counters)
      for (uint32 b : pending().list) pg_atomic_fetch_add_u64(&counters->bucket[b], 1);
    pending().clear();
  } else if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT) {
    pending().clear();
  }
}

}  // namespace

bool org_versions_available() {
  return preloaded;
}

uint64_t org_version(const Uuid& org) {
  if (!counters) return 0;
  uint64_t v = pg_atomic_read_u64(&counters->bucket[bucket_of(org)]);
  pg_memory_barrier();  // the counter is read before the snapshot of the load that follows
  return v;
}

void note_org_change(const Uuid& org) {
  pending().add(bucket_of(org));
}

void init_org_versions() {
  RegisterXactCallback(on_xact, nullptr);
  if (!process_shared_preload_libraries_in_progress) return;
  preloaded = true;
  previous_request = shmem_request_hook;
  shmem_request_hook = request_memory;
  previous_startup = shmem_startup_hook;
  shmem_startup_hook = attach_memory;
}

}  // namespace sb::pg
