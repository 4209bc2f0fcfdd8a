#include "common/dtype.h"

#include "common/fields.h"

namespace scalelab {

std::string_view to_string(Dtype d) { return fields::enum_name(d); }

Dtype parse_dtype(std::string_view s) {
  for (const auto& [v, n] : fields::EnumNames<Dtype>::kNames)
    if (n == s) return v;
  SCALELAB_FAIL("unknown dtype '{}' (expected {})", s,
                fields::join_choices(fields::enum_choices<Dtype>()));
}

}  // namespace scalelab
