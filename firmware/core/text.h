// Bounded C-string helpers: every copy says how much room it has and whether the text fit.
#ifndef SMARTCART_TEXT_H
#define SMARTCART_TEXT_H

#include <stddef.h>
#include <stdint.h>

namespace smartcart {

// Copies source into destination (capacity bytes, terminator included). False, and
// destination empty, when it does not fit: a cut value (a key, a URL) would be wrong.
bool text_copy(char* destination, size_t capacity, const char* source);
bool text_copy_n(char* destination, size_t capacity, const char* source, size_t length);

bool text_starts_with(const char* text, const char* prefix);
bool text_equal_nocase(const char* a, const char* b);
bool text_equal_nocase_n(const char* a, const char* b, size_t length);  // b is terminated

// A decimal without sign; false for anything else or for more than max.
bool text_parse_uint(const char* text, size_t length, uint32_t max, uint32_t* value);

// Writes value in decimal; the number of characters, 0 when it does not fit.
size_t text_format_uint(char* destination, size_t capacity, uint64_t value);

// Text appended into a fixed buffer; once something does not fit, ok() stays false.
class TextBuffer {
 public:
  TextBuffer(char* buffer, size_t capacity);
  TextBuffer& add(const char* text);
  TextBuffer& add_n(const char* text, size_t length);
  TextBuffer& add_uint(uint64_t value);
  TextBuffer& add_int(int64_t value);
  bool ok() const { return ok_; }
  size_t length() const { return length_; }

 private:
  char* buffer_;
  size_t capacity_;
  size_t length_;
  bool ok_;
};

}  // namespace smartcart

#endif
