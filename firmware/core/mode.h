// Add or remove: what the next scan does. Remove is the exception, so it does not last.
#ifndef SMARTCART_MODE_H
#define SMARTCART_MODE_H

#include <stdint.h>

#include "scan_queue.h"

namespace smartcart {

class ModeSwitch {
 public:
  ModeSwitch() : mode_(MODE_ADD), since_(0) {}
  Mode current() const { return mode_; }
  Mode toggle(uint32_t now);  // the long press
  // A scan was taken: remove mode has done its one scan.
  void scanned();
  // Remove mode ends by itself after REMOVE_MODE_TIMEOUT_MS; true when it just did.
  bool expire(uint32_t now);

 private:
  Mode mode_;
  uint32_t since_;
};

}  // namespace smartcart

#endif
