// Reading the server's JSON answers in place: no copies, no heap, a depth limit.
//
// json_parse() checks the whole document once (strict RFC 8259, well-formed UTF-8); the other
// functions walk a value it returned. A JsonValue is a span of the caller's text.
#ifndef SMARTCART_JSON_READER_H
#define SMARTCART_JSON_READER_H

#include <stddef.h>
#include <stdint.h>

namespace smartcart {

enum JsonType { JSON_INVALID, JSON_NULL, JSON_BOOLEAN, JSON_NUMBER, JSON_STRING, JSON_ARRAY,
                JSON_OBJECT };

struct JsonValue {
  JsonType type;
  const char* start;  // the value's first character
  size_t length;      // its characters (quotes and brackets included)
};

const int JSON_DEPTH_MAX = 8;

bool json_parse(const char* text, size_t length, JsonValue* root);

// The member called name of an object (the first, if repeated).
bool json_member(const JsonValue& object, const char* name, JsonValue* value);
// The index-th member of an object, its key as a JSON_STRING value.
bool json_member_at(const JsonValue& object, size_t index, JsonValue* key, JsonValue* value);
bool json_item(const JsonValue& array, size_t index, JsonValue* item);
size_t json_size(const JsonValue& container);  // members or items

// A string's text, unescaped, into out (terminated); false if not a string or it does not fit.
bool json_string(const JsonValue& value, char* out, size_t capacity);
bool json_string_equals(const JsonValue& value, const char* text);
bool json_boolean(const JsonValue& value, bool* out);
bool json_integer(const JsonValue& value, int64_t* out);  // no fraction, no exponent

}  // namespace smartcart

#endif
