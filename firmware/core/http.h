// HTTP/1.1 over the NetStream: the request head written into a fixed buffer, the body sent
// from where it lies (the JPEG is never copied), and the answer parsed as it arrives.
#ifndef SMARTCART_HTTP_H
#define SMARTCART_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "ports.h"

namespace smartcart {

struct HttpHeader {
  const char* name;
  const char* value;
};

const size_t HTTP_EXTRA_HEADERS_MAX = 4;

struct HttpRequest {
  const char* path;  // absolute, the server URL's prefix included
  const char* content_type;
  HttpHeader extra[HTTP_EXTRA_HEADERS_MAX];
  size_t extra_count;
  const uint8_t* body;
  size_t body_length;
};

// POST head for request (Host, Authorization: Device <key> unless the key is empty or NULL,
// Content-Type, Content-Length and the extra headers); its length, or 0 when it does not fit
// (nothing is sent then).
size_t http_head_write(const char* host, uint16_t port, const char* device_key,
                       const HttpRequest& request, char* out, size_t capacity);

struct HttpResponse {
  int status;  // STATUS_NO_ANSWER (0) until a whole answer has arrived
  char retry_after[16];
  char* body;  // the caller's buffer; terminated
  size_t body_capacity;
  size_t body_length;
  bool body_truncated;  // the answer was longer than the buffer (the rest was read and dropped)
  bool keep_alive;
};

void http_response_reset(HttpResponse& response, char* body, size_t capacity);

// Parses an answer fed in pieces of any size.
class HttpResponseParser {
 public:
  explicit HttpResponseParser(HttpResponse& response);
  bool feed(const uint8_t* data, size_t length);  // false: not HTTP, or malformed
  bool peer_closed();  // the connection ended: true when that completes the answer
  bool complete() const { return state_ == DONE; }
  bool started() const { return started_; }

 private:
  enum State { STATUS_LINE, HEADER_LINE, BODY_FIXED, CHUNK_SIZE, CHUNK_DATA, CHUNK_END,
               TRAILER_LINE, BODY_TO_CLOSE, DONE, FAILED };
  bool line_byte(char c);
  bool line_complete();
  bool status_line();
  bool header_line();
  bool headers_end();
  bool chunk_size_line();
  void body_byte(char c);

  HttpResponse& response_;
  State state_;
  int status_;
  char line_[160];
  size_t line_length_;
  bool line_overlong_;
  bool chunked_;
  bool has_length_;
  uint32_t remaining_;
  bool started_;
};

class HttpClient {
 public:
  HttpClient(NetStream& net, Clock& clock) : net_(net), clock_(clock) {}
  // Sends head and body and reads the answer into response (status 0 when none came within
  // timeout_ms). A kept-alive connection the server had closed meanwhile is opened again
  // once, at once: the requests are idempotent.
  void exchange(const char* host, uint16_t port, const char* head, size_t head_length,
                const uint8_t* body, size_t body_length, HttpResponse& response,
                uint32_t timeout_ms);

 private:
  enum Outcome { ANSWERED, FAILED_UNSTARTED, FAILED };
  Outcome attempt(const char* head, size_t head_length, const uint8_t* body, size_t body_length,
                  HttpResponse& response, uint32_t started, uint32_t timeout_ms);
  bool send_all(const uint8_t* data, size_t length, uint32_t started, uint32_t timeout_ms);

  NetStream& net_;
  Clock& clock_;
};

}  // namespace smartcart

#endif
