#include "helpers.h"

#include <algorithm>

namespace fakes {

bool played(const FakeUi& ui, size_t mark, Pattern pattern) {
  size_t count;
  const Tone* tones = pattern_tones(pattern, &count);
  std::vector<uint16_t> expected;
  for (size_t i = 0; i < count; ++i) {
    if (expected.empty() || expected.back() != tones[i].hz) expected.push_back(tones[i].hz);
  }
  if (mark > ui.tones.size()) return false;
  std::vector<uint16_t> heard(ui.tones.begin() + static_cast<long>(mark), ui.tones.end());
  return std::search(heard.begin(), heard.end(), expected.begin(), expected.end()) != heard.end();
}

std::string golden(const std::string& name) {
  return file_text(fixtures_dir() + "/" + name + ".json");
}

std::string header_of(const std::string& request, const std::string& name) {
  SeenRequest seen = parse_request(request);
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  std::map<std::string, std::string>::const_iterator found = seen.headers.find(lower);
  return found == seen.headers.end() ? "" : found->second;
}

std::string body_of(const std::string& request) { return parse_request(request).body; }

}  // namespace fakes
