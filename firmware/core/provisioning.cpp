#include "provisioning.h"

#include <string.h>

#include "json_reader.h"
#include "sha256.h"
#include "text.h"
#include "url.h"

namespace smartcart {

namespace {

const char FORMAT[] = "provision/1";
const char TOKEN_PREFIX[] = "sce_";
const size_t TOKEN_SECRET_MIN = 16;
const size_t TOKEN_SECRET_MAX = 64;

bool string_member(const JsonValue& root, const char* name, char* out, size_t capacity) {
  JsonValue value;
  return json_member(root, name, &value) && value.type == JSON_STRING &&
         json_string(value, out, capacity);
}

bool url_safe(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

bool token_valid(const char* token) {
  if (!text_starts_with(token, TOKEN_PREFIX)) return false;
  const char* secret = token + strlen(TOKEN_PREFIX);
  size_t length = strlen(secret);
  if (length < TOKEN_SECRET_MIN || length > TOKEN_SECRET_MAX) return false;
  for (size_t i = 0; i < length; ++i) {
    if (!url_safe(secret[i])) return false;
  }
  return true;
}

// 64 hexadecimal digits, made lower case in place.
bool sha256_hex_normalise(char* hex) {
  if (strlen(hex) != CA_SHA256_HEX) return false;
  for (size_t i = 0; i < CA_SHA256_HEX; ++i) {
    char c = hex[i];
    if (c >= 'A' && c <= 'F') hex[i] = static_cast<char>(c - 'A' + 'a');
    bool digit = (hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f');
    if (!digit) return false;
  }
  return true;
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// The SHA-256 of the base64 text from body to end (whitespace skipped, padding ends it), decoded
// as it goes: no buffer for the DER. False when a character is not base64.
bool der_digest(const char* body, const char* end, char hex[2 * SHA256_BYTES + 1]) {
  Sha256 hash;
  uint32_t bits = 0;
  int count = 0;
  for (const char* at = body; at < end && *at != '='; ++at) {
    if (*at == '\n' || *at == '\r' || *at == ' ' || *at == '\t') continue;
    int value = base64_value(*at);
    if (value < 0) return false;
    bits = (bits << 6) | static_cast<uint32_t>(value);
    count += 6;
    if (count >= 8) {
      count -= 8;
      uint8_t byte = static_cast<uint8_t>(bits >> count);
      hash.update(&byte, 1);
    }
  }
  uint8_t digest[SHA256_BYTES];
  hash.finish(digest);
  sha256_hex(digest, hex);
  return true;
}

const char PEM_BEGIN[] = "-----BEGIN CERTIFICATE-----";
const char PEM_END[] = "-----END CERTIFICATE-----";

}  // namespace

bool ca_pem_matches(const char* pem, const char* ca_sha256) {
  for (const char* begin = strstr(pem, PEM_BEGIN); begin != NULL;
       begin = strstr(begin + 1, PEM_BEGIN)) {
    const char* body = begin + strlen(PEM_BEGIN);
    const char* end = strstr(body, PEM_END);
    if (end == NULL) return false;
    char hex[2 * SHA256_BYTES + 1];
    if (der_digest(body, end, hex) && strcmp(hex, ca_sha256) == 0) return true;
  }
  return false;
}

ProvisioningResult provisioning_parse(const char* text, size_t length, Provisioning* out) {
  memset(out, 0, sizeof *out);
  JsonValue root, format;
  if (!json_parse(text, length, &root) || root.type != JSON_OBJECT) return PROVISIONING_NOT_OURS;
  if (!json_member(root, "smartcart", &format) || !json_string_equals(format, FORMAT)) {
    return PROVISIONING_NOT_OURS;
  }
  if (!string_member(root, "wifi_ssid", out->wifi_ssid, sizeof out->wifi_ssid) ||
      !string_member(root, "wifi_password", out->wifi_password, sizeof out->wifi_password) ||
      !string_member(root, "server_url", out->server_url, sizeof out->server_url) ||
      !string_member(root, "token", out->token, sizeof out->token) ||
      !string_member(root, "ca_sha256", out->ca_sha256, sizeof out->ca_sha256) ||
      out->wifi_ssid[0] == '\0') {
    return PROVISIONING_FIELD_INVALID;
  }
  ServerUrl url;
  if (server_url_parse(out->server_url, &url) != URL_OK) return PROVISIONING_URL_INVALID;
  if (!token_valid(out->token)) return PROVISIONING_TOKEN_INVALID;
  if (!sha256_hex_normalise(out->ca_sha256)) return PROVISIONING_CA_INVALID;
  return PROVISIONING_OK;
}

void provisioning_apply(const Provisioning& provisioning, const EnrolAnswer& answer,
                        Settings* settings) {
  text_copy(settings->wifi_ssid, sizeof settings->wifi_ssid, provisioning.wifi_ssid);
  text_copy(settings->wifi_password, sizeof settings->wifi_password, provisioning.wifi_password);
  text_copy(settings->server_url, sizeof settings->server_url, provisioning.server_url);
  text_copy(settings->device_key, sizeof settings->device_key, answer.device_key);
}

}  // namespace smartcart
