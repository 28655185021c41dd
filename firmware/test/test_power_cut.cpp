// The offline queue on flash: what the shopper was told is kept survives a power cut, is sent
// once afterwards, in order, with its scan_id; a cut while a scan is written loses only that one.
#include <doctest/doctest.h>
#include <string.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "cart.h"
#include "fakes.h"
#include "helpers.h"
#include "scan_store.h"
#include "uuid.h"

using namespace smartcart;
using fakes::FakeFlash;
using fakes::Rig;
using fakes::golden;
using fakes::header_of;
using fakes::http_answer;
using fakes::played;

namespace {

std::string added() { return http_answer(201, golden("response_added")); }

void start(Rig& rig) {
  rig.net.heartbeat_reply = http_answer(200, golden("response_heartbeat"));
  REQUIRE(rig.begin());
  rig.network();
}

// The cart after the power came back: a new board with the old flash chip.
// Its queue is back, and nothing is sent yet.
void restart_with(Rig& rig, const FakeFlash& flash) {
  rig.flash.files = flash.files;
  rig.net.heartbeat_reply = http_answer(200, golden("response_heartbeat"));
  REQUIRE(rig.begin());
}

std::vector<std::string> sent_ids(Rig& rig) {
  std::vector<std::string> ids;
  std::vector<std::string> scans = rig.net.scan_requests();
  for (size_t i = 0; i < scans.size(); ++i) ids.push_back(header_of(scans[i], "X-Scan-Id"));
  return ids;
}

// The scan_ids in the files, oldest first (by the sequence number each file holds).
std::vector<std::string> saved_ids(const FakeFlash& flash) {
  std::vector<std::pair<uint32_t, std::string> > found;
  for (std::map<std::string, std::string>::const_iterator it = flash.files.begin();
       it != flash.files.end(); ++it) {
    const std::string& file = it->second;
    REQUIRE(file.size() > ScanStore::HEADER_BYTES);
    uint32_t seq = 0;
    for (int i = 3; i >= 0; --i) seq = (seq << 8) | static_cast<uint8_t>(file[4 + i]);
    found.push_back(std::make_pair(seq, file.substr(16, 36)));
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> ids;
  for (size_t i = 0; i < found.size(); ++i) ids.push_back(found[i].second);
  return ids;
}

bool screens_show(const fakes::FakeUi& ui, size_t from, const Lines& lines) {
  for (size_t i = from; i < ui.screens.size(); ++i) {
    if (ui.screens[i].line1 == lines.line1) return true;
  }
  return false;
}

}  // namespace

TEST_SUITE("power cut") {
  TEST_CASE("the checksum is zlib's CRC-32") {
    const char* text = "123456789";
    CHECK(crc32_update(0, reinterpret_cast<const uint8_t*>(text), 9) == 0xCBF43926u);
    uint32_t chained = crc32_update(0, reinterpret_cast<const uint8_t*>(text), 4);
    CHECK(crc32_update(chained, reinterpret_cast<const uint8_t*>(text) + 4, 5) == 0xCBF43926u);
  }

  TEST_CASE("a scan is on flash before the cart says it is saved, and off it once answered") {
    Rig rig;
    start(rig);
    rig.board.up = false;
    rig.press();
    rig.run(200);
    CHECK(rig.ui.screen().line1 == TEXT_SAVED.line1);
    REQUIRE(rig.flash.files.size() == 1);
    CHECK(saved_ids(rig.flash).size() == 1);
    rig.board.up = true;
    rig.net.answer(added());
    rig.run(200);
    CHECK(rig.net.scan_requests().size() == 1);
    CHECK(rig.flash.files.empty());
  }

  TEST_CASE("a scan that cannot be written is refused loudly, never said to be saved") {
    Rig rig;
    start(rig);
    rig.board.up = false;
    rig.flash.full = true;
    size_t mark = rig.ui.tones.size();
    size_t screens = rig.ui.screens.size();
    rig.press();
    rig.run(1500);
    CHECK(rig.cart().queue_depth() == 0);
    CHECK(rig.ui.screen().line1 == TEXT_NOT_SAVED.line1);
    CHECK_FALSE(screens_show(rig.ui, screens, TEXT_SAVED));
    CHECK(played(rig.ui, mark, PATTERN_ERROR));
    rig.flash.full = false;  // the next press works again
    rig.press();
    CHECK(rig.cart().queue_depth() == 1);
  }

  TEST_CASE("a scan queued before a power cut is sent exactly once after it, with its scan_id") {
    Rig before;
    start(before);
    before.board.up = false;
    before.press();
    before.run(200);
    std::vector<std::string> saved = saved_ids(before.flash);
    REQUIRE(saved.size() == 1);
    CHECK(uuid4_valid(saved[0].c_str()));

    Rig after;
    restart_with(after, before.flash);
    CHECK(after.cart().queue_depth() == 1);
    after.net.answer(added());
    after.run(2000);
    CHECK(sent_ids(after) == saved);
    CHECK(after.flash.files.empty());

    Rig again;  // and once more: nothing is left to send
    restart_with(again, after.flash);
    again.run(2000);
    CHECK(again.net.scan_requests().empty());
  }

  TEST_CASE("the saved queue comes back in the order it was scanned, whatever the slots") {
    Rig before;
    start(before);
    before.board.up = false;
    before.press();  // A, slot 0
    before.press();  // B, slot 1
    before.board.up = true;
    before.net.answer(added());  // A is answered: slot 0 is free again
    before.net.answer(http_answer(503, "{}"));  // B waits for a retry
    before.network();
    before.network();
    before.press();  // C goes into slot 0, after B
    std::vector<std::string> sent = sent_ids(before);
    REQUIRE(sent.size() == 2);
    std::vector<std::string> saved = saved_ids(before.flash);
    REQUIRE(saved.size() == 2);
    CHECK(saved[0] == sent[1]);
    CHECK(before.flash.files.count("/scan0") == 1);  // C, in A's old slot

    Rig after;
    restart_with(after, before.flash);
    after.net.answer(added());
    after.net.answer(added());
    after.run(2000);
    CHECK(sent_ids(after) == saved);  // B, then C
    CHECK(after.cart().queue_depth() == 0);
  }

  TEST_CASE("a scan made after the restart goes after the ones that came back") {
    Rig before;
    start(before);
    before.board.up = false;
    before.press();
    std::vector<std::string> saved = saved_ids(before.flash);

    Rig after;
    after.board.up = false;
    after.flash.files = before.flash.files;
    REQUIRE(after.begin());
    after.press();
    after.run(200);
    CHECK(after.cart().queue_depth() == 2);
    after.board.up = true;
    after.net.heartbeat_reply = http_answer(200, golden("response_heartbeat"));
    after.net.answer(added());
    after.net.answer(added());
    after.run(2000);
    std::vector<std::string> sent = sent_ids(after);
    REQUIRE(sent.size() == 2);
    CHECK(sent[0] == saved[0]);
  }

  TEST_CASE("a power cut while a scan is written loses that scan only, and none is sent twice") {
    // Cut at every kind of place: before anything, in the header, in the photo, in the checksum.
    const long cuts[] = {0, 1, 15, 40, static_cast<long>(ScanStore::HEADER_BYTES), 5000,
                         -4, -1};  // negative: that many bytes before the end
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; ++i) {
      CAPTURE(cuts[i]);
      Rig before;
      start(before);
      before.board.up = false;
      before.press();  // A: saved
      std::vector<std::string> saved = saved_ids(before.flash);
      REQUIRE(saved.size() == 1);
      size_t whole = before.flash.files.begin()->second.size();  // B's file would be as long
      before.flash.cut_after_bytes = cuts[i] >= 0 ? cuts[i] : static_cast<long>(whole) + cuts[i];
      size_t screens = before.ui.screens.size();
      before.press();  // B: the power goes while it is written
      REQUIRE(before.flash.cut);
      CHECK_FALSE(screens_show(before.ui, screens, TEXT_SAVED));

      Rig after;
      restart_with(after, before.flash);
      CHECK(after.cart().queue_depth() == 1);
      after.net.answer(added());
      after.run(2000);
      CHECK(sent_ids(after) == saved);
      CHECK(after.flash.files.empty());  // the torn file is gone too: its slot is free
    }
  }

