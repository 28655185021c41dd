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

static int value_of(char c) {
  for (int i = 0; i < 64; ++i) {
    if (ALPHABET[i] == c) return i;
  }
  return -1;
}

size_t base64_decode(const char* text, size_t length, uint8_t* out, size_t capacity) {
  if (length % 4 != 0) return 0;
  size_t o = 0;
  for (size_t i = 0; i < length; i += 4) {
    uint32_t group = 0;
    int padding = 0;
    for (size_t j = 0; j < 4; ++j) {
      char c = text[i + j];
      bool last = i + 4 == length;
      if (c == '=' && last && j >= 2 && (j == 3 || text[i + 3] == '=')) {
        ++padding;
        group <<= 6;
        continue;
      }
      int value = value_of(c);
      if (value < 0 || padding > 0) return 0;
      group = (group << 6) | static_cast<uint32_t>(value);
    }
    size_t bytes = 3 - static_cast<size_t>(padding);
    if (o + bytes > capacity) return 0;
    for (size_t k = 0; k < bytes; ++k) out[o++] = static_cast<uint8_t>(group >> (16 - 8 * k));
  }
  return o;
}

}  // namespace smartcart
