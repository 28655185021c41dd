#include "enrolment.h"

#include "config.h"
#include "retry.h"
#include "url.h"

namespace smartcart {

const char* const ENROL_TEXTS[5][2] = {
    {"Cart enrolled", "Restarting..."},
    {"Code refused", "Ask for new QR"},
    {"No server", "Check Wi-Fi"},
    {"Odd answer", "Ask staff"},
    {"Server busy", "Show QR again"},
};

EnrolOutcome enrol_exchange(HttpClient& http, const Provisioning& provisioning,
                            const EnrolBuffers& buffers, EnrolAnswer* answer) {
  ServerUrl url;
  if (server_url_parse(provisioning.server_url, &url) != URL_OK) return ENROL_ODD_ANSWER;
  OutgoingRequest request;
  if (enrol_request_build(provisioning.token, SMARTCART_FIRMWARE_VERSION, url, buffers.body,
                          buffers.body_capacity, &request) != BUILD_OK) {
    return ENROL_ODD_ANSWER;
  }
  size_t head_length = http_head_write(url.host, url.port, "", request.http, buffers.head,
                                       buffers.head_capacity);  // no key yet: no Authorization
  if (head_length == 0) return ENROL_ODD_ANSWER;
  HttpResponse response;
  http_response_reset(response, buffers.answer, buffers.answer_capacity);
  http.exchange(url.host, url.port, buffers.head, head_length, request.http.body,
                request.http.body_length, response, HTTP_TIMEOUT_MS);
  if (response.status == STATUS_NO_ANSWER) return ENROL_NO_ANSWER;
  if (response.status == 403) return ENROL_REFUSED;
  if (response.status == 429 || response.status >= 500) return ENROL_BUSY;
  if (response.status != 201 || response.body_truncated ||
      !enrol_answer_parse(response.body, response.body_length, answer)) {
    return ENROL_ODD_ANSWER;
  }
  return ENROL_DONE;
}

}  // namespace smartcart
