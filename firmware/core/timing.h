// Time arithmetic that survives millis() wrapping around (every 49.7 days).
#ifndef SMARTCART_TIMING_H
#define SMARTCART_TIMING_H

#include <stdint.h>

namespace smartcart {

// Milliseconds from since to now, right across a wrap-around (unsigned subtraction).
inline uint32_t elapsed_ms(uint32_t now, uint32_t since) { return now - since; }

// Whether the moment at has come; valid while at is less than 24.8 days from now.
inline bool time_reached(uint32_t now, uint32_t at) {
  return static_cast<int32_t>(now - at) >= 0;
}

// Whether t lies from `from` to `to`, both included, right across a wrap-around; a t before
// `from` is far after `to` in unsigned arithmetic, however long ago it was.
inline bool time_within(uint32_t t, uint32_t from, uint32_t to) { return t - from <= to - from; }

}  // namespace smartcart

#endif
