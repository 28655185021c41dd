#include "url.h"

#include <string.h>

#include "text.h"

namespace smartcart {

static bool host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.';
}

static bool path_char(char c) {
  return c > ' ' && c < 0x7F && c != '?' && c != '#' && c != '%' && c != '\\';
}

static UrlProblem parse_port(const char* text, size_t length, uint16_t* port) {
  uint32_t value;
  if (!text_parse_uint(text, length, 65535, &value) || value == 0) return URL_INVALID;
  *port = static_cast<uint16_t>(value);
  return URL_OK;
}

UrlProblem server_url_parse(const char* url, ServerUrl* out) {
  static const char SCHEME[] = "https://";
  if (!text_starts_with(url, SCHEME)) {
    return text_starts_with(url, "http://") ? URL_NOT_HTTPS : URL_INVALID;
  }
  const char* host = url + strlen(SCHEME);
  const char* p = host;
  while (host_char(*p)) ++p;
  if (p == host || !text_copy_n(out->host, sizeof out->host, host, static_cast<size_t>(p - host)))
    return URL_INVALID;
  out->port = 443;
  if (*p == ':') {
    const char* digits = ++p;
    while (*p >= '0' && *p <= '9') ++p;
    if (parse_port(digits, static_cast<size_t>(p - digits), &out->port) != URL_OK)
      return URL_INVALID;
  }
  if (*p != '\0' && *p != '/') return URL_INVALID;
  const char* path = p;
  while (path_char(*p)) ++p;
  if (*p != '\0') return URL_INVALID;
  size_t length = static_cast<size_t>(p - path);
  while (length > 0 && path[length - 1] == '/') --length;
  if (!text_copy_n(out->base_path, sizeof out->base_path, path, length)) return URL_INVALID;
  return URL_OK;
}

bool server_url_path(const ServerUrl& url, const char* path, char* out, size_t capacity) {
  size_t base = strlen(url.base_path);
  size_t rest = strlen(path);
  if (base + rest >= capacity) return false;
  memcpy(out, url.base_path, base);
  memcpy(out + base, path, rest + 1);
  return true;
}

}  // namespace smartcart
