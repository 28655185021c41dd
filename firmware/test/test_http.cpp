// HTTP/1.1 on the NetStream: the head the cart writes and the answers it understands.
#include <doctest/doctest.h>
#include <string.h>

#include <string>

#include "fakes.h"
#include "http.h"
#include "retry.h"

using namespace smartcart;
using fakes::FakeClock;
using fakes::FakeNet;
using fakes::http_answer;

namespace {

HttpRequest json_request(const char* body) {
  HttpRequest request;
  memset(&request, 0, sizeof request);
  request.path = "/api/devices/v1/heartbeat/";
  request.content_type = "application/json";
  request.body = reinterpret_cast<const uint8_t*>(body);
  request.body_length = strlen(body);
  return request;
}

struct Parsed {
  bool ok;
  bool complete;
  HttpResponse response;
  char body[64];
};

// Feeds text to a parser in pieces of size bytes.
void parse(const std::string& text, size_t size, Parsed* out) {
  http_response_reset(out->response, out->body, sizeof out->body);
  HttpResponseParser parser(out->response);
  out->ok = true;
  for (size_t i = 0; i < text.size() && out->ok; i += size) {
    std::string piece = text.substr(i, size);
    out->ok = parser.feed(reinterpret_cast<const uint8_t*>(piece.data()), piece.size());
  }
  out->complete = parser.complete();
}

}  // namespace

