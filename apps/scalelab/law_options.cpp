#include "law_options.h"

#include <filesystem>

#include "common/error.h"
#include "config_flags.h"

namespace scalelab::app {

void add_law_options(CLI::App& app, LawOptions& o) {
  app.add_option("--params", o.params, "Fitted law JSON (from `scalelab fit --out`)")
      ->capture_default_str();
  o.e_opt = app.add_option("--E", o.E,
                           "Irreducible loss E (with --A --B --alpha --beta instead of --params)");
  app.add_option("--A", o.A, "A");
  app.add_option("--B", o.B, "B");
  app.add_option("--alpha", o.alpha, "alpha");
  app.add_option("--beta", o.beta, "beta");
  add_bool_flag(app, "--hoffmann", o.hoffmann,
                "Use Hoffmann et al. 2022's fitted law (E 1.69, A 406.4, B 410.7, 0.34, 0.28)");
}

scaling::ScalingLaw resolve_law(const LawOptions& o, std::string* label) {
  if (o.hoffmann) {
    *label = "Hoffmann et al. 2022";
    return scaling::kHoffmann2022;
  }
  if (o.e_opt != nullptr && o.e_opt->count() > 0) {
    scaling::ScalingLaw l{o.E, o.A, o.B, o.alpha, o.beta};
    l.validate();
    *label = "flags";
    return l;
  }
  SCALELAB_CHECK(std::filesystem::exists(o.params),
                 "{}: no fitted law (run `scalelab fit` first, or give --E --A --B --alpha --beta)",
                 o.params);
  *label = o.params;
  return scaling::read_scaling_law(o.params);
}

}  // namespace scalelab::app
