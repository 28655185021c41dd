// The retry policy: the decision table, and the scripted failures shared with the simulator
// (tests/fixtures/devices/cart/retry_script.json) run through the whole cart.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "config.h"
#include "fakes.h"
#include "json_reader.h"
#include "retry.h"

using namespace smartcart;
using fakes::FakeNet;
using fakes::Rig;
using fakes::http_answer;

TEST_SUITE("retry policy") {
  TEST_CASE("transport errors, 408, 429 and 5xx are retried; 2xx and 409 are done") {
    const int retried[] = {STATUS_NO_ANSWER, 408, 429, 500, 502, 503, 504, 599};
    for (int status : retried) {
      CAPTURE(status);
      CHECK(retry_decide(1, status, NULL, 1000).verdict == VERDICT_RETRY);
    }
    const int done[] = {200, 201, 204, 409};
    for (int status : done) {
      CAPTURE(status);
      CHECK(retry_decide(1, status, NULL, 1000).verdict == VERDICT_DONE);
    }
  }

  TEST_CASE("any other 4xx (and 1xx, 3xx) stops: sending again would not help") {
    const int stopped[] = {400, 401, 403, 404, 405, 413, 415, 422, 301, 302, 100};
    for (int status : stopped) {
      CAPTURE(status);
      CHECK(retry_decide(1, status, "1", 1000).verdict == VERDICT_STOP);
    }
  }

  TEST_CASE("the backoff doubles from half a second and is capped at eight") {
    const uint32_t full[] = {500, 1000, 2000, 4000, 8000};
    for (uint8_t attempt = 1; attempt <= 5; ++attempt) {
      CHECK(retry_decide(attempt, 503, NULL, 1000).delay_ms == full[attempt - 1]);
    }
  }

  TEST_CASE("jitter spreads the wait between half and all of the backoff") {
    CHECK(retry_decide(3, 500, NULL, 0).delay_ms == 1000);
    CHECK(retry_decide(3, 500, NULL, 500).delay_ms == 1500);
    CHECK(retry_decide(3, 500, NULL, 1000).delay_ms == 2000);
    CHECK(retry_decide(3, 500, NULL, 9999).delay_ms == 2000);  // out of range: clamped
  }

  TEST_CASE("the sixth attempt is the last") {
    CHECK(retry_decide(5, 500, NULL, 0).verdict == VERDICT_RETRY);
    CHECK(retry_decide(RETRY_ATTEMPTS, 500, NULL, 0).verdict == VERDICT_GIVE_UP);
    CHECK(retry_decide(RETRY_ATTEMPTS, 201, NULL, 0).verdict == VERDICT_DONE);
  }

  TEST_CASE("Retry-After in seconds wins, capped at a minute; other forms are ignored") {
    uint32_t ms = 0;
    CHECK(retry_after_parse("7", &ms));
    CHECK(ms == 7000);
    CHECK(retry_after_parse(" 1.5 ", &ms));
    CHECK(ms == 1500);
    CHECK(retry_after_parse("0", &ms));
    CHECK(ms == 0);
    CHECK(retry_after_parse("99999999999999999999", &ms));
    CHECK(ms == RETRY_AFTER_MAX_MS);
    const char* ignored[] = {"", "soon", "-1", "Wed, 21 Oct 2026 07:28:00 GMT", "1x", "."};
    for (const char* header : ignored) {
      CAPTURE(header);
      CHECK_FALSE(retry_after_parse(header, &ms));
    }
    CHECK(retry_decide(1, 429, "3", 0).delay_ms == 3000);
    CHECK(retry_decide(1, 503, "3", 0).delay_ms == 3000);
    CHECK(retry_decide(1, 429, "soon", 0).delay_ms == 250);
  }
}

// --- The shared script ----------------------------------------------------------------------

