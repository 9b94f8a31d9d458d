// Which endpoints want an event: the event-type filter of an endpoint (every type, names, and
// prefixes ending in .* such as appointment.*) and the explicit-only rule.
#pragma once

#include <string_view>
#include <vector>

namespace sb::outbound {

// True when an endpoint with these filters wants the event type: no filters (`every_type`) takes
// every type; a filter equal to the type, or ending in ".*" with the type starting with what
// precedes the '*', takes it. An explicit-only type is wanted only where a filter names it exactly.
bool event_type_wanted(bool every_type, const std::vector<std::string_view>& filters,
                       std::string_view type, bool explicit_only);

}  // namespace sb::outbound
