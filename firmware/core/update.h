// Over-the-air updates, the cart's part: the offer in the heartbeat's answer, when to take it,
// and checking a downloaded release before it may boot.
//
// The server offers a release meant for this cart (devices/selectors.py firmware_update_for);
// the cart takes it only when it is newer, the cart is not paired, no scan is waiting and
// nobody has pressed the button for UPDATE_IDLE_MS (update_due). The release streams into the
// other OTA slot while its SHA-256 is computed; only when the size, the digest and the Ed25519
// signature of the digest (the release public key compiled in, SignatureCheck) all match is
// the slot made the one to boot (UpdateInstaller). A power cut before that leaves the running
// image as it is, and the next offer starts the download over. After the restart the new image
// is marked valid once it has reached the server (CartCore, Board::image_mark_valid);
// otherwise the bootloader rolls back to the old one.
#ifndef SMARTCART_UPDATE_H
#define SMARTCART_UPDATE_H

#include <stddef.h>
#include <stdint.h>

#include "json_reader.h"
#include "sha256.h"

namespace smartcart {

const uint32_t UPDATE_IDLE_MS = 2 * 60000;  // no press for this long before an update starts
const size_t SIGNATURE_BYTES = 64;          // Ed25519

struct UpdateOffer {
  bool offered;
  char version[16];
  char url[96];  // a path on the server, fetched with the device key
  uint32_t size;
  uint8_t sha256[SHA256_BYTES];
  uint8_t signature[SIGNATURE_BYTES];
};

// The heartbeat answer's "update": null gives offered = false; an object with every field gives
// the offer. False when it is neither (a field missing, renamed or malformed).
bool update_offer_parse(const JsonValue& value, UpdateOffer* out);

// Whether offered ("1.2.0") is a later release than running; false for anything that is not
// three numbers (a developer's build is never replaced behind their back).
bool version_newer(const char* offered, const char* running);

// Whether to start the offered update now.
bool update_due(const UpdateOffer& offer, const char* running_version, bool paired,
                size_t queue_depth, uint32_t idle_ms);

// The other OTA slot (esp_ota_begin/write/end/set_boot_partition on the device).
class OtaSlot {
 public:
  virtual ~OtaSlot() {}
  virtual bool begin(uint32_t size) = 0;  // erases it
  virtual bool write(const uint8_t* data, size_t length) = 0;
  virtual bool activate() = 0;  // the slot boots next, pending verification
  virtual void abort() = 0;     // the running image stays the one to boot
};

// Ed25519 with the store's release public key, compiled in (libsodium on the device).
class SignatureCheck {
 public:
  virtual ~SignatureCheck() {}
  virtual bool verify(const uint8_t digest[SHA256_BYTES],
                      const uint8_t signature[SIGNATURE_BYTES]) = 0;
};

class UpdateInstaller {
 public:
  enum Failure { NONE, SLOT_ERROR, TOO_LONG, SIZE_MISMATCH, HASH_MISMATCH, BAD_SIGNATURE };

  UpdateInstaller(OtaSlot& slot, SignatureCheck& check)
      : slot_(slot), check_(check), written_(0), writing_(false), failure_(NONE) {}

  bool start(const UpdateOffer& offer);  // false: the slot could not be prepared
  bool feed(const uint8_t* data, size_t length);  // false: failed, the slot given up
  // All bytes are in: true when size, digest and signature match and the slot will boot next
  // (the caller restarts); otherwise the slot is given up and failure() says why.
  bool complete();
  Failure failure() const { return failure_; }

 private:
  bool fail(Failure failure);

  OtaSlot& slot_;
  SignatureCheck& check_;
  UpdateOffer offer_;
  Sha256 hash_;
  uint32_t written_;
  bool writing_;
  Failure failure_;
};

}  // namespace smartcart

#endif
