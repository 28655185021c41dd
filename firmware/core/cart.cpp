#include "cart.h"

#include <string.h>

#include "retry.h"
#include "text.h"
#include "timing.h"
#include "uuid.h"

namespace smartcart {

const Lines TEXT_STARTING = {"smartcart", "Starting..."};
const Lines TEXT_NEEDS_SETUP = {"Needs setup", "Serial 115200"};
const Lines TEXT_SENDING = {"Sending...", ""};
const Lines TEXT_SAVED = {"Scan saved", "Sending later"};
const Lines TEXT_QUEUE_FULL = {"Queue full", "Wait for Wi-Fi"};
const Lines TEXT_NOT_SAVED = {"Not saved", "Call staff"};
const Lines TEXT_CAMERA_ERROR = {"Camera error", "Try again"};
const Lines TEXT_CAMERA_FAULT = {"Camera fault", "Ask staff"};
const Lines TEXT_PHOTO_TOO_LARGE = {"Photo too large", "Try again"};
const Lines TEXT_REMOVE_MODE = {"Remove mode", "Scan to remove"};
const Lines TEXT_ADD_MODE = {"Add mode", "Scan to add"};
const Lines TEXT_KEY_REFUSED = {"Key refused", "Call staff"};
const Lines TEXT_SCAN_REFUSED = {"Scan refused", "Call staff"};
const Lines TEXT_SCAN_CONFLICT = {"Scan not added", "Scan again"};
const Lines TEXT_ODD_ANSWER = {"Odd answer", "Check your cart"};
const Lines TEXT_UPDATING = {"Updating...", "Do not unplug"};

namespace {

bool is_jpeg(const uint8_t* data, size_t length) {
  return length >= 4 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF;
}

void lines_copy(char destination[2][DISPLAY_LINE_BYTES], const Lines& lines) {
  display_fit(lines.line1, destination[0]);
  display_fit(lines.line2, destination[1]);
}

}  // namespace

CartCore::CartCore(const CartPorts& ports, const CartBuffers& buffers)
    : ports_(ports), buffers_(buffers),
      queue_(buffers.entries, buffers.slots, buffers.slot_storage, buffers.slot_bytes, ports.lock),
      store_(ports.flash),
      http_(ports.net, ports.clock), settings_(NULL), configured_(false), lines_since_ms_(0),
      lines_from_scan_(false), hz_(0), led_(false), drawn_once_(false), uptime_ms_(0),
      uptime_mark_(0), heartbeat_sent_(false), heartbeat_at_ms_(0), mailbox_count_(0),
      net_(NET_STARTING), paired_(false), camera_fault_(false), failed_captures_(0),
      last_press_ms_(0) {
  memset(screen_, 0, sizeof screen_);
  memset(&offer_, 0, sizeof offer_);
  lines_copy(lines_, TEXT_STARTING);
  lines_copy(idle_lines_, TEXT_STARTING);
  memset(&url_, 0, sizeof url_);
}

bool CartCore::begin(const Settings& settings, uint32_t now) {
  settings_ = &settings;
  uptime_mark_ = now;
  last_press_ms_ = now;
  configured_ = settings_check(settings) == SETTINGS_OK &&
                server_url_parse(settings.server_url, &url_) == URL_OK;
  if (configured_) {
    restore_saved(now);
    Feedback starting;  // idle: the first heartbeat's lines replace it at once
    lines_copy(starting.lines, TEXT_STARTING);
    starting.pattern = PATTERN_NONE;
    starting.idle = true;
    present(starting, now);
  } else {
    present_text(TEXT_NEEDS_SETUP, PATTERN_ERROR, now);
  }
  render(now);
  return configured_;
}

// Every slot whose file is whole joins the queue at its seq, as it was before the power cut.
// The shopper heard about these scans before it: nothing is played for them now.
void CartCore::restore_saved(uint32_t now) {
  for (size_t i = 0; i < queue_.capacity(); ++i) {
    PendingScan* slot = queue_.slot(i);
    if (!store_.load(i, slot)) continue;
    slot->attempts = 0;
    slot->next_try_ms = now;
    slot->waiting = false;
    slot->told_saved = true;
    queue_.restore(i);
  }
}

// --- The input loop ---------------------------------------------------------------------------

void CartCore::poll_input(bool button_pressed, uint32_t now) {
  ButtonEvent event = button_.update(button_pressed, now);
  if (event != BUTTON_NONE) {
    Locked held(ports_.lock);
    last_press_ms_ = now;
  }
  if (configured_) {
    if (event == BUTTON_SHORT_PRESS) now = capture(now);
    if (event == BUTTON_LONG_PRESS) {
      bool removing = modes_.toggle(now) == MODE_REMOVE;
      present_text(removing ? TEXT_REMOVE_MODE : TEXT_ADD_MODE,
                   removing ? PATTERN_MODE_REMOVE : PATTERN_MODE_ADD, now);
    }
    if (modes_.expire(now)) present_text(TEXT_ADD_MODE, PATTERN_MODE_ADD, now);
    drain_mailbox(now);
  }
  render(now);
}

PendingScan* CartCore::reserve_or_refuse(uint32_t now) {
  PendingScan* slot = queue_.reserve();
  // Full: this scan is refused, loudly; the ones already accepted all stay.
  if (slot == NULL) present_text(TEXT_QUEUE_FULL, PATTERN_ERROR, now);
  return slot;
}

void CartCore::camera_failed(uint32_t now) {
  {
    Locked held(ports_.lock);
    camera_fault_ = true;
  }
  present_text(TEXT_CAMERA_FAULT, PATTERN_ERROR, now);
  render(now);
}

bool CartCore::camera_ok() {
  Locked held(ports_.lock);
  return !camera_fault_;
}

uint32_t CartCore::failed_captures() {
  Locked held(ports_.lock);
  return failed_captures_;
}

void CartCore::capture_failed(const Lines& lines, uint32_t now) {
  {
    Locked held(ports_.lock);
    ++failed_captures_;
  }
  present_text(lines, PATTERN_ERROR, now);
}

uint32_t CartCore::capture(uint32_t pressed_ms) {
  if (!camera_ok()) {  // no camera to take the photo with: the shopper is sent to staff
    capture_failed(TEXT_CAMERA_FAULT, pressed_ms);
    return pressed_ms;
  }
  PendingScan* slot = reserve_or_refuse(pressed_ms);
  if (slot == NULL) return pressed_ms;
  size_t length = 0;
  Camera::Status status = photo_after(pressed_ms, slot, &length);
  // Waiting for the frame took a frame or two: the shopper hears the outcome from now on.
  uint32_t now = ports_.clock.millis();
  if (status == Camera::TOO_LARGE) {
    capture_failed(TEXT_PHOTO_TOO_LARGE, now);
  } else if (status != Camera::OK || !is_jpeg(slot->payload, length)) {
    capture_failed(TEXT_CAMERA_ERROR, now);
  } else {
    slot->symbology[0] = '\0';
    enqueue(slot, SCAN_IMAGE, length, now);
  }
  return now;
}

// The first frame the sensor began at or after pressed_ms, copied into slot. The driver hands
// out the frames it finished earlier first: the one it began just after the previous photo
// (the product before, which would be added twice) or minutes ago. Those are thrown away by
// their time, whatever the driver's buffering, so no photo ever shows the time before the press.
Camera::Status CartCore::photo_after(uint32_t pressed_ms, PendingScan* slot, size_t* length) {
  for (uint8_t frames = 0; frames <= CAMERA_STALE_FRAMES_MAX; ++frames) {
    uint32_t taken_ms = 0;
    Camera::Status status =
        ports_.camera.capture(slot->payload, slot->payload_capacity, length, &taken_ms);
    if (status == Camera::FAILED) return status;
    if (time_within(taken_ms, pressed_ms, ports_.clock.millis())) return status;
  }
  return Camera::FAILED;  // only frames from before the press: the camera is not delivering
}

void CartCore::scan_code(const char* code, const char* symbology, uint32_t now) {
  if (!configured_ || code[0] == '\0') return;
  PendingScan* slot = reserve_or_refuse(now);
  if (slot == NULL) return;
  size_t length = strlen(code);
  if (length > CODE_MAX || length > slot->payload_capacity ||
      !text_copy(slot->symbology, sizeof slot->symbology, symbology)) {
    present_text(TEXT_SCAN_REFUSED, PATTERN_ERROR, now);
    return;
  }
  memcpy(slot->payload, code, length);
  enqueue(slot, SCAN_CODE, length, now);
}

void CartCore::enqueue(PendingScan* slot, ScanKind kind, size_t length, uint32_t now) {
  // The scan_id is made here, once: every attempt to send this scan carries it.
  uuid4_make(ports_.random, slot->scan_id);
  slot->mode = modes_.current();
  slot->quantity = 1;
  slot->kind = kind;
  slot->payload_length = length;
  slot->attempts = 0;
  slot->next_try_ms = now;
  slot->waiting = false;
  // On flash before the shopper hears anything: from then on a power cut does not lose it.
  if (!store_.save(queue_.index_of(slot), *slot)) {
    present_text(TEXT_NOT_SAVED, PATTERN_ERROR, now);  // the flash is full or failing
    return;
  }
  // With no network, or scans already waiting, the shopper hears at once that it is kept.
  bool later = net_state() == NET_OFFLINE || queue_.depth() > 0;
  slot->told_saved = later;
  queue_.commit();
  modes_.scanned();
  if (later) {
    present_text(TEXT_SAVED, PATTERN_OFFLINE, now);
  } else {
    present_text(TEXT_SENDING, PATTERN_NONE, now);
  }
}

void CartCore::present_text(const Lines& lines, Pattern pattern, uint32_t now) {
  Feedback feedback;
  lines_copy(feedback.lines, lines);
  feedback.pattern = pattern;
  feedback.idle = false;
  present(feedback, now);
}

void CartCore::present(const Feedback& feedback, uint32_t now) {
  if (feedback.idle) {
    memcpy(idle_lines_, feedback.lines, sizeof idle_lines_);
    if (!camera_ok()) return;  // "Camera fault" stays until staff have seen to it
    // A heartbeat does not wipe a scan's answer the shopper may still be reading.
    if (lines_from_scan_ && elapsed_ms(now, lines_since_ms_) < FEEDBACK_HOLD_MS) return;
  }
  memcpy(lines_, feedback.lines, sizeof lines_);
  lines_since_ms_ = now;
  lines_from_scan_ = !feedback.idle;
  melody_.play(feedback.pattern, now);
}

void CartCore::drain_mailbox(uint32_t now) {
  for (;;) {
    Feedback feedback;
    {
      Locked held(ports_.lock);
      if (mailbox_count_ == 0) return;
      feedback = mailbox_[0];
      memmove(&mailbox_[0], &mailbox_[1], (mailbox_count_ - 1) * sizeof mailbox_[0]);
      --mailbox_count_;
    }
    present(feedback, now);
  }
}

LedState CartCore::led_state() {
  if (!configured_) return LED_NEEDS_SETUP;
  NetState net = net_state();
  if (net == NET_OFFLINE) return LED_OFFLINE;
  if (net == NET_STARTING) return LED_STARTING;
  return queue_.depth() > 0 ? LED_SENDING : LED_READY;
}

void CartCore::render(uint32_t now) {
  char status[sizeof screen_[0]];
  TextBuffer line(status, sizeof status);
  if (!configured_) {
    line.add("SETUP");
  } else {
    line.add(modes_.current() == MODE_REMOVE ? "REMOVE" : "ADD");
    size_t depth = queue_.depth();
    if (depth > 0) line.add(" q").add_uint(depth);
    NetState net = net_state();
    if (net == NET_OFFLINE) line.add(" offline");
    if (net == NET_STARTING) line.add(" connecting");
  }
  bool changed = !drawn_once_ || strcmp(status, screen_[0]) != 0 ||
                 strcmp(lines_[0], screen_[1]) != 0 || strcmp(lines_[1], screen_[2]) != 0;
  if (changed) {
    text_copy(screen_[0], sizeof screen_[0], status);
    text_copy(screen_[1], sizeof screen_[1], lines_[0]);
    text_copy(screen_[2], sizeof screen_[2], lines_[1]);
    ports_.ui.show(screen_[0], screen_[1], screen_[2]);
  }
  uint16_t hz = melody_.update(now);
  if (hz != hz_ || !drawn_once_) ports_.ui.tone(hz);
  hz_ = hz;
  bool led = led_level(led_state(), now);
  if (led != led_ || !drawn_once_) ports_.ui.led(led);
  led_ = led;
  drawn_once_ = true;
}

// --- The network task -------------------------------------------------------------------------

bool CartCore::network_ready() {
  // TLS checks the certificate's dates: no request before SNTP has set the clock.
  return ports_.board.network_up() && ports_.clock.epoch_seconds() >= CLOCK_VALID_AFTER;
}

void CartCore::poll_network(uint32_t now) {
  uptime_ms_ += elapsed_ms(now, uptime_mark_);
  uptime_mark_ = now;
  if (!configured_) return;
  watch_wifi(now);
  PendingScan* scan = queue_.head();
  if (!network_ready()) {
    if (scan != NULL || net_state() == NET_ONLINE) set_net(NET_OFFLINE);
    if (scan != NULL && !scan->told_saved) post(TEXT_SAVED, PATTERN_OFFLINE);
    if (scan != NULL) scan->told_saved = true;
    return;
  }
  if (scan != NULL && (!scan->waiting || time_reached(now, scan->next_try_ms))) {
    send_scan(*scan);
    return;
  }
  if (!heartbeat_sent_ || elapsed_ms(now, heartbeat_at_ms_) >= HEARTBEAT_INTERVAL_MS) {
    send_heartbeat(now);
  }
}

void CartCore::watch_wifi(uint32_t now) {
  WifiWatchdog::Action action = wifi_watchdog_.update(ports_.board.network_up(), now);
  // The queue is on flash, so a restart loses no scan; one being written just then was not
  // yet told "saved" (the shopper sees the cart restart, and scans again).
  if (action == WifiWatchdog::RESTART) ports_.board.restart_for_wifi();
  if (action == WifiWatchdog::RECONNECT) ports_.board.wifi_reconnect();
}

uint16_t CartCore::jitter_permille() {
  return static_cast<uint16_t>(ports_.random.next() % 1001);
}

bool CartCore::exchange(const OutgoingRequest& request, HttpResponse& response) {
  http_response_reset(response, buffers_.answer, buffers_.answer_capacity);
  size_t head_length = http_head_write(url_.host, url_.port, settings_->device_key,
                                       request.http, buffers_.head, buffers_.head_capacity);
  if (head_length == 0) return false;
  http_.exchange(url_.host, url_.port, buffers_.head, head_length, request.http.body,
                 request.http.body_length, response, HTTP_TIMEOUT_MS);
  set_net(response.status != STATUS_NO_ANSWER ? NET_ONLINE : NET_OFFLINE);
  return true;
}

void CartCore::send_scan(PendingScan& scan) {
  OutgoingRequest request;
  HttpResponse response;
  if (scan_request_build(scan, image_upload_of(*settings_), url_, buffers_.body,
                         buffers_.body_capacity, &request) != BUILD_OK ||
      !exchange(request, response)) {
    post(TEXT_PHOTO_TOO_LARGE, PATTERN_ERROR);  // it would never fit: sending again won't help
    scan_done(scan);
    return;
  }
  RetryDecision decision = scan_decide(scan, response);
  if (decision.verdict == VERDICT_RETRY || decision.verdict == VERDICT_GIVE_UP) {
    scan_wait(scan, decision);
    return;
  }
  scan_finished(response, decision.verdict);
  scan_done(scan);
}

// The server answered (or the scan can never be sent): off the flash, then out of the queue. A
// power cut between the two sends it once more after the restart, with the same scan_id, and
// the server answers that from its record.
void CartCore::scan_done(PendingScan& scan) {
  store_.erase(queue_.index_of(&scan));
  queue_.pop();
}

RetryDecision CartCore::scan_decide(PendingScan& scan, const HttpResponse& response) {
  ++scan.attempts;
  const char* retry_after = response.retry_after[0] != '\0' ? response.retry_after : NULL;
  // The dice are rolled for a retryable answer only, as the simulator does.
  uint16_t jitter = retry_status_retryable(response.status) ? jitter_permille() : 0;
  return retry_decide(scan.attempts, response.status, retry_after, jitter);
}

void CartCore::scan_wait(PendingScan& scan, RetryDecision decision) {
  if (decision.verdict == VERDICT_GIVE_UP) {  // kept, never dropped: a new round later
    scan.attempts = 0;
    decision.delay_ms = OFFLINE_RETRY_MS;
  }
  scan.waiting = true;
  scan.next_try_ms = ports_.clock.millis() + decision.delay_ms;  // from the end of the attempt
  if (!scan.told_saved) post(TEXT_SAVED, PATTERN_OFFLINE);
  scan.told_saved = true;
}

void CartCore::scan_finished(const HttpResponse& response, Verdict verdict) {
  if (verdict == VERDICT_STOP) {
    bool key = response.status == 401 || response.status == 403;
    post(key ? TEXT_KEY_REFUSED
             : response.status == 413 ? TEXT_PHOTO_TOO_LARGE : TEXT_SCAN_REFUSED,
         PATTERN_ERROR);
    return;
  }
  if (response.status == 409) {  // this scan_id stands for another scan: this one is lost
    post(TEXT_SCAN_CONFLICT, PATTERN_ERROR);
    return;
  }
  ScanAnswer answer;
  if (response.body_truncated ||
      !scan_answer_parse(response.body, response.body_length, &answer)) {
    post(TEXT_ODD_ANSWER, PATTERN_ERROR);
    return;
  }
  post_answer(answer.display, pattern_for_beep(answer.beep), false);
  Locked held(ports_.lock);
  if (answer.result == RESULT_PAIRED) paired_ = true;
  if (answer.result == RESULT_NOT_PAIRED || answer.result == RESULT_CART_CLOSED) paired_ = false;
}

void CartCore::send_heartbeat(uint32_t now) {
  heartbeat_sent_ = true;
  heartbeat_at_ms_ = now;
  uint64_t seconds = uptime_ms_ / 1000;
  Heartbeat heartbeat = {SMARTCART_FIRMWARE_VERSION,
                         seconds > 0xFFFFFFFFu ? 0xFFFFFFFFu : static_cast<uint32_t>(seconds),
                         ports_.board.wifi_rssi(),
                         ports_.board.free_heap(),
                         queue_.depth(),
                         reset_reason_name(ports_.board.reset_reason()),
                         ports_.board.free_psram(),
                         failed_captures(),
                         camera_ok()};
  OutgoingRequest request;
  HttpResponse response;
  if (heartbeat_request_build(heartbeat, url_, buffers_.body, buffers_.body_capacity,
                              &request) != BUILD_OK ||
      !exchange(request, response) || response.status != 200) {
    return;  // not retried: the next one is due in HEARTBEAT_INTERVAL_MS
  }
  // The server took this image's heartbeat: an update on trial has proved itself.
  if (ports_.board.image_pending_verify()) ports_.board.image_mark_valid();
  HeartbeatAnswer answer;
  if (response.body_truncated ||
      !heartbeat_answer_parse(response.body, response.body_length, &answer)) {
    return;
  }
  post_answer(answer.display, PATTERN_NONE, true);
  offer_ = answer.update;  // network side only: no lock
  Locked held(ports_.lock);
  paired_ = answer.paired;
}

bool CartCore::update_take(uint32_t now, UpdateOffer* offer) {
  if (!configured_ || !offer_.offered) return false;
  uint32_t idle_ms;
  {
    Locked held(ports_.lock);
    idle_ms = elapsed_ms(now, last_press_ms_);
  }
  if (!update_due(offer_, SMARTCART_FIRMWARE_VERSION, paired(), queue_.depth(), idle_ms)) {
    return false;
  }
  *offer = offer_;
  offer_.offered = false;
  char lines[2][DISPLAY_LINE_BYTES];
  lines_copy(lines, TEXT_UPDATING);
  post_answer(lines, PATTERN_NONE, true);  // idle lines: they stay until the restart
  return true;
}

void CartCore::post(const Lines& lines, Pattern pattern) {
  char fitted[2][DISPLAY_LINE_BYTES];
  lines_copy(fitted, lines);
  post_answer(fitted, pattern, false);
}

void CartCore::post_answer(const char lines[2][DISPLAY_LINE_BYTES], Pattern pattern, bool idle) {
  Locked held(ports_.lock);
  // The input loop empties this every few milliseconds; should it ever be full, the newest
  // news replaces the last entry.
  size_t index = mailbox_count_ < MAILBOX_SIZE ? mailbox_count_++ : MAILBOX_SIZE - 1;
  memcpy(mailbox_[index].lines, lines, sizeof mailbox_[index].lines);
  mailbox_[index].pattern = pattern;
  mailbox_[index].idle = idle;
}

void CartCore::set_net(NetState state) {
  Locked held(ports_.lock);
  net_ = state;
}

NetState CartCore::net_state() {
  Locked held(ports_.lock);
  return net_;
}

bool CartCore::paired() {
  Locked held(ports_.lock);
  return paired_;
}

}  // namespace smartcart
