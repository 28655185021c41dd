// What to do after an attempt to send a scan: protocol v1's retry rules.
//
// Mirrors devices/simulator.py (is_retryable, retry_delay); both run the shared script in
// tests/fixtures/devices/cart/retry_script.json and must decide the same.
#ifndef SMARTCART_RETRY_H
#define SMARTCART_RETRY_H

#include <stdint.h>

namespace smartcart {

const int STATUS_NO_ANSWER = 0;  // a transport error: refused, reset, timed out, TLS failed

enum Verdict {
  VERDICT_DONE,     // 2xx (answered) or 409 (the scan_id was used for another scan)
  VERDICT_RETRY,    // send the same bytes again after delay_ms
  VERDICT_STOP,     // any other 4xx (or 1xx/3xx): a bug or a bad key; sending again won't help
  VERDICT_GIVE_UP,  // retryable, but the attempts are used up: the scan waits, offline
};

struct RetryDecision {
  Verdict verdict;
  uint32_t delay_ms;  // for VERDICT_RETRY
};

bool retry_status_retryable(int status);

// A Retry-After header in delta-seconds (a decimal fraction is accepted, the date form is
// not), capped at RETRY_AFTER_MAX_MS. False when absent (NULL) or not understood.
bool retry_after_parse(const char* header, uint32_t* delay_ms);

// After attempt (1-based) got status: the verdict and, to retry, how long to wait.
// jitter_permille (0..1000) spreads the backoff between half and all of it, so carts that
// failed together do not come back together; a Retry-After the server sent is used as is.
RetryDecision retry_decide(uint8_t attempt, int status, const char* retry_after,
                           uint16_t jitter_permille);

}  // namespace smartcart

#endif