TEST_SUITE("http") {
  TEST_CASE("the request head names the device and the body's length") {
    HttpRequest request = json_request("{}");
    HttpHeader extra = {"X-Scan-Id", "00000000-0000-4000-8000-000000000001"};
    request.extra[0] = extra;
    request.extra_count = 1;
    char head[512];
    size_t length = http_head_write("shop.example.com", 443, "scd_k", request, head, sizeof head);
    REQUIRE(length == strlen(head));
    CHECK(std::string(head) ==
          "POST /api/devices/v1/heartbeat/ HTTP/1.1\r\n"
          "Host: shop.example.com\r\n"
          "Authorization: Device scd_k\r\n"
          "Content-Type: application/json\r\n"
          "Content-Length: 2\r\n"
          "Accept: application/json\r\n"
          "User-Agent: smartcart-cart/" SMARTCART_FIRMWARE_VERSION "\r\n"
          "X-Scan-Id: 00000000-0000-4000-8000-000000000001\r\n"
          "Connection: keep-alive\r\n\r\n");
  }

  TEST_CASE("a port other than 443 goes into Host; a head that does not fit is refused") {
    HttpRequest request = json_request("{}");
    char head[512];
    http_head_write("10.0.0.5", 8443, "scd_k", request, head, sizeof head);
    CHECK(std::string(head).find("Host: 10.0.0.5:8443\r\n") != std::string::npos);
    char small[64];
    CHECK(http_head_write("10.0.0.5", 8443, "scd_k", request, small, sizeof small) == 0);
  }

  TEST_CASE("an answer with Content-Length is read whatever the pieces it arrives in") {
    std::string text = http_answer(201, "{\"result\":\"added\"}", {"Retry-After:  7 "});
    for (size_t size = 1; size <= text.size(); size += 7) {
      Parsed parsed;
      parse(text, size, &parsed);
      CAPTURE(size);
      CHECK(parsed.ok);
      CHECK(parsed.complete);
      CHECK(parsed.response.status == 201);
      CHECK(std::string(parsed.body) == "{\"result\":\"added\"}");
      CHECK(std::string(parsed.response.retry_after) == "7");
      CHECK(parsed.response.keep_alive);
    }
  }

  TEST_CASE("a chunked answer is put together") {
    Parsed parsed;
    parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          "4\r\n{\"a\"\r\n5;ext=1\r\n:true\r\n1\r\n}\r\n0\r\nTrailer: x\r\n\r\n",
          3, &parsed);
    CHECK(parsed.ok);
    CHECK(parsed.complete);
    CHECK(std::string(parsed.body) == "{\"a\":true}");
  }

  TEST_CASE("an answer that runs until the connection closes ends with it") {
    char body[64];
    HttpResponse response;
    http_response_reset(response, body, sizeof body);
    HttpResponseParser parser(response);
    std::string text = "HTTP/1.0 503 Service Unavailable\r\n\r\nbusy";
    CHECK(parser.feed(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
    CHECK_FALSE(parser.complete());
    CHECK(response.status == STATUS_NO_ANSWER);  // not until it is whole
    CHECK(parser.peer_closed());
    CHECK(response.status == 503);
    CHECK(std::string(body) == "busy");
    CHECK_FALSE(response.keep_alive);
  }

  TEST_CASE("Connection: close and HTTP/1.0 end the connection; 100 Continue is skipped") {
    Parsed parsed;
    parse(http_answer(200, "{}", {"Connection: close"}), 5, &parsed);
    CHECK_FALSE(parsed.response.keep_alive);
    parse("HTTP/1.1 100 Continue\r\n\r\n" + http_answer(201, "{}"), 4, &parsed);
    CHECK(parsed.response.status == 201);
    CHECK(parsed.response.keep_alive);
  }

  TEST_CASE("a body longer than the buffer is read to its end and marked truncated") {
    Parsed parsed;
    parse(http_answer(201, std::string(100, 'x')) + "HTTP", 16, &parsed);
    CHECK(parsed.complete);
    CHECK(parsed.response.body_truncated);
    CHECK(parsed.response.body_length == sizeof parsed.body - 1);
  }

  TEST_CASE("what is not an HTTP answer is refused") {
    const char* bad[] = {"SSH-2.0-OpenSSH\r\n", "HTTP/1.1 20 OK\r\n", "HTTP/1.1 2000 OK\r\n",
                         "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
                         "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
                         "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
                         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
      Parsed parsed;
      CAPTURE(bad[i]);
      parse(bad[i], 1000, &parsed);
      CHECK_FALSE(parsed.ok);
    }
  }

  TEST_CASE("the client reuses a kept-alive connection") {
    FakeNet net;
    FakeClock clock;
    HttpClient client(net, clock);
    net.answer(http_answer(200, "{}"));
    net.answer(http_answer(201, "{}"));
    char body[64];
    HttpResponse response;
    response.body = body;
    response.body_capacity = sizeof body;
    client.exchange("h", 443, "HEAD", 4, reinterpret_cast<const uint8_t*>("B"), 1, response, 1000);
    CHECK(response.status == 200);
    client.exchange("h", 443, "HEAD", 4, reinterpret_cast<const uint8_t*>("B"), 1, response, 1000);
    CHECK(response.status == 201);
    CHECK(net.connects == 1);
    CHECK(net.requests.size() == 2);
    CHECK(net.requests[0] == "HEADB");
  }

  TEST_CASE("a kept-alive connection the server closed is opened again at once, once") {
    FakeNet net;
    FakeClock clock;
    HttpClient client(net, clock);
    net.answer(http_answer(200, "{}"));
    net.fail(FakeNet::CLOSE_SILENTLY);  // the server dropped the idle connection
    net.answer(http_answer(201, "{}"));
    char body[64];
    HttpResponse response;
    response.body = body;
    response.body_capacity = sizeof body;
    const uint8_t* b = reinterpret_cast<const uint8_t*>("B");
    client.exchange("h", 443, "HEAD", 4, b, 1, response, 1000);
    client.exchange("h", 443, "HEAD", 4, b, 1, response, 1000);
    CHECK(response.status == 201);
    CHECK(net.connects == 2);
    CHECK(net.requests.size() == 3);  // the second request went out twice, byte for byte
    CHECK(net.requests[1] == net.requests[2]);
  }

  TEST_CASE("a fresh connection that fails is a transport error, not tried again here") {
    FakeNet net;
    FakeClock clock;
    HttpClient client(net, clock);
    net.fail(FakeNet::CLOSE_SILENTLY);
    char body[64];
    HttpResponse response;
    response.body = body;
    response.body_capacity = sizeof body;
    client.exchange("h", 443, "HEAD", 4, NULL, 0, response, 1000);
    CHECK(response.status == STATUS_NO_ANSWER);
    CHECK(net.connects == 1);
    net.fail(FakeNet::REFUSE_CONNECT);
    client.exchange("h", 443, "HEAD", 4, NULL, 0, response, 1000);
    CHECK(response.status == STATUS_NO_ANSWER);
  }

  TEST_CASE("a server that never answers times out") {
    FakeNet net;
    FakeClock clock;
    HttpClient client(net, clock);
    net.fail(FakeNet::HANG);
    char body[64];
    HttpResponse response;
    response.body = body;
    response.body_capacity = sizeof body;
    uint32_t started = clock.now;
    client.exchange("h", 443, "HEAD", 4, NULL, 0, response, 10000);
    CHECK(response.status == STATUS_NO_ANSWER);
    CHECK(clock.now - started >= 10000);
    CHECK(clock.now - started < 10100);
    CHECK_FALSE(net.connected());
  }
}
