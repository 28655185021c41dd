// The whole cart on fakes: capture, scan_id, queue, offline, heartbeat, screen and buzzer.
#include <doctest/doctest.h>
#include <string.h>

#include <string>
#include <vector>

#include "cart.h"
#include "fakes.h"
#include "helpers.h"
#include "json_reader.h"
#include "settings.h"
#include "timing.h"
#include "uuid.h"

using namespace smartcart;
using fakes::FakeCamera;
using fakes::FakeNet;
using fakes::Rig;
using fakes::body_of;
using fakes::golden;
using fakes::header_of;
using fakes::http_answer;
using fakes::played;

namespace {

std::string added() { return http_answer(201, golden("response_added")); }

// A rig whose first heartbeat is done, so the next request is the scan under test. The
// heartbeat's connection is closed after it: each test's first scan opens its own.
void start(Rig& rig) {
  rig.net.heartbeat_reply = http_answer(200, golden("response_heartbeat"),
                                        std::vector<std::string>(1, "Connection: close"));
  REQUIRE(rig.begin());
  rig.network();
  REQUIRE(rig.net.heartbeats == 1);
}

// A short press the cart acts on at `at`: the button went down 70 ms before and was let go
// 30 ms before (a change counts once it has lasted BUTTON_DEBOUNCE_MS).
void press_at(Rig& rig, uint32_t at) {
  const uint32_t down = at - 2 * BUTTON_DEBOUNCE_MS - 10;
  REQUIRE(time_reached(down, rig.clock.now));
  const uint32_t times[] = {down, down + BUTTON_DEBOUNCE_MS, down + BUTTON_DEBOUNCE_MS + 10, at};
  const bool held[] = {true, true, false, false};
  for (size_t i = 0; i < 4; ++i) {
    rig.clock.now = times[i];
    rig.cart().poll_input(held[i], times[i]);
  }
}

// The photo of the scan the cart took last, as the server gets it.
FakeCamera::Frame photo_sent(Rig& rig) {
  rig.net.answer(added());
  rig.network();
  std::vector<std::string> scans = rig.net.scan_requests();
  REQUIRE(!scans.empty());
  REQUIRE(rig.cart().queue_depth() == 0);
  return FakeCamera::photo_of(body_of(scans.back()));
}

std::string json_field(const std::string& body, const char* name) {
  JsonValue root, value;
  REQUIRE(json_parse(body.data(), body.size(), &root));
  if (!json_member(root, name, &value)) return "<missing>";
  if (value.type != JSON_STRING) return std::string(value.start, value.length);
  char text[256];
  REQUIRE(json_string(value, text, sizeof text));
  return text;
}

}  // namespace