namespace {

struct Step {
  int status;  // STATUS_NO_ANSWER for "no_answer"
  std::string retry_after;
  bool has_retry_after;
  uint32_t jitter_permille;
  std::string decision;
  uint32_t delay_ms;
  uint32_t bounds[2];
};

struct Case {
  std::string name;
  std::vector<Step> steps;
  std::string outcome;
  int attempts;
};

std::string text_of(const JsonValue& value) {
  char buffer[512];
  REQUIRE(json_string(value, buffer, sizeof buffer));
  return buffer;
}

int64_t integer_of(const JsonValue& value) {
  int64_t number = 0;
  REQUIRE(json_integer(value, &number));
  return number;
}

// Any JSON number, in thousandths (the script's jitters are 0..1 with up to three decimals).
uint32_t permille_of(const JsonValue& value) {
  REQUIRE(value.type == JSON_NUMBER);
  std::string text(value.start, value.length);
  return static_cast<uint32_t>(strtod(text.c_str(), NULL) * 1000 + 0.5);
}

Step step_of(const JsonValue& item) {
  Step step = Step();
  JsonValue v;
  REQUIRE(json_member(item, "answer", &v));
  step.status = v.type == JSON_STRING ? STATUS_NO_ANSWER : static_cast<int>(integer_of(v));
  if (v.type == JSON_STRING) REQUIRE(text_of(v) == "no_answer");
  step.has_retry_after = json_member(item, "retry_after", &v);
  if (step.has_retry_after) step.retry_after = text_of(v);
  if (json_member(item, "jitter", &v)) step.jitter_permille = permille_of(v);
  REQUIRE(json_member(item, "decision", &v));
  step.decision = text_of(v);
  if (json_member(item, "delay_ms", &v)) step.delay_ms = static_cast<uint32_t>(integer_of(v));
  if (json_member(item, "bounds_ms", &v)) {
    JsonValue bound;
    for (size_t i = 0; i < 2; ++i) {
      REQUIRE(json_item(v, i, &bound));
      step.bounds[i] = static_cast<uint32_t>(integer_of(bound));
    }
  }
  return step;
}

std::vector<Case> load_script(const std::string& text) {
  JsonValue root, policy, cases, item, v, steps, s;
  REQUIRE(json_parse(text.data(), text.size(), &root));
  // The script's policy is this firmware's: if one changes, both sides must.
  REQUIRE(json_member(root, "policy", &policy));
  REQUIRE(json_member(policy, "base_ms", &v));
  CHECK(integer_of(v) == RETRY_BASE_MS);
  REQUIRE(json_member(policy, "factor", &v));
  CHECK(integer_of(v) == RETRY_FACTOR);
  REQUIRE(json_member(policy, "cap_ms", &v));
  CHECK(integer_of(v) == RETRY_CAP_MS);
  REQUIRE(json_member(policy, "attempts", &v));
  CHECK(integer_of(v) == RETRY_ATTEMPTS);
  REQUIRE(json_member(policy, "retry_after_max_ms", &v));
  CHECK(integer_of(v) == RETRY_AFTER_MAX_MS);
  std::vector<Case> loaded;
  REQUIRE(json_member(root, "cases", &cases));
  for (size_t i = 0; json_item(cases, i, &item); ++i) {
    Case c;
    REQUIRE(json_member(item, "name", &v));
    c.name = text_of(v);
    REQUIRE(json_member(item, "steps", &steps));
    for (size_t j = 0; json_item(steps, j, &s); ++j) c.steps.push_back(step_of(s));
    REQUIRE(json_member(item, "outcome", &v));
    c.outcome = text_of(v);
    REQUIRE(json_member(item, "attempts", &v));
    c.attempts = static_cast<int>(integer_of(v));
    loaded.push_back(c);
  }
  return loaded;
}

std::string verdict_name(Verdict verdict) {
  switch (verdict) {
    case VERDICT_DONE: return "done";
    case VERDICT_RETRY: return "retry";
    case VERDICT_STOP: return "stop";
    default: return "give_up";
  }
}

// Every answer closes its connection, so each attempt opens a fresh one and "no_answer" (the
// server hangs up without a word) is a transport error, not a stale keep-alive.
void script_answer(FakeNet& net, const Step& step) {
  if (step.status == STATUS_NO_ANSWER) {
    net.fail(FakeNet::CLOSE_SILENTLY);
    return;
  }
  std::vector<std::string> headers(1, "Connection: close");
  if (step.has_retry_after) headers.push_back("Retry-After: " + step.retry_after);
  bool ok = step.status >= 200 && step.status < 300;
  std::string body = ok ? fakes::file_text(fakes::fixtures_dir() + "/response_added.json")
                        : "{\"detail\":\"scripted\"}";
  net.answer(http_answer(step.status, body, headers));
}

std::string script_path() { return fakes::fixtures_dir() + "/cart/retry_script.json"; }

}  // namespace

