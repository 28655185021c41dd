// The cart's one button: debounced, a short press scans, a long press switches add/remove.
#ifndef SMARTCART_BUTTON_H
#define SMARTCART_BUTTON_H

#include <stdint.h>

namespace smartcart {

enum ButtonEvent { BUTTON_NONE, BUTTON_SHORT_PRESS, BUTTON_LONG_PRESS };

class Button {
 public:
  Button();
  // Call often (every loop) with the raw level; returns what just happened. A long press
  // fires once while still held, at BUTTON_LONG_PRESS_MS, so the shopper hears it; a press
  // released before that is a short press. Bounces shorter than BUTTON_DEBOUNCE_MS are ignored.
  ButtonEvent update(bool pressed, uint32_t now);

 private:
  bool raw_;
  uint32_t raw_since_;
  bool stable_;
  uint32_t pressed_at_;
  bool long_fired_;
};

}  // namespace smartcart

#endif
