// The core's SHA-256 against the FIPS 180-4 examples, streamed in any pieces.
#include <doctest/doctest.h>

#include <string>

#include "sha256.h"

using namespace smartcart;

namespace {

std::string hex_of(const std::string& text, size_t piece) {
  Sha256 hash;
  for (size_t at = 0; at < text.size(); at += piece) {
    size_t length = text.size() - at < piece ? text.size() - at : piece;
    hash.update(reinterpret_cast<const uint8_t*>(text.data()) + at, length);
  }
  uint8_t digest[SHA256_BYTES];
  hash.finish(digest);
  char hex[2 * SHA256_BYTES + 1];
  sha256_hex(digest, hex);
  return hex;
}

}  // namespace

TEST_SUITE("sha256") {
  TEST_CASE("the standard's examples, whole and in pieces") {
    const size_t pieces[] = {1, 3, 63, 64, 65, 1000};
    for (size_t piece : pieces) {
      CAPTURE(piece);
      CHECK(hex_of("", piece) ==
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
      CHECK(hex_of("abc", piece) ==
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
      CHECK(hex_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", piece) ==
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    }
    CHECK(hex_of(std::string(1000000, 'a'), 4096) ==
          "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  }

  TEST_CASE("the object starts over after finish") {
    Sha256 hash;
    uint8_t digest[SHA256_BYTES];
    hash.update(reinterpret_cast<const uint8_t*>("xyz"), 3);
    hash.finish(digest);
    hash.update(reinterpret_cast<const uint8_t*>("abc"), 3);
    hash.finish(digest);
    char hex[2 * SHA256_BYTES + 1];
    sha256_hex(digest, hex);
    CHECK(std::string(hex) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  }
}
