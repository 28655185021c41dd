// Board stub: espressif/arduino-esp32 libraries/Wire/src/Wire.h (2.0.x): TwoWire::begin(sda,
// scl, frequency) and the Wire object.
#ifndef BOARD_STUB_WIRE_H
#define BOARD_STUB_WIRE_H

#include "Arduino.h"

class TwoWire : public Stream {
 public:
  bool begin(int sda = -1, int scl = -1, uint32_t frequency = 0);
  size_t write(uint8_t) override;
  int available() override;
  int read() override;
  int peek() override;
};

extern TwoWire Wire;

#endif
