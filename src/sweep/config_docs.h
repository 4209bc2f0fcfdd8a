// docs/config.md: the reference tables of every config file scalelab reads, generated from the
// field tables (common/fields.h). `scalelab config-reference` prints it; a unit test keeps the
// committed file equal to it.
#pragma once

#include <string>

namespace scalelab::sweep {

std::string config_reference_markdown();

}  // namespace scalelab::sweep
