#include "button.h"

#include "config.h"
#include "timing.h"

namespace smartcart {

Button::Button()
    : raw_(false), raw_since_(0), stable_(false), pressed_at_(0), long_fired_(false) {}

ButtonEvent Button::update(bool pressed, uint32_t now) {
  if (pressed != raw_) {
    raw_ = pressed;
    raw_since_ = now;
  }
  if (raw_ != stable_ && elapsed_ms(now, raw_since_) >= BUTTON_DEBOUNCE_MS) {
    stable_ = raw_;
    if (stable_) {
      pressed_at_ = raw_since_;
      long_fired_ = false;
    } else if (!long_fired_) {
      return BUTTON_SHORT_PRESS;
    }
  }
  if (stable_ && !long_fired_ && elapsed_ms(now, pressed_at_) >= BUTTON_LONG_PRESS_MS) {
    long_fired_ = true;
    return BUTTON_LONG_PRESS;
  }
  return BUTTON_NONE;
}

}  // namespace smartcart