TEST_SUITE("capture") {
  TEST_CASE("the default frame is SVGA, 800x600") {
    const FrameSize* frame = frame_size_find("");
    REQUIRE(frame != NULL);
    CHECK(std::string(frame->name) == "SVGA");
    CHECK(frame->width == FRAME_WIDTH_DEFAULT);
    CHECK(frame->height == FRAME_HEIGHT_DEFAULT);
    CHECK(FRAME_WIDTH_DEFAULT == 800);
    CHECK(FRAME_HEIGHT_DEFAULT == 600);
    CHECK(frame_size_find("xga")->width == 1024);
    CHECK(frame_size_find("QQVGA") == NULL);
  }

  TEST_CASE("a short press takes one JPEG and queues it, sent as the raw body") {
    Rig rig;
    start(rig);
    rig.net.answer(added());
    rig.press();
    CHECK(rig.cart().queue_depth() == 1);
    rig.network();
    std::vector<std::string> scans = rig.net.scan_requests();
    REQUIRE(scans.size() == 1);
    CHECK(header_of(scans[0], "Content-Type") == "image/jpeg");
    std::string body = body_of(scans[0]);
    REQUIRE(!rig.camera.grabbed.empty());
    CHECK(std::vector<uint8_t>(body.begin(), body.end()) ==
          rig.camera.bytes_of(rig.camera.grabbed.back()));
    CHECK(rig.cart().queue_depth() == 0);
  }

  TEST_CASE("the fake camera hands out frames as esp32-camera's driver does") {
    fakes::FakeClock clock;  // 1000 ms; the sensor begins a frame every 40 ms from 1040
    FakeCamera camera(clock);
    camera.jpeg = fakes::file_bytes(fakes::frame_jpeg_path());
    std::vector<uint8_t> photo(Rig::SLOT_BYTES);
    size_t length = 0;
    uint32_t taken_ms = 0;
    // One buffer, filled when empty: the frame begun at boot waits; the next is begun only
    // after it is returned.
    camera.start(1, FakeCamera::GRAB_WHEN_EMPTY);
    clock.now = 5000;
    REQUIRE(camera.capture(photo.data(), photo.size(), &length, &taken_ms) == Camera::OK);
    CHECK(taken_ms == 1040);
    CHECK(clock.now == 5000);
    REQUIRE(camera.capture(photo.data(), photo.size(), &length, &taken_ms) == Camera::OK);
    CHECK(taken_ms == 5040);
    CHECK(clock.now == 5080);  // waited for it to be read
    // Two buffers, the latest kept: the newest finished frame, begun before the call.
    camera.start(2, FakeCamera::GRAB_LATEST);
    clock.now = 9000;
    REQUIRE(camera.capture(photo.data(), photo.size(), &length, &taken_ms) == Camera::OK);
    CHECK(taken_ms == 8960);
    REQUIRE(camera.capture(photo.data(), photo.size(), &length, &taken_ms) == Camera::OK);
    CHECK(taken_ms == 9000);  // the one in flight at the call
    CHECK(clock.now == 9040);
    std::string bytes(photo.begin(), photo.begin() + static_cast<std::ptrdiff_t>(length));
    CHECK(FakeCamera::photo_of(bytes).what == "product");
    CHECK(FakeCamera::photo_of(bytes).taken_ms == 9000);
  }

  TEST_CASE("a press 100 ms after a photo sends a new photo, begun after that press") {
    // The shopper photographs oat milk, holds up rye bread and presses again at once. The
    // driver began a frame just after the first photo, when the oat milk was still there.
    Rig rig;
    start(rig);
    rig.camera.show("oat milk", rig.clock.now);
    uint32_t first = rig.clock.now + 1000;
    press_at(rig, first);
    FakeCamera::Frame oat = photo_sent(rig);
    uint32_t photo_ms = rig.clock.now;  // the first photo is in; the driver reads the next frame
    rig.camera.show("rye bread", photo_ms + 60);
    uint32_t second = photo_ms + 100;
    press_at(rig, second);
    FakeCamera::Frame rye = photo_sent(rig);
    CHECK(elapsed_ms(second, first) < 200);  // back to back: the first photo took 40-80 ms
    CHECK(oat.what == "oat milk");
    CHECK(time_reached(oat.taken_ms, first));
    CHECK(rye.what == "rye bread");
    CHECK(time_reached(rye.taken_ms, second));
  }

  TEST_CASE("however the driver buffers, no photo sent was begun before its press") {
    struct Buffering {
      size_t buffers;
      FakeCamera::GrabMode mode;
    };
    const Buffering bufferings[] = {{1, FakeCamera::GRAB_WHEN_EMPTY},
                                    {2, FakeCamera::GRAB_LATEST},
                                    {2, FakeCamera::GRAB_WHEN_EMPTY},
                                    {3, FakeCamera::GRAB_LATEST}};
    const uint32_t gaps_ms[] = {0, 10, 30, 100, 250, 2000, 60000};  // since the last photo
    for (const Buffering& buffering : bufferings) {
      CAPTURE(buffering.buffers);
      CAPTURE(buffering.mode);
      Rig rig;
      rig.camera.start(buffering.buffers, buffering.mode);
      start(rig);
      for (uint32_t gap : gaps_ms) {
        CAPTURE(gap);
        uint32_t at = rig.clock.now + 2 * BUTTON_DEBOUNCE_MS + 10 + gap;
        std::string product = "product pressed at " + std::to_string(at);
        rig.camera.show(product, at - 50);  // held up just before the press
        press_at(rig, at);
        FakeCamera::Frame photo = photo_sent(rig);
        CHECK(photo.what == product);
        CHECK(time_reached(photo.taken_ms, at));
      }
    }
  }

  TEST_CASE("a driver whose frames all seem older than the press gives a camera error") {
    Rig rig;
    start(rig);
    rig.camera.stamp_lag_ms = 60000;  // stamped on some other clock
    size_t mark = rig.ui.tones.size();
    rig.press();
    rig.run(1000);
    CHECK(rig.camera.grabbed.size() == CAMERA_STALE_FRAMES_MAX + 1u);  // then it gives up
    CHECK(rig.cart().queue_depth() == 0);
    CHECK(rig.ui.screen().line1 == TEXT_CAMERA_ERROR.line1);
    CHECK(played(rig.ui, mark, PATTERN_ERROR));
  }

  TEST_CASE("what is not a JPEG, or does not come, is a camera error and queues nothing") {
    Rig rig;
    start(rig);
    size_t mark = rig.ui.tones.size();
    rig.camera.jpeg = std::vector<uint8_t>(100, 0x42);
    rig.press();
    rig.run(1000);
    CHECK(rig.cart().queue_depth() == 0);
    CHECK(rig.ui.screen().line1 == TEXT_CAMERA_ERROR.line1);
    CHECK(played(rig.ui, mark, PATTERN_ERROR));
    rig.camera.status = Camera::FAILED;
    rig.press();
    CHECK(rig.cart().queue_depth() == 0);
  }

  TEST_CASE("a frame larger than its slot is refused with an error beep") {
    Rig rig;
    start(rig);
    size_t mark = rig.ui.tones.size();
    rig.camera.jpeg.resize(Rig::SLOT_BYTES + 1);
    rig.press();
    rig.run(1000);
    CHECK(rig.cart().queue_depth() == 0);
    CHECK(rig.ui.screen().line1 == TEXT_PHOTO_TOO_LARGE.line1);
    CHECK(played(rig.ui, mark, PATTERN_ERROR));
  }
}

