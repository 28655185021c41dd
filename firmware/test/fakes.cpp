#include "fakes.h"

#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "timing.h"

namespace fakes {

const char TEST_DEVICE_KEY[] = "scd_0123abcd_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZn";
const char TEST_CA_PEM[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBszCCAVmgAwIBAgIUTESTTESTTESTTESTTESTTESTTESTMAoGCCqGSM49BAMC\n"
    "-----END CERTIFICATE-----\n";

void FakeCamera::start(size_t fb_count, GrabMode mode) {
  buffers_.assign(fb_count, Buffer{Buffer::FREE, Frame{"", 0}});
  queue_.clear();
  queue_capacity_ = mode == GRAB_LATEST && fb_count > 1 ? fb_count - 1 : fb_count;
  next_vsync_ = clock_.now + frame_ms;
  if (scenes_.empty()) scenes_.push_back(Scene{"product", clock_.now});
}

void FakeCamera::show(const std::string& what, uint32_t from_ms) {
  scenes_.push_back(Scene{what, from_ms});
}

// Every VSYNC up to now. After a long quiet time only the first and the last few matter: the
// driver has then either stopped (every buffer queued) or keeps replacing its queued frames.
void FakeCamera::run_until(uint32_t now) {
  const uint32_t settle = static_cast<uint32_t>(buffers_.size()) + 2;
  uint32_t run = 0;
  while (time_reached(now, next_vsync_)) {
    if (++run == settle && elapsed_ms(now, next_vsync_) / frame_ms > settle) {
      next_vsync_ += (elapsed_ms(now, next_vsync_) / frame_ms - settle) * frame_ms;
    }
    vsync(next_vsync_);
    next_vsync_ += frame_ms;
  }
}

void FakeCamera::vsync(uint32_t at) {
  for (size_t i = 0; i < buffers_.size(); ++i) {
    if (buffers_[i].state != Buffer::READING) continue;
    if (queue_.size() == queue_capacity_) {
      buffers_[queue_.front()].state = Buffer::FREE;
      queue_.pop_front();
    }
    buffers_[i].state = Buffer::QUEUED;
    queue_.push_back(i);
  }
  for (size_t i = 0; i < buffers_.size(); ++i) {
    if (buffers_[i].state != Buffer::FREE) continue;
    std::string what;
    for (const Scene& scene : scenes_) {
      if (time_reached(at, scene.from_ms)) what = scene.what;
    }
    buffers_[i].state = Buffer::READING;
    buffers_[i].frame = Frame{what, at};
    return;
  }
}

// The frame: jpeg with a comment segment (FF FE) after its start marker, which decoders skip.
std::vector<uint8_t> FakeCamera::bytes_of(const Frame& frame) const {
  if (jpeg.size() < 2 || jpeg[0] != 0xFF || jpeg[1] != 0xD8) return jpeg;  // no JPEG: as is
  std::string mark = "what=" + frame.what + ";taken_ms=" + std::to_string(frame.taken_ms);
  size_t length = mark.size() + 2;
  std::vector<uint8_t> bytes(jpeg.begin(), jpeg.begin() + 2);
  bytes.push_back(0xFF);
  bytes.push_back(0xFE);
  bytes.push_back(static_cast<uint8_t>(length >> 8));
  bytes.push_back(static_cast<uint8_t>(length & 0xFF));
  bytes.insert(bytes.end(), mark.begin(), mark.end());
  bytes.insert(bytes.end(), jpeg.begin() + 2, jpeg.end());
  return bytes;
}

FakeCamera::Frame FakeCamera::photo_of(const std::string& jpeg) {
  Frame frame = {"", 0};
  if (jpeg.size() < 6 || jpeg.compare(0, 4, "\xFF\xD8\xFF\xFE") != 0) return frame;
  size_t length = (static_cast<uint8_t>(jpeg[4]) << 8) | static_cast<uint8_t>(jpeg[5]);
  std::string mark = jpeg.substr(6, length - 2);
  size_t taken = mark.find(";taken_ms=");
  frame.what = mark.substr(5, taken - 5);
  frame.taken_ms = static_cast<uint32_t>(strtoul(mark.c_str() + taken + 10, NULL, 10));
  return frame;
}

Camera::Status FakeCamera::capture(uint8_t* destination, size_t capacity, size_t* length,
                                   uint32_t* taken_ms) {
  run_until(clock_.now);
  if (status == FAILED) return FAILED;
  while (queue_.empty()) {  // esp_camera_fb_get() waits for the frame being read
    clock_.now = next_vsync_;
    run_until(clock_.now);
  }
  size_t index = queue_.front();
  queue_.pop_front();
  Frame frame = buffers_[index].frame;
  buffers_[index].state = Buffer::FREE;  // copied below, then esp_camera_fb_return()
  grabbed.push_back(frame);
  *taken_ms = frame.taken_ms - stamp_lag_ms;
  std::vector<uint8_t> bytes = bytes_of(frame);
  if (bytes.size() > capacity) return TOO_LARGE;
  std::copy(bytes.begin(), bytes.end(), destination);
  *length = bytes.size();
  return OK;
}

bool FakeNet::connect(const char* to_host, uint16_t to_port) {
  ++connects;
  host = to_host;
  port = to_port;
  if (!script.empty() && script.front().kind == REFUSE_CONNECT) {
    script.pop_front();
    return false;
  }
  open_ = true;
  return true;
}

size_t FakeNet::write(const uint8_t* data, size_t len) {
  if (!open_) return 0;
  pending_.append(reinterpret_cast<const char*>(data), len);
  return len;
}

int FakeNet::read(uint8_t* buffer, size_t capacity) {
  if (!open_) return -1;
  if (!replying_) {  // the client has sent its request and waits for the answer
    bool heartbeat = pending_.find("/heartbeat/ HTTP/1.1") != std::string::npos;
    if (heartbeat && !heartbeat_reply.empty()) {
      ++heartbeats;
      pending_.clear();
      reply_ = heartbeat_reply;
      replying_ = true;
      current_ = ANSWER;
      return read(buffer, capacity);
    }
    requests.push_back(pending_);
    pending_.clear();
    if (script.empty()) return 0;  // nobody answers
    Step step = script.front();
    script.pop_front();
    current_ = step.kind;
    if (step.kind == CLOSE_SILENTLY || step.kind == REFUSE_CONNECT) {
      open_ = false;
      return -1;
    }
    reply_ = step.bytes;
    replying_ = true;
  }
  if (reply_.empty()) return 0;  // HANG
  // Small pieces: the parser must cope with an answer cut anywhere.
  size_t count = std::min(std::min(capacity, reply_.size()), static_cast<size_t>(61));
  memcpy(buffer, reply_.data(), count);
  reply_.erase(0, count);
  if (reply_.empty() && current_ == ANSWER) {
    replying_ = false;
  }
  return static_cast<int>(count);
}

std::vector<std::string> FakeNet::scan_requests() const {
  std::vector<std::string> scans;
  for (const std::string& request : requests) {
    if (request.find("/scans/ HTTP/1.1") != std::string::npos) scans.push_back(request);
  }
  return scans;
}

void FakeNet::stop() {
  if (!pending_.empty()) requests.push_back(pending_);
  pending_.clear();
  reply_.clear();
  open_ = false;
  replying_ = false;
}

std::string http_answer(int status, const std::string& body,
                        const std::vector<std::string>& headers) {
  std::ostringstream out;
  out << "HTTP/1.1 " << status << " X\r\n"
      << "Content-Type: application/json\r\n"
      << "Content-Length: " << body.size() << "\r\n";
  for (const std::string& header : headers) out << header << "\r\n";
  out << "\r\n" << body;
  return out.str();
}

int FakeStorage::get(const char* key, char* buffer, size_t capacity) {
  std::map<std::string, std::string>::const_iterator found = values.find(key);
  if (found == values.end() || found->second.size() + 1 > capacity) return -1;
  memcpy(buffer, found->second.c_str(), found->second.size() + 1);
  return static_cast<int>(found->second.size());
}

bool FakeFlash::write(const char* name, const Part* parts, size_t count) {
  if (cut) return false;
  ++writes;
  if (full) return false;
  std::string& file = files[name];
  file.clear();
  for (size_t i = 0; i < count; ++i) {
    for (size_t at = 0; at < parts[i].length; ++at) {
      if (cut_after_bytes == 0) {
        cut = true;
        return false;
      }
      if (cut_after_bytes > 0) --cut_after_bytes;
      file.push_back(static_cast<char>(parts[i].data[at]));
    }
  }
  return true;
}

int FakeFlash::read(const char* name, size_t offset, uint8_t* buffer, size_t capacity) {
  std::map<std::string, std::string>::const_iterator found = files.find(name);
  if (found == files.end()) return -1;
  if (offset >= found->second.size()) return 0;
  size_t count = std::min(capacity, found->second.size() - offset);
  memcpy(buffer, found->second.data() + offset, count);
  return static_cast<int>(count);
}

bool FakeFlash::remove(const char* name) {
  if (cut) return false;
  ++removes;
  files.erase(name);
  return true;
}

void settings_valid(Settings* settings) {
  settings_clear(settings);
  strcpy(settings->wifi_ssid, "StoreNet");
  strcpy(settings->wifi_password, "correct horse");
  strcpy(settings->server_url, "https://shop.example.com");
  strcpy(settings->device_key, TEST_DEVICE_KEY);
  strcpy(settings->ca_pem, TEST_CA_PEM);
}

const size_t Rig::SLOTS;
const size_t Rig::SLOT_BYTES;

Rig::Rig()
    : camera(clock), entries_(SLOTS), slots_(SLOTS * SLOT_BYTES), body_(96 * 1024), head_(1024),
      answer_(4096), cart_(NULL) {
  settings_valid(&settings);
  // Each rig its own dice: scan_ids from different rigs never collide (the server would 409).
  static uint32_t rigs = 0;
  random.state = 0x9E3779B9u * ++rigs;
  camera.jpeg = file_bytes(frame_jpeg_path());
  camera.start(1, FakeCamera::GRAB_WHEN_EMPTY);  // as cart/hardware.cpp configures the driver
  CartPorts ports = {clock, random, camera, net, ui, board, lock, flash};
  CartBuffers buffers = {entries_.data(), SLOTS,       slots_.data(), SLOT_BYTES,
                         body_.data(),    body_.size(), head_.data(), head_.size(),
                         answer_.data(),  answer_.size()};
  cart_ = new CartCore(ports, buffers);
}

Rig::~Rig() { delete cart_; }

bool Rig::begin() { return cart_->begin(settings, clock.millis()); }

void Rig::press(uint32_t held_ms) {
  for (uint32_t t = 0; t < held_ms; t += 10) {
    cart_->poll_input(true, clock.now);
    clock.now += 10;
  }
  for (uint32_t t = 0; t <= BUTTON_DEBOUNCE_MS + 10; t += 10) {
    cart_->poll_input(false, clock.now);
    clock.now += 10;
  }
}

void Rig::run(uint32_t ms) {
  for (uint32_t t = 0; t < ms; t += 10) {
    clock.now += 10;
    cart_->poll_input(false, clock.now);
    cart_->poll_network(clock.now);
  }
}

std::string file_text(const std::string& path) {
  std::ifstream in(path.c_str(), std::ios::binary);
  if (!in) {
    fprintf(stderr, "cannot read %s\n", path.c_str());
    abort();
  }
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

std::vector<uint8_t> file_bytes(const std::string& path) {
  std::string text = file_text(path);
  return std::vector<uint8_t>(text.begin(), text.end());
}

std::string fixtures_dir() {
  const char* dir = getenv("FIXTURES_DIR");
  return dir != NULL ? dir : "../tests/fixtures/devices";
}

std::string payloads_dir() {
  const char* dir = getenv("PAYLOADS_DIR");
  return dir != NULL ? dir : "build/payloads";
}

std::string frame_jpeg_path() { return fixtures_dir() + "/cart/frame_ean13.jpg"; }

SeenRequest parse_request(const std::string& bytes) {
  SeenRequest seen;
  size_t end = bytes.find("\r\n\r\n");
  std::string head = bytes.substr(0, end);
  seen.body = end == std::string::npos ? "" : bytes.substr(end + 4);
  std::istringstream lines(head);
  std::string line;
  std::getline(lines, line);
  seen.request_line = line.substr(0, line.size() - 1);
  while (std::getline(lines, line)) {
    if (!line.empty() && line[line.size() - 1] == '\r') line.erase(line.size() - 1);
    size_t colon = line.find(": ");
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    seen.headers[name] = line.substr(colon + 2);
  }
  return seen;
}

}  // namespace fakes
