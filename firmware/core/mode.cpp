#include "mode.h"

#include "config.h"
#include "timing.h"

namespace smartcart {

Mode ModeSwitch::toggle(uint32_t now) {
  mode_ = mode_ == MODE_ADD ? MODE_REMOVE : MODE_ADD;
  since_ = now;
  return mode_;
}

void ModeSwitch::scanned() { mode_ = MODE_ADD; }

bool ModeSwitch::expire(uint32_t now) {
  if (mode_ != MODE_REMOVE || elapsed_ms(now, since_) < REMOVE_MODE_TIMEOUT_MS) return false;
  mode_ = MODE_ADD;
  return true;
}

}  // namespace smartcart
