// The cart's fixed numbers: timings, sizes and the retry policy of device protocol v1.
//
// The retry numbers must match devices/simulator.py (RetryPolicy, RETRY_AFTER_MAX): both run
// tests/fixtures/devices/cart/retry_script.json and must decide the same.
#ifndef SMARTCART_CONFIG_H
#define SMARTCART_CONFIG_H

#include <stddef.h>
#include <stdint.h>

namespace smartcart {

#define SMARTCART_FIRMWARE_VERSION "1.0.0"

// --- Protocol v1 ------------------------------------------------------------------------------
static const char SCAN_PATH[] = "/api/devices/v1/scans/";
static const char HEARTBEAT_PATH[] = "/api/devices/v1/heartbeat/";
static const char USER_AGENT[] = "smartcart-cart/" SMARTCART_FIRMWARE_VERSION;

const size_t DISPLAY_LINE_CHARS = 16;  // what the server sends and the OLED shows per line
const size_t DISPLAY_LINE_BYTES = DISPLAY_LINE_CHARS + 1;
const size_t SCAN_ID_BYTES = 37;       // a UUID's 36 characters and the terminator
const size_t CODE_MAX = 128;           // the server's limit on a pre-decoded code
const size_t SYMBOLOGY_MAX = 16;

// --- Retry policy (devices/simulator.py RetryPolicy) ------------------------------------------
const uint32_t RETRY_BASE_MS = 500;    // before the second attempt
const uint32_t RETRY_FACTOR = 2;
const uint32_t RETRY_CAP_MS = 8000;    // no backoff wait is longer
const uint8_t RETRY_ATTEMPTS = 6;      // the first try included
const uint32_t RETRY_AFTER_MAX_MS = 60000;  // a larger Retry-After is not believed
// After the attempts are used up the scan stays queued (it is never dropped) and is tried
// again this often, with the same scan_id and bytes.
const uint32_t OFFLINE_RETRY_MS = 30000;

// --- Timings ----------------------------------------------------------------------------------
const uint32_t HEARTBEAT_INTERVAL_MS = 60000;
const uint32_t BUTTON_DEBOUNCE_MS = 30;
const uint32_t BUTTON_LONG_PRESS_MS = 800;
const uint32_t REMOVE_MODE_TIMEOUT_MS = 10000;  // remove mode falls back to add after this
// A photo must be begun after its press: the frames the camera driver still holds from before
// (one with the cart's single buffer, up to one per buffer and the one in flight with more)
// are thrown away, at most this many; a press that gets no newer frame is a camera error.
const uint8_t CAMERA_STALE_FRAMES_MAX = 3;
const uint32_t FEEDBACK_HOLD_MS = 4000;  // a scan's answer stays on screen this long
const uint32_t HTTP_TIMEOUT_MS = 10000;  // connect, send and answer, per attempt

// TLS cannot check a certificate's dates before SNTP has set the clock: nothing is sent until
// the time is after this (2025-01-01T00:00:00Z).
const int64_t CLOCK_VALID_AFTER = 1735689600;

// --- Camera -----------------------------------------------------------------------------------
const uint16_t FRAME_WIDTH_DEFAULT = 800;  // SVGA: sharp enough for EAN-13 at 10-15 cm
const uint16_t FRAME_HEIGHT_DEFAULT = 600;
const uint8_t JPEG_QUALITY_DEFAULT = 12;   // esp_camera's scale: 0 best .. 63 worst

}  // namespace smartcart

#endif
