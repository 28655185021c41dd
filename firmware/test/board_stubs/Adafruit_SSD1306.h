// Board stub: adafruit/Adafruit_SSD1306 Adafruit_SSD1306.h (stored copy read: 0206d350; the
// members used are as in 2.5.13): the I2C constructor, begin, display, clearDisplay,
// drawFastHLine, SSD1306_SWITCHCAPVCC, SSD1306_WHITE.
#ifndef BOARD_STUB_ADAFRUIT_SSD1306_H
#define BOARD_STUB_ADAFRUIT_SSD1306_H

#include "Adafruit_GFX.h"
#include "Wire.h"

#define SSD1306_BLACK 0
#define SSD1306_WHITE 1
#define SSD1306_SWITCHCAPVCC 0x02

class Adafruit_SSD1306 : public Adafruit_GFX {
 public:
  Adafruit_SSD1306(uint8_t w, uint8_t h, TwoWire* twi = &Wire, int8_t rst_pin = -1,
                   uint32_t clkDuring = 400000UL, uint32_t clkAfter = 100000UL);
  ~Adafruit_SSD1306(void);
  bool begin(uint8_t switchvcc = SSD1306_SWITCHCAPVCC, uint8_t i2caddr = 0, bool reset = true,
             bool periphBegin = true);
  void display(void);
  void clearDisplay(void);
  void drawPixel(int16_t x, int16_t y, uint16_t color) override;
  void drawFastHLine(int16_t x, int16_t y, int16_t w, uint16_t color) override;
};

#endif
