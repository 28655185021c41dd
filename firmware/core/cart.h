// The cart: button, camera, scan queue, network and screen, wired together.
//
// Two loops drive it. poll_input() runs the button, the camera and the screen and never waits
// for the network; poll_network() sends the oldest queued scan (or the heartbeat) and may block
// for up to HTTP_TIMEOUT_MS. On the device they run in two FreeRTOS tasks; they share the scan
// queue and a small mailbox of feedback, both behind the Lock port.
#ifndef SMARTCART_CART_H
#define SMARTCART_CART_H

#include <stddef.h>
#include <stdint.h>

#include "button.h"
#include "config.h"
#include "feedback.h"
#include "health.h"
#include "http.h"
#include "mode.h"
#include "ports.h"
#include "protocol.h"
#include "retry.h"
#include "scan_queue.h"
#include "scan_store.h"
#include "settings.h"
#include "update.h"
#include "url.h"

namespace smartcart {

struct Lines {
  const char* line1;
  const char* line2;
};

// What the cart says by itself (the server's own texts arrive in its answers).
extern const Lines TEXT_STARTING;
extern const Lines TEXT_NEEDS_SETUP;
extern const Lines TEXT_SENDING;
extern const Lines TEXT_SAVED;
extern const Lines TEXT_QUEUE_FULL;
extern const Lines TEXT_NOT_SAVED;
extern const Lines TEXT_CAMERA_ERROR;
extern const Lines TEXT_CAMERA_FAULT;
extern const Lines TEXT_PHOTO_TOO_LARGE;
extern const Lines TEXT_REMOVE_MODE;
extern const Lines TEXT_ADD_MODE;
extern const Lines TEXT_KEY_REFUSED;
extern const Lines TEXT_SCAN_REFUSED;
extern const Lines TEXT_SCAN_CONFLICT;
extern const Lines TEXT_ODD_ANSWER;
extern const Lines TEXT_UPDATING;

struct CartPorts {
  Clock& clock;
  Random& random;
  Camera& camera;
  NetStream& net;
  Ui& ui;
  Board& board;
  Lock& lock;
  Flash& flash;
};

// Every buffer the cart uses, allocated once by its owner (PSRAM on the device).
struct CartBuffers {
  PendingScan* entries;
  size_t slots;
  uint8_t* slot_storage;  // slots * slot_bytes: the queued JPEGs and codes
  size_t slot_bytes;
  char* body;  // JSON bodies; a base64 photo needs 4/3 of slot_bytes and 200 bytes more
  size_t body_capacity;
  char* head;  // HTTP request heads
  size_t head_capacity;
  char* answer;  // the server's answers
  size_t answer_capacity;
};

enum NetState { NET_STARTING, NET_ONLINE, NET_OFFLINE };

class CartCore {
 public:
  CartCore(const CartPorts& ports, const CartBuffers& buffers);

  // Takes settings (kept by reference); false, with "Needs setup" on screen, when
  // settings_check() finds a problem: the cart then neither scans nor sends. Otherwise the
  // scans saved on flash before the last power cut join the queue, in their order.
  bool begin(const Settings& settings, uint32_t now);

  // --- the input loop ---
  void poll_input(bool button_pressed, uint32_t now);
  void scan_code(const char* code, const char* symbology, uint32_t now);  // a scanner module

  // The camera did not start (esp_camera_init failed): "Camera fault / Ask staff" stays on
  // screen, presses take no photo, and every heartbeat reports it. Call before the network
  // task starts.
  void camera_failed(uint32_t now);

  // --- the network task ---
  // Also runs the Wi-Fi watchdog: reconnect, and restart after minutes without a network.
  void poll_network(uint32_t now);
  // The last heartbeat's update offer, once it is due (update_due: newer, not paired, no scan
  // waiting, no press for UPDATE_IDLE_MS): copied into *offer, "Updating" shown, and the offer
  // forgotten, so a failed download is tried again only after the next heartbeat offers it.
  // The caller (the network task) downloads it into an UpdateInstaller and restarts.
  bool update_take(uint32_t now, UpdateOffer* offer);

  size_t queue_depth() { return queue_.depth(); }
  Mode mode() const { return modes_.current(); }
  NetState net_state();
  bool paired();
  uint64_t uptime_ms() const { return uptime_ms_; }
  bool camera_ok();
  uint32_t failed_captures();  // since start: presses that gave no usable photo

 private:
  struct Feedback {
    char lines[2][DISPLAY_LINE_BYTES];
    Pattern pattern;
    bool idle;  // a heartbeat's lines: they wait while a scan's answer is fresh on screen
  };

  // input side
  uint32_t capture(uint32_t pressed_ms);  // the time after the photo
  Camera::Status photo_after(uint32_t pressed_ms, PendingScan* slot, size_t* length);
  PendingScan* reserve_or_refuse(uint32_t now);
  void enqueue(PendingScan* slot, ScanKind kind, size_t length, uint32_t now);
  void restore_saved(uint32_t now);
  void present(const Feedback& feedback, uint32_t now);
  void present_text(const Lines& lines, Pattern pattern, uint32_t now);
  void drain_mailbox(uint32_t now);
  void capture_failed(const Lines& lines, uint32_t now);
  void render(uint32_t now);
  LedState led_state();

  // network side
  bool network_ready();
  void send_scan(PendingScan& scan);
  void scan_done(PendingScan& scan);
  RetryDecision scan_decide(PendingScan& scan, const HttpResponse& response);
  void scan_wait(PendingScan& scan, RetryDecision decision);
  void scan_finished(const HttpResponse& response, Verdict verdict);
  void send_heartbeat(uint32_t now);
  void watch_wifi(uint32_t now);
  bool exchange(const OutgoingRequest& request, HttpResponse& response);
  void post(const Lines& lines, Pattern pattern);
  void post_answer(const char lines[2][DISPLAY_LINE_BYTES], Pattern pattern, bool idle);
  void set_net(NetState state);
  uint16_t jitter_permille();

  CartPorts ports_;
  CartBuffers buffers_;
  ScanQueue queue_;
  ScanStore store_;
  HttpClient http_;
  Button button_;
  ModeSwitch modes_;
  Melody melody_;
  const Settings* settings_;
  ServerUrl url_;
  bool configured_;

  // input side
  char screen_[3][DISPLAY_LINE_BYTES + 8];  // status line and the two lines, as last drawn
  char lines_[2][DISPLAY_LINE_BYTES];
  char idle_lines_[2][DISPLAY_LINE_BYTES];
  uint32_t lines_since_ms_;
  bool lines_from_scan_;
  uint16_t hz_;
  bool led_;
  bool drawn_once_;

  // network side
  uint64_t uptime_ms_;
  uint32_t uptime_mark_;
  bool heartbeat_sent_;
  uint32_t heartbeat_at_ms_;
  WifiWatchdog wifi_watchdog_;
  UpdateOffer offer_;

  // shared, behind the lock
  static const size_t MAILBOX_SIZE = 4;
  Feedback mailbox_[MAILBOX_SIZE];
  size_t mailbox_count_;
  NetState net_;
  bool paired_;
  bool camera_fault_;
  uint32_t failed_captures_;
  uint32_t last_press_ms_;  // or the start: an update waits UPDATE_IDLE_MS after either
};

}  // namespace smartcart

#endif
