// What the shopper sees and hears: buzzer patterns, the status LED, the OLED's text.
#ifndef SMARTCART_FEEDBACK_H
#define SMARTCART_FEEDBACK_H

#include <stddef.h>
#include <stdint.h>

namespace smartcart {

enum Pattern {
  PATTERN_NONE,
  PATTERN_OK,           // the server's "ok": one short high beep
  PATTERN_ERROR,        // the server's "error", and every local refusal: three low beeps
  PATTERN_PAIR,         // the server's "pair": a rising three-note chime
  PATTERN_OFFLINE,      // the scan is kept and will be sent later: two soft blips, far apart
  PATTERN_MODE_ADD,     // back to adding: low then high
  PATTERN_MODE_REMOVE,  // now removing: high then low
  PATTERN_COUNT
};

struct Tone {
  uint16_t hz;  // 0: a pause
  uint16_t ms;
};

// The pattern's tones and, in *count, how many.
const Tone* pattern_tones(Pattern pattern, size_t* count);
uint32_t pattern_ms(Pattern pattern);

// Plays patterns on the buzzer without blocking, one after the other: two answers arriving
// together are both heard.
class Melody {
 public:
  Melody() : count_(0), started_(0) {}
  void play(Pattern pattern, uint32_t now);  // after those already playing or waiting
  uint16_t update(uint32_t now);  // what the buzzer should sound now (0: silence)
  bool playing() const { return count_ > 0; }

 private:
  static const size_t QUEUE = 4;
  Pattern queue_[QUEUE];
  size_t count_;
  uint32_t started_;  // when queue_[0] began
};

enum LedState {
  LED_STARTING,     // no Wi-Fi or no time yet: slow even blink
  LED_READY,        // on
  LED_SENDING,      // scans waiting, network up: fast blink
  LED_OFFLINE,      // scans waiting, no network or no answer: short flash each second
  LED_NEEDS_SETUP,  // provisioning incomplete: double flash
  LED_STATE_COUNT
};

bool led_level(LedState state, uint32_t now);

// The OLED's font is code page 437 (Adafruit GFX with cp437(true)). Converts UTF-8 text to at
// most DISPLAY_LINE_CHARS characters of it: ASCII as is, common accented letters to their
// glyphs, anything else (and control characters) to '?'. out has DISPLAY_LINE_BYTES of room.
void display_fit(const char* utf8, char* out);

}  // namespace smartcart

#endif
