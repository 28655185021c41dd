// What keeps a cart running unattended, and what it tells the server about itself: why it last
// restarted, and the Wi-Fi watchdog's decisions.
#ifndef SMARTCART_HEALTH_H
#define SMARTCART_HEALTH_H

#include <stddef.h>
#include <stdint.h>

namespace smartcart {

// Why the cart last started (esp_reset_reason(), and the Wi-Fi watchdog's own restarts, which
// the board marks in RTC memory before restarting). The heartbeat sends reset_reason_name();
// the server's Device.ResetReason has the same names (tests/fixtures/devices/cart/
// reset_reasons.json ties the two lists).
enum ResetReason {
  RESET_UNKNOWN,
  RESET_POWER_ON,
  RESET_EXTERNAL,  // the reset pin
  RESET_SOFTWARE,  // a restart asked for (console reboot, after provisioning)
  RESET_PANIC,     // a crash
  RESET_INTERRUPT_WATCHDOG,
  RESET_TASK_WATCHDOG,  // the input loop or the network task hung
  RESET_OTHER_WATCHDOG,
  RESET_DEEP_SLEEP,
  RESET_BROWNOUT,  // the supply sagged: a weak 5 V supply or a flat battery
  RESET_WIFI_WATCHDOG,  // no network for WIFI_RESTART_AFTER_MS
  RESET_REASON_COUNT
};

const char* reset_reason_name(ResetReason reason);

// Watches the network: reconnect after WIFI_RECONNECT_AFTER_MS without one (and every
// WIFI_RECONNECT_EVERY_MS after), restart after WIFI_RESTART_AFTER_MS.
class WifiWatchdog {
 public:
  enum Action { NONE, RECONNECT, RESTART };
  WifiWatchdog() : down_(false), down_since_ms_(0), last_reconnect_ms_(0), reconnects_(0) {}
  Action update(bool network_up, uint32_t now);

 private:
  bool down_;
  uint32_t down_since_ms_;
  uint32_t last_reconnect_ms_;
  uint32_t reconnects_;
};

}  // namespace smartcart

#endif
