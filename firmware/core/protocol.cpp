#include "protocol.h"

#include <string.h>

#include "json_reader.h"
#include "json_writer.h"
#include "text.h"

namespace smartcart {

namespace {

const char* mode_name(Mode mode) { return mode == MODE_REMOVE ? "remove" : "add"; }

bool request_start(const ServerUrl& url, const char* path, OutgoingRequest* out) {
  memset(&out->http, 0, sizeof out->http);
  if (!server_url_path(url, path, out->path, sizeof out->path)) return false;
  out->http.path = out->path;
  return true;
}

void json_body(OutgoingRequest* out, const JsonWriter& json, const char* text) {
  out->http.content_type = "application/json";
  out->http.body = reinterpret_cast<const uint8_t*>(text);
  out->http.body_length = json.length();
}

void scan_fields(JsonWriter& json, const PendingScan& scan) {
  json.key("scan_id").string(scan.scan_id);
  json.key("mode").string(mode_name(scan.mode));
  json.key("qty").number(scan.quantity);
}

BuildResult raw_jpeg(const PendingScan& scan, OutgoingRequest* out) {
  TextBuffer(out->quantity, sizeof out->quantity).add_uint(scan.quantity);
  HttpHeader headers[] = {
      {"X-Scan-Id", scan.scan_id}, {"X-Scan-Mode", mode_name(scan.mode)},
      {"X-Scan-Qty", out->quantity}};
  memcpy(out->http.extra, headers, sizeof headers);
  out->http.extra_count = 3;
  out->http.content_type = "image/jpeg";
  out->http.body = scan.payload;
  out->http.body_length = scan.payload_length;
  return BUILD_OK;
}

BuildResult json_image(const PendingScan& scan, char* buffer, size_t capacity,
                       OutgoingRequest* out) {
  JsonWriter json(buffer, capacity);
  json.object_begin();
  scan_fields(json, scan);
  json.key("image").base64(scan.payload, scan.payload_length);
  json.object_end();
  if (!json.ok()) return BUILD_TOO_LARGE;
  json_body(out, json, buffer);
  return BUILD_OK;
}

BuildResult json_code(const PendingScan& scan, char* buffer, size_t capacity,
                      OutgoingRequest* out) {
  JsonWriter json(buffer, capacity);
  json.object_begin();
  scan_fields(json, scan);
  json.key("code").string_n(reinterpret_cast<const char*>(scan.payload), scan.payload_length);
  json.key("symbology").string(scan.symbology);
  json.object_end();
  if (!json.ok()) return BUILD_TOO_LARGE;
  json_body(out, json, buffer);
  return BUILD_OK;
}

int64_t clamp(int64_t value, int64_t low, int64_t high) {
  return value < low ? low : value > high ? high : value;
}

bool display_lines(const JsonValue& root, char display[2][DISPLAY_LINE_BYTES]) {
  JsonValue lines, line;
  if (!json_member(root, "display", &lines) || lines.type != JSON_ARRAY) return false;
  if (json_size(lines) != 2) return false;
  for (size_t i = 0; i < 2; ++i) {
    char text[4 * DISPLAY_LINE_CHARS * 2 + 1];  // room for UTF-8, and some to spare
    if (!json_item(lines, i, &line) || !json_string(line, text, sizeof text)) return false;
    display_fit(text, display[i]);
  }
  return true;
}

struct Named {
  const char* name;
  int value;
};

const Named RESULTS[] = {
    {"added", RESULT_ADDED},
    {"removed", RESULT_REMOVED},
    {"paired", RESULT_PAIRED},
    {"no_barcode", RESULT_NO_BARCODE},
    {"unknown_product", RESULT_UNKNOWN_PRODUCT},
    {"not_in_cart", RESULT_NOT_IN_CART},
    {"not_paired", RESULT_NOT_PAIRED},
    {"cart_closed", RESULT_CART_CLOSED},
    {"ambiguous", RESULT_AMBIGUOUS},
};

const Named BEEPS[] = {{"ok", BEEP_OK}, {"error", BEEP_ERROR}, {"pair", BEEP_PAIR}};

int lookup(const JsonValue& value, const Named* table, size_t count, int otherwise) {
  for (size_t i = 0; i < count; ++i) {
    if (json_string_equals(value, table[i].name)) return table[i].value;
  }
  return otherwise;
}

}  // namespace

BuildResult scan_request_build(const PendingScan& scan, ImageUpload upload, const ServerUrl& url,
                               char* json, size_t json_capacity, OutgoingRequest* out) {
  if (!request_start(url, SCAN_PATH, out)) return BUILD_TOO_LARGE;
  if (scan.kind == SCAN_CODE) return json_code(scan, json, json_capacity, out);
  if (upload == UPLOAD_JSON_BASE64) return json_image(scan, json, json_capacity, out);
  return raw_jpeg(scan, out);
}

BuildResult heartbeat_request_build(const Heartbeat& heartbeat, const ServerUrl& url, char* json,
                                    size_t json_capacity, OutgoingRequest* out) {
  if (!request_start(url, HEARTBEAT_PATH, out)) return BUILD_TOO_LARGE;
  // Clamped to what the server accepts: a reading out of range must not lose the heartbeat.
  JsonWriter body(json, json_capacity);
  body.object_begin();
  body.key("firmware_version").string(heartbeat.firmware_version);
  body.key("uptime_seconds").number(heartbeat.uptime_seconds);
  body.key("wifi_rssi").number(clamp(heartbeat.wifi_rssi, -127, 0));
  body.key("free_heap").number(clamp(heartbeat.free_heap, 0, 2147483647));
  body.key("queue_depth").number(clamp(static_cast<int64_t>(heartbeat.queue_depth), 0, 65535));
  body.key("reset_reason").string(heartbeat.reset_reason);
  body.key("free_psram").number(clamp(heartbeat.free_psram, 0, 2147483647));
  body.key("failed_captures").number(clamp(heartbeat.failed_captures, 0, 2147483647));
  body.key("camera_ok").boolean(heartbeat.camera_ok);
  body.object_end();
  if (!body.ok()) return BUILD_TOO_LARGE;
  json_body(out, body, json);
  return BUILD_OK;
}

BuildResult enrol_request_build(const char* token, const char* firmware_version,
                                const ServerUrl& url, char* json, size_t json_capacity,
                                OutgoingRequest* out) {
  if (!request_start(url, ENROL_PATH, out)) return BUILD_TOO_LARGE;
  JsonWriter body(json, json_capacity);
  body.object_begin();
  body.key("token").string(token);
  body.key("firmware_version").string(firmware_version);
  body.object_end();
  if (!body.ok()) return BUILD_TOO_LARGE;
  json_body(out, body, json);
  return BUILD_OK;
}

bool enrol_answer_parse(const char* body, size_t length, EnrolAnswer* out) {
  JsonValue root, key, name;
  if (!json_parse(body, length, &root) || root.type != JSON_OBJECT) return false;
  if (!json_member(root, "device_key", &key) || !json_member(root, "device_name", &name)) {
    return false;
  }
  if (!json_string(key, out->device_key, sizeof out->device_key) ||
      !json_string(name, out->device_name, sizeof out->device_name)) {
    return false;
  }
  return strncmp(out->device_key, "scd_", 4) == 0;
}

bool scan_answer_parse(const char* body, size_t length, ScanAnswer* out) {
  JsonValue root, result, beep;
  if (!json_parse(body, length, &root) || root.type != JSON_OBJECT) return false;
  if (!json_member(root, "result", &result) || result.type != JSON_STRING) return false;
  if (!json_member(root, "beep", &beep) || beep.type != JSON_STRING) return false;
  if (!display_lines(root, out->display)) return false;
  out->result = static_cast<ScanResult>(
      lookup(result, RESULTS, sizeof RESULTS / sizeof RESULTS[0], RESULT_OTHER));
  out->beep = static_cast<BeepCode>(lookup(beep, BEEPS, sizeof BEEPS / sizeof BEEPS[0],
                                           BEEP_ERROR));
  return true;
}

bool heartbeat_answer_parse(const char* body, size_t length, HeartbeatAnswer* out) {
  JsonValue root, paired, server_time;
  if (!json_parse(body, length, &root) || root.type != JSON_OBJECT) return false;
  if (!json_member(root, "paired", &paired) || !json_boolean(paired, &out->paired)) return false;
  if (!json_member(root, "server_time", &server_time) ||
      !json_string(server_time, out->server_time, sizeof out->server_time))
    return false;
  // An offer not understood is no offer: the idle lines and the pairing still count.
  JsonValue update;
  if (!json_member(root, "update", &update) || !update_offer_parse(update, &out->update)) {
    memset(&out->update, 0, sizeof out->update);
  }
  return display_lines(root, out->display);
}

Pattern pattern_for_beep(BeepCode beep) {
  switch (beep) {
    case BEEP_OK: return PATTERN_OK;
    case BEEP_PAIR: return PATTERN_PAIR;
    default: return PATTERN_ERROR;
  }
}

}  // namespace smartcart
