#include "update.h"

#include <string.h>

#include "base64.h"
#include "text.h"

namespace smartcart {

namespace {

bool version_parts(const char* version, uint32_t parts[3]) {
  const char* at = version;
  for (int i = 0; i < 3; ++i) {
    const char* end = at;
    while (*end >= '0' && *end <= '9') ++end;
    if (end == at || end - at > 4 || !text_parse_uint(at, static_cast<size_t>(end - at), 9999,
                                                      &parts[i])) {
      return false;
    }
    if (i < 2 && *end != '.') return false;
    if (i == 2 && *end != '\0') return false;
    at = end + 1;
  }
  return true;
}

bool hex_bytes(const char* hex, uint8_t* out, size_t bytes) {
  if (strlen(hex) != 2 * bytes) return false;
  for (size_t i = 0; i < 2 * bytes; ++i) {
    char c = hex[i];
    int value = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (value < 0) return false;
    if (i % 2 == 0) out[i / 2] = static_cast<uint8_t>(value << 4);
    if (i % 2 == 1) out[i / 2] = static_cast<uint8_t>(out[i / 2] | value);
  }
  return true;
}

bool string_field(const JsonValue& object, const char* name, char* out, size_t capacity) {
  JsonValue value;
  return json_member(object, name, &value) && value.type == JSON_STRING &&
         json_string(value, out, capacity);
}

}  // namespace

bool update_offer_parse(const JsonValue& value, UpdateOffer* out) {
  memset(out, 0, sizeof *out);
  if (value.type == JSON_NULL) return true;
  if (value.type != JSON_OBJECT) return false;
  JsonValue size;
  int64_t bytes = 0;
  char sha256[2 * SHA256_BYTES + 1];
  char signature[96];
  if (!string_field(value, "version", out->version, sizeof out->version) ||
      !string_field(value, "url", out->url, sizeof out->url) ||
      !string_field(value, "sha256", sha256, sizeof sha256) ||
      !string_field(value, "signature", signature, sizeof signature) ||
      !json_member(value, "size", &size) || !json_integer(size, &bytes)) {
    return false;
  }
  if (bytes <= 0 || bytes > 0x7FFFFFFF || out->url[0] != '/') return false;
  if (!hex_bytes(sha256, out->sha256, SHA256_BYTES)) return false;
  if (base64_decode(signature, strlen(signature), out->signature, SIGNATURE_BYTES) !=
      SIGNATURE_BYTES) {
    return false;
  }
  out->size = static_cast<uint32_t>(bytes);
  out->offered = true;
  return true;
}

bool version_newer(const char* offered, const char* running) {
  uint32_t a[3], b[3];
  if (!version_parts(offered, a) || !version_parts(running, b)) return false;
  for (int i = 0; i < 3; ++i) {
    if (a[i] != b[i]) return a[i] > b[i];
  }
  return false;
}

bool update_due(const UpdateOffer& offer, const char* running_version, bool paired,
                size_t queue_depth, uint32_t idle_ms) {
  // Never under a shopper's hands: not paired, nothing waiting to be sent, nobody pressing.
  return offer.offered && version_newer(offer.version, running_version) && !paired &&
         queue_depth == 0 && idle_ms >= UPDATE_IDLE_MS;
}

bool UpdateInstaller::start(const UpdateOffer& offer) {
  if (writing_) slot_.abort();
  offer_ = offer;
  written_ = 0;
  failure_ = NONE;
  uint8_t discard[SHA256_BYTES];
  hash_.finish(discard);  // starts the digest over
  writing_ = slot_.begin(offer.size);
  return writing_ || fail(SLOT_ERROR);
}

bool UpdateInstaller::fail(Failure failure) {
  if (writing_) slot_.abort();
  writing_ = false;
  failure_ = failure;
  return false;
}

bool UpdateInstaller::feed(const uint8_t* data, size_t length) {
  if (!writing_) return false;
  if (length > offer_.size - written_) return fail(TOO_LONG);
  hash_.update(data, length);
  if (!slot_.write(data, length)) return fail(SLOT_ERROR);
  written_ += static_cast<uint32_t>(length);
  return true;
}

bool UpdateInstaller::complete() {
  if (!writing_) return false;
  if (written_ != offer_.size) return fail(SIZE_MISMATCH);
  uint8_t digest[SHA256_BYTES];
  hash_.finish(digest);
  if (memcmp(digest, offer_.sha256, SHA256_BYTES) != 0) return fail(HASH_MISMATCH);
  if (!check_.verify(digest, offer_.signature)) return fail(BAD_SIGNATURE);
  if (!slot_.activate()) return fail(SLOT_ERROR);
  writing_ = false;
  return true;
}

}  // namespace smartcart