TEST_SUITE("scan id") {
  TEST_CASE("every scan gets a new UUIDv4, made at capture, kept through retries") {
    Rig rig;
    start(rig);
    rig.press();
    rig.press();
    rig.net.answer(http_answer(503, "{}"));
    rig.net.answer(added());
    rig.net.answer(added());
    rig.run(5000);
    std::vector<std::string> scans = rig.net.scan_requests();
    REQUIRE(scans.size() == 3);
    std::string first = header_of(scans[0], "X-Scan-Id");
    CHECK(uuid4_valid(first.c_str()));
    CHECK(scans[1] == scans[0]);  // the retry: same id, same bytes
    std::string second = header_of(scans[2], "X-Scan-Id");
    CHECK(uuid4_valid(second.c_str()));
    CHECK(second != first);
  }
}

TEST_SUITE("offline queue") {
  TEST_CASE("without Wi-Fi scans wait, the shopper hears they are kept, then all go in order") {
    Rig rig;
    start(rig);
    rig.board.up = false;
    size_t mark = rig.ui.tones.size();
    rig.press();
    rig.run(500);
    CHECK(played(rig.ui, mark, PATTERN_OFFLINE));
    CHECK(rig.ui.screen().line1 == TEXT_SAVED.line1);
    CHECK(rig.ui.screen().status.find("offline") != std::string::npos);
    rig.press();
    rig.press();
    rig.run(500);
    CHECK(rig.cart().queue_depth() == 3);
    CHECK(rig.net.scan_requests().empty());
    rig.board.up = true;
    for (int i = 0; i < 3; ++i) rig.net.answer(added());
    rig.run(500);
    CHECK(rig.cart().queue_depth() == 0);
    std::vector<std::string> scans = rig.net.scan_requests();
    REQUIRE(scans.size() == 3);
    CHECK(header_of(scans[0], "X-Scan-Id") != header_of(scans[1], "X-Scan-Id"));
  }

  TEST_CASE("when the ring is full a new scan is refused loudly; none accepted is dropped") {
    Rig rig;
    start(rig);
    rig.board.up = false;
    for (size_t i = 0; i < Rig::SLOTS; ++i) rig.press();
    CHECK(rig.cart().queue_depth() == Rig::SLOTS);
    rig.run(500);
    size_t mark = rig.ui.tones.size();
    size_t photos = rig.camera.grabbed.size();
    rig.press();
    rig.run(3000);  // after the offline blips still queued on the buzzer
    CHECK(rig.cart().queue_depth() == Rig::SLOTS);
    CHECK(rig.ui.screen().line1 == TEXT_QUEUE_FULL.line1);
    CHECK(played(rig.ui, mark, PATTERN_ERROR));
    CHECK(rig.camera.grabbed.size() == photos);  // the refused press took no photo
    rig.board.up = true;
    for (size_t i = 0; i < Rig::SLOTS; ++i) rig.net.answer(added());
    rig.run(1000);
    CHECK(rig.net.scan_requests().size() == Rig::SLOTS);
    CHECK(rig.cart().queue_depth() == 0);
  }

  TEST_CASE("a scan that failed every attempt stays queued and is tried again later") {
    Rig rig;
    start(rig);
    rig.press();
    for (int i = 0; i < RETRY_ATTEMPTS; ++i) rig.net.fail(FakeNet::REFUSE_CONNECT);
    rig.run(20000);  // 0.5 + 1 + 2 + 4 + 8 s of backoff at most
    CHECK(rig.cart().queue_depth() == 1);
    CHECK(rig.cart().net_state() == NET_OFFLINE);
    CHECK(rig.net.script.empty());
    rig.net.answer(added());
    rig.run(OFFLINE_RETRY_MS + 100);
    CHECK(rig.cart().queue_depth() == 0);
    CHECK(rig.cart().net_state() == NET_ONLINE);
  }

  TEST_CASE("a refused scan (another 4xx) is dropped with an error, the next one goes on") {
    Rig rig;
    start(rig);
    rig.press();
    rig.press();
    rig.net.answer(http_answer(401, "{\"detail\":\"Invalid or revoked device key.\"}"));
    rig.net.answer(added());
    size_t mark = rig.ui.tones.size();
    rig.network();
    rig.run(2000);
    bool shown = false;
    for (const fakes::FakeUi::Screen& screen : rig.ui.screens) {
      shown = shown || screen.line1 == TEXT_KEY_REFUSED.line1;
    }
    CHECK(shown);
    CHECK(played(rig.ui, mark, PATTERN_ERROR));
    CHECK(played(rig.ui, mark, PATTERN_OK));  // the next scan's answer, after it
    CHECK(rig.cart().queue_depth() == 0);
    CHECK(rig.net.scan_requests().size() == 2);
  }

  TEST_CASE("a 409 ends the scan: no retry, and the shopper is asked to scan again") {
    Rig rig;
    start(rig);
    rig.press();
    rig.net.answer(http_answer(409, "{\"detail\":\"reused\"}"));
    rig.run(3000);
    CHECK(rig.net.scan_requests().size() == 1);
    CHECK(rig.cart().queue_depth() == 0);
    CHECK(rig.ui.screen().line1 == TEXT_SCAN_CONFLICT.line1);
  }
}

