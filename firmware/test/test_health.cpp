// Health and recovery: the heartbeat's health report, the Wi-Fi watchdog, a camera that did not
// start, and frame sizes whose photos fit a slot.
#include <doctest/doctest.h>
#include <string.h>

#include <string>
#include <vector>

#include "cart.h"
#include "fakes.h"
#include "health.h"
#include "helpers.h"
#include "json_reader.h"

using namespace smartcart;
using fakes::Rig;
using fakes::body_of;
using fakes::golden;
using fakes::http_answer;
using fakes::played;

namespace {

std::string heartbeat_field(const std::string& request, const char* name) {
  std::string body = body_of(request);
  JsonValue root, value;
  REQUIRE(json_parse(body.data(), body.size(), &root));
  if (!json_member(root, name, &value)) return "<missing>";
  if (value.type != JSON_STRING) return std::string(value.start, value.length);
  char text[64];
  REQUIRE(json_string(value, text, sizeof text));
  return text;
}

std::string last_heartbeat(Rig& rig) {
  for (size_t i = rig.net.requests.size(); i > 0; --i) {
    if (rig.net.requests[i - 1].find("/heartbeat/ HTTP/1.1") != std::string::npos) {
      return rig.net.requests[i - 1];
    }
  }
  FAIL("no heartbeat sent");
  return "";
}

}  // namespace

TEST_SUITE("health") {
  TEST_CASE("the heartbeat reports the reset reason, free PSRAM, failed captures and the camera") {
    Rig rig;
    rig.board.reset = RESET_TASK_WATCHDOG;
    rig.board.psram = 2000000;
    REQUIRE(rig.begin());
    rig.net.answer(http_answer(200, golden("response_heartbeat")));
    rig.network();
    std::string first = last_heartbeat(rig);
    CHECK(heartbeat_field(first, "reset_reason") == "task_watchdog");
    CHECK(heartbeat_field(first, "free_psram") == "2000000");
    CHECK(heartbeat_field(first, "failed_captures") == "0");
    CHECK(heartbeat_field(first, "camera_ok") == "true");

    rig.camera.status = Camera::FAILED;  // two presses that give no photo
    rig.press();
    rig.press();
    CHECK(rig.cart().failed_captures() == 2);
    rig.net.answer(http_answer(200, golden("response_heartbeat")));
    rig.clock.now += HEARTBEAT_INTERVAL_MS;
    rig.network();
    CHECK(heartbeat_field(last_heartbeat(rig), "failed_captures") == "2");
  }

  TEST_CASE("every reset reason has its own name") {
    for (int i = 0; i < RESET_REASON_COUNT; ++i) {
      for (int j = 0; j < i; ++j) {
        CHECK(strcmp(reset_reason_name(static_cast<ResetReason>(i)),
                     reset_reason_name(static_cast<ResetReason>(j))) != 0);
      }
    }
    CHECK(std::string(reset_reason_name(static_cast<ResetReason>(99))) == "unknown");
  }

  TEST_CASE("a camera that did not start: Camera fault / Ask staff, no photo, reported") {
    Rig rig;
    REQUIRE(rig.begin());
    size_t mark = rig.ui.tones.size();
    rig.cart().camera_failed(rig.clock.now);
    for (int i = 0; i < 150; ++i) {  // the input loop alone: no server is scripted yet
      rig.clock.now += 10;
      rig.input();
    }
    CHECK(rig.ui.screen().line1 == TEXT_CAMERA_FAULT.line1);
    CHECK(rig.ui.screen().line2 == TEXT_CAMERA_FAULT.line2);
    CHECK(played(rig.ui, mark, PATTERN_ERROR));
    // The server's idle lines do not hide the fault.
    rig.net.answer(http_answer(200, golden("response_heartbeat")));
    rig.network();
    rig.run(FEEDBACK_HOLD_MS + 100);
    CHECK(rig.ui.screen().line1 == TEXT_CAMERA_FAULT.line1);
    CHECK(heartbeat_field(last_heartbeat(rig), "camera_ok") == "false");
    // A press takes no photo and queues nothing.
    size_t grabbed = rig.camera.grabbed.size();
    rig.press();
    CHECK(rig.camera.grabbed.size() == grabbed);
    CHECK(rig.cart().queue_depth() == 0);
    CHECK(rig.ui.screen().line1 == TEXT_CAMERA_FAULT.line1);
  }

  TEST_CASE("frame sizes: VGA and SVGA fit a 96 KiB slot; XGA and larger are refused") {
    CHECK(frame_size_fits(*frame_size_find("VGA")));
    CHECK(frame_size_fits(*frame_size_find("SVGA")));
    const char* too_large[] = {"XGA", "HD", "SXGA", "UXGA"};
    for (const char* name : too_large) {
      CAPTURE(name);
      CHECK_FALSE(frame_size_fits(*frame_size_find(name)));
    }
    CHECK(jpeg_bytes_max(800, 600) <= SLOT_BYTES);
    CHECK(jpeg_bytes_max(1024, 768) > SLOT_BYTES);
  }
}

