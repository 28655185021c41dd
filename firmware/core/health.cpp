#include "health.h"

#include "config.h"
#include "timing.h"

namespace smartcart {

namespace {

const char* const RESET_REASON_NAMES[RESET_REASON_COUNT] = {
    "unknown",       "power_on",           "external",      "software",
    "panic",         "interrupt_watchdog", "task_watchdog", "other_watchdog",
    "deep_sleep",    "brownout",           "wifi_watchdog",
};

}  // namespace

const char* reset_reason_name(ResetReason reason) {
  int index = static_cast<int>(reason);
  return index >= 0 && index < RESET_REASON_COUNT ? RESET_REASON_NAMES[index] : "unknown";
}

WifiWatchdog::Action WifiWatchdog::update(bool network_up, uint32_t now) {
  if (network_up) {
    down_ = false;
    return NONE;
  }
  if (!down_) {
    down_ = true;
    down_since_ms_ = now;
    reconnects_ = 0;
    return NONE;
  }
  uint32_t down_for = elapsed_ms(now, down_since_ms_);
  if (down_for >= WIFI_RESTART_AFTER_MS) return RESTART;
  if (down_for < WIFI_RECONNECT_AFTER_MS) return NONE;
  if (reconnects_ > 0 && elapsed_ms(now, last_reconnect_ms_) < WIFI_RECONNECT_EVERY_MS) {
    return NONE;
  }
  ++reconnects_;
  last_reconnect_ms_ = now;
  return RECONNECT;
}

}  // namespace smartcart
