// Fakes of the core's ports, and a Rig that builds a CartCore on them.
#ifndef SMARTCART_TEST_FAKES_H
#define SMARTCART_TEST_FAKES_H

#include <stdint.h>

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "cart.h"
#include "ports.h"
#include "settings.h"

namespace fakes {

using namespace smartcart;

class FakeClock : public Clock {
 public:
  uint32_t now = 1000;
  int64_t epoch = 1790000000;  // 2026: SNTP has answered
  uint32_t step_per_read = 0;  // moves time on at every millis(), for timeouts
  uint32_t millis() override {
    now += step_per_read;
    return now;
  }
  int64_t epoch_seconds() override { return epoch; }
  void sleep_ms(uint32_t ms) override { now += ms; }
};

class FakeRandom : public Random {
 public:
  std::deque<uint32_t> script;  // served first
  uint32_t state = 0x12345678;
  uint32_t next() override {
    if (!script.empty()) {
      uint32_t value = script.front();
      script.pop_front();
      return value;
    }
    state ^= state << 13;  // xorshift32: deterministic, different every call
    state ^= state >> 17;
    state ^= state << 5;
    return state;
  }
};

// esp32-camera's driver (cam_hal.c) on the fake clock, so that which frame a photo is, and
// when it was taken, are as on the cart. The sensor begins a frame every frame_ms (VSYNC). At
// each VSYNC the driver ends the frame it was reading into a buffer and queues it (a full queue
// lets its oldest frame go for it), then begins reading the new frame into a free buffer,
// stamped with that time; with no buffer free it waits for a later VSYNC. The queue holds
// fb_count frames, fb_count - 1 with CAMERA_GRAB_LATEST and two or more buffers.
// esp_camera_fb_get() hands out the oldest queued frame, or waits (the clock moves on) for one;
// esp_camera_fb_return() frees its buffer.
class FakeCamera : public Camera {
 public:
  enum GrabMode { GRAB_WHEN_EMPTY, GRAB_LATEST };
  struct Frame {
    std::string what;  // what the camera saw (see show())
    uint32_t taken_ms;
  };

  explicit FakeCamera(FakeClock& clock) : clock_(clock) {}
  // esp_camera_init() at the clock's time; the Rig starts it as cart/hardware.cpp configures it.
  void start(size_t fb_count, GrabMode mode);
  // From from_ms on, the camera sees what: frames begun then or later show it.
  void show(const std::string& what, uint32_t from_ms);
  // A frame's bytes: jpeg, marked with what it shows and when it was begun.
  std::vector<uint8_t> bytes_of(const Frame& frame) const;
  // What a photo shows and when it was begun, read from that mark.
  static Frame photo_of(const std::string& jpeg);

  std::vector<uint8_t> jpeg;  // every frame is this picture, marked with what and when
  uint32_t frame_ms = 40;     // an OV2640 at SVGA: 25 frames a second
  Status status = OK;         // FAILED: the driver hands out no frame
  uint32_t stamp_lag_ms = 0;  // its stamps run this far behind the clock (a broken driver)
  std::vector<Frame> grabbed;  // every frame esp_camera_fb_get() handed out, in order

  Status capture(uint8_t* destination, size_t capacity, size_t* length,
                 uint32_t* taken_ms) override;

 private:
  struct Buffer {
    enum State { FREE, READING, QUEUED } state;
    Frame frame;
  };
  void run_until(uint32_t now);
  void vsync(uint32_t at);

  FakeClock& clock_;
  std::vector<Buffer> buffers_;
  std::deque<size_t> queue_;  // buffer indexes, oldest first
  size_t queue_capacity_ = 1;
  uint32_t next_vsync_ = 0;
  struct Scene {
    std::string what;
    uint32_t from_ms;
  };
  std::vector<Scene> scenes_;
};

// A server on the other end of the TLS stream: answers from a script, records what was sent.
class FakeNet : public NetStream {
 public:
  enum Kind { ANSWER, REFUSE_CONNECT, CLOSE_SILENTLY, HANG };
  struct Step {
    Kind kind;
    std::string bytes;  // for ANSWER: the whole HTTP answer
  };
  std::deque<Step> script;
  std::vector<std::string> requests;  // every request's bytes, as sent
  // When set, heartbeats get this answer without using up the script (and are not recorded).
  std::string heartbeat_reply;
  int heartbeats = 0;
  int connects = 0;
  std::string host;
  uint16_t port = 0;

  void answer(const std::string& http) { script.push_back(Step{ANSWER, http}); }
  void fail(Kind kind) { script.push_back(Step{kind, ""}); }
  std::vector<std::string> scan_requests() const;  // those sent to the scans endpoint

  bool connect(const char* to_host, uint16_t to_port) override;
  bool connected() override { return open_; }
  size_t write(const uint8_t* data, size_t len) override;
  int read(uint8_t* buffer, size_t capacity) override;
  void stop() override;

