// SHA-256 (FIPS 180-4), streamed: the CA certificate's fingerprint from a provisioning QR, and a
// firmware release's digest while it downloads. No heap: the state lives in the object.
#ifndef SMARTCART_SHA256_H
#define SMARTCART_SHA256_H

#include <stddef.h>
#include <stdint.h>

namespace smartcart {

const size_t SHA256_BYTES = 32;

class Sha256 {
 public:
  Sha256();
  void update(const uint8_t* data, size_t length);
  void finish(uint8_t digest[SHA256_BYTES]);  // the object starts over after it

 private:
  void reset();
  void compress(const uint8_t block[64]);

  uint32_t state_[8];
  uint8_t block_[64];
  size_t used_;       // bytes waiting in block_
  uint64_t length_;   // bytes hashed so far
};

// The lower-case hex of a digest into out (65 bytes: 64 digits and the terminator).
void sha256_hex(const uint8_t digest[SHA256_BYTES], char out[2 * SHA256_BYTES + 1]);

}  // namespace smartcart

#endif