TEST_SUITE("mode") {
  TEST_CASE("a long press switches to remove; the next scan removes, then it is add again") {
    Rig rig;
    start(rig);
    size_t mark = rig.ui.tones.size();
    rig.long_press();
    CHECK(rig.cart().mode() == MODE_REMOVE);
    CHECK(rig.ui.screen().status.find("REMOVE") == 0);
    rig.run(400);
    CHECK(played(rig.ui, mark, PATTERN_MODE_REMOVE));
    CHECK(rig.camera.grabbed.empty());  // a long press takes no photo
    rig.press();
    CHECK(rig.cart().mode() == MODE_ADD);
    rig.press();
    rig.net.answer(added());
    rig.net.answer(added());
    rig.run(200);
    std::vector<std::string> scans = rig.net.scan_requests();
    REQUIRE(scans.size() == 2);
    CHECK(header_of(scans[0], "X-Scan-Mode") == "remove");
    CHECK(header_of(scans[1], "X-Scan-Mode") == "add");
  }

  TEST_CASE("remove mode falls back to add by itself after ten seconds") {
    Rig rig;
    start(rig);
    rig.long_press();
    rig.run(REMOVE_MODE_TIMEOUT_MS - 1000);
    CHECK(rig.cart().mode() == MODE_REMOVE);
    size_t mark = rig.ui.tones.size();
    rig.run(1500);
    CHECK(rig.cart().mode() == MODE_ADD);
    CHECK(rig.ui.screen().line1 == TEXT_ADD_MODE.line1);
    rig.run(400);
    CHECK(played(rig.ui, mark, PATTERN_MODE_ADD));
  }

  TEST_CASE("two long presses come back to add") {
    Rig rig;
    start(rig);
    rig.long_press();
    rig.long_press();
    CHECK(rig.cart().mode() == MODE_ADD);
  }
}

