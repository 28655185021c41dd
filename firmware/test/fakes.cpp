#include "fakes.h"

#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace fakes {

const char TEST_DEVICE_KEY[] = "scd_0123abcd_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZn";
const char TEST_CA_PEM[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBszCCAVmgAwIBAgIUTESTTESTTESTTESTTESTTESTTESTMAoGCCqGSM49BAMC\n"
    "-----END CERTIFICATE-----\n";

Camera::Status FakeCamera::capture(uint8_t* destination, size_t capacity, size_t* length) {
  events.push_back("capture");
  if (status != OK) return status;
  if (frame.size() > capacity) return TOO_LARGE;
  std::copy(frame.begin(), frame.end(), destination);
  *length = frame.size();
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
    : entries_(SLOTS), slots_(SLOTS * SLOT_BYTES), body_(96 * 1024), head_(1024),
      answer_(4096), cart_(NULL) {
  settings_valid(&settings);
  // Each rig its own dice: scan_ids from different rigs never collide (the server would 409).
  static uint32_t rigs = 0;
  random.state = 0x9E3779B9u * ++rigs;
  camera.frame = file_bytes(frame_jpeg_path());
  CartPorts ports = {clock, random, camera, net, ui, board, lock};
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
