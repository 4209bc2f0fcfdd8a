// Cutting a large text into chunks that can be pre-tokenized (or encoded) independently with the
// same result as the whole: cuts fall at the start of a special token, or else at a safe pre-token
// cut (pretokenizer.h: is_safe_cut). A chunk never splits a special token or a pre-token; where no
// cut is found the chunk simply grows.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "tokenizer/pretokenizer.h"

namespace scalelab::tokenizer {

struct Chunk {
  size_t begin = 0, end = 0;
};

// Chunks of about `target` bytes; each cut is searched for in [target point, target point +
// window). Prefers special-token starts, then safe cuts.
std::vector<Chunk> plan_chunks(std::string_view text, size_t target,
                               const SpecialSplitter& specials, size_t window = 1 << 20);

}  // namespace scalelab::tokenizer
