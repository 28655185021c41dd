#include "uuid.h"

#include <string.h>

namespace smartcart {

static const char HEX_DIGITS[] = "0123456789abcdef";

void uuid4_make(Random& random, char* out) {
  uint8_t bytes[16];
  for (int i = 0; i < 16; i += 4) {
    uint32_t word = random.next();
    for (int j = 0; j < 4; ++j) bytes[i + j] = static_cast<uint8_t>(word >> (8 * j));
  }
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0F) | 0x40);  // version 4
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
  size_t o = 0;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
    out[o++] = HEX_DIGITS[bytes[i] >> 4];
    out[o++] = HEX_DIGITS[bytes[i] & 0x0F];
  }
  out[o] = '\0';
}

bool uuid4_valid(const char* text) {
  if (strlen(text) != 36) return false;
  for (size_t i = 0; i < 36; ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (text[i] == '-')) return false;
    if (!dash && strchr(HEX_DIGITS, text[i]) == NULL) return false;
  }
  return text[14] == '4' && strchr("89ab", text[19]) != NULL;
}

}  // namespace smartcart
