// The telephony area's settings: the caller-ID code secret (superusers only) and its limits.
#pragma once

namespace sb::pg {

// Ensures: switchboard.caller_id_secret, switchboard.caller_id_max_checks and
// switchboard.caller_id_org_sends_per_hour are defined (once; from _PG_init).
void init_telephony();

}  // namespace sb::pg
