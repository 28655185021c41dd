// Over-the-air updates, the cart's part: the heartbeat's offer, when to take it, and checking a
// release while it streams into the other slot (a power cut, a wrong hash or signature).
#include <doctest/doctest.h>
#include <string.h>

#include <string>
#include <vector>

#include "cart.h"
#include "fakes.h"
#include "helpers.h"
#include "json_reader.h"
#include "protocol.h"
#include "sha256.h"
#include "base64.h"
#include "update.h"

using namespace smartcart;
using fakes::Rig;
using fakes::golden;
using fakes::http_answer;

namespace {

// The other OTA slot: what was written, and whether it would boot.
class FakeSlot : public OtaSlot {
 public:
  std::string image;
  bool active = false;
  bool began = false;
  bool fail_writes = false;
  int erases = 0;
  bool begin(uint32_t) override {
    image.clear();
    began = true;
    ++erases;
    return true;
  }
  bool write(const uint8_t* data, size_t length) override {
    if (fail_writes) return false;
    image.append(reinterpret_cast<const char*>(data), length);
    return true;
  }
  bool activate() override {
    active = true;
    return true;
  }
  void abort() override { began = false; }
};

// Stands in for libsodium's Ed25519 check: the one signature made with the release key over
// the one digest it signed.
class FakeSignatureCheck : public SignatureCheck {
 public:
  uint8_t digest[SHA256_BYTES];
  uint8_t signature[SIGNATURE_BYTES];
  bool verify(const uint8_t d[SHA256_BYTES], const uint8_t s[SIGNATURE_BYTES]) override {
    return memcmp(d, digest, SHA256_BYTES) == 0 && memcmp(s, signature, SIGNATURE_BYTES) == 0;
  }
};

std::string release_bytes() {
  std::string bytes;
  for (int i = 0; i < 5000; ++i) bytes += static_cast<char>((i * 7 + 3) & 0xFF);
  return bytes;
}

// An offer for bytes, signed as the check accepts.
UpdateOffer offer_for(const std::string& bytes, FakeSignatureCheck& check) {
  UpdateOffer offer;
  memset(&offer, 0, sizeof offer);
  offer.offered = true;
  strcpy(offer.version, "1.2.0");
  strcpy(offer.url, "/api/devices/v1/firmware/1.2.0/");
  offer.size = static_cast<uint32_t>(bytes.size());
  Sha256 hash;
  hash.update(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  hash.finish(offer.sha256);
  memcpy(check.digest, offer.sha256, SHA256_BYTES);
  for (size_t i = 0; i < SIGNATURE_BYTES; ++i) check.signature[i] = static_cast<uint8_t>(i);
  memcpy(offer.signature, check.signature, SIGNATURE_BYTES);
  return offer;
}

bool stream(UpdateInstaller& installer, const std::string& bytes, size_t piece = 1460) {
  for (size_t at = 0; at < bytes.size(); at += piece) {
    size_t length = bytes.size() - at < piece ? bytes.size() - at : piece;
    if (!installer.feed(reinterpret_cast<const uint8_t*>(bytes.data()) + at, length)) {
      return false;
    }
  }
  return true;
}

}  // namespace

// In the contract suite: tests/devices/test_firmware_contract.py changes the golden offer and
// expects these to fail.
TEST_SUITE("contract") {
  TEST_CASE("the golden offer is read: version, where, size, SHA-256 and signature") {
    std::string text =
        fakes::file_text(fakes::fixtures_dir() + "/cart/heartbeat_update_offer.json");
    JsonValue root;
    REQUIRE(json_parse(text.data(), text.size(), &root));
    UpdateOffer offer;
    REQUIRE(update_offer_parse(root, &offer));
    CHECK(offer.offered);
    CHECK(std::string(offer.version) == "1.2.0");
    CHECK(std::string(offer.url) == "/api/devices/v1/firmware/1.2.0/");
    CHECK(offer.size == 1048576);
    char hex[2 * SHA256_BYTES + 1];
    sha256_hex(offer.sha256, hex);
    CHECK(text.find(hex) != std::string::npos);
    CHECK(memcmp(offer.signature, "For example only", 16) == 0);
  }

  TEST_CASE("the golden heartbeat answer offers nothing; an offer with a key renamed is none") {
    std::string answer = golden("response_heartbeat");
    HeartbeatAnswer parsed;
    REQUIRE(heartbeat_answer_parse(answer.data(), answer.size(), &parsed));
    CHECK_FALSE(parsed.update.offered);

    std::string offer =
        fakes::file_text(fakes::fixtures_dir() + "/cart/heartbeat_update_offer.json");
    std::string with_offer = answer;
    with_offer.replace(with_offer.find("null"), 4, offer);
    REQUIRE(heartbeat_answer_parse(with_offer.data(), with_offer.size(), &parsed));
    CHECK(parsed.update.offered);
    std::string renamed = with_offer;
    renamed.replace(renamed.find("\"sha256\""), 8, "\"digest\"");
    REQUIRE(heartbeat_answer_parse(renamed.data(), renamed.size(), &parsed));  // still idle lines
    CHECK_FALSE(parsed.update.offered);
  }
}

TEST_SUITE("update") {
  TEST_CASE("only a later release, and only when the cart is idle and free") {
    CHECK(version_newer("1.2.0", "1.1.9"));
    CHECK(version_newer("1.10.0", "1.9.0"));
    CHECK_FALSE(version_newer("1.2.0", "1.2.0"));
    CHECK_FALSE(version_newer("1.1.0", "1.2.0"));
    CHECK_FALSE(version_newer("1.2.0", "dev-build"));
    CHECK_FALSE(version_newer("1.2", "1.1.0"));
    FakeSignatureCheck check;
    UpdateOffer offer = offer_for("x", check);
    CHECK(update_due(offer, "1.1.0", false, 0, UPDATE_IDLE_MS));
    CHECK_FALSE(update_due(offer, "1.1.0", true, 0, UPDATE_IDLE_MS));   // a shopper's cart
    CHECK_FALSE(update_due(offer, "1.1.0", false, 1, UPDATE_IDLE_MS));  // a scan waiting
    CHECK_FALSE(update_due(offer, "1.1.0", false, 0, UPDATE_IDLE_MS - 1));  // just pressed
    CHECK_FALSE(update_due(offer, "1.2.0", false, 0, UPDATE_IDLE_MS));
    offer.offered = false;
    CHECK_FALSE(update_due(offer, "1.1.0", false, 0, UPDATE_IDLE_MS));
  }

  TEST_CASE("a release whose size, hash and signature match boots next") {
    FakeSlot slot;
    FakeSignatureCheck check;
    std::string bytes = release_bytes();
    UpdateInstaller installer(slot, check);
    REQUIRE(installer.start(offer_for(bytes, check)));
    REQUIRE(stream(installer, bytes));
    CHECK(installer.complete());
    CHECK(slot.active);
    CHECK(slot.image == bytes);
  }

  TEST_CASE("a bad signature, a changed byte, a short or long download never boot") {
    std::string bytes = release_bytes();
    SUBCASE("signed with another key") {
      FakeSlot slot;
      FakeSignatureCheck check;
      UpdateOffer offer = offer_for(bytes, check);
      offer.signature[0] ^= 1;
      UpdateInstaller installer(slot, check);
      REQUIRE(installer.start(offer));
      REQUIRE(stream(installer, bytes));
      CHECK_FALSE(installer.complete());
      CHECK(installer.failure() == UpdateInstaller::BAD_SIGNATURE);
      CHECK_FALSE(slot.active);
    }
    SUBCASE("a byte changed on the way") {
      FakeSlot slot;
      FakeSignatureCheck check;
      UpdateOffer offer = offer_for(bytes, check);
      std::string changed = bytes;
      changed[1234] ^= 0x40;
      UpdateInstaller installer(slot, check);
      REQUIRE(installer.start(offer));
      REQUIRE(stream(installer, changed));
      CHECK_FALSE(installer.complete());
      CHECK(installer.failure() == UpdateInstaller::HASH_MISMATCH);
      CHECK_FALSE(slot.active);
    }
    SUBCASE("cut short") {
      FakeSlot slot;
      FakeSignatureCheck check;
      UpdateInstaller installer(slot, check);
      REQUIRE(installer.start(offer_for(bytes, check)));
      REQUIRE(stream(installer, bytes.substr(0, 4000)));
      CHECK_FALSE(installer.complete());
      CHECK(installer.failure() == UpdateInstaller::SIZE_MISMATCH);
      CHECK_FALSE(slot.active);
    }
    SUBCASE("longer than offered") {
      FakeSlot slot;
      FakeSignatureCheck check;
      UpdateInstaller installer(slot, check);
      REQUIRE(installer.start(offer_for(bytes, check)));
      CHECK_FALSE(stream(installer, bytes + "extra"));
      CHECK(installer.failure() == UpdateInstaller::TOO_LONG);
      CHECK_FALSE(slot.active);
    }
    SUBCASE("the flash refuses a write") {
      FakeSlot slot;
      FakeSignatureCheck check;
      UpdateInstaller installer(slot, check);
      REQUIRE(installer.start(offer_for(bytes, check)));
      slot.fail_writes = true;
      CHECK_FALSE(stream(installer, bytes));
      CHECK(installer.failure() == UpdateInstaller::SLOT_ERROR);
      CHECK_FALSE(slot.active);
    }
  }

  TEST_CASE("a power cut mid-download leaves the old image; the next offer starts over") {
    FakeSlot slot;  // the flash outlives the power cut; the installer (RAM) does not
    FakeSignatureCheck check;
    std::string bytes = release_bytes();
    {
      UpdateInstaller before(slot, check);
      REQUIRE(before.start(offer_for(bytes, check)));
      REQUIRE(stream(before, bytes.substr(0, 2500)));
    }  // the power goes: complete() never runs
    CHECK_FALSE(slot.active);  // the running image boots again
    UpdateInstaller after(slot, check);
    REQUIRE(after.start(offer_for(bytes, check)));
    CHECK(slot.erases == 2);
    REQUIRE(stream(after, bytes));
    CHECK(after.complete());
    CHECK(slot.image == bytes);  // no half of the first attempt in it
  }

  TEST_CASE("an image on trial is marked valid once the server has answered a heartbeat") {
    Rig rig;
    rig.board.pending_verify = true;
    REQUIRE(rig.begin());
    rig.net.answer(http_answer(503, "{}"));
    rig.network();
    CHECK(rig.board.marked_valid == 0);  // no server yet: a restart now rolls back
    rig.net.answer(http_answer(200, golden("response_heartbeat")));
    rig.clock.now += HEARTBEAT_INTERVAL_MS;
    rig.network();
    CHECK(rig.board.marked_valid == 1);
    rig.net.answer(http_answer(200, golden("response_heartbeat")));
    rig.clock.now += HEARTBEAT_INTERVAL_MS;
    rig.network();
    CHECK(rig.board.marked_valid == 1);  // once
  }

  TEST_CASE("the heartbeat's offer is taken after two idle minutes, once, and not when paired") {
    std::string offer =
        fakes::file_text(fakes::fixtures_dir() + "/cart/heartbeat_update_offer.json");
    std::string with_offer = golden("response_heartbeat");
    with_offer.replace(with_offer.find("null"), 4, offer);
    std::string paired = with_offer;
    with_offer.replace(with_offer.find("\"paired\": true"), 14, "\"paired\": false");
    Rig rig;
    REQUIRE(rig.begin());
    rig.net.answer(http_answer(200, with_offer));
    rig.network();
    UpdateOffer taken;
    CHECK_FALSE(rig.cart().update_take(rig.clock.millis(), &taken));  // just started
    rig.clock.now += UPDATE_IDLE_MS - 1000;
    rig.long_press();  // a press starts the idle time over (a long one: no scan to send)
    rig.clock.now += UPDATE_IDLE_MS - 1000 - FEEDBACK_HOLD_MS;
    rig.input();  // remove mode has long run out: back to add
    rig.clock.now += FEEDBACK_HOLD_MS;  // two minutes less a second since the press
    CHECK_FALSE(rig.cart().update_take(rig.clock.millis(), &taken));
    rig.clock.now += 2000;
    REQUIRE(rig.cart().update_take(rig.clock.millis(), &taken));
    CHECK(std::string(taken.version) == "1.2.0");
    CHECK(taken.size == 1048576);
    rig.input();
    REQUIRE_FALSE(rig.ui.screens.empty());
    CHECK(rig.ui.screens.back().line1 == "Updating...");
    CHECK_FALSE(rig.cart().update_take(rig.clock.millis(), &taken));  // once per offer

    rig.net.answer(http_answer(200, paired));
    rig.clock.now += HEARTBEAT_INTERVAL_MS;
    rig.network();
    CHECK_FALSE(rig.cart().update_take(rig.clock.millis(), &taken));  // a shopper's cart
  }

  TEST_CASE("base64 decoding, for the signature") {
    uint8_t out[8];
    CHECK(base64_decode("TWFu", 4, out, sizeof out) == 3);
    CHECK(memcmp(out, "Man", 3) == 0);
    CHECK(base64_decode("TWE=", 4, out, sizeof out) == 2);
    CHECK(base64_decode("TQ==", 4, out, sizeof out) == 1);
    CHECK(base64_decode("T===", 4, out, sizeof out) == 0);
    CHECK(base64_decode("TW=u", 4, out, sizeof out) == 0);
    CHECK(base64_decode("TWF", 3, out, sizeof out) == 0);
    CHECK(base64_decode("TWFuTWFuTWFu", 12, out, sizeof out) == 0);  // too long for out
  }
}
