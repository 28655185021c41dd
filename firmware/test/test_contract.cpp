// The contract with the server, both ways (tests/fixtures/devices/):
//  - the server's golden answers, parsed here, must give the display and beep listed below;
//  - the requests built here must have the golden requests' keys and types, and are written
//    to $PAYLOADS_DIR, where tests/devices/test_firmware_contract.py posts them to the real
//    server and expects success.
// Run alone with: build/host_tests -ts=contract
#include <dirent.h>
#include <doctest/doctest.h>
#include <string.h>

#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "cart.h"
#include "fakes.h"
#include "helpers.h"
#include "json_reader.h"
#include "protocol.h"
#include "provisioning.h"

using namespace smartcart;
using fakes::Rig;
using fakes::golden;
using fakes::http_answer;
using fakes::played;

namespace {

struct Expected {
  const char* file;
  ScanResult result;
  const char* line1;
  const char* line2;
  Pattern pattern;
};

// What the cart must show and sound for each golden scan answer.
const Expected SCAN_ANSWERS[] = {
    {"response_added", RESULT_ADDED, "+1 Oat milk 1 l", "Total 2.50", PATTERN_OK},
    {"response_paired", RESULT_PAIRED, "Hi Alice", "Ready to scan", PATTERN_PAIR},
    {"response_not_paired", RESULT_NOT_PAIRED, "smartcart", "Show cart pass", PATTERN_ERROR},
    {"response_unknown_product", RESULT_UNKNOWN_PRODUCT, "Unknown product", "04006381333931",
     PATTERN_ERROR},
    {"response_no_barcode", RESULT_NO_BARCODE, "No barcode read", "Try again", PATTERN_ERROR},
    {"response_ambiguous", RESULT_AMBIGUOUS, "Two codes seen", "Scan one", PATTERN_ERROR},
    {"response_not_in_cart", RESULT_NOT_IN_CART, "Not in cart", "Oat milk 1 l", PATTERN_ERROR},
    {"response_cart_closed", RESULT_CART_CLOSED, "Cart is closed", "Show cart pass",
     PATTERN_ERROR},
};

std::set<std::string> fixture_names(const std::string& prefix) {
  std::set<std::string> names;
  DIR* dir = opendir(fakes::fixtures_dir().c_str());
  REQUIRE(dir != NULL);
  for (dirent* entry = readdir(dir); entry != NULL; entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name.compare(0, prefix.size(), prefix) == 0 && name.size() > 5 &&
        name.compare(name.size() - 5, 5, ".json") == 0) {
      names.insert(name.substr(0, name.size() - 5));
    }
  }
  closedir(dir);
  return names;
}

// The JSON kind of a value, as tests/devices/test_golden_payloads.py's shape() names them.
std::string kind(const JsonValue& value) {
  switch (value.type) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_NUMBER: return "number";
    case JSON_BOOLEAN: return "boolean";
    case JSON_NULL: return "null";
    default: return "invalid";
  }
}

// "key:kind" for each member of a flat JSON object.
std::set<std::string> shape(const std::string& text) {
  JsonValue root, key, value;
  REQUIRE(json_parse(text.data(), text.size(), &root));
  REQUIRE(root.type == JSON_OBJECT);
  std::set<std::string> members;
  for (size_t i = 0; json_member_at(root, i, &key, &value); ++i) {
    char name[64];
    REQUIRE(json_string(key, name, sizeof name));
    members.insert(std::string(name) + ":" + kind(value));
  }
  return members;
}

std::string golden_field(const std::string& name, const char* field) {
  std::string text = golden(name);
  JsonValue root, value;
  REQUIRE(json_parse(text.data(), text.size(), &root));
  REQUIRE(json_member(root, field, &value));
  char out[256];
  REQUIRE(json_string(value, out, sizeof out));
  return out;
}

void emit(const std::string& name, const std::string& request) {
  std::string path = fakes::payloads_dir() + "/" + name + ".http";
  std::ofstream file(path.c_str(), std::ios::binary);
  REQUIRE(file.good());
  file.write(request.data(), static_cast<std::streamsize>(request.size()));
  REQUIRE(file.good());
}

// A configured rig whose heartbeat is done; heartbeats answered with the golden one.
void start(Rig& rig) {
  rig.net.heartbeat_reply = http_answer(200, golden("response_heartbeat"));
  REQUIRE(rig.begin());
  rig.network();
}

std::string last_scan(Rig& rig) {
  std::vector<std::string> scans = rig.net.scan_requests();
  REQUIRE(!scans.empty());
  return scans.back();
}

}  // namespace

