// JSON parse/read/write with file-naming errors, and ObjectReader's unknown-field check.
#include "common/json.h"

#include "common/file_util.h"

namespace scalelab::json {

Json parse(std::string_view text, std::string_view source) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    // A syntax error (parse_error) or a number too large for a double (out_of_range.406, found by
    // fuzzing: "1e1872"). nlohmann's message starts with "[json.exception.parse_error.101] …".
    std::string msg = e.what();
    if (auto pos = msg.find("] "); pos != std::string::npos) msg = msg.substr(pos + 2);
    SCALELAB_FAIL("{}: malformed JSON: {}", source, msg);
  }
}

Json read_file(const std::filesystem::path& path) {
  return parse(read_text_file(path), path.string());
}

void write_file(const std::filesystem::path& path, const Json& value, int indent) {
  write_text_file_atomic(path, value.dump(indent) + "\n");
}

std::string describe(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return fmt::format("boolean {}", v.get<bool>());
    case Json::value_t::string:
      return fmt::format("string {}", v.dump());
    case Json::value_t::array:
      return "an array";
    case Json::value_t::object:
      return "an object";
    case Json::value_t::discarded:
      return "nothing";
    default:
      return fmt::format("number {}", v.dump());
  }
}

ObjectReader::ObjectReader(const Json& object, std::string context)
    : object_(object), context_(std::move(context)) {
  SCALELAB_CHECK(object_.is_object(), "{}: expected a JSON object, got {}", context_,
                 describe(object_));
}

bool ObjectReader::has(std::string_view key) const { return object_.contains(key); }

const Json& ObjectReader::at(std::string_view key) const { return object_.at(std::string(key)); }

void ObjectReader::finish() const {
  for (const auto& [key, value] : object_.items()) {
    if (seen_.find(key) == seen_.end()) {
      std::string known;
      for (const auto& k : seen_) known += (known.empty() ? "" : ", ") + k;
      SCALELAB_FAIL("{}: unknown field (known fields: {})", field_name(key), known);
    }
  }
}

}  // namespace scalelab::json
