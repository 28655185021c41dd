#include "base64.h"

namespace smartcart {

static const char ALPHABET[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encode(const uint8_t* data, size_t length, char* out, size_t capacity) {
  size_t needed = base64_length(length);
  if (needed > capacity) return 0;
  size_t o = 0;
  for (size_t i = 0; i < length; i += 3) {
    uint32_t group = static_cast<uint32_t>(data[i]) << 16;
    if (i + 1 < length) group |= static_cast<uint32_t>(data[i + 1]) << 8;
    if (i + 2 < length) group |= data[i + 2];
    out[o++] = ALPHABET[(group >> 18) & 0x3F];
    out[o++] = ALPHABET[(group >> 12) & 0x3F];
    out[o++] = i + 1 < length ? ALPHABET[(group >> 6) & 0x3F] : '=';
    out[o++] = i + 2 < length ? ALPHABET[group & 0x3F] : '=';
  }
  return o;
}

}  // namespace smartcart