TEST_SUITE("contract") {
  TEST_CASE("every golden scan answer is known here") {
    std::set<std::string> known;
    for (const Expected& e : SCAN_ANSWERS) known.insert(e.file);
    known.insert("response_heartbeat");
    known.insert("response_enrol");
    CHECK(fixture_names("response_") == known);
  }

  TEST_CASE("each golden scan answer parses to its result, lines and beep") {
    for (const Expected& e : SCAN_ANSWERS) {
      CAPTURE(e.file);
      std::string text = golden(e.file);
      ScanAnswer answer;
      REQUIRE(scan_answer_parse(text.data(), text.size(), &answer));
      CHECK(answer.result == e.result);
      CHECK(std::string(answer.display[0]) == e.line1);
      CHECK(std::string(answer.display[1]) == e.line2);
      CHECK(pattern_for_beep(answer.beep) == e.pattern);
    }
  }

  TEST_CASE("each golden scan answer, sent to the cart, is what its OLED and buzzer give") {
    for (const Expected& e : SCAN_ANSWERS) {
      CAPTURE(e.file);
      Rig rig;
      start(rig);
      rig.press();
      size_t mark = rig.ui.tones.size();
      rig.net.answer(http_answer(201, golden(e.file)));
      rig.run(1000);
      CHECK(rig.cart().queue_depth() == 0);
      CHECK(rig.ui.screen().line1 == e.line1);
      CHECK(rig.ui.screen().line2 == e.line2);
      CHECK(played(rig.ui, mark, e.pattern));
    }
  }

  TEST_CASE("the golden heartbeat answer gives the idle lines and the pairing") {
    std::string text = golden("response_heartbeat");
    HeartbeatAnswer answer;
    REQUIRE(heartbeat_answer_parse(text.data(), text.size(), &answer));
    CHECK(answer.paired);
    CHECK(std::string(answer.server_time) == "2026-11-21T11:40:39Z");
    Rig rig;
    start(rig);
    rig.run(100);
    CHECK(rig.ui.screen().line1 == "Cart of Alice");
    CHECK(rig.ui.screen().line2 == "Scan a product");
    CHECK(rig.cart().paired());
  }

  TEST_CASE("a golden answer with a key renamed or a line missing is not understood") {
    std::string text = golden("response_added");
    std::string renamed = text;
    renamed.replace(renamed.find("\"beep\""), 6, "\"buzzer\"");
    std::string one_line = text;
    one_line.replace(one_line.find("\"Total 2.50\""), 12, "");
    one_line.replace(one_line.find("\"+1 Oat milk 1 l\","), 18, "\"+1 Oat milk 1 l\"");
    ScanAnswer answer;
    CHECK(scan_answer_parse(text.data(), text.size(), &answer));
    CHECK_FALSE(scan_answer_parse(renamed.data(), renamed.size(), &answer));
    CHECK_FALSE(scan_answer_parse(one_line.data(), one_line.size(), &answer));
    Rig rig;  // and the cart says so rather than guess
    start(rig);
    rig.press();
    rig.net.answer(http_answer(201, renamed));
    rig.run(500);
    CHECK(rig.ui.screen().line1 == TEXT_ODD_ANSWER.line1);
  }

  TEST_CASE("the code request has the golden request's keys and types") {
    Rig rig;
    start(rig);
    rig.net.answer(http_answer(201, golden("response_added")));
    std::string code = golden_field("request_scan_code", "code");
    std::string symbology = golden_field("request_scan_code", "symbology");
    rig.cart().scan_code(code.c_str(), symbology.c_str(), rig.clock.now);
    rig.network();
    std::string body = fakes::body_of(last_scan(rig));
    CHECK(shape(body) == shape(golden("request_scan_code")));
    CHECK(shape(body) == shape(golden("request_scan_code_remove")));
  }

  TEST_CASE("the base64 photo request has the golden request's keys and types") {
    Rig rig;
    strcpy(rig.settings.upload, "json");
    start(rig);
    rig.net.answer(http_answer(201, golden("response_added")));
    rig.press();
    rig.network();
    std::string body = fakes::body_of(last_scan(rig));
    CHECK(shape(body) == shape(golden("request_scan_image")));
  }

  TEST_CASE("the heartbeat has the golden request's keys and types") {
    Rig rig;
    REQUIRE(rig.begin());
    rig.net.answer(http_answer(200, golden("response_heartbeat")));
    rig.network();
    REQUIRE(rig.net.requests.size() == 1);
    CHECK(shape(fakes::body_of(rig.net.requests[0])) == shape(golden("request_heartbeat")));
  }

  TEST_CASE("the reset reasons the heartbeat names are the server's, in the same order") {
    JsonValue root, item;
    std::string text = fakes::file_text(fakes::fixtures_dir() + "/cart/reset_reasons.json");
    REQUIRE(json_parse(text.data(), text.size(), &root));
    REQUIRE(root.type == JSON_ARRAY);
    std::vector<std::string> golden_names;
    for (size_t i = 0; json_item(root, i, &item); ++i) {
      char name[32];
      REQUIRE(json_string(item, name, sizeof name));
      golden_names.push_back(name);
    }
    std::vector<std::string> names;
    for (int i = 0; i < RESET_REASON_COUNT; ++i) {
      names.push_back(reset_reason_name(static_cast<ResetReason>(i)));
    }
    CHECK(names == golden_names);
  }

  TEST_CASE("payloads: every request shape is written out for the server's contract test") {
    // Raw JPEG, as every photo goes by default; the first attempt gets a 503, so the second
    // is the retry the server must answer from its stored scan.
    Rig rig;
    start(rig);
    rig.press();
    rig.net.answer(http_answer(503, "{}"));
    rig.net.answer(http_answer(201, golden("response_added")));
    rig.run(1000);
    std::vector<std::string> scans = rig.net.scan_requests();
    REQUIRE(scans.size() == 2);
    REQUIRE(scans[0] == scans[1]);
    emit("scan_raw_jpeg", scans[0]);
    emit("scan_raw_jpeg_retry", scans[1]);

    // Codes from a scanner module: add, then remove (long press first), then a code with
    // every kind of character JSON must escape.
    rig.net.answer(http_answer(201, golden("response_added")));
    rig.cart().scan_code("4006381333931", "EAN13", rig.clock.now);
    rig.network();
    emit("scan_code", last_scan(rig));
    rig.long_press();
    rig.net.answer(http_answer(201, golden("response_added")));
    rig.cart().scan_code("4006381333931", "EAN13", rig.clock.now);
    rig.network();
    emit("scan_code_remove", last_scan(rig));
    rig.net.answer(http_answer(201, golden("response_no_barcode")));
    rig.cart().scan_code("A\"B\\C\t\x01\xc3\xa9\xff", "CODE128", rig.clock.now);
    rig.network();
    emit("scan_code_escaped", last_scan(rig));

    // A photo as base64 JSON, for stores whose proxy only lets JSON through.
    Rig json_rig;
    strcpy(json_rig.settings.upload, "json");
    start(json_rig);
    json_rig.net.answer(http_answer(201, golden("response_added")));
    json_rig.press();
    json_rig.network();
    emit("scan_json_image", last_scan(json_rig));

    Rig heartbeat_rig;
    REQUIRE(heartbeat_rig.begin());
    heartbeat_rig.net.answer(http_answer(200, golden("response_heartbeat")));
    heartbeat_rig.network();
    REQUIRE(heartbeat_rig.net.requests.size() == 1);
    emit("heartbeat", heartbeat_rig.net.requests[0]);
  }

  TEST_CASE("payloads: a scan sent just before a power cut goes again, byte for byte, after it") {
    // The server had the scan, but the power went before the cart removed it from flash.
    Rig before;
    start(before);
    before.press();
    before.flash.cut = true;  // from here nothing reaches the flash: the power is going
    before.net.answer(http_answer(201, golden("response_added")));
    before.network();
    REQUIRE(before.flash.files.size() == 1);

    Rig after;
    after.flash.files = before.flash.files;
    after.net.heartbeat_reply = http_answer(200, golden("response_heartbeat"));
    REQUIRE(after.begin());
    after.net.answer(http_answer(200, golden("response_added")));
    after.network();
    REQUIRE(last_scan(after) == last_scan(before));
    CHECK(after.flash.files.empty());
    emit("scan_before_power_cut", last_scan(before));
    emit("scan_after_power_cut", last_scan(after));
  }

  TEST_CASE("the golden provisioning QR is read, and the enrolment built from it and answered") {
    std::string qr = fakes::file_text(fakes::fixtures_dir() + "/cart/provisioning.json");
    Provisioning provisioning;
    REQUIRE(provisioning_parse(qr.data(), qr.size(), &provisioning) == PROVISIONING_OK);
    CHECK(std::string(provisioning.wifi_ssid) == "Store-Carts");
    CHECK(std::string(provisioning.server_url) == "https://shop.example.com");

    ServerUrl url;
    REQUIRE(server_url_parse(provisioning.server_url, &url) == URL_OK);
    char json[256];
    OutgoingRequest request;
    REQUIRE(enrol_request_build(provisioning.token, SMARTCART_FIRMWARE_VERSION, url, json,
                                sizeof json, &request) == BUILD_OK);
    std::string body(reinterpret_cast<const char*>(request.http.body), request.http.body_length);
    CHECK(shape(body) == shape(golden("request_enrol")));
    char head[512];
    size_t head_length =
        http_head_write(url.host, url.port, "", request.http, head, sizeof head);
    REQUIRE(head_length > 0);
    std::string bytes = std::string(head, head_length) + body;
    CHECK(bytes.find("POST /api/devices/v1/enrol/ HTTP/1.1\r\n") == 0);
    CHECK(bytes.find("Authorization") == std::string::npos);  // the cart has no key yet
    CHECK(fakes::body_of(bytes).find(provisioning.token) != std::string::npos);
    emit("enrol", bytes);

    std::string answer = golden("response_enrol");
    EnrolAnswer enrolled;
    REQUIRE(enrol_answer_parse(answer.data(), answer.size(), &enrolled));
    CHECK(std::string(enrolled.device_name) == "Cart 12");
    CHECK(std::string(enrolled.device_key).compare(0, 4, "scd_") == 0);
  }

  TEST_CASE("an enrolment answer with a key renamed is not understood") {
    std::string answer = golden("response_enrol");
    size_t at = answer.find("\"device_key\"");
    REQUIRE(at != std::string::npos);
    answer.replace(at, 12, "\"key\"");
    EnrolAnswer enrolled;
    CHECK_FALSE(enrol_answer_parse(answer.data(), answer.size(), &enrolled));
  }
}
