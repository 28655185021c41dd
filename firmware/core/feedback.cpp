#include "feedback.h"

#include <string.h>

#include "config.h"
#include "timing.h"
#include "utf8.h"

namespace smartcart {

namespace {

const Tone OK_TONES[] = {{2700, 90}};
const Tone ERROR_TONES[] = {{400, 150}, {0, 80}, {400, 150}, {0, 80}, {400, 300}};
const Tone PAIR_TONES[] = {{1500, 100}, {2000, 100}, {2700, 180}};
const Tone OFFLINE_TONES[] = {{1000, 60}, {0, 300}, {1000, 60}};
const Tone MODE_ADD_TONES[] = {{1200, 80}, {2000, 160}};
const Tone MODE_REMOVE_TONES[] = {{2000, 80}, {1200, 160}};

#define TONES(array) array, sizeof(array) / sizeof(array[0])

struct PatternTones {
  const Tone* tones;
  size_t count;
};

const PatternTones PATTERNS[PATTERN_COUNT] = {
    {NULL, 0},
    {TONES(OK_TONES)},
    {TONES(ERROR_TONES)},
    {TONES(PAIR_TONES)},
    {TONES(OFFLINE_TONES)},
    {TONES(MODE_ADD_TONES)},
    {TONES(MODE_REMOVE_TONES)},
};

struct Blink {
  uint16_t period_ms;
  uint16_t on_ms[4];  // on from on_ms[0] to on_ms[1], and from on_ms[2] to on_ms[3]
};

const Blink BLINKS[LED_STATE_COUNT] = {
    {1000, {0, 500, 0, 0}},       // starting
    {1000, {0, 1000, 0, 0}},      // ready
    {200, {0, 100, 0, 0}},        // sending
    {1000, {0, 80, 0, 0}},        // offline
    {1200, {0, 120, 240, 360}},   // needs setup
};

// Latin-1 letters the OLED's font has, and their code page 437 glyphs.
struct Glyph {
  uint16_t code_point;
  uint8_t cp437;
};

const Glyph GLYPHS[] = {
    {0xC7, 0x80}, {0xFC, 0x81}, {0xE9, 0x82}, {0xE2, 0x83}, {0xE4, 0x84}, {0xE0, 0x85},
    {0xE5, 0x86}, {0xE7, 0x87}, {0xEA, 0x88}, {0xEB, 0x89}, {0xE8, 0x8A}, {0xEF, 0x8B},
    {0xEE, 0x8C}, {0xEC, 0x8D}, {0xC4, 0x8E}, {0xC5, 0x8F}, {0xC9, 0x90}, {0xE6, 0x91},
    {0xC6, 0x92}, {0xF4, 0x93}, {0xF6, 0x94}, {0xF2, 0x95}, {0xFB, 0x96}, {0xF9, 0x97},
    {0xFF, 0x98}, {0xD6, 0x99}, {0xDC, 0x9A}, {0xA3, 0x9C}, {0xE1, 0xA0}, {0xED, 0xA1},
    {0xF3, 0xA2}, {0xFA, 0xA3}, {0xF1, 0xA4}, {0xD1, 0xA5}, {0xDF, 0xE1},
};

char glyph_for(uint32_t code_point) {
  if (code_point >= 0x20 && code_point < 0x7F) return static_cast<char>(code_point);
  for (size_t i = 0; i < sizeof GLYPHS / sizeof GLYPHS[0]; ++i) {
    if (GLYPHS[i].code_point == code_point) return static_cast<char>(GLYPHS[i].cp437);
  }
  return '?';
}

}  // namespace

const Tone* pattern_tones(Pattern pattern, size_t* count) {
  if (pattern < 0 || pattern >= PATTERN_COUNT) pattern = PATTERN_NONE;
  *count = PATTERNS[pattern].count;
  return PATTERNS[pattern].tones;
}

uint32_t pattern_ms(Pattern pattern) {
  size_t count;
  const Tone* tones = pattern_tones(pattern, &count);
  uint32_t total = 0;
  for (size_t i = 0; i < count; ++i) total += tones[i].ms;
  return total;
}

void Melody::play(Pattern pattern, uint32_t now) {
  if (pattern == PATTERN_NONE) return;
  if (count_ == 0) started_ = now;
  if (count_ == QUEUE) --count_;  // too much news at once: the newest replaces the last
  queue_[count_++] = pattern;
}

uint16_t Melody::update(uint32_t now) {
  while (count_ > 0 && elapsed_ms(now, started_) >= pattern_ms(queue_[0])) {
    started_ += pattern_ms(queue_[0]);  // the next one starts where this one ended
    memmove(&queue_[0], &queue_[1], (count_ - 1) * sizeof queue_[0]);
    --count_;
  }
  if (count_ == 0) return 0;
  size_t count;
  const Tone* tones = pattern_tones(queue_[0], &count);
  uint32_t at = elapsed_ms(now, started_);
  for (size_t i = 0; i < count; ++i) {
    if (at < tones[i].ms) return tones[i].hz;
    at -= tones[i].ms;
  }
  return 0;
}

bool led_level(LedState state, uint32_t now) {
  const Blink& blink = BLINKS[state];
  uint32_t at = now % blink.period_ms;
  return (at >= blink.on_ms[0] && at < blink.on_ms[1]) ||
         (at >= blink.on_ms[2] && at < blink.on_ms[3]);
}

void display_fit(const char* utf8, char* out) {
  size_t remaining = strlen(utf8);
  size_t o = 0;
  while (remaining > 0 && o < DISPLAY_LINE_CHARS) {
    uint32_t code_point;
    size_t used = utf8_decode(utf8, remaining, &code_point);
    if (used == 0) {
      code_point = 0xFFFD;
      used = 1;
    }
    out[o++] = glyph_for(code_point);
    utf8 += used;
    remaining -= used;
  }
  out[o] = '\0';
}

}  // namespace smartcart
