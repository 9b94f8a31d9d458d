#include "pg/base/base_shmem.hpp"

#include "pg/base/base_boundary.hpp"

extern "C" {
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
}

namespace sb::pg {
namespace {

constexpr int kMaxPieces = 8;

struct Piece {
  const char* name;
  Size size;
  ShmemAttach attach;
};

Piece pieces[kMaxPieces];
int piece_count = 0;
bool enabled = false;
shmem_request_hook_type previous_request = nullptr;
shmem_startup_hook_type previous_startup = nullptr;

Size total_size() {
  Size total = 0;
  for (int i = 0; i < piece_count; ++i) total = add_size(total, MAXALIGN(pieces[i].size));
  return total;
}

// Ensures: the segment is reserved (postmaster, shmem_request_hook).
void request_memory() {
  if (previous_request) previous_request();
  callback("shmem_request", FATAL, [] { RequestAddinShmemSpace(total_size()); });
}

// Ensures: the segment exists and every piece was attached (postmaster, shmem_startup_hook).
void attach_memory() {
  if (previous_startup) previous_startup();
  callback("shmem_startup", FATAL, [] {
    bool found = false;
    char* segment = nullptr;
    guard([&] {
      LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
      segment = static_cast<char*>(ShmemInitStruct("switchboard", total_size(), &found));
      LWLockRelease(AddinShmemInitLock);
    });
    if (!found) memset(segment, 0, total_size());
    for (int i = 0; i < piece_count; ++i) {
      pieces[i].attach(segment, !found);
      segment += MAXALIGN(pieces[i].size);
    }
  });
}

}  // namespace

void register_shmem(const char* name, Size size, ShmemAttach attach) {
  if (!process_shared_preload_libraries_in_progress) return;
  if (piece_count == kMaxPieces) throw Error("XX000", "switchboard: too many shared memory pieces");
  for (int i = 0; i < piece_count; ++i)
    if (pieces[i].attach == attach) return;  // _PG_init retried after a failure
  pieces[piece_count++] = {name, size, attach};
}

bool shmem_enabled() {
  return enabled;
}

void init_shmem() {
  if (!process_shared_preload_libraries_in_progress || enabled) return;
  enabled = true;
  previous_request = shmem_request_hook;
  shmem_request_hook = request_memory;
  previous_startup = shmem_startup_hook;
  shmem_startup_hook = attach_memory;
}

}  // namespace sb::pg
