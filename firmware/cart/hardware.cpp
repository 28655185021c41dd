// The ESP32-CAM side of every port: the only file that talks to Arduino, the camera driver,
// Wi-Fi and TLS, NVS and the OLED. Builds with arduino-esp32 2.0.x and 3.x.
#include "hardware.h"

#include <Adafruit_GFX.h>
#include <Adafruit_SSD1306.h>
#include <Arduino.h>
#include <LittleFS.h>
#include <Preferences.h>
#include <WiFi.h>
#include <WiFiClientSecure.h>
#include <Wire.h>
#include <esp_camera.h>
#include <esp_ota_ops.h>
#include <esp_system.h>
#include <esp_task_wdt.h>
#include <string.h>
#include <time.h>
#if __has_include(<esp_random.h>)
#include <esp_random.h>
#else
#include <esp_system.h>
#endif

using namespace smartcart;

namespace hardware {

namespace {

const char NVS_NAMESPACE[] = "smartcart";
const char NTP_SECOND_SERVER[] = "time.google.com";
const uint32_t CONSOLE_BAUD = 115200;
const uint32_t SCANNER_BAUD = 9600;  // GM65/GM861 modules' default
const uint8_t BUZZER_CHANNEL = 2;    // LEDC channel 0 and timer 0 drive the camera's XCLK
const int32_t CONNECT_TIMEOUT_MS = 5000;
const unsigned long HANDSHAKE_TIMEOUT_S = 8;
const size_t QUEUE_SLOTS = 6;
// SLOT_BYTES (core/config.h): 96 KiB; an SVGA JPEG at quality 12 is 30-70 KiB, and the driver's
// buffer for one is 94 KiB, so no SVGA photo is too large for its slot.
// Marks a restart the Wi-Fi watchdog asked for: RTC memory outlives esp_restart(), not a power cut.
const uint32_t WIFI_RESTART_MARK = 0x57494649;  // "WIFI"
RTC_NOINIT_ATTR uint32_t restart_mark;
const size_t HEAD_BYTES = 1024;
const size_t ANSWER_BYTES = 2048;

#if defined(SMARTCART_SCANNER) && SMARTCART_SCANNER
const bool SCANNER = true;
const int LED_PIN = PIN_BOARD_LED;  // GPIO 2 is the scanner's now
const bool LED_ACTIVE_LOW = true;
#else
const bool SCANNER = false;
const int LED_PIN = PIN_STATUS_LED;
const bool LED_ACTIVE_LOW = false;
#endif

Adafruit_SSD1306 display(128, 64, &Wire, -1);
bool display_ok = false;

class EspClock : public Clock {
 public:
  uint32_t millis() override { return ::millis(); }
  int64_t epoch_seconds() override {
    time_t now = time(nullptr);
    return now > 0 ? static_cast<int64_t>(now) : 0;  // SNTP sets it; 1970 until then
  }
  void sleep_ms(uint32_t ms) override { delay(ms); }  // delay() yields to other tasks
};

class EspRandom : public Random {
 public:
  uint32_t next() override { return esp_random(); }  // the hardware RNG (Wi-Fi on: true random)
};

class EspCamera : public Camera {
 public:
  Status capture(uint8_t* destination, size_t capacity, size_t* length,
                 uint32_t* taken_ms) override {
    camera_fb_t* frame = esp_camera_fb_get();
    if (frame == nullptr) return FAILED;
    // The driver stamps a frame with esp_timer_get_time() as it begins reading it; millis() is
    // that clock in milliseconds, cut to 32 bits the same way.
    uint64_t us = static_cast<uint64_t>(frame->timestamp.tv_sec) * 1000000ULL +
                  static_cast<uint64_t>(frame->timestamp.tv_usec);
    *taken_ms = static_cast<uint32_t>(us / 1000ULL);
    Status status = OK;
    if (frame->format != PIXFORMAT_JPEG) {
      status = FAILED;
    } else if (frame->len > capacity) {
      status = TOO_LARGE;
    } else {
      memcpy(destination, frame->buf, frame->len);
      *length = frame->len;
    }
    esp_camera_fb_return(frame);  // the driver begins the next frame into it at the next VSYNC
    return status;
  }
};

// TLS to the server, checked against the provisioned CA certificate (and the host name). There
// is deliberately no way to skip the check: the host build's core-check fails if one appears.
class TlsStream : public NetStream {
 public:
  void pin(const char* ca_pem) { client_.setCACert(ca_pem); }
  bool connect(const char* host, uint16_t port) override {
    client_.setHandshakeTimeout(HANDSHAKE_TIMEOUT_S);
    return client_.connect(host, port, CONNECT_TIMEOUT_MS) == 1;
  }
  bool connected() override { return client_.connected(); }
  size_t write(const uint8_t* data, size_t length) override { return client_.write(data, length); }
  int read(uint8_t* buffer, size_t capacity) override {
    int available = client_.available();
    if (available > 0) {
      size_t wanted = static_cast<size_t>(available);
      if (wanted > capacity) wanted = capacity;
      int count = client_.read(buffer, wanted);
      return count > 0 ? count : 0;
    }
    return client_.connected() ? 0 : -1;
  }
  void stop() override { client_.stop(); }

