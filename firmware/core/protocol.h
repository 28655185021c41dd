// Device protocol v1 (shared/ARCHITECTURE.md): the requests the cart sends, the answers it reads.
//
// The golden payloads in tests/fixtures/devices/ are the contract: test/test_contract.cpp
// parses the server's answers from there, and the requests built here are posted to the real
// server by tests/devices/test_firmware_contract.py.
#ifndef SMARTCART_PROTOCOL_H
#define SMARTCART_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "feedback.h"
#include "http.h"
#include "scan_queue.h"
#include "update.h"
#include "url.h"

namespace smartcart {

// How a photo travels. Raw is the default: the JPEG is the body, nothing is copied or grown
// by a third. JSON with base64 is for a proxy that only lets JSON through.
enum ImageUpload { UPLOAD_RAW_JPEG, UPLOAD_JSON_BASE64 };

enum BuildResult {
  BUILD_OK,
  BUILD_TOO_LARGE,  // the body or the path does not fit its buffer: nothing is sent
};

// An HTTP request ready to send, and the text its pointers lead to. Not copyable: the request
// points into this object.
class OutgoingRequest {
 public:
  OutgoingRequest() {}
  HttpRequest http;
  char path[96];
  char quantity[4];

 private:
  OutgoingRequest(const OutgoingRequest&);
  OutgoingRequest& operator=(const OutgoingRequest&);
};

// The request for scan: a photo as a raw image/jpeg body with X-Scan-Id/-Mode/-Qty headers (or
// base64 in JSON), a scanner module's code as JSON. JSON bodies are written into json.
BuildResult scan_request_build(const PendingScan& scan, ImageUpload upload, const ServerUrl& url,
                               char* json, size_t json_capacity, OutgoingRequest* out);

struct Heartbeat {
  const char* firmware_version;
  uint32_t uptime_seconds;
  int wifi_rssi;
  uint32_t free_heap;
  size_t queue_depth;
  const char* reset_reason;  // reset_reason_name()
  uint32_t free_psram;
  uint32_t failed_captures;  // since this start: the camera gave no usable photo
  bool camera_ok;            // false: the camera did not start
};

BuildResult heartbeat_request_build(const Heartbeat& heartbeat, const ServerUrl& url, char* json,
                                    size_t json_capacity, OutgoingRequest* out);

enum ScanResult {
  RESULT_ADDED, RESULT_REMOVED, RESULT_PAIRED, RESULT_NO_BARCODE, RESULT_UNKNOWN_PRODUCT,
  RESULT_NOT_IN_CART, RESULT_NOT_PAIRED, RESULT_CART_CLOSED,
  RESULT_AMBIGUOUS,  // two different codes in the photo: refused, nothing changed
  RESULT_OTHER,  // a result this firmware does not know: its display and beep still count
};

enum BeepCode { BEEP_OK, BEEP_ERROR, BEEP_PAIR };

struct ScanAnswer {
  ScanResult result;
  BeepCode beep;  // an unknown beep counts as an error
  char display[2][DISPLAY_LINE_BYTES];  // fitted for the OLED (display_fit)
};

// A scan's answer (201 or 200): needs result, beep and two display lines; other keys (product,
// cart) are allowed and not read.
bool scan_answer_parse(const char* body, size_t length, ScanAnswer* out);

struct HeartbeatAnswer {
  bool paired;
  char display[2][DISPLAY_LINE_BYTES];
  char server_time[32];
  UpdateOffer update;  // update.offered is false without an offer (or with one not understood)
};

bool heartbeat_answer_parse(const char* body, size_t length, HeartbeatAnswer* out);

// Enrolment: a provisioning QR's code (provisioning.h) for the cart's device key. Sent without
// an Authorization header (the cart has no key yet).
BuildResult enrol_request_build(const char* token, const char* firmware_version,
                                const ServerUrl& url, char* json, size_t json_capacity,
                                OutgoingRequest* out);

struct EnrolAnswer {
  char device_key[100];  // Settings::device_key's size
  char device_name[81];
};

// The 201 answer: false when a field is missing, too long, or the key is no device key.
bool enrol_answer_parse(const char* body, size_t length, EnrolAnswer* out);

Pattern pattern_for_beep(BeepCode beep);

}  // namespace smartcart

#endif
