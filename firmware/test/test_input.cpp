// The button, the add/remove switch, the scan queue and the scanner module's lines.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "button.h"
#include "config.h"
#include "fakes.h"
#include "mode.h"
#include "scan_queue.h"
#include "scanner.h"

using namespace smartcart;

namespace {

// Feeds the button level every 5 ms from start for ms; the events seen.
std::vector<ButtonEvent> hold(Button& button, bool pressed, uint32_t& now, uint32_t ms) {
  std::vector<ButtonEvent> events;
  for (uint32_t t = 0; t < ms; t += 5, now += 5) {
    ButtonEvent event = button.update(pressed, now);
    if (event != BUTTON_NONE) events.push_back(event);
  }
  return events;
}

std::vector<ButtonEvent> one(ButtonEvent event) { return std::vector<ButtonEvent>(1, event); }

}  // namespace

TEST_SUITE("button") {
  TEST_CASE("a press released before 800 ms is a short press, on release") {
    Button button;
    uint32_t now = 1000;
    CHECK(hold(button, true, now, 200).empty());
    CHECK(hold(button, false, now, 100) == one(BUTTON_SHORT_PRESS));
  }

  TEST_CASE("a long press fires once while held, and its release is no short press") {
    Button button;
    uint32_t now = 1000;
    CHECK(hold(button, true, now, BUTTON_LONG_PRESS_MS + 20) == one(BUTTON_LONG_PRESS));
    CHECK(hold(button, true, now, 3000).empty());
    CHECK(hold(button, false, now, 100).empty());
  }

  TEST_CASE("bounces shorter than the debounce time are ignored") {
    Button button;
    uint32_t now = 1000;
    for (int i = 0; i < 10; ++i) {  // contact chatter: 5 ms pulses
      CHECK(hold(button, true, now, 5).empty());
      CHECK(hold(button, false, now, 5).empty());
    }
    CHECK(hold(button, false, now, 200).empty());
    // and chatter on release does not make two presses
    hold(button, true, now, 100);
    std::vector<ButtonEvent> events;
    for (int i = 0; i < 5; ++i) {
      std::vector<ButtonEvent> a = hold(button, false, now, 5);
      std::vector<ButtonEvent> b = hold(button, true, now, 5);
      events.insert(events.end(), a.begin(), a.end());
      events.insert(events.end(), b.begin(), b.end());
    }
    std::vector<ButtonEvent> rest = hold(button, false, now, 100);
    events.insert(events.end(), rest.begin(), rest.end());
    CHECK(events == one(BUTTON_SHORT_PRESS));
  }

  TEST_CASE("presses across the millis() wrap-around are measured right") {
    Button button;
    uint32_t now = 0xFFFFFFFFu - 100;
    CHECK(hold(button, true, now, 300).empty());  // wraps while held
    CHECK(hold(button, false, now, 100) == one(BUTTON_SHORT_PRESS));
    now = 0xFFFFFFFFu - 400;
    CHECK(hold(button, true, now, BUTTON_LONG_PRESS_MS + 20) == one(BUTTON_LONG_PRESS));
    hold(button, false, now, 100);
  }
}

TEST_SUITE("mode") {
  TEST_CASE("remove lasts one scan") {
    ModeSwitch modes;
    CHECK(modes.current() == MODE_ADD);
    CHECK(modes.toggle(0) == MODE_REMOVE);
    modes.scanned();
    CHECK(modes.current() == MODE_ADD);
  }

  TEST_CASE("remove lasts ten seconds, across the millis() wrap-around too") {
    uint32_t starts[] = {1000, 0xFFFFFFFFu - 5000};
    for (uint32_t start : starts) {
      ModeSwitch modes;
      modes.toggle(start);
      CHECK_FALSE(modes.expire(start + REMOVE_MODE_TIMEOUT_MS - 1));
      CHECK(modes.current() == MODE_REMOVE);
      CHECK(modes.expire(start + REMOVE_MODE_TIMEOUT_MS));
      CHECK(modes.current() == MODE_ADD);
      CHECK_FALSE(modes.expire(start + REMOVE_MODE_TIMEOUT_MS + 1));  // reported once
    }
  }

  TEST_CASE("add mode never expires") {
    ModeSwitch modes;
    CHECK_FALSE(modes.expire(0xFFFFFFF0u));
    CHECK(modes.current() == MODE_ADD);
  }
}