  TEST_CASE("a damaged file is thrown away, never sent") {
    Rig before;
    start(before);
    before.board.up = false;
    before.press();
    REQUIRE(before.flash.files.size() == 1);
    std::string& file = before.flash.files.begin()->second;
    file[ScanStore::HEADER_BYTES + 100] ^= 0x01;  // one bit of the photo

    Rig after;
    restart_with(after, before.flash);
    CHECK(after.cart().queue_depth() == 0);
    after.run(2000);
    CHECK(after.net.scan_requests().empty());
    CHECK(after.flash.files.empty());
  }

  TEST_CASE("a code from a scanner module comes back as it was, symbology and mode included") {
    Rig before;
    start(before);
    before.board.up = false;
    before.long_press();
    before.cart().scan_code("4006381333931", "EAN13", before.clock.now);
    REQUIRE(before.flash.files.size() == 1);

    Rig after;
    restart_with(after, before.flash);
    after.net.answer(added());
    after.run(200);
    std::vector<std::string> scans = after.net.scan_requests();
    REQUIRE(scans.size() == 1);
    std::string body = fakes::body_of(scans[0]);
    CHECK(body.find("\"code\":\"4006381333931\"") != std::string::npos);
    CHECK(body.find("\"symbology\":\"EAN13\"") != std::string::npos);
    CHECK(body.find("\"mode\":\"remove\"") != std::string::npos);
  }
}
