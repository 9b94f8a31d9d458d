// The shared library's entry point.
#include "booking_changes.hpp"
#include "booking_store.hpp"
#include "boundary.hpp"
#include "entitlement_store.hpp"
#include "membership_store.hpp"
#include "org_versions.hpp"
#include "store.hpp"

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
