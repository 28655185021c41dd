// Enrolling over the network: the provisioning QR's code for the device key.
#include <doctest/doctest.h>
#include <string.h>

#include <string>
#include <vector>

#include "enrolment.h"
#include "fakes.h"
#include "helpers.h"
#include "http.h"
#include "provisioning.h"

using namespace smartcart;
using fakes::FakeClock;
using fakes::FakeNet;
using fakes::golden;
using fakes::header_of;
using fakes::http_answer;

namespace {

struct Enroller {
  FakeClock clock;
  FakeNet net;
  HttpClient http{net, clock};
  Provisioning provisioning;
  char body[256], head[512], answer_text[2048];
  EnrolAnswer answer;

  Enroller() {
    std::string qr = fakes::file_text(fakes::fixtures_dir() + "/cart/provisioning.json");
    REQUIRE(provisioning_parse(qr.data(), qr.size(), &provisioning) == PROVISIONING_OK);
    clock.step_per_read = 1;  // timeouts run out on the fake clock
  }
  EnrolOutcome run() {
    EnrolBuffers buffers = {body, sizeof body, head, sizeof head, answer_text, sizeof answer_text};
    return enrol_exchange(http, provisioning, buffers, &answer);
  }
};

}  // namespace

TEST_SUITE("enrolment") {
  TEST_CASE("the code goes to the QR's server without a key, and the key comes back") {
    Enroller enroller;
    enroller.net.answer(http_answer(201, golden("response_enrol")));
    REQUIRE(enroller.run() == ENROL_DONE);
    CHECK(std::string(enroller.answer.device_name) == "Cart 12");
    CHECK(std::string(enroller.answer.device_key).compare(0, 4, "scd_") == 0);
    REQUIRE(enroller.net.requests.size() == 1);
    const std::string& sent = enroller.net.requests[0];
    CHECK(enroller.net.host == "shop.example.com");
    CHECK(enroller.net.port == 443);
    CHECK(sent.find("POST /api/devices/v1/enrol/ HTTP/1.1\r\n") == 0);
    CHECK(header_of(sent, "Authorization").empty());
    CHECK(fakes::body_of(sent).find(enroller.provisioning.token) != std::string::npos);
  }

  TEST_CASE("a refused code, no server, or an odd answer each say so, and give no key") {
    Enroller refused;
    refused.net.answer(http_answer(403, "{\"detail\":\"This enrolment code was used already\"}"));
    CHECK(refused.run() == ENROL_REFUSED);

    Enroller unreachable;
    unreachable.net.fail(FakeNet::REFUSE_CONNECT);
    unreachable.net.fail(FakeNet::REFUSE_CONNECT);
    CHECK(unreachable.run() == ENROL_NO_ANSWER);

    Enroller server_error;
    server_error.net.answer(http_answer(500, "{}"));
    CHECK(server_error.run() == ENROL_BUSY);

    Enroller throttled;
    throttled.net.answer(http_answer(429, "{}", std::vector<std::string>(1, "Retry-After: 2")));
    CHECK(throttled.run() == ENROL_BUSY);

    Enroller teapot;
    teapot.net.answer(http_answer(418, "{}"));
    CHECK(teapot.run() == ENROL_ODD_ANSWER);

    Enroller no_key;
    no_key.net.answer(http_answer(201, "{\"device_name\":\"Cart 12\"}"));
    CHECK(no_key.run() == ENROL_ODD_ANSWER);
  }

  TEST_CASE("what the cart shows fits its screen") {
    for (size_t i = 0; i < 5; ++i) {
      CHECK(strlen(ENROL_TEXTS[i][0]) <= DISPLAY_LINE_CHARS);
      CHECK(strlen(ENROL_TEXTS[i][1]) <= DISPLAY_LINE_CHARS);
    }
  }
}
