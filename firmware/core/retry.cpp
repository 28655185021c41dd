#include "retry.h"

#include <string.h>

#include "config.h"

namespace smartcart {

bool retry_status_retryable(int status) {
  return status == STATUS_NO_ANSWER || status == 408 || status == 429 || status >= 500;
}

static bool is_space(char c) { return c == ' ' || c == '\t'; }

bool retry_after_parse(const char* header, uint32_t* delay_ms) {
  if (header == NULL) return false;
  while (is_space(*header)) ++header;
  uint64_t milliseconds = 0;
  bool digits = false;
  for (; *header >= '0' && *header <= '9'; ++header, digits = true) {
    milliseconds = milliseconds * 10 + static_cast<uint64_t>(*header - '0') * 1000;
    if (milliseconds > RETRY_AFTER_MAX_MS) milliseconds = RETRY_AFTER_MAX_MS + 1;  // no overflow
  }
  if (*header == '.') {
    uint64_t scale = 100;
    for (++header; *header >= '0' && *header <= '9'; ++header, digits = true) {
      milliseconds += static_cast<uint64_t>(*header - '0') * scale;
      scale /= 10;
    }
  }
  while (is_space(*header)) ++header;
  if (!digits || *header != '\0') return false;
  *delay_ms = milliseconds > RETRY_AFTER_MAX_MS ? RETRY_AFTER_MAX_MS
                                                : static_cast<uint32_t>(milliseconds);
  return true;
}

static uint32_t backoff_ms(uint8_t attempt) {
  uint64_t delay = RETRY_BASE_MS;
  for (uint8_t i = 1; i < attempt && delay < RETRY_CAP_MS; ++i) delay *= RETRY_FACTOR;
  return delay > RETRY_CAP_MS ? RETRY_CAP_MS : static_cast<uint32_t>(delay);
}

RetryDecision retry_decide(uint8_t attempt, int status, const char* retry_after,
                           uint16_t jitter_permille) {
  RetryDecision decision = {VERDICT_DONE, 0};
  if ((status >= 200 && status < 300) || status == 409) return decision;
  if (!retry_status_retryable(status)) {
    decision.verdict = VERDICT_STOP;
    return decision;
  }
  if (attempt >= RETRY_ATTEMPTS) {
    decision.verdict = VERDICT_GIVE_UP;
    return decision;
  }
  decision.verdict = VERDICT_RETRY;
  if (retry_after_parse(retry_after, &decision.delay_ms)) return decision;
  if (jitter_permille > 1000) jitter_permille = 1000;
  uint32_t full = backoff_ms(attempt);
  // full * (0.5 + 0.5 * jitter), in integers: the same milliseconds as the simulator's float.
  decision.delay_ms = full / 2 + static_cast<uint32_t>(
      static_cast<uint64_t>(full) * jitter_permille / 2000);
  return decision;
}

}  // namespace smartcart