 private:
  WiFiClientSecure client_;
};

// Every value is stored as a blob: NVS strings stop at 4000 bytes, a CA chain may not.
class NvsStorage : public Storage {
 public:
  int get(const char* key, char* buffer, size_t capacity) override {
    Preferences nvs;
    if (!nvs.begin(NVS_NAMESPACE, true)) return -1;
    int length = -1;
    if (nvs.isKey(key)) {
      size_t stored = nvs.getBytesLength(key);  // the terminator included
      if (stored > 0 && stored <= capacity && nvs.getBytes(key, buffer, stored) == stored) {
        buffer[stored - 1] = '\0';
        length = static_cast<int>(stored - 1);
      }
    }
    nvs.end();
    return length;
  }
  bool set(const char* key, const char* value) override {
    Preferences nvs;
    if (!nvs.begin(NVS_NAMESPACE, false)) return false;
    size_t length = strlen(value) + 1;
    bool ok = nvs.putBytes(key, value, length) == length;
    nvs.end();
    return ok;
  }
};

// The saved offline queue, on LittleFS in the partition table's data partition ("spiffs" in
// partitions_ota.csv: 892 KiB, room for the six 96 KiB slots and LittleFS's copy-on-write).
// LittleFS commits a file when it is closed; a power cut before that leaves the old file, and
// the core's checksum catches whatever else a cut leaves.
class LittleFsFlash : public Flash {
 public:
  bool begin() {
    mounted_ = LittleFS.begin(true);  // formats a partition that has never been mounted
    if (!mounted_) Serial.println("No LittleFS partition: scans are not kept over a power cut.");
    return mounted_;
  }
  bool write(const char* name, const Part* parts, size_t count) override {
    if (!mounted_) return false;
    File file = LittleFS.open(name, FILE_WRITE);
    if (!file) return false;
    bool ok = true;
    for (size_t i = 0; i < count && ok; ++i) {
      ok = file.write(parts[i].data, parts[i].length) == parts[i].length;
    }
    file.close();
    return ok;
  }
  int read(const char* name, size_t offset, uint8_t* buffer, size_t capacity) override {
    if (!mounted_ || !LittleFS.exists(name)) return -1;
    File file = LittleFS.open(name, FILE_READ);
    if (!file) return -1;
    int count = 0;
    if (file.seek(offset)) count = static_cast<int>(file.read(buffer, capacity));
    file.close();
    return count < 0 ? 0 : count;
  }
  bool remove(const char* name) override {
    if (!mounted_ || !LittleFS.exists(name)) return true;
    return LittleFS.remove(name);
  }

