#include "scanner.h"

#include <string.h>

#include "text.h"

namespace smartcart {

LineReader::LineReader(char* buffer, size_t capacity)
    : buffer_(buffer), capacity_(capacity), length_(0), overlong_(false) {}

const char* LineReader::feed(char c) {
  if (c == '\r' || c == '\n') {
    bool complete = length_ > 0 && !overlong_;
    buffer_[length_] = '\0';
    length_ = 0;
    overlong_ = false;
    return complete ? buffer_ : NULL;
  }
  if (length_ + 1 >= capacity_) {
    overlong_ = true;
    return NULL;
  }
  buffer_[length_++] = c;
  return NULL;
}

namespace {

struct AimFamily {
  char letter;  // the character after ']'
  const char* symbology;
};

// AIM ISO/IEC 15424 code characters, for the symbologies a cart meets.
const AimFamily AIM_FAMILIES[] = {
    {'E', ""},  // EAN-13, UPC-A, UPC-E, EAN-8: the server reads the GTIN by its length
    {'Q', "QRCODE"}, {'C', "CODE128"}, {'A', "CODE39"}, {'I', "ITF"}, {'d', "DATAMATRIX"},
};

}  // namespace

const char* scanner_code_split(const char* line, char* symbology, size_t capacity) {
  text_copy(symbology, capacity, "");
  if (line[0] != ']' || line[1] == '\0' || line[2] == '\0') return line;
  for (size_t i = 0; i < sizeof AIM_FAMILIES / sizeof AIM_FAMILIES[0]; ++i) {
    if (AIM_FAMILIES[i].letter == line[1]) {
      text_copy(symbology, capacity, AIM_FAMILIES[i].symbology);
      return line + 3;  // "]", the letter, the modifier
    }
  }
  return line;
}

}  // namespace smartcart