TEST_SUITE("heartbeat") {
  TEST_CASE("every 60 s: firmware version, uptime, RSSI, free heap and queue depth") {
    Rig rig;
    rig.clock.now = 5000;
    REQUIRE(rig.begin());
    rig.net.answer(http_answer(200, golden("response_heartbeat")));
    rig.network();
    REQUIRE(rig.net.requests.size() == 1);
    std::string body = body_of(rig.net.requests[0]);
    CHECK(rig.net.requests[0].find("POST /api/devices/v1/heartbeat/ HTTP/1.1\r\n") == 0);
    CHECK(json_field(body, "firmware_version") == SMARTCART_FIRMWARE_VERSION);
    CHECK(json_field(body, "uptime_seconds") == "0");
    CHECK(json_field(body, "wifi_rssi") == "-61");
    CHECK(json_field(body, "free_heap") == "141312");
    CHECK(json_field(body, "queue_depth") == "0");
    rig.press();  // one scan, which the server asks to wait a minute
    rig.net.answer(http_answer(429, "{}", std::vector<std::string>(1, "Retry-After: 60")));
    rig.network();
    REQUIRE(rig.net.requests.size() == 2);
    rig.board.rssi = -70;
    rig.net.answer(http_answer(200, golden("response_heartbeat")));
    rig.clock.now = 5000 + HEARTBEAT_INTERVAL_MS - 10;
    rig.network();
    CHECK(rig.net.requests.size() == 2);  // not yet
    rig.clock.now = 5000 + HEARTBEAT_INTERVAL_MS;
    rig.network();
    REQUIRE(rig.net.requests.size() == 3);
    body = body_of(rig.net.requests[2]);
    CHECK(json_field(body, "uptime_seconds") == "60");
    CHECK(json_field(body, "wifi_rssi") == "-70");
    CHECK(json_field(body, "queue_depth") == "1");
  }

  TEST_CASE("uptime and the 60 s rhythm survive millis() wrapping around") {
    Rig rig;
    rig.clock.now = 0xFFFFFFFFu - 30000;  // 30 s before the wrap
    REQUIRE(rig.begin());
    rig.net.heartbeat_reply = http_answer(200, golden("response_heartbeat"));
    rig.network();
    CHECK(rig.net.heartbeats == 1);
    rig.clock.now += 59000;  // past the wrap
    rig.network();
    CHECK(rig.net.heartbeats == 1);
    rig.clock.now += 1000;
    rig.network();
    CHECK(rig.net.heartbeats == 2);
    CHECK(rig.cart().uptime_ms() == 60000);
  }

  TEST_CASE("the heartbeat's lines show when idle, not over a fresh scan answer") {
    Rig rig;
    start(rig);
    rig.run(100);
    CHECK(rig.ui.screen().line1 == "Cart of Alice");
    CHECK(rig.cart().paired());
    rig.clock.now += HEARTBEAT_INTERVAL_MS - 1000;  // the next heartbeat is a second away
    rig.press();
    rig.net.answer(added());
    rig.run(2000);
    CHECK(rig.net.heartbeats == 2);
    CHECK(rig.ui.screen().line1 == "+1 Oat milk 1 l");  // the shopper is still reading it
    rig.run(HEARTBEAT_INTERVAL_MS);
    CHECK(rig.net.heartbeats == 3);
    CHECK(rig.ui.screen().line1 == "Cart of Alice");
  }

  TEST_CASE("out-of-range readings are clamped to what the server accepts") {
    Rig rig;
    rig.board.rssi = 31;  // some Wi-Fi drivers report 31 for "no reading"
    rig.board.heap = 0xFFFFFFFFu;
    REQUIRE(rig.begin());
    rig.net.answer(http_answer(200, golden("response_heartbeat")));
    rig.network();
    std::string body = body_of(rig.net.requests[0]);
    CHECK(json_field(body, "wifi_rssi") == "0");
    CHECK(json_field(body, "free_heap") == "2147483647");
  }
}