 private:
  bool mounted_ = false;
};

class CartUi : public Ui {
 public:
  void show(const char* status, const char* line1, const char* line2) override {
    if (!display_ok) return;
    display.clearDisplay();
    display.setTextSize(1);
    display.setTextColor(SSD1306_WHITE);
    display.setCursor(0, 0);
    display.print(status);
    display.drawFastHLine(0, 11, 128, SSD1306_WHITE);
    display.setCursor(0, 24);
    display.print(line1);
    display.setCursor(0, 44);
    display.print(line2);
    display.display();
  }
  void tone(uint16_t hz) override {
#if ESP_ARDUINO_VERSION_MAJOR >= 3
    ledcWriteTone(PIN_BUZZER, hz);
#else
    ledcWriteTone(BUZZER_CHANNEL, hz);
#endif
  }
  void led(bool on) override { digitalWrite(LED_PIN, on != LED_ACTIVE_LOW ? HIGH : LOW); }
};

ResetReason reset_reason_read() {
  bool wifi_restart = restart_mark == WIFI_RESTART_MARK;
  restart_mark = 0;
  switch (esp_reset_reason()) {
    case ESP_RST_POWERON: return RESET_POWER_ON;
    case ESP_RST_EXT: return RESET_EXTERNAL;
    case ESP_RST_SW: return wifi_restart ? RESET_WIFI_WATCHDOG : RESET_SOFTWARE;
    case ESP_RST_PANIC: return RESET_PANIC;
    case ESP_RST_INT_WDT: return RESET_INTERRUPT_WATCHDOG;
    case ESP_RST_TASK_WDT: return RESET_TASK_WATCHDOG;
    case ESP_RST_WDT: return RESET_OTHER_WATCHDOG;
    case ESP_RST_DEEPSLEEP: return RESET_DEEP_SLEEP;
    case ESP_RST_BROWNOUT: return RESET_BROWNOUT;
    default: return RESET_UNKNOWN;
  }
}

class EspBoard : public Board {
 public:
  void start() { reset_ = reset_reason_read(); }  // once, at boot: it clears the mark
  bool network_up() override { return WiFi.status() == WL_CONNECTED; }
  int wifi_rssi() override { return WiFi.RSSI(); }
  uint32_t free_heap() override { return ESP.getFreeHeap(); }
  uint32_t free_psram() override { return ESP.getFreePsram(); }
  ResetReason reset_reason() override { return reset_; }
  void wifi_reconnect() override { WiFi.reconnect(); }
  bool image_pending_verify() override {
    esp_ota_img_states_t state;
    return esp_ota_get_state_partition(esp_ota_get_running_partition(), &state) == ESP_OK &&
           state == ESP_OTA_IMG_PENDING_VERIFY;
  }
  void image_mark_valid() override { esp_ota_mark_app_valid_cancel_rollback(); }
  void restart_for_wifi() override {
    Serial.println("No network for five minutes: restarting.");
    restart_mark = WIFI_RESTART_MARK;
    ESP.restart();
  }

 private:
  ResetReason reset_ = RESET_UNKNOWN;
};

class RtosLock : public Lock {
 public:
  void create() { mutex_ = xSemaphoreCreateMutex(); }  // in board_start(), before any task
  void lock() override { xSemaphoreTake(mutex_, portMAX_DELAY); }
  void unlock() override { xSemaphoreGive(mutex_); }

