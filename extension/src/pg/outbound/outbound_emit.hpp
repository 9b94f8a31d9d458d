// emit_event: the events a transaction emits, written just before it commits.
#pragma once

namespace sb::pg {

// Registers the transaction handlers that write (at pre-commit) or drop the kept events; called
// once from _PG_init.
void init_outbound_emit();

}  // namespace sb::pg