TEST_SUITE("startup") {
  TEST_CASE("nothing is sent before SNTP has set the clock (TLS checks dates)") {
    Rig rig;
    rig.clock.epoch = 0;
    REQUIRE(rig.begin());
    rig.press();
    rig.run(2000);
    CHECK(rig.net.requests.empty());
    CHECK(rig.net.connects == 0);
    rig.clock.epoch = CLOCK_VALID_AFTER + 1;
    rig.net.heartbeat_reply = http_answer(200, golden("response_heartbeat"));
    rig.net.answer(added());
    rig.run(100);
    CHECK(rig.net.scan_requests().size() == 1);
  }

  TEST_CASE("without complete settings the cart says so and neither scans nor sends") {
    const char* urls[] = {"http://shop.example.com", ""};
    for (const char* url : urls) {
      Rig rig;
      strcpy(rig.settings.server_url, url);
      CHECK_FALSE(rig.begin());
      rig.press();
      rig.run(2000);
      CHECK(rig.camera.grabbed.empty());
      CHECK(rig.net.connects == 0);
      CHECK(rig.ui.screen().line1 == TEXT_NEEDS_SETUP.line1);
      CHECK(rig.ui.screen().status == "SETUP");
    }
  }

  TEST_CASE("the status LED blinks differently for setup, starting, ready, sending, offline") {
    std::vector<std::vector<bool> > seen;
    for (int state = 0; state < LED_STATE_COUNT; ++state) {
      std::vector<bool> levels;
      for (uint32_t t = 0; t < 2400; t += 20) levels.push_back(led_level(LedState(state), t));
      seen.push_back(levels);
    }
    for (size_t a = 0; a < seen.size(); ++a) {
      for (size_t b = a + 1; b < seen.size(); ++b) CHECK(seen[a] != seen[b]);
    }
  }
}

TEST_SUITE("scanner module") {
  TEST_CASE("a decoded code goes as JSON, every character escaped") {
    Rig rig;
    start(rig);
    rig.net.answer(http_answer(201, golden("response_no_barcode")));
    rig.cart().scan_code("A\"B\\C\t\x01", "CODE128", rig.clock.now);
    rig.network();
    std::vector<std::string> scans = rig.net.scan_requests();
    REQUIRE(scans.size() == 1);
    CHECK(header_of(scans[0], "Content-Type") == "application/json");
    std::string body = body_of(scans[0]);
    CHECK(body.find("\"code\":\"A\\\"B\\\\C\\t\\u0001\"") != std::string::npos);
    CHECK(json_field(body, "code") == "A\"B\\C\t\x01");
    CHECK(json_field(body, "symbology") == "CODE128");
    CHECK(json_field(body, "mode") == "add");
    CHECK(json_field(body, "qty") == "1");
  }

  TEST_CASE("a code longer than the server takes is refused at the cart") {
    Rig rig;
    start(rig);
    std::string code(CODE_MAX + 1, '7');
    rig.cart().scan_code(code.c_str(), "CODE128", rig.clock.now);
    rig.run(100);
    CHECK(rig.cart().queue_depth() == 0);
    CHECK(rig.ui.screen().line1 == TEXT_SCAN_REFUSED.line1);
  }
}

TEST_SUITE("threads") {
  TEST_CASE("the shared lock is never taken twice (a FreeRTOS mutex would deadlock)") {
    Rig rig;
    start(rig);
    rig.press();
    rig.net.answer(http_answer(503, "{}"));
    rig.net.answer(added());
    rig.long_press();
    rig.run(3000);
    CHECK(rig.lock.taken > 0);
    CHECK_FALSE(rig.lock.reentered);
    CHECK(rig.lock.held == 0);
  }
}
