#include "utf8.h"

namespace smartcart {

static bool continuation(uint8_t byte) { return (byte & 0xC0) == 0x80; }

size_t utf8_decode(const char* text, size_t remaining, uint32_t* code_point) {
  if (remaining == 0) return 0;
  const uint8_t* s = reinterpret_cast<const uint8_t*>(text);
  uint8_t lead = s[0];
  size_t length;
  uint32_t value, minimum;
  if (lead < 0x80) {
    *code_point = lead;
    return 1;
  } else if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2, value = lead & 0x1Fu, minimum = 0x80;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3, value = lead & 0x0Fu, minimum = 0x800;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4, value = lead & 0x07u, minimum = 0x10000;
  } else {
    return 0;
  }
  if (remaining < length) return 0;
  for (size_t i = 1; i < length; ++i) {
    if (!continuation(s[i])) return 0;
    value = (value << 6) | (s[i] & 0x3Fu);
  }
  if (value < minimum || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return 0;
  *code_point = value;
  return length;
}

size_t utf8_encode(uint32_t code_point, char* out) {
  uint8_t* o = reinterpret_cast<uint8_t*>(out);
  if (code_point < 0x80) {
    o[0] = static_cast<uint8_t>(code_point);
    return 1;
  }
  if (code_point < 0x800) {
    o[0] = static_cast<uint8_t>(0xC0 | (code_point >> 6));
    o[1] = static_cast<uint8_t>(0x80 | (code_point & 0x3F));
    return 2;
  }
  if (code_point >= 0xD800 && code_point <= 0xDFFF) return 0;
  if (code_point < 0x10000) {
    o[0] = static_cast<uint8_t>(0xE0 | (code_point >> 12));
    o[1] = static_cast<uint8_t>(0x80 | ((code_point >> 6) & 0x3F));
    o[2] = static_cast<uint8_t>(0x80 | (code_point & 0x3F));
    return 3;
  }
  if (code_point > 0x10FFFF) return 0;
  o[0] = static_cast<uint8_t>(0xF0 | (code_point >> 18));
  o[1] = static_cast<uint8_t>(0x80 | ((code_point >> 12) & 0x3F));
  o[2] = static_cast<uint8_t>(0x80 | ((code_point >> 6) & 0x3F));
  o[3] = static_cast<uint8_t>(0x80 | (code_point & 0x3F));
  return 4;
}

}  // namespace smartcart
