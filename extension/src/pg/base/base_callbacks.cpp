#include "pg/base/base_callbacks.hpp"

#include "pg/base/base_boundary.hpp"

extern "C" {
#include "utils/inval.h"
}

namespace sb::pg {
namespace {

constexpr int kMaxHandlers = 8;

// One registered handler; `completed` counts the calls that did not fail.
template <typename Event>
struct Handler {
  const char* name;
  void (*work)(Event);
  void (*recover)(Event);
  uint64_t calls;
  uint64_t completed;
};

// The handlers of one kind of event, in calling order (a fixed array: calling allocates nothing).
template <typename Event>
struct Chain {
  const char* kind;
  Handler<Event> handlers[kMaxHandlers];
  int count;

  bool registered;  // PostgreSQL calls the chain's callback

  // Ensures: the handler is in the chain.
  void add(const char* name, void (*work)(Event), void (*recover)(Event)) {
    for (int i = 0; i < count; ++i)
      if (handlers[i].work == work) return;  // _PG_init retried after a failure
    if (count == kMaxHandlers) throw Error("XX000", "switchboard: too many callback handlers");
    handlers[count++] = Handler<Event>{name, work, recover, 0, 0};
  }
};

Chain<XactEvent> xact_chain{"xact", {}, 0, false};
Chain<SubXactEvent> subxact_chain{"subxact", {}, 0, false};
Chain<Oid> relcache_chain{"relcache", {}, 0, false};

// Ensures: `h` ran for `event` through `run` (a boundary wrapper), or its recovery did.
template <typename Event, typename Run>
void call(Handler<Event>& h, Event event, Run run) {
  ++h.calls;
  if (run(h.name, event, [&h, event] { h.work(event); })) {
    ++h.completed;
    return;
  }
  if (h.recover) h.recover(event);
}

void on_xact(XactEvent event, void*) {
  for (int i = 0; i < xact_chain.count; ++i)
    call(xact_chain.handlers[i], event,
         [](const char* name, XactEvent e, auto work) { return xact_callback(name, e, work); });
}

void on_subxact(SubXactEvent event, SubTransactionId, SubTransactionId, void*) {
  for (int i = 0; i < subxact_chain.count; ++i)
    call(subxact_chain.handlers[i], event, [](const char* name, SubXactEvent e, auto work) {
      return subxact_callback(name, e, work);
    });
}

// Invalidation callbacks may run during abort: a failure there is a WARNING.
void on_relcache(Datum, Oid relid) {
  for (int i = 0; i < relcache_chain.count; ++i)
    call(relcache_chain.handlers[i], relid,
         [](const char* name, Oid, auto work) { return callback(name, WARNING, work); });
}

template <typename Event>
void add_counts(const Chain<Event>& chain, std::vector<HandlerCounts>* out) {
  for (int i = 0; i < chain.count; ++i) {
    const Handler<Event>& h = chain.handlers[i];
    out->push_back({h.name, chain.kind, h.calls, h.calls - h.completed});
  }
}

}  // namespace

void register_xact_handler(const char* name, XactWork work, XactWork recover) {
  if (!xact_chain.registered) guard([] { RegisterXactCallback(on_xact, nullptr); });
  xact_chain.registered = true;
  xact_chain.add(name, work, recover);
}

void register_subxact_handler(const char* name, SubXactWork work, SubXactWork recover) {
  if (!subxact_chain.registered) guard([] { RegisterSubXactCallback(on_subxact, nullptr); });
  subxact_chain.registered = true;
  subxact_chain.add(name, work, recover);
}

void register_relcache_handler(const char* name, RelcacheWork work, RelcacheWork recover) {
  if (!relcache_chain.registered) guard([] { CacheRegisterRelcacheCallback(on_relcache, 0); });
  relcache_chain.registered = true;
  relcache_chain.add(name, work, recover);
}

std::vector<HandlerCounts> handler_counts() {
  std::vector<HandlerCounts> out;
  add_counts(xact_chain, &out);
  add_counts(subxact_chain, &out);
  add_counts(relcache_chain, &out);
  return out;
}

}  // namespace sb::pg