 private:
  SemaphoreHandle_t mutex_ = nullptr;
};

class SerialOut : public ConsoleOut {
 public:
  void line(const char* text) override { Serial.println(text); }
};

EspClock clock_port;
EspRandom random_port;
EspCamera camera_port;
TlsStream net_port;
CartUi ui_port;
EspBoard board_port;
RtosLock lock_port;
NvsStorage storage_port;
LittleFsFlash flash_port;
SerialOut console_port;

framesize_t frame_size_of(const char* name) {
  static const struct {
    const char* name;
    framesize_t size;
  } SIZES[] = {{"VGA", FRAMESIZE_VGA},   {"SVGA", FRAMESIZE_SVGA}, {"XGA", FRAMESIZE_XGA},
               {"HD", FRAMESIZE_HD},     {"SXGA", FRAMESIZE_SXGA}, {"UXGA", FRAMESIZE_UXGA}};
  // The core knows the default and the names, and which sizes' JPEGs fit a slot (settings_check
  // refused the others before the camera starts).
  const FrameSize* frame = frame_size_find(name);
  if (frame == nullptr || !frame_size_fits(*frame)) return FRAMESIZE_SVGA;
  for (const auto& entry : SIZES) {
    if (strcmp(entry.name, frame->name) == 0) return entry.size;
  }
  return FRAMESIZE_SVGA;
}

void* psram(size_t bytes) { return ps_malloc(bytes); }  // once, at boot: never freed

}  // namespace

CartPorts ports() {
  CartPorts ports = {clock_port, random_port, camera_port, net_port, ui_port,
                     board_port, lock_port,   flash_port};
  return ports;
}

Storage& storage() { return storage_port; }
ConsoleOut& console_out() { return console_port; }

bool buffers_allocate(CartBuffers* buffers) {
  size_t body_bytes = (SLOT_BYTES + 2) / 3 * 4 + 512;  // a base64 photo and its JSON
  buffers->slots = QUEUE_SLOTS;
  buffers->slot_bytes = SLOT_BYTES;
  buffers->entries = static_cast<PendingScan*>(psram(QUEUE_SLOTS * sizeof(PendingScan)));
  buffers->slot_storage = static_cast<uint8_t*>(psram(QUEUE_SLOTS * SLOT_BYTES));
  buffers->body = static_cast<char*>(psram(body_bytes));
  buffers->body_capacity = body_bytes;
  buffers->head = static_cast<char*>(psram(HEAD_BYTES));
  buffers->head_capacity = HEAD_BYTES;
  buffers->answer = static_cast<char*>(psram(ANSWER_BYTES));
  buffers->answer_capacity = ANSWER_BYTES;
  bool ok = buffers->entries && buffers->slot_storage && buffers->body && buffers->head &&
            buffers->answer;
  if (!ok) Serial.println("No PSRAM: this firmware needs the ESP32-CAM's 4 MB PSRAM.");
  return ok;
}

void board_start() {
  lock_port.create();
  board_port.start();
  Serial.begin(CONSOLE_BAUD);
  flash_port.begin();  // before the core restores the saved queue
  pinMode(PIN_FLASH_LED, OUTPUT);
  digitalWrite(PIN_FLASH_LED, LOW);
  pinMode(PIN_BUTTON, INPUT_PULLUP);
  pinMode(LED_PIN, OUTPUT);
#if ESP_ARDUINO_VERSION_MAJOR >= 3
  ledcAttachChannel(PIN_BUZZER, 2000, 8, BUZZER_CHANNEL);
#else
  ledcSetup(BUZZER_CHANNEL, 2000, 8);
  ledcAttachPin(PIN_BUZZER, BUZZER_CHANNEL);
#endif
  ui_port.tone(0);
  Wire.begin(PIN_I2C_SDA, PIN_I2C_SCL);
  display_ok = display.begin(SSD1306_SWITCHCAPVCC, OLED_ADDRESS);
  if (display_ok) display.cp437(true);  // the glyphs display_fit() maps accents to
  if (!display_ok) Serial.println("No SSD1306 OLED at 0x3C on GPIO 13/14.");
  if (SCANNER) Serial2.begin(SCANNER_BAUD, SERIAL_8N1, PIN_SCANNER_RX, -1);
  Serial.println("smartcart " SMARTCART_FIRMWARE_VERSION ": type help for the setup console.");
  Serial.printf("Started: %s\n", reset_reason_name(board_port.reset_reason()));
}

bool camera_init(void* camera_config) {
  camera_config_t& config = *static_cast<camera_config_t*>(camera_config);
  config.pin_pwdn = 32;
  config.pin_reset = -1;
  config.pin_xclk = 0;
  config.pin_sccb_sda = 26;
  config.pin_sccb_scl = 27;
  config.pin_d7 = 35;
  config.pin_d6 = 34;
  config.pin_d5 = 39;
  config.pin_d4 = 36;
  config.pin_d3 = 21;
  config.pin_d2 = 19;
  config.pin_d1 = 18;
  config.pin_d0 = 5;
  config.pin_vsync = 25;
  config.pin_href = 23;
  config.pin_pclk = 22;
  config.xclk_freq_hz = 20000000;
  config.ledc_timer = LEDC_TIMER_0;
  config.ledc_channel = LEDC_CHANNEL_0;
  config.fb_count = 1;
  config.fb_location = CAMERA_FB_IN_PSRAM;
  config.grab_mode = CAMERA_GRAB_WHEN_EMPTY;
  esp_err_t error = esp_camera_init(&config);
  if (error != ESP_OK) Serial.printf("Camera failed to start: 0x%x\n", error);
  return error == ESP_OK;
}

bool camera_start(const Settings& settings) {
  camera_config_t config = {};
  config.pixel_format = PIXFORMAT_JPEG;
  config.frame_size = frame_size_of(settings.frame);
  config.jpeg_quality = JPEG_QUALITY_DEFAULT;
  // One buffer, refilled when empty. esp_camera_fb_get() hands out a frame finished before it
  // was called, however the driver buffers, so the core throws away every frame begun before
  // the press by its timestamp (CartCore::photo_after): the choice here is speed and memory,
  // not truth. With one buffer that is the single frame waiting since the last photo, the
  // usual still-photo fix of grabbing and returning one frame first, checked rather than
  // assumed; the next frame is begun at the first VSYNC after it is returned, so the photo
  // comes 1-2 frame times (40-80 ms at SVGA) after the press. Two buffers with
  // CAMERA_GRAB_LATEST (Espressif's streaming example) keep the newest frame, but it too was
  // begun before the press: the queued frame and the one in flight are both thrown away and
  // the photo comes no sooner. The second buffer would cost w*h/5 bytes (cam_hal.c's JPEG
  // buffer): 94 KiB at SVGA, the largest `set frame` allows (a larger frame's JPEG might not
  // fit a queue slot). Two SVGA buffers and the cart's own ~710 KiB (buffers_allocate) would
  // fit the 4 MiB PSRAM easily, and buy nothing.
  return camera_init(&config);
}

void net_pin(const char* ca_pem) { net_port.pin(ca_pem); }

void network_start(const Settings& settings) {
  net_port.pin(settings.ca_pem);
  WiFi.mode(WIFI_STA);
  WiFi.setSleep(false);  // modem sleep adds up to a beacon interval to every answer
  WiFi.setAutoReconnect(true);
  WiFi.begin(settings.wifi_ssid, settings.wifi_password);
  const char* ntp = settings.ntp_server[0] != '\0' ? settings.ntp_server : NTP_SERVER_DEFAULT;
  configTime(0, 0, ntp, NTP_SECOND_SERVER);  // UTC; the core sends nothing until it is set
}

void watchdog_start() {
#if ESP_ARDUINO_VERSION_MAJOR >= 3
  esp_task_wdt_config_t config = {};
  config.timeout_ms = TASK_WATCHDOG_S * 1000;
  config.idle_core_mask = 0;  // the idle tasks may starve while the camera or TLS works
  config.trigger_panic = true;
  esp_task_wdt_reconfigure(&config);
#else
  esp_task_wdt_init(TASK_WATCHDOG_S, true);  // already running: sets the timeout and the panic
#endif
}

void watchdog_watch_this_task() { esp_task_wdt_add(nullptr); }

void watchdog_feed() { esp_task_wdt_reset(); }

void network_task_start(void (*body)(void*)) {
  // 12 KiB: the TLS handshake runs on this task's stack.
  xTaskCreatePinnedToCore(body, "smartcart-net", 12288, nullptr, 1, nullptr, 0);
}

bool button_pressed() { return digitalRead(PIN_BUTTON) == LOW; }

int console_read() { return Serial.available() > 0 ? Serial.read() : -1; }

int scanner_read() {
  if (!SCANNER) return -1;
  return Serial2.available() > 0 ? Serial2.read() : -1;
}

void restart() { ESP.restart(); }

}  // namespace hardware
