// The shared library's entry point.
#include "pg/booking/booking_changes.hpp"
#include "pg/booking/booking_store.hpp"
#include "pg/base/base_boundary.hpp"
#include "pg/entitlements/entitlements_store.hpp"
#include "pg/tenancy/tenancy_membership_store.hpp"
#include "pg/tenancy/tenancy_org_versions.hpp"
#include "pg/base/base_store.hpp"

extern "C" {
PG_MODULE_MAGIC;

void _PG_init(void);

// Ensures: every area of the extension is initialised once per process.
void _PG_init(void) {
  sb::pg::init_store();
  sb::pg::init_org_versions();
  sb::pg::init_membership_store();
  sb::pg::init_entitlement_store();
  sb::pg::init_booking_store();
  sb::pg::init_booking_changes();
}
}
