#include "json_reader.h"

#include <string.h>

#include "utf8.h"

namespace smartcart {

namespace {

struct Cursor {
  const char* p;
  const char* end;
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

void skip_space(Cursor& c) {
  while (c.p < c.end && is_space(*c.p)) ++c.p;
}

bool take(Cursor& c, char expected) {
  if (c.p < c.end && *c.p == expected) {
    ++c.p;
    return true;
  }
  return false;
}

bool take_word(Cursor& c, const char* word) {
  size_t n = strlen(word);
  if (static_cast<size_t>(c.end - c.p) < n || memcmp(c.p, word, n) != 0) return false;
  c.p += n;
  return true;
}

int hex_value(char h) {
  if (h >= '0' && h <= '9') return h - '0';
  if (h >= 'a' && h <= 'f') return h - 'a' + 10;
  if (h >= 'A' && h <= 'F') return h - 'A' + 10;
  return -1;
}

bool read_hex4(const char* p, const char* end, uint32_t* value) {
  if (end - p < 4) return false;
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    int h = hex_value(p[i]);
    if (h < 0) return false;
    v = (v << 4) | static_cast<uint32_t>(h);
  }
  *value = v;
  return true;
}

bool skip_string(Cursor& c) {
  if (!take(c, '"')) return false;
  while (c.p < c.end) {
    unsigned char ch = static_cast<unsigned char>(*c.p);
    if (ch == '"') {
      ++c.p;
      return true;
    }
    if (ch < 0x20) return false;
    if (ch == '\\') {
      if (c.end - c.p < 2) return false;
      char e = c.p[1];
      if (e == 'u') {
        uint32_t ignored;
        if (!read_hex4(c.p + 2, c.end, &ignored)) return false;
        c.p += 6;
      } else if (strchr("\"\\/bfnrt", e) != NULL && e != '\0') {
        c.p += 2;
      } else {
        return false;
      }
      continue;
    }
    uint32_t code_point;
    size_t used = utf8_decode(c.p, static_cast<size_t>(c.end - c.p), &code_point);
    if (used == 0) return false;
    c.p += used;
  }
  return false;
}

bool skip_digits(Cursor& c) {
  const char* start = c.p;
  while (c.p < c.end && is_digit(*c.p)) ++c.p;
  return c.p > start;
}

bool skip_number(Cursor& c) {
  take(c, '-');
  if (take(c, '0')) {
    // a leading zero stands alone
  } else if (!skip_digits(c)) {
    return false;
  }
  if (take(c, '.') && !skip_digits(c)) return false;
  if (c.p < c.end && (*c.p == 'e' || *c.p == 'E')) {
    ++c.p;
    if (!take(c, '+')) take(c, '-');
    if (!skip_digits(c)) return false;
  }
  return true;
}

bool skip_value(Cursor& c, int depth, JsonType* type);

bool skip_container(Cursor& c, int depth, bool object) {
  if (depth >= JSON_DEPTH_MAX) return false;
  ++c.p;  // the opening bracket
  skip_space(c);
  char close = object ? '}' : ']';
  if (take(c, close)) return true;
  for (;;) {
    JsonType ignored;
    if (object) {
      if (!skip_string(c)) return false;
      skip_space(c);
      if (!take(c, ':')) return false;
      skip_space(c);
    }
    if (!skip_value(c, depth + 1, &ignored)) return false;
    skip_space(c);
    if (take(c, close)) return true;
    if (!take(c, ',')) return false;
    skip_space(c);
  }
}

bool skip_value(Cursor& c, int depth, JsonType* type) {
  if (c.p >= c.end) return false;
  switch (*c.p) {
    case '{': *type = JSON_OBJECT; return skip_container(c, depth, true);
    case '[': *type = JSON_ARRAY; return skip_container(c, depth, false);
    case '"': *type = JSON_STRING; return skip_string(c);
    case 't': *type = JSON_BOOLEAN; return take_word(c, "true");
    case 'f': *type = JSON_BOOLEAN; return take_word(c, "false");
    case 'n': *type = JSON_NULL; return take_word(c, "null");
    default: *type = JSON_NUMBER; return skip_number(c);
  }
}

// The value at c (already checked by json_parse), moving c past it.
JsonValue next_value(Cursor& c) {
  JsonValue value;
  value.start = c.p;
  if (!skip_value(c, 0, &value.type)) value.type = JSON_INVALID;
  value.length = static_cast<size_t>(c.p - value.start);
  return value;
}

// Walks the index-th entry of a container; for an object, key gets the member's name.
bool container_entry(const JsonValue& container, size_t index, JsonValue* key, JsonValue* value) {
  bool object = container.type == JSON_OBJECT;
  if (!object && container.type != JSON_ARRAY) return false;
  Cursor c = {container.start + 1, container.start + container.length - 1};
  for (size_t i = 0;; ++i) {
    skip_space(c);
    if (c.p >= c.end) return false;
    if (object) {
      JsonValue name = next_value(c);
      if (key != NULL) *key = name;
      skip_space(c);
      take(c, ':');
      skip_space(c);
    }
    JsonValue item = next_value(c);
    if (item.type == JSON_INVALID) return false;
    if (i == index) {
      *value = item;
      return true;
    }
    skip_space(c);
    take(c, ',');
  }
}

}  // namespace

bool json_parse(const char* text, size_t length, JsonValue* root) {
  Cursor c = {text, text + length};
  skip_space(c);
  const char* start = c.p;
  JsonType type;
  if (!skip_value(c, 0, &type)) return false;
  root->type = type;
  root->start = start;
  root->length = static_cast<size_t>(c.p - start);
  skip_space(c);
  return c.p == c.end;
}

bool json_member_at(const JsonValue& object, size_t index, JsonValue* key, JsonValue* value) {
  if (object.type != JSON_OBJECT) return false;
  return container_entry(object, index, key, value);
}

bool json_member(const JsonValue& object, const char* name, JsonValue* value) {
  JsonValue key, item;
  for (size_t i = 0; json_member_at(object, i, &key, &item); ++i) {
    if (json_string_equals(key, name)) {
      *value = item;
      return true;
    }
  }
  return false;
}

bool json_item(const JsonValue& array, size_t index, JsonValue* item) {
  if (array.type != JSON_ARRAY) return false;
  return container_entry(array, index, NULL, item);
}

size_t json_size(const JsonValue& container) {
  JsonValue key, item;
  size_t count = 0;
  while (container_entry(container, count, &key, &item)) ++count;
  return count;
}

bool json_string(const JsonValue& value, char* out, size_t capacity) {
  if (value.type != JSON_STRING || capacity == 0) return false;
  const char* p = value.start + 1;
  const char* end = value.start + value.length - 1;  // the closing quote
  size_t o = 0;
  while (p < end) {
    char encoded[4];
    size_t bytes;
    if (*p != '\\') {
      encoded[0] = *p++;
      bytes = 1;
    } else {
      char e = p[1];
      p += 2;
      uint32_t code_point = static_cast<unsigned char>(e);
      switch (e) {
        case 'b': code_point = '\b'; break;
        case 'f': code_point = '\f'; break;
        case 'n': code_point = '\n'; break;
        case 'r': code_point = '\r'; break;
        case 't': code_point = '\t'; break;
        case 'u': {
          read_hex4(p, end, &code_point);
          p += 4;
          uint32_t low;
          bool high_surrogate = code_point >= 0xD800 && code_point <= 0xDBFF;
          if (high_surrogate && end - p >= 6 && p[0] == '\\' && p[1] == 'u' &&
              read_hex4(p + 2, end, &low) && low >= 0xDC00 && low <= 0xDFFF) {
            code_point = 0x10000 + ((code_point - 0xD800) << 10) + (low - 0xDC00);
            p += 6;
          } else if (code_point >= 0xD800 && code_point <= 0xDFFF) {
            code_point = 0xFFFD;  // a lone surrogate
          }
          break;
        }
        default: break;  // \" \\ \/ stand for themselves
      }
      bytes = utf8_encode(code_point, encoded);
    }
    if (o + bytes >= capacity) {
      out[0] = '\0';
      return false;
    }
    memcpy(out + o, encoded, bytes);
    o += bytes;
  }
  out[o] = '\0';
  return true;
}

bool json_string_equals(const JsonValue& value, const char* text) {
  char buffer[64];
  if (strlen(text) >= sizeof buffer) return false;
  return json_string(value, buffer, sizeof buffer) && strcmp(buffer, text) == 0;
}

bool json_boolean(const JsonValue& value, bool* out) {
  if (value.type != JSON_BOOLEAN) return false;
  *out = value.start[0] == 't';
  return true;
}

bool json_integer(const JsonValue& value, int64_t* out) {
  if (value.type != JSON_NUMBER) return false;
  const char* p = value.start;
  const char* end = value.start + value.length;
  bool negative = *p == '-';
  if (negative) ++p;
  uint64_t magnitude = 0;
  for (; p < end; ++p) {
    if (!is_digit(*p)) return false;  // a fraction or an exponent
    if (magnitude > (UINT64_MAX - 9) / 10) return false;
    magnitude = magnitude * 10 + static_cast<uint64_t>(*p - '0');
  }
  if (magnitude > static_cast<uint64_t>(INT64_MAX)) return false;
  *out = negative ? -static_cast<int64_t>(magnitude) : static_cast<int64_t>(magnitude);
  return true;
}

}  // namespace smartcart
