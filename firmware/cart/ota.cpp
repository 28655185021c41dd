// The OtaSlot and SignatureCheck ports on the ESP32, and the download loop (ota.h).
#include "ota.h"

#include <Arduino.h>
#include <HTTPClient.h>
#include <WiFiClientSecure.h>
#include <esp_ota_ops.h>
#include <esp_task_wdt.h>
#include <sodium.h>
#include <string.h>

#include "release_key.h"

using namespace smartcart;

namespace hardware {

namespace {

const uint16_t DOWNLOAD_TIMEOUT_MS = 15000;  // per read; the whole download has no limit
const size_t CHUNK_BYTES = 4096;             // a flash sector: esp_ota_write's sweet spot

// The slot the bootloader does not run now. esp_ota_begin erases as much of it as the image
// needs; esp_ota_end checks the image's own header and checksum on top of ours.
class EspOtaSlot : public OtaSlot {
 public:
  bool begin(uint32_t size) override {
    partition_ = esp_ota_get_next_update_partition(nullptr);
    if (partition_ == nullptr || size > partition_->size) return false;
    open_ = esp_ota_begin(partition_, size, &handle_) == ESP_OK;
    return open_;
  }
  bool write(const uint8_t* data, size_t length) override {
    return open_ && esp_ota_write(handle_, data, length) == ESP_OK;
  }
  bool activate() override {
    if (!open_) return false;
    open_ = false;
    return esp_ota_end(handle_) == ESP_OK && esp_ota_set_boot_partition(partition_) == ESP_OK;
  }
  void abort() override {
    if (open_) esp_ota_abort(handle_);
    open_ = false;
  }

 private:
  const esp_partition_t* partition_ = nullptr;
  esp_ota_handle_t handle_ = 0;
  bool open_ = false;
};

class SodiumCheck : public SignatureCheck {
 public:
  bool verify(const uint8_t digest[SHA256_BYTES],
              const uint8_t signature[SIGNATURE_BYTES]) override {
    static const uint8_t NONE[sizeof RELEASE_PUBLIC_KEY] = {0};
    if (memcmp(RELEASE_PUBLIC_KEY, NONE, sizeof NONE) == 0) {
      Serial.println("Update refused: no release key in this build.");
      return false;
    }
    // The release's signature is over its SHA-256 digest (openssl pkeyutl -rawin).
    return sodium_init() >= 0 &&
           crypto_sign_ed25519_verify_detached(signature, digest, SHA256_BYTES,
                                               RELEASE_PUBLIC_KEY) == 0;
  }
};

const char* failure_name(UpdateInstaller::Failure failure) {
  switch (failure) {
    case UpdateInstaller::SLOT_ERROR: return "the OTA slot";
    case UpdateInstaller::TOO_LONG: return "longer than offered";
    case UpdateInstaller::SIZE_MISMATCH: return "shorter than offered";
    case UpdateInstaller::HASH_MISMATCH: return "SHA-256 differs";
    case UpdateInstaller::BAD_SIGNATURE: return "signature refused";
    default: return "download";
  }
}

// Streams the body into the installer; false when the connection ended early.
bool stream_body(WiFiClient& body, uint32_t size, UpdateInstaller& installer) {
  static uint8_t chunk[CHUNK_BYTES];  // static: the network task's stack is for TLS
  uint32_t received = 0;
  uint32_t last_data = millis();
  while (received < size) {
    esp_task_wdt_reset();
    int available = body.available();
    if (available <= 0) {
      if (!body.connected() || millis() - last_data > DOWNLOAD_TIMEOUT_MS) return false;
      delay(5);
      continue;
    }
    size_t wanted = static_cast<size_t>(available) < CHUNK_BYTES ? available : CHUNK_BYTES;
    int count = body.read(chunk, wanted);
    if (count <= 0) continue;
    if (!installer.feed(chunk, static_cast<size_t>(count))) return false;
    received += static_cast<uint32_t>(count);
    last_data = millis();
  }
  return true;
}

}  // namespace

void update_install(const UpdateOffer& offer, const Settings& settings) {
  ServerUrl url;
  if (server_url_parse(settings.server_url, &url) != URL_OK) return;
  Serial.printf("Update to %s: downloading %u bytes.\n", offer.version,
                static_cast<unsigned>(offer.size));
  WiFiClientSecure client;  // its own connection, pinned to the same CA as every request
  client.setCACert(settings.ca_pem);
  client.setHandshakeTimeout(8);
  HTTPClient http;
  // The offer's url is the absolute path on the host (a server under a prefix includes it).
  if (!http.begin(client, url.host, url.port, offer.url, true)) return;
  char authorization[sizeof settings.device_key + 8];
  strcpy(authorization, "Device ");
  strncat(authorization, settings.device_key, sizeof authorization - strlen(authorization) - 1);
  http.addHeader("Authorization", authorization);
  http.setTimeout(DOWNLOAD_TIMEOUT_MS);
  EspOtaSlot slot;
  SodiumCheck check;
  UpdateInstaller installer(slot, check);
  int status = http.GET();
  bool done = status == 200 && http.getSize() == static_cast<int>(offer.size) &&
              installer.start(offer) && stream_body(*http.getStreamPtr(), offer.size, installer) &&
              installer.complete();
  http.end();
  if (!done) {
    slot.abort();  // whatever was half written is given up; the slot was never made to boot
    Serial.printf("Update to %s failed (HTTP %d, %s): the running image stays.\n",
                  offer.version, status, failure_name(installer.failure()));
    return;
  }
  Serial.printf("Update to %s verified: restarting into it (on trial until the server answers).\n",
                offer.version);
  delay(200);
  ESP.restart();
}

}  // namespace hardware

// arduino-esp32 2.0.x (since 2.0.4) marks a new image valid in initArduino(), before setup(),
// unless this returns true: then the core marks it valid after the first answered heartbeat.
extern "C" bool verifyRollbackLater() { return true; }
