// Variable projection fit of the parametric law (the default method; fit.h has the interface).
//
// For fixed exponents (α, β) the prediction L̂ᵢ = E + A·Nᵢ^−α + B·Dᵢ^−β is linear in θ = (E, A, B),
// so the five-parameter problem is a two-parameter one: F(α, β) = min over θ ≥ 0 of the objective
// (Golub & Pereyra 1973; for scaling laws Open-Athena's vpnls, arXiv 2603.22339). Internal to
// scaling/: fit.cpp dispatches here.
#pragma once

#include "scaling/fit.h"

namespace scalelab::scaling::detail {

// Coarse grid over (α, β), then a projected Newton refinement from the best local minima of the
// grid.
// start != nullptr: no grid, one refinement from the start's exponents (the bootstrap's warm
// start).
FitResult fit_varpro(const FitData& data, const FitOptions& options, const ScalingLaw* start);

// Fit quality (RMSE, max error, R²) and the warnings shared by both methods; defined in fit.cpp.
void finish_fit(const FitData& data, FitResult& r);

}  // namespace scalelab::scaling::detail
