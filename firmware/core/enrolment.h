// Enrolling: the cart that read a provisioning QR (provisioning.h) sends its code to the
// server and gets its device key, over the TLS connection pinned to the CA the QR names.
//
// The code works once: after an answer lost on the way the server answers 403 (used), so the
// cart shows what happened and the installer asks staff for a new QR; nothing is retried.
#ifndef SMARTCART_ENROLMENT_H
#define SMARTCART_ENROLMENT_H

#include <stddef.h>

#include "http.h"
#include "protocol.h"
#include "provisioning.h"

namespace smartcart {

enum EnrolOutcome {
  ENROL_DONE,       // answer holds the key: provisioning_apply, save, restart
  ENROL_REFUSED,    // 403: the code is unknown, used, expired, or the device revoked
  ENROL_NO_ANSWER,  // no server: the Wi-Fi, the address or the CA is wrong
  ENROL_ODD_ANSWER,  // another status, or an answer that is not an enrolment's
  ENROL_BUSY         // 429 or 5xx: the code was not used; show the QR again in a moment
};

// What the cart shows for each outcome.
extern const char* const ENROL_TEXTS[5][2];

struct EnrolBuffers {
  char* body;
  size_t body_capacity;
  char* head;
  size_t head_capacity;
  char* answer;
  size_t answer_capacity;
};

EnrolOutcome enrol_exchange(HttpClient& http, const Provisioning& provisioning,
                            const EnrolBuffers& buffers, EnrolAnswer* answer);

}  // namespace smartcart

#endif
