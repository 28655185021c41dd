#include "text.h"

#include <string.h>

namespace smartcart {

bool text_copy(char* destination, size_t capacity, const char* source) {
  return text_copy_n(destination, capacity, source, strlen(source));
}

bool text_copy_n(char* destination, size_t capacity, const char* source, size_t length) {
  if (capacity == 0) return false;
  if (length >= capacity) {
    destination[0] = '\0';
    return false;
  }
  memmove(destination, source, length);
  destination[length] = '\0';
  return true;
}

bool text_starts_with(const char* text, const char* prefix) {
  return strncmp(text, prefix, strlen(prefix)) == 0;
}

static char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool text_equal_nocase_n(const char* a, const char* b, size_t length) {
  if (strlen(b) != length) return false;
  for (size_t i = 0; i < length; ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool text_equal_nocase(const char* a, const char* b) {
  return text_equal_nocase_n(a, b, strlen(a));
}

bool text_parse_uint(const char* text, size_t length, uint32_t max, uint32_t* value) {
  if (length == 0) return false;
  uint64_t result = 0;
  for (size_t i = 0; i < length; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    result = result * 10 + static_cast<uint64_t>(text[i] - '0');
    if (result > max) return false;
  }
  *value = static_cast<uint32_t>(result);
  return true;
}

size_t text_format_uint(char* destination, size_t capacity, uint64_t value) {
  char digits[21];
  size_t count = 0;
  do {
    digits[count++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  if (count >= capacity) return 0;
  for (size_t i = 0; i < count; ++i) destination[i] = digits[count - 1 - i];
  destination[count] = '\0';
  return count;
}

TextBuffer::TextBuffer(char* buffer, size_t capacity)
    : buffer_(buffer), capacity_(capacity), length_(0), ok_(capacity > 0) {
  if (ok_) buffer_[0] = '\0';
}

TextBuffer& TextBuffer::add_n(const char* text, size_t length) {
  if (!ok_) return *this;
  if (length_ + length >= capacity_) {
    ok_ = false;
    return *this;
  }
  memcpy(buffer_ + length_, text, length);
  length_ += length;
  buffer_[length_] = '\0';
  return *this;
}

TextBuffer& TextBuffer::add(const char* text) { return add_n(text, strlen(text)); }

TextBuffer& TextBuffer::add_uint(uint64_t value) {
  char digits[21];
  size_t count = text_format_uint(digits, sizeof digits, value);
  return add_n(digits, count);
}

TextBuffer& TextBuffer::add_int(int64_t value) {
  uint64_t magnitude = static_cast<uint64_t>(value);
  if (value < 0) {
    add("-");
    magnitude = ~magnitude + 1;  // two's complement, safe for INT64_MIN too
  }
  return add_uint(magnitude);
}

}  // namespace smartcart
