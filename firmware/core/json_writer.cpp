#include "json_writer.h"

#include <string.h>

#include "base64.h"
#include "text.h"
#include "utf8.h"

namespace smartcart {

JsonWriter::JsonWriter(char* buffer, size_t capacity)
    : buffer_(buffer), capacity_(capacity), length_(0), overflow_(capacity == 0), depth_(0),
      after_key_(false) {
  if (capacity_ > 0) buffer_[0] = '\0';
}

void JsonWriter::put(char c) {
  if (overflow_) return;
  if (length_ + 1 >= capacity_) {  // keep room for the terminator
    overflow_ = true;
    return;
  }
  buffer_[length_++] = c;
  buffer_[length_] = '\0';
}

void JsonWriter::put_text(const char* text) {
  for (; *text != '\0'; ++text) put(*text);
}

void JsonWriter::value_start() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (depth_ > 0) {
    if (!first_[depth_ - 1]) put(',');
    first_[depth_ - 1] = false;
  }
}

JsonWriter& JsonWriter::object_begin() {
  value_start();
  if (depth_ == DEPTH_MAX) {
    overflow_ = true;
    return *this;
  }
  put('{');
  first_[depth_++] = true;
  return *this;
}

JsonWriter& JsonWriter::object_end() {
  if (depth_ == 0) {
    overflow_ = true;
    return *this;
  }
  --depth_;
  put('}');
  return *this;
}

JsonWriter& JsonWriter::key(const char* name) {
  string(name);
  put(':');
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::string(const char* text) { return string_n(text, strlen(text)); }

void JsonWriter::put_escaped(uint32_t code_point) {
  switch (code_point) {
    case '"': put_text("\\\""); return;
    case '\\': put_text("\\\\"); return;
    case '\b': put_text("\\b"); return;
    case '\f': put_text("\\f"); return;
    case '\n': put_text("\\n"); return;
    case '\r': put_text("\\r"); return;
    case '\t': put_text("\\t"); return;
    default: break;
  }
  char encoded[4];
  if (code_point < 0x20) {  // the other control characters: \u00XX
    static const char HEX[] = "0123456789abcdef";
    put_text("\\u00");
    put(HEX[code_point >> 4]);
    put(HEX[code_point & 0x0F]);
    return;
  }
  size_t bytes = utf8_encode(code_point, encoded);
  for (size_t i = 0; i < bytes; ++i) put(encoded[i]);
}

JsonWriter& JsonWriter::string_n(const char* text, size_t length) {
  value_start();
  put('"');
  size_t i = 0;
  while (i < length) {
    uint32_t code_point;
    size_t used = utf8_decode(text + i, length - i, &code_point);
    if (used == 0) {  // not UTF-8: one byte becomes the replacement character
      code_point = 0xFFFD;
      used = 1;
    }
    put_escaped(code_point);
    i += used;
  }
  put('"');
  return *this;
}

JsonWriter& JsonWriter::number(int64_t value) {
  value_start();
  // Formatted by hand: newlib's "nano" printf, on some builds, has no %lld.
  char digits[24];
  TextBuffer(digits, sizeof digits).add_int(value);
  put_text(digits);
  return *this;
}

JsonWriter& JsonWriter::boolean(bool value) {
  value_start();
  put_text(value ? "true" : "false");
  return *this;
}

JsonWriter& JsonWriter::base64(const uint8_t* data, size_t length) {
  value_start();
  put('"');
  if (overflow_) return *this;
  // Room for the encoding, the closing quote and the terminator.
  size_t room = capacity_ - length_;
  size_t needed = base64_length(length);
  if (needed + 2 > room) {
    overflow_ = true;
    return *this;
  }
  length_ += base64_encode(data, length, buffer_ + length_, room);
  put('"');
  return *this;
}

}  // namespace smartcart