TEST_SUITE("scan queue") {
  TEST_CASE("a ring: oldest first, full at capacity, slots reused after pop") {
    fakes::FakeLock lock;
    PendingScan entries[3];
    uint8_t storage[3 * 16];
    ScanQueue queue(entries, 3, storage, 16, lock);
    CHECK(queue.head() == NULL);
    PendingScan* slots[3];
    for (int i = 0; i < 3; ++i) {
      slots[i] = queue.reserve();
      REQUIRE(slots[i] != NULL);
      CHECK(slots[i]->payload == storage + 16 * i);
      CHECK(slots[i]->payload_capacity == 16);
      slots[i]->quantity = static_cast<uint8_t>(i + 1);
      queue.commit();
    }
    CHECK(queue.depth() == 3);
    CHECK(queue.reserve() == NULL);  // full: refused, nothing overwritten
    CHECK(queue.head()->quantity == 1);
    queue.pop();
    CHECK(queue.head()->quantity == 2);
    PendingScan* again = queue.reserve();
    CHECK(again == slots[0]);  // the freed slot, at the tail
    again->quantity = 4;
    queue.commit();
    queue.pop();
    queue.pop();
    CHECK(queue.head()->quantity == 4);
    queue.pop();
    CHECK(queue.depth() == 0);
    queue.pop();  // popping nothing is harmless
    CHECK(queue.depth() == 0);
    CHECK(lock.held == 0);
  }

  TEST_CASE("a reserved slot is not in the queue until committed") {
    fakes::FakeLock lock;
    PendingScan entries[2];
    uint8_t storage[2 * 8];
    ScanQueue queue(entries, 2, storage, 8, lock);
    PendingScan* slot = queue.reserve();
    CHECK(slot != NULL);
    CHECK(queue.depth() == 0);
    CHECK(queue.head() == NULL);
    CHECK(queue.reserve() == slot);  // the same slot until committed
  }
}

TEST_SUITE("scanner module") {
  TEST_CASE("lines end at CR, LF or both; empty and overlong lines give nothing") {
    char buffer[8];
    LineReader reader(buffer, sizeof buffer);
    std::vector<std::string> lines;
    const std::string input = "1234\r\n\n567\rTOOLONGLINE\nok\n";
    for (char c : input) {
      const char* line = reader.feed(c);
      if (line != NULL) lines.push_back(line);
    }
    CHECK(lines == std::vector<std::string>{"1234", "567", "ok"});
  }

  TEST_CASE("an AIM prefix gives the symbology; EAN/UPC are left to the server") {
    char symbology[17];
    CHECK(std::string(scanner_code_split("]E04006381333931", symbology, sizeof symbology)) ==
          "4006381333931");
    CHECK(std::string(symbology) == "");
    CHECK(std::string(scanner_code_split("]Q1SC1:abc", symbology, sizeof symbology)) ==
          "SC1:abc");
    CHECK(std::string(symbology) == "QRCODE");
    CHECK(std::string(scanner_code_split("]C0HELLO", symbology, sizeof symbology)) == "HELLO");
    CHECK(std::string(symbology) == "CODE128");
    CHECK(std::string(scanner_code_split("4006381333931", symbology, sizeof symbology)) ==
          "4006381333931");
    CHECK(std::string(symbology) == "");
    CHECK(std::string(scanner_code_split("]Z9odd", symbology, sizeof symbology)) == "]Z9odd");
    CHECK(std::string(scanner_code_split("]E", symbology, sizeof symbology)) == "]E");
  }
}
