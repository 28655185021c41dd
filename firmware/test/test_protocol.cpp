// The three shapes of a scan request, built directly, and what does not fit.
#include <doctest/doctest.h>
#include <string.h>

#include <string>

#include "protocol.h"
#include "url.h"

using namespace smartcart;

namespace {

struct Scan {
  PendingScan pending;
  uint8_t payload[64];

  Scan(ScanKind kind, const char* data) {
    memset(&pending, 0, sizeof pending);
    strcpy(pending.scan_id, "7d0f8a52-1c1e-4b0e-9a43-5b8f8e3d2c11");
    pending.mode = MODE_REMOVE;
    pending.quantity = 2;
    pending.kind = kind;
    pending.payload = payload;
    pending.payload_capacity = sizeof payload;
    pending.payload_length = strlen(data);
    memcpy(payload, data, pending.payload_length);
  }
};

ServerUrl url_of(const char* text) {
  ServerUrl url;
  REQUIRE(server_url_parse(text, &url) == URL_OK);
  return url;
}

std::string body_text(const OutgoingRequest& request) {
  return std::string(reinterpret_cast<const char*>(request.http.body), request.http.body_length);
}

}  // namespace

TEST_SUITE("protocol") {
  TEST_CASE("a photo goes as the raw body, its scan in headers, the JPEG not copied") {
    Scan scan(SCAN_IMAGE, "\xff\xd8\xff\xe0 jpeg bytes");
    OutgoingRequest request;
    char json[16];
    REQUIRE(scan_request_build(scan.pending, UPLOAD_RAW_JPEG, url_of("https://s.example/shop"),
                               json, sizeof json, &request) == BUILD_OK);
    CHECK(std::string(request.http.path) == "/shop/api/devices/v1/scans/");
    CHECK(std::string(request.http.content_type) == "image/jpeg");
    CHECK(request.http.body == scan.payload);  // the slot itself is sent
    REQUIRE(request.http.extra_count == 3);
    CHECK(std::string(request.http.extra[0].name) == "X-Scan-Id");
    CHECK(std::string(request.http.extra[0].value) == scan.pending.scan_id);
    CHECK(std::string(request.http.extra[1].value) == "remove");
    CHECK(std::string(request.http.extra[2].value) == "2");
  }

  TEST_CASE("a photo as base64 JSON, when so provisioned") {
    Scan scan(SCAN_IMAGE, "\xff\xd8\xff");
    OutgoingRequest request;
    char json[256];
    REQUIRE(scan_request_build(scan.pending, UPLOAD_JSON_BASE64, url_of("https://s.example"),
                               json, sizeof json, &request) == BUILD_OK);
    CHECK(std::string(request.http.content_type) == "application/json");
    CHECK(body_text(request) ==
          "{\"scan_id\":\"7d0f8a52-1c1e-4b0e-9a43-5b8f8e3d2c11\",\"mode\":\"remove\",\"qty\":2,"
          "\"image\":\"/9j/\"}");
  }

  TEST_CASE("a scanner module's code as JSON, whatever the upload setting") {
    Scan scan(SCAN_CODE, "4006381333931");
    strcpy(scan.pending.symbology, "EAN13");
    OutgoingRequest request;
    char json[256];
    REQUIRE(scan_request_build(scan.pending, UPLOAD_RAW_JPEG, url_of("https://s.example"), json,
                               sizeof json, &request) == BUILD_OK);
    CHECK(request.http.extra_count == 0);
    CHECK(body_text(request) ==
          "{\"scan_id\":\"7d0f8a52-1c1e-4b0e-9a43-5b8f8e3d2c11\",\"mode\":\"remove\",\"qty\":2,"
          "\"code\":\"4006381333931\",\"symbology\":\"EAN13\"}");
  }

  TEST_CASE("a body that does not fit is refused, so nothing cut is ever sent") {
    Scan code(SCAN_CODE, "4006381333931");
    Scan photo(SCAN_IMAGE, "\xff\xd8\xff\xe0");
    OutgoingRequest request;
    char json[64];
    ServerUrl url = url_of("https://s.example");
    CHECK(scan_request_build(code.pending, UPLOAD_RAW_JPEG, url, json, sizeof json, &request) ==
          BUILD_TOO_LARGE);
    CHECK(scan_request_build(photo.pending, UPLOAD_JSON_BASE64, url, json, sizeof json,
                             &request) == BUILD_TOO_LARGE);
    // The longest prefix a URL may have still leaves room for the path.
    std::string longest = "https://s.example/" + std::string(62, 'p');
    ServerUrl deep = url_of(longest.c_str());
    CHECK(scan_request_build(photo.pending, UPLOAD_RAW_JPEG, deep, json, sizeof json,
                             &request) == BUILD_OK);
    ServerUrl too_deep;
    CHECK(server_url_parse((longest + "p").c_str(), &too_deep) == URL_INVALID);
  }

  TEST_CASE("an answer missing what the cart shows is not understood") {
    const char* bad[] = {
        "{\"result\":\"added\",\"display\":[\"a\",\"b\"]}",               // no beep
        "{\"result\":\"added\",\"beep\":\"ok\",\"display\":[\"a\"]}",     // one line
        "{\"result\":\"added\",\"beep\":\"ok\",\"display\":[\"a\",1]}",   // not text
        "{\"beep\":\"ok\",\"display\":[\"a\",\"b\"]}",                    // no result
        "[\"added\"]",
        "not json",
    };
    for (const char* text : bad) {
      ScanAnswer answer;
      CAPTURE(text);
      CHECK_FALSE(scan_answer_parse(text, strlen(text), &answer));
    }
  }

  TEST_CASE("a result or beep this firmware does not know still shows the lines") {
    const char text[] = "{\"result\":\"limit_reached\",\"beep\":\"fanfare\",\"display\":[\"a\",\"b\"]}";
    ScanAnswer answer;
    REQUIRE(scan_answer_parse(text, strlen(text), &answer));
    CHECK(answer.result == RESULT_OTHER);
    CHECK(pattern_for_beep(answer.beep) == PATTERN_ERROR);
    CHECK(std::string(answer.display[0]) == "a");
  }
}
