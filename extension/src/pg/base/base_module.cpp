// The shared library's entry point.
#include "pg/base/base_boundary.hpp"
#include "pg/base/base_plpgsql.hpp"
#include "pg/base/base_routing.hpp"
#include "pg/base/base_shmem.hpp"
#include "pg/base/base_store.hpp"
#include "pg/booking/booking_changes.hpp"
#include "pg/booking/booking_store.hpp"
#include "pg/entitlements/entitlements_store.hpp"
#include "pg/telephony/telephony_settings.hpp"
#include "pg/outbound/outbound_worker.hpp"
#include "pg/tenancy/tenancy_membership_store.hpp"
#include "pg/tenancy/tenancy_org_versions.hpp"

namespace {

using Step = void (*)();

// Every area's initialisation, in order; the shared memory hooks last, once the areas registered.
constexpr Step kSteps[] = {sb::pg::init_store,
                           sb::pg::init_routing,
                           sb::pg::init_plpgsql_plugin,
                           sb::pg::init_org_versions,
                           sb::pg::init_membership_store,
                           sb::pg::init_entitlement_store,
                           sb::pg::init_booking_store,
                           sb::pg::init_booking_changes,
                           sb::pg::init_telephony,
                           sb::pg::init_outbound,
                           sb::pg::init_shmem};
constexpr int kStepCount = sizeof kSteps / sizeof kSteps[0];
int steps_done = 0;  // a failed _PG_init is called again by the next load: it resumes here

// Ensures: the settings are defined and every step has run once in this process.
void initialise() {
  sb::pg::define_boundary_settings();
  sb::pg::fail_if_testing("_PG_init");
  for (; steps_done < kStepCount; ++steps_done) kSteps[steps_done]();
}

}  // namespace

extern "C" {
PG_MODULE_MAGIC;

void _PG_init(void);

// Ensures: every area of the extension is initialised once per process; a failure is an ERROR
// (FATAL in the postmaster, as PostgreSQL makes it) that leaves no C++ exception behind.
void _PG_init(void) {
  sb::pg::callback("_PG_init", ERROR, [] { initialise(); });
}
}
