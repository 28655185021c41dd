// Board stub: adafruit/Adafruit-GFX-Library Adafruit_GFX.h (1.11.x): the drawing members the
// board code calls (a Print, so print() comes from Print.h).
#ifndef BOARD_STUB_ADAFRUIT_GFX_H
#define BOARD_STUB_ADAFRUIT_GFX_H

#include "Arduino.h"

class Adafruit_GFX : public Print {
 public:
  Adafruit_GFX(int16_t w, int16_t h);
  virtual void drawPixel(int16_t x, int16_t y, uint16_t color) = 0;
  virtual void drawFastHLine(int16_t x, int16_t y, int16_t w, uint16_t color);
  void setCursor(int16_t x, int16_t y);
  void setTextColor(uint16_t c);
  void setTextSize(uint8_t s);
  void cp437(bool x = true);
  size_t write(uint8_t) override;
  using Print::write;
};

#endif