TEST_SUITE("contract") {
  TEST_CASE("retry script: each decision, alone, is the policy's") {
    std::vector<Case> cases = load_script(fakes::file_text(script_path()));
    REQUIRE(cases.size() >= 5);
    for (const Case& c : cases) {
      CAPTURE(c.name);
      REQUIRE(static_cast<int>(c.steps.size()) == c.attempts);
      for (size_t i = 0; i < c.steps.size(); ++i) {
        const Step& step = c.steps[i];
        CAPTURE(i);
        const char* retry_after = step.has_retry_after ? step.retry_after.c_str() : NULL;
        uint8_t attempt = static_cast<uint8_t>(i + 1);
        RetryDecision decision =
            retry_decide(attempt, step.status, retry_after, static_cast<uint16_t>(step.jitter_permille));
        CHECK(verdict_name(decision.verdict) == step.decision);
        if (decision.verdict != VERDICT_RETRY) continue;
        CHECK(decision.delay_ms == step.delay_ms);
        CHECK(retry_decide(attempt, step.status, retry_after, 0).delay_ms == step.bounds[0]);
        CHECK(retry_decide(attempt, step.status, retry_after, 1000).delay_ms == step.bounds[1]);
      }
      CHECK(c.steps.back().decision == c.outcome);
    }
  }

  TEST_CASE("retry script: the cart waits as decided and resends the same scan_id and bytes") {
    std::vector<Case> cases = load_script(fakes::file_text(script_path()));
    for (const Case& c : cases) {
      CAPTURE(c.name);
      Rig rig;
      rig.net.heartbeat_reply = http_answer(
          200, fakes::file_text(fakes::fixtures_dir() + "/response_heartbeat.json"),
          std::vector<std::string>(1, "Connection: close"));
      REQUIRE(rig.begin());
      rig.network();  // the first heartbeat
      rig.press();
      REQUIRE(rig.cart().queue_depth() == 1);
      for (size_t i = 0; i < c.steps.size(); ++i) {
        const Step& step = c.steps[i];
        CAPTURE(i);
        script_answer(rig.net, step);
        rig.random.script.push_back(step.jitter_permille);  // read only for a retryable answer
        size_t sent = rig.net.scan_requests().size();
        rig.network();
        REQUIRE(rig.net.scan_requests().size() == sent + 1);
        if (step.decision != "retry") break;
        // Nothing goes out a millisecond before the wait is over, and it goes out right then.
        rig.clock.now += step.delay_ms - 1;
        if (step.delay_ms > 0) {
          rig.network();
          CHECK(rig.net.scan_requests().size() == sent + 1);
        }
        rig.clock.now += 1;
      }
      std::vector<std::string> scans = rig.net.scan_requests();
      CHECK(static_cast<int>(scans.size()) == c.attempts);
      for (const std::string& request : scans) CHECK(request == scans[0]);  // scan_id included
      // A scan the policy gave up on stays queued, offline; a done or stopped one is gone.
      CHECK(rig.cart().queue_depth() == (c.outcome == "give_up" ? 1u : 0u));
      rig.random.script.clear();
    }
  }
}
