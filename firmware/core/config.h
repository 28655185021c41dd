// The cart's fixed numbers: timings, sizes and the retry policy of device protocol v1.
//
// The retry numbers must match devices/simulator.py (RetryPolicy, RETRY_AFTER_MAX): both run
// tests/fixtures/devices/cart/retry_script.json and must decide the same.
#ifndef SMARTCART_CONFIG_H
#define SMARTCART_CONFIG_H

#include <stddef.h>
#include <stdint.h>

namespace smartcart {

#define SMARTCART_FIRMWARE_VERSION "1.1.0"

// --- Protocol v1 ------------------------------------------------------------------------------
static const char SCAN_PATH[] = "/api/devices/v1/scans/";
static const char HEARTBEAT_PATH[] = "/api/devices/v1/heartbeat/";
static const char ENROL_PATH[] = "/api/devices/v1/enrol/";
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

// --- Health and recovery ----------------------------------------------------------------------
// The Wi-Fi watchdog (WifiWatchdog, health.h): with no network for this long the cart asks the
// Wi-Fi driver to reconnect, and again as often; after WIFI_RESTART_AFTER_MS without one it
// restarts (the queue is on flash: nothing is lost).
const uint32_t WIFI_RECONNECT_AFTER_MS = 20000;
const uint32_t WIFI_RECONNECT_EVERY_MS = 30000;
const uint32_t WIFI_RESTART_AFTER_MS = 5 * 60000;
// The task watchdog restarts the cart when the input loop or the network task has not come
// round for this long. The network task may legitimately wait for a TLS handshake and an answer
// (HTTP_TIMEOUT_MS and more), so it is generous.
const uint32_t TASK_WATCHDOG_S = 30;

// --- Camera -----------------------------------------------------------------------------------
// One queued photo's room: six of them sit in PSRAM and on flash (scan_store.h).
const size_t SLOT_BYTES = 96 * 1024;
// The largest JPEG the camera driver can hand out for a frame size: esp32-camera's cam_hal.c
// sizes its JPEG buffer width * height / 5. A frame size is allowed only when that fits a slot,
// so that no photo is ever "too large" (settings_check, and static_assert for the default).
constexpr size_t jpeg_bytes_max(uint32_t width, uint32_t height) {
  return width * height / 5;
}
const uint16_t FRAME_WIDTH_DEFAULT = 800;  // SVGA: sharp enough for EAN-13 at 10-15 cm
const uint16_t FRAME_HEIGHT_DEFAULT = 600;
const uint8_t JPEG_QUALITY_DEFAULT = 12;   // esp_camera's scale: 0 best .. 63 worst
static_assert(jpeg_bytes_max(FRAME_WIDTH_DEFAULT, FRAME_HEIGHT_DEFAULT) <= SLOT_BYTES,
              "the default frame's JPEG must fit a queue slot");

}  // namespace smartcart

#endif