TEST_SUITE("wifi watchdog") {
  TEST_CASE("a network that is up needs nothing") {
    WifiWatchdog watchdog;
    for (uint32_t t = 0; t < 10 * WIFI_RESTART_AFTER_MS; t += 1000) {
      CHECK(watchdog.update(true, t) == WifiWatchdog::NONE);
    }
  }

  TEST_CASE("down: reconnect after 20 s and every 30 s, restart after five minutes") {
    WifiWatchdog watchdog;
    const uint32_t start = 0xFFFFF000u;  // across millis() wrapping around
    std::vector<uint32_t> reconnects;
    uint32_t restart_at = 0;
    bool restarted = false;
    for (uint32_t t = 0; t <= WIFI_RESTART_AFTER_MS && !restarted; t += 100) {
      WifiWatchdog::Action action = watchdog.update(false, start + t);
      if (action == WifiWatchdog::RECONNECT) reconnects.push_back(t);
      if (action == WifiWatchdog::RESTART) {
        restarted = true;
        restart_at = t;
      }
    }
    REQUIRE(restarted);
    CHECK(restart_at == WIFI_RESTART_AFTER_MS);
    REQUIRE(reconnects.size() >= 2);
    CHECK(reconnects[0] == WIFI_RECONNECT_AFTER_MS);
    CHECK(reconnects[1] == WIFI_RECONNECT_AFTER_MS + WIFI_RECONNECT_EVERY_MS);
  }

  TEST_CASE("a network back in time resets the count") {
    WifiWatchdog watchdog;
    watchdog.update(false, 0);
    CHECK(watchdog.update(false, WIFI_RESTART_AFTER_MS - 1000) == WifiWatchdog::RECONNECT);
    CHECK(watchdog.update(true, WIFI_RESTART_AFTER_MS - 500) == WifiWatchdog::NONE);
    CHECK(watchdog.update(false, WIFI_RESTART_AFTER_MS) == WifiWatchdog::NONE);
    CHECK(watchdog.update(false, WIFI_RESTART_AFTER_MS + 1000) == WifiWatchdog::NONE);
  }

  TEST_CASE("the cart asks the board to reconnect, then restarts, without losing its queue") {
    Rig rig;
    REQUIRE(rig.begin());
    rig.board.up = false;
    rig.press();
    rig.run(WIFI_RECONNECT_AFTER_MS + 100);
    CHECK(rig.board.reconnects == 1);
    CHECK(rig.board.wifi_restarts == 0);
    rig.run(WIFI_RESTART_AFTER_MS);
    CHECK(rig.board.wifi_restarts >= 1);
    CHECK(rig.board.reconnects > 1);
    CHECK(rig.flash.files.size() == 1);  // the queued scan waits on flash for the restart
  }
}
