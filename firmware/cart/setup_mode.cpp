// Setup mode on the ESP32-CAM: the camera in grey VGA, quirc (bundled with ESP32QRCodeReader)
// to find and decode QRs, and the core to read the QR and enrol (setup_mode.h).
#include "setup_mode.h"

#include <Arduino.h>
#include <WiFi.h>
#include <esp_camera.h>
#include <quirc/quirc.h>
#include <string.h>
#include <time.h>

#include <enrolment.h>
#include <provisioning.h>

#include "ca_roots.h"
#include "hardware.h"

using namespace smartcart;

namespace hardware {

namespace {

const uint32_t WIFI_JOIN_MS = 20000;
const uint32_t CLOCK_WAIT_MS = 20000;
const uint32_t RESULT_SHOW_MS = 4000;
const size_t ENROL_BODY_BYTES = 512;
const size_t ENROL_HEAD_BYTES = 512;
const size_t ENROL_ANSWER_BYTES = 1024;

void show(const char* line1, const char* line2) { ports().ui.show("Setup mode", line1, line2); }

// Grey QVGA: esp32-camera advises no uncompressed frame above QVGA on the ESP32 (the DMA cannot
// keep up). A provisioning QR (about version 10, 57 modules) that fills half the frame has
// nearly 3 pixels a module, which quirc reads: hold it 10-15 cm from the lens.
const int QR_WIDTH = 320;
const int QR_HEIGHT = 240;
bool camera_start_grey() {
  camera_config_t config = {};
  config.pixel_format = PIXFORMAT_GRAYSCALE;
  config.frame_size = FRAMESIZE_QVGA;
  return camera_init(&config);
}

// The first QR in the next frame that is a provisioning QR of ours, read into *out.
bool qr_read(struct quirc* decoder, Provisioning* out) {
  camera_fb_t* frame = esp_camera_fb_get();
  if (frame == nullptr) return false;
  bool found = false;
  int width = 0, height = 0;
  uint8_t* image = quirc_begin(decoder, &width, &height);
  if (frame->format == PIXFORMAT_GRAYSCALE &&
      frame->len == static_cast<size_t>(width) * static_cast<size_t>(height)) {
    memcpy(image, frame->buf, frame->len);
    quirc_end(decoder);
    static struct quirc_code code;  // 4 KiB and 9 KiB: not on the loop task's stack
    static struct quirc_data data;
    for (int i = 0; i < quirc_count(decoder) && !found; ++i) {
      quirc_extract(decoder, i, &code);
      if (quirc_decode(&code, &data) != QUIRC_SUCCESS) continue;
      ProvisioningResult result = provisioning_parse(
          reinterpret_cast<const char*>(data.payload), static_cast<size_t>(data.payload_len), out);
      if (result == PROVISIONING_OK) found = true;
      if (result != PROVISIONING_OK && result != PROVISIONING_NOT_OURS) {
        show("QR not valid", "Ask for new QR");  // ours, but damaged or from a wrong server
      }
    }
  }
  esp_camera_fb_return(frame);
  return found;
}

bool wifi_join(const Provisioning& provisioning) {
  show("Joining Wi-Fi", provisioning.wifi_ssid);
  WiFi.mode(WIFI_STA);
  WiFi.begin(provisioning.wifi_ssid, provisioning.wifi_password);
  uint32_t started = millis();
  while (WiFi.status() != WL_CONNECTED) {
    if (millis() - started > WIFI_JOIN_MS) return false;
    delay(100);
  }
  configTime(0, 0, NTP_SERVER_DEFAULT, "time.google.com");
  started = millis();
  while (time(nullptr) < CLOCK_VALID_AFTER) {  // TLS checks the certificate's dates
    if (millis() - started > CLOCK_WAIT_MS) return false;
    delay(100);
  }
  return true;
}

// The CA certificate the QR names: the one already in the settings, or a compiled-in root.
const char* ca_for(const Provisioning& provisioning, const Settings& settings) {
  if (settings.ca_pem[0] != '\0' && ca_pem_matches(settings.ca_pem, provisioning.ca_sha256)) {
    return settings.ca_pem;
  }
  for (const char* root : CA_ROOTS) {
    if (ca_pem_matches(root, provisioning.ca_sha256)) return root;
  }
  return nullptr;
}

// Enrols with the QR's code; on success the settings are saved and the cart restarts.
EnrolOutcome enrol(const Provisioning& provisioning, const char* ca_pem, Settings* settings) {
  static char body[ENROL_BODY_BYTES], head[ENROL_HEAD_BYTES], answer_text[ENROL_ANSWER_BYTES];
  EnrolBuffers buffers = {body, sizeof body, head, sizeof head, answer_text, sizeof answer_text};
  net_pin(ca_pem);
  CartPorts board = ports();
  HttpClient http(board.net, board.clock);
  EnrolAnswer answer;
  EnrolOutcome outcome = enrol_exchange(http, provisioning, buffers, &answer);
  board.net.stop();
  show(ENROL_TEXTS[outcome][0], ENROL_TEXTS[outcome][1]);
  if (outcome != ENROL_DONE) return outcome;
  if (ca_pem != settings->ca_pem) {
    strncpy(settings->ca_pem, ca_pem, sizeof settings->ca_pem - 1);
    settings->ca_pem[sizeof settings->ca_pem - 1] = '\0';
  }
  provisioning_apply(provisioning, answer, settings);
  if (!settings_save(storage(), *settings)) {
    show("Not saved", "Call staff");
    return ENROL_ODD_ANSWER;
  }
  Serial.printf("Enrolled as %s: restarting.\n", answer.device_name);
  delay(RESULT_SHOW_MS);
  restart();
  return outcome;
}

}  // namespace

void setup_mode_run(Settings* settings, void (*between_frames)()) {
  bool can_leave = settings_check(*settings) == SETTINGS_OK;
  Serial.println("Setup mode: show the cart's provisioning QR to the camera.");
  show("Show the cart's", "setup QR");
  struct quirc* decoder = quirc_new();
  if (!camera_start_grey() || decoder == nullptr || quirc_resize(decoder, QR_WIDTH, QR_HEIGHT) < 0) {
    show("Camera fault", "Use serial setup");
    return;  // the serial console still runs from loop()
  }
  bool held = button_pressed();
  for (;;) {
    between_frames();
    bool pressed = button_pressed();
    if (can_leave && pressed && !held) break;  // a fresh press: run with the saved settings
    held = pressed;
    Provisioning provisioning;
    if (!qr_read(decoder, &provisioning)) continue;
    const char* ca_pem = ca_for(provisioning, *settings);
    if (ca_pem == nullptr) {
      show("Unknown CA", "Use serial setup");  // the QR's CA is neither kept nor built in
    } else if (!wifi_join(provisioning)) {
      show("No Wi-Fi", "Check QR's Wi-Fi");
    } else {
      enrol(provisioning, ca_pem, settings);  // restarts when it worked
    }
    for (uint32_t waited = 0; waited < RESULT_SHOW_MS; waited += 100) {
      between_frames();
      delay(100);
    }
    show("Show the cart's", "setup QR");
  }
  quirc_destroy(decoder);
  esp_camera_deinit();  // camera_start() sets it up again for JPEG photos
}

}  // namespace hardware
