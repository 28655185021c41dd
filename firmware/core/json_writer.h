// A JSON object written into a fixed buffer, every string escaped.
//
// Once something does not fit, the writer stops writing and ok() stays false: the caller
// refuses the request rather than send a cut body.
#ifndef SMARTCART_JSON_WRITER_H
#define SMARTCART_JSON_WRITER_H

#include <stddef.h>
#include <stdint.h>

namespace smartcart {

class JsonWriter {
 public:
  JsonWriter(char* buffer, size_t capacity);

  JsonWriter& object_begin();
  JsonWriter& object_end();
  JsonWriter& key(const char* name);
  // Any bytes: quotes, backslashes and control characters are escaped, and bytes that are not
  // well-formed UTF-8 become U+FFFD (the server refuses a body that is not UTF-8).
  JsonWriter& string(const char* text);
  JsonWriter& string_n(const char* text, size_t length);
  JsonWriter& number(int64_t value);
  JsonWriter& boolean(bool value);
  JsonWriter& base64(const uint8_t* data, size_t length);  // a string, encoded in place

  bool ok() const { return !overflow_ && depth_ == 0; }
  size_t length() const { return length_; }  // the buffer is terminated while it fits

 private:
  void value_start();
  void put(char c);
  void put_text(const char* text);
  void put_escaped(uint32_t code_point);

  static const int DEPTH_MAX = 4;
  char* buffer_;
  size_t capacity_;
  size_t length_;
  bool overflow_;
  int depth_;
  bool first_[DEPTH_MAX];
  bool after_key_;
};

}  // namespace smartcart

#endif
