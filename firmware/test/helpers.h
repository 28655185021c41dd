// Small checks shared by the cart tests.
#ifndef SMARTCART_TEST_HELPERS_H
#define SMARTCART_TEST_HELPERS_H

#include <stdint.h>

#include <string>
#include <vector>

#include "fakes.h"
#include "feedback.h"

namespace fakes {

// Whether the buzzer, since ui.tones[mark], went through all of pattern's tones in order.
bool played(const FakeUi& ui, size_t mark, Pattern pattern);

std::string golden(const std::string& name);  // a fixture file's text, by stem
std::string header_of(const std::string& request, const std::string& name);
std::string body_of(const std::string& request);

}  // namespace fakes

#endif