 private:
  bool open_ = false;
  bool closing_ = false;  // the server closed after its answer
  std::string pending_;   // the request being written
  std::string reply_;     // answer bytes not yet read
  bool replying_ = false;
  Kind current_ = ANSWER;
};

// "HTTP/1.1 <status> X" with Content-Length, and extra header lines ("Name: value").
std::string http_answer(int status, const std::string& body,
                        const std::vector<std::string>& headers = {});

class FakeUi : public Ui {
 public:
  struct Screen {
    std::string status, line1, line2;
  };
  std::vector<Screen> screens;
  std::vector<uint16_t> tones;  // every change of the buzzer, in order
  std::vector<bool> leds;
  void show(const char* status, const char* line1, const char* line2) override {
    screens.push_back(Screen{status, line1, line2});
  }
  void tone(uint16_t hz) override { tones.push_back(hz); }
  void led(bool on) override { leds.push_back(on); }
  const Screen& screen() const { return screens.back(); }
};

class FakeBoard : public Board {
 public:
  bool up = true;
  int rssi = -61;
  uint32_t heap = 141312;
  uint32_t psram = 3407872;
  ResetReason reset = RESET_POWER_ON;
  int reconnects = 0;
  int wifi_restarts = 0;
  bool network_up() override { return up; }
  int wifi_rssi() override { return rssi; }
  uint32_t free_heap() override { return heap; }
  uint32_t free_psram() override { return psram; }
  ResetReason reset_reason() override { return reset; }
  void wifi_reconnect() override { ++reconnects; }
  void restart_for_wifi() override { ++wifi_restarts; }
  bool pending_verify = false;  // running an update on trial
  int marked_valid = 0;
  bool image_pending_verify() override { return pending_verify; }
  void image_mark_valid() override {
    ++marked_valid;
    pending_verify = false;
  }
};

// Like a FreeRTOS mutex, not recursive: locking it twice is a deadlock on the device, so here
// it fails the test.
class FakeLock : public Lock {
 public:
  int held = 0;
  int taken = 0;
  bool reentered = false;
  void lock() override {
    if (held > 0) reentered = true;
    ++held;
    ++taken;
  }
  void unlock() override { --held; }
};

class FakeStorage : public Storage {
 public:
  std::map<std::string, std::string> values;
  int get(const char* key, char* buffer, size_t capacity) override;
  bool set(const char* key, const char* value) override {
    values[key] = value;
    return true;
  }
};

// LittleFS, as a power cut leaves it at its worst: a write the power stops leaves the file with
// only the bytes written so far. Copying it is taking the flash chip to a new board.
class FakeFlash : public Flash {
 public:
  std::map<std::string, std::string> files;
  // The power goes after this many more bytes are written; nothing is written or removed after.
  long cut_after_bytes = -1;
  bool cut = false;
  bool full = false;  // every write fails, and writes nothing
  int writes = 0;
  int removes = 0;

  bool write(const char* name, const Part* parts, size_t count) override;
  int read(const char* name, size_t offset, uint8_t* buffer, size_t capacity) override;
  bool remove(const char* name) override;
};

class FakeConsoleOut : public ConsoleOut {
 public:
  std::vector<std::string> lines;
  void line(const char* text) override { lines.push_back(text); }
};

extern const char TEST_DEVICE_KEY[];
extern const char TEST_CA_PEM[];

void settings_valid(Settings* settings);

// A cart on fakes, configured and online, its clock at 1000 ms.
class Rig {
 public:
  static const size_t SLOTS = 4;
  static const size_t SLOT_BYTES = 64 * 1024;

  FakeClock clock;
  FakeRandom random;
  FakeCamera camera;
  FakeNet net;
  FakeUi ui;
  FakeBoard board;
  FakeLock lock;
  FakeFlash flash;
  Settings settings;

  Rig();
  ~Rig();
  CartCore& cart() { return *cart_; }
  bool begin();

  // Drives the input loop as the button does.
  void press(uint32_t held_ms = 100);
  void long_press() { press(BUTTON_LONG_PRESS_MS + 100); }
  // Runs the input loop and the network task for ms milliseconds, 10 ms apart.
  void run(uint32_t ms);
  void network() { cart_->poll_network(clock.millis()); }
  void input() { cart_->poll_input(false, clock.millis()); }

 private:
  Rig(const Rig&);
  Rig& operator=(const Rig&);
  std::vector<PendingScan> entries_;
  std::vector<uint8_t> slots_;
  std::vector<char> body_, head_, answer_;
  CartCore* cart_;
};

std::vector<uint8_t> file_bytes(const std::string& path);
std::string file_text(const std::string& path);
std::string fixtures_dir();  // $FIXTURES_DIR, or the repository's tests/fixtures/devices
std::string payloads_dir();  // $PAYLOADS_DIR, or build/payloads
std::string frame_jpeg_path();

// A request's parts, as the fake server saw it.
struct SeenRequest {
  std::string request_line;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};
SeenRequest parse_request(const std::string& bytes);

}  // namespace fakes

#endif
