#include "http.h"

#include <string.h>

#include "config.h"
#include "retry.h"
#include "text.h"
#include "timing.h"

namespace smartcart {

// --- Request ----------------------------------------------------------------------------------

size_t http_head_write(const char* host, uint16_t port, const char* device_key,
                       const HttpRequest& request, char* out, size_t capacity) {
  TextBuffer head(out, capacity);
  head.add("POST ").add(request.path).add(" HTTP/1.1\r\n");
  head.add("Host: ").add(host);
  if (port != 443) head.add(":").add_uint(port);
  head.add("\r\n");
  // No key yet (enrolment: the cart is getting its key): no Authorization header at all.
  if (device_key != NULL && device_key[0] != '\0') {
    head.add("Authorization: Device ").add(device_key).add("\r\n");
  }
  head.add("Content-Type: ").add(request.content_type).add("\r\n");
  head.add("Content-Length: ").add_uint(request.body_length).add("\r\n");
  head.add("Accept: application/json\r\n");
  head.add("User-Agent: ").add(USER_AGENT).add("\r\n");
  for (size_t i = 0; i < request.extra_count; ++i) {
    head.add(request.extra[i].name).add(": ").add(request.extra[i].value).add("\r\n");
  }
  head.add("Connection: keep-alive\r\n\r\n");
  return head.ok() ? head.length() : 0;
}

// --- Response ---------------------------------------------------------------------------------

void http_response_reset(HttpResponse& response, char* body, size_t capacity) {
  response.status = STATUS_NO_ANSWER;
  response.retry_after[0] = '\0';
  response.body = body;
  response.body_capacity = capacity;
  response.body_length = 0;
  response.body_truncated = false;
  response.keep_alive = false;
  if (capacity > 0) body[0] = '\0';
}

HttpResponseParser::HttpResponseParser(HttpResponse& response)
    : response_(response), state_(STATUS_LINE), status_(0), line_length_(0),
      line_overlong_(false), chunked_(false), has_length_(false), remaining_(0),
      started_(false) {}

static bool header_is(const char* line, size_t name_length, const char* name) {
  return text_equal_nocase_n(line, name, name_length);
}

// The header's value with the spaces around it trimmed.
static const char* header_value(char* line, size_t name_length) {
  char* value = line + name_length + 1;
  while (*value == ' ' || *value == '\t') ++value;
  size_t length = strlen(value);
  while (length > 0 && (value[length - 1] == ' ' || value[length - 1] == '\t')) value[--length] = 0;
  return value;
}

bool HttpResponseParser::status_line() {
  // "HTTP/1.1 201 Created": the version, then exactly three digits.
  if (line_overlong_ || !text_starts_with(line_, "HTTP/1.") || line_length_ < 12) return false;
  const char* code = line_ + 9;
  uint32_t status;
  if (line_[8] != ' ' || !text_parse_uint(code, 3, 999, &status) || status < 100) return false;
  if (line_length_ > 12 && line_[12] != ' ') return false;
  status_ = static_cast<int>(status);
  response_.keep_alive = line_[7] == '1';  // HTTP/1.1 keeps the connection unless told not to
  chunked_ = has_length_ = false;
  state_ = HEADER_LINE;
  return true;
}

bool HttpResponseParser::header_line() {
  if (line_length_ == 0) return headers_end();
  if (line_overlong_) return true;  // a long header we do not read (cookies, say)
  const char* colon = strchr(line_, ':');
  if (colon == NULL) return false;
  size_t name_length = static_cast<size_t>(colon - line_);
  const char* value = header_value(line_, name_length);
  if (header_is(line_, name_length, "Content-Length")) {
    if (!text_parse_uint(value, strlen(value), 0xFFFFFFFFu, &remaining_)) return false;
    has_length_ = true;
  } else if (header_is(line_, name_length, "Transfer-Encoding")) {
    chunked_ = text_equal_nocase(value, "chunked");
    if (!chunked_) return false;  // nothing else is sent to a client that did not ask for it
  } else if (header_is(line_, name_length, "Retry-After")) {
    text_copy(response_.retry_after, sizeof response_.retry_after, value);
  } else if (header_is(line_, name_length, "Connection")) {
    if (text_equal_nocase(value, "close")) response_.keep_alive = false;
    if (text_equal_nocase(value, "keep-alive")) response_.keep_alive = true;
  }
  return true;
}

bool HttpResponseParser::headers_end() {
  if (status_ < 200) {  // 100 Continue and friends: the real answer follows
    state_ = STATUS_LINE;
    return true;
  }
  if (status_ == 204 || status_ == 304 || (has_length_ && remaining_ == 0 && !chunked_)) {
    state_ = DONE;
  } else if (chunked_) {
    state_ = CHUNK_SIZE;
  } else if (has_length_) {
    state_ = BODY_FIXED;
  } else {
    state_ = BODY_TO_CLOSE;
    response_.keep_alive = false;
  }
  if (state_ == DONE) response_.status = status_;
  return true;
}

bool HttpResponseParser::chunk_size_line() {
  uint32_t size = 0;
  size_t digits = 0;
  for (; digits < line_length_; ++digits) {
    char c = line_[digits];
    int value = (c >= '0' && c <= '9') ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
    if (value < 0) break;
    if (size > 0x0FFFFFFF) return false;
    size = size * 16 + static_cast<uint32_t>(value);
  }
  if (digits == 0 || line_overlong_) return false;
  remaining_ = size;
  state_ = size == 0 ? TRAILER_LINE : CHUNK_DATA;
  return true;
}

bool HttpResponseParser::line_complete() {
  if (line_length_ > 0 && line_[line_length_ - 1] == '\r') line_[--line_length_] = '\0';
  bool ok;
  switch (state_) {
    case STATUS_LINE: ok = status_line(); break;
    case HEADER_LINE: ok = header_line(); break;
    case CHUNK_SIZE: ok = chunk_size_line(); break;
    case CHUNK_END: ok = line_length_ == 0; state_ = CHUNK_SIZE; break;
    case TRAILER_LINE:
      ok = true;
      if (line_length_ == 0) {
        state_ = DONE;
        response_.status = status_;
      }
      break;
    default: ok = false; break;
  }
  line_length_ = 0;
  line_overlong_ = false;
  line_[0] = '\0';
  return ok;
}

bool HttpResponseParser::line_byte(char c) {
  if (c == '\n') return line_complete();
  if (line_length_ + 1 < sizeof line_) {
    line_[line_length_++] = c;
    line_[line_length_] = '\0';
  } else {
    line_overlong_ = true;
  }
  return true;
}

void HttpResponseParser::body_byte(char c) {
  if (response_.body_length + 1 < response_.body_capacity) {
    response_.body[response_.body_length++] = c;
    response_.body[response_.body_length] = '\0';
  } else {
    response_.body_truncated = true;
  }
}

bool HttpResponseParser::feed(const uint8_t* data, size_t length) {
  for (size_t i = 0; i < length; ++i) {
    started_ = true;
    char c = static_cast<char>(data[i]);
    switch (state_) {
      case BODY_FIXED:
      case CHUNK_DATA:
        body_byte(c);
        if (--remaining_ == 0) {
          if (state_ == CHUNK_DATA) {
            state_ = CHUNK_END;
          } else {
            state_ = DONE;
            response_.status = status_;
          }
        }
        break;
      case BODY_TO_CLOSE: body_byte(c); break;
      case DONE: break;  // bytes after the answer: nothing was asked for
      case FAILED: return false;
      default:
        if (!line_byte(c)) {
          state_ = FAILED;
          return false;
        }
    }
  }
  return true;
}

bool HttpResponseParser::peer_closed() {
  if (state_ == BODY_TO_CLOSE) {
    state_ = DONE;
    response_.status = status_;
  }
  response_.keep_alive = false;
  return state_ == DONE;
}

// --- Client -----------------------------------------------------------------------------------

bool HttpClient::send_all(const uint8_t* data, size_t length, uint32_t started,
                          uint32_t timeout_ms) {
  const size_t PIECE = 4096;  // what the TLS layer takes in one record
  while (length > 0) {
    if (elapsed_ms(clock_.millis(), started) >= timeout_ms) return false;
    size_t sent = net_.write(data, length < PIECE ? length : PIECE);
    if (sent == 0) return false;
    data += sent;
    length -= sent;
  }
  return true;
}

HttpClient::Outcome HttpClient::attempt(const char* head, size_t head_length,
                                        const uint8_t* body, size_t body_length,
                                        HttpResponse& response, uint32_t started,
                                        uint32_t timeout_ms) {
  if (!send_all(reinterpret_cast<const uint8_t*>(head), head_length, started, timeout_ms) ||
      !send_all(body, body_length, started, timeout_ms)) {
    return FAILED_UNSTARTED;
  }
  HttpResponseParser parser(response);
  uint8_t piece[256];
  while (!parser.complete()) {
    if (elapsed_ms(clock_.millis(), started) >= timeout_ms) return FAILED;
    int count = net_.read(piece, sizeof piece);
    if (count < 0) {
      if (parser.peer_closed()) break;
      return parser.started() ? FAILED : FAILED_UNSTARTED;
    }
    if (count == 0) {
      clock_.sleep_ms(1);
      continue;
    }
    if (!parser.feed(piece, static_cast<size_t>(count))) return FAILED;
  }
  return ANSWERED;
}

void HttpClient::exchange(const char* host, uint16_t port, const char* head, size_t head_length,
                          const uint8_t* body, size_t body_length, HttpResponse& response,
                          uint32_t timeout_ms) {
  uint32_t started = clock_.millis();
  bool reused = net_.connected();
  for (int round = 0; round < 2; ++round) {
    if (!net_.connected() && !net_.connect(host, port)) break;
    char* buffer = response.body;
    size_t capacity = response.body_capacity;
    http_response_reset(response, buffer, capacity);
    Outcome outcome = attempt(head, head_length, body, body_length, response, started,
                              timeout_ms);
    if (outcome == ANSWERED) {
      if (!response.keep_alive) net_.stop();
      return;
    }
    net_.stop();
    // Only a connection kept from before can have gone stale; a fresh one failing is news.
    if (!(reused && outcome == FAILED_UNSTARTED)) break;
    reused = false;
  }
  http_response_reset(response, response.body, response.body_capacity);
}

}  // namespace smartcart
