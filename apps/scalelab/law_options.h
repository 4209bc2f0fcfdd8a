// Where allocate/predict take the law from: --params FILE (written by `scalelab fit`, default
// scaling_law.json), or all five of --E --A --B --alpha --beta, or --hoffmann (the paper's values);
// and, with --unique-tokens, the data-constrained law for a corpus that may be repeated.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "scaling/data_constrained.h"
#include "scaling/scaling_law.h"

namespace scalelab::app {

struct LawOptions {
  std::string params = "scaling_law.json";
  double E = 0, A = 0, B = 0, alpha = 0, beta = 0;
  bool hoffmann = false;
  CLI::Option* e_opt = nullptr;
};

void add_law_options(CLI::App& app, LawOptions& o);
scaling::ScalingLaw resolve_law(const LawOptions& o, std::string* label);

// --unique-tokens U (the user's corpus) and the repeated-data constants that go with it.
struct CorpusOptions {
  double unique_tokens = 0;  // given only with the flag
  CLI::Option* unique_opt = nullptr;
  double R_D_star = 0, R_N_star = 0;  // 0 = from --params, else the published constants
  bool given() const { return unique_opt != nullptr && unique_opt->count() > 0; }
};

// `what` ends the --unique-tokens help: what the command does with the corpus.
void add_corpus_options(CLI::App& app, CorpusOptions& o, const std::string& what);
// The data-constrained law for --unique-tokens (checked > 0 and finite): the one `scalelab fit`
// wrote beside the law when its runs repeated data, else the base law with Muennighoff et al.'s
// constants; --R-D-star/--R-N-star override. `label` is resolve_law's; `source` says which.
scaling::DataConstrainedLaw resolve_constrained_law(const LawOptions& lo, const CorpusOptions& o,
                                                    const scaling::ScalingLaw& law,
                                                    const std::string& label, std::string* source);
// The text lines that say which data-constrained law answers for the corpus, and its base law when
// that is not `law` (`fit` may refit the base jointly with R_D*, R_N*, so a run that repeats data
// can be predicted below the fresh-data law's value for it).
std::string describe_corpus_law(double unique_tokens, const scaling::DataConstrainedLaw& dc,
                                const scaling::ScalingLaw& law, const std::string& source);

}  // namespace scalelab::app
