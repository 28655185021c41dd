#include "scan_store.h"

#include <string.h>

#include "config.h"
#include "uuid.h"

namespace smartcart {

namespace {

const uint8_t MAGIC[4] = {'S', 'C', 'Q', '1'};  // the format's version is its last byte
const size_t OFFSET_SEQ = 4;
const size_t OFFSET_LENGTH = 8;
const size_t OFFSET_MODE = 12;
const size_t OFFSET_QUANTITY = 13;
const size_t OFFSET_KIND = 14;
const size_t OFFSET_SCAN_ID = 16;
const size_t SCAN_ID_LENGTH = SCAN_ID_BYTES - 1;
const size_t OFFSET_SYMBOLOGY = OFFSET_SCAN_ID + SCAN_ID_LENGTH;

void put_u32(uint8_t* at, uint32_t value) {
  for (int i = 0; i < 4; ++i) at[i] = static_cast<uint8_t>(value >> (8 * i));
}

uint32_t get_u32(const uint8_t* at) {
  uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = (value << 8) | at[i];
  return value;
}

void header_write(const PendingScan& scan, uint8_t header[ScanStore::HEADER_BYTES]) {
  memset(header, 0, ScanStore::HEADER_BYTES);
  memcpy(header, MAGIC, sizeof MAGIC);
  put_u32(header + OFFSET_SEQ, scan.seq);
  put_u32(header + OFFSET_LENGTH, static_cast<uint32_t>(scan.payload_length));
  header[OFFSET_MODE] = static_cast<uint8_t>(scan.mode);
  header[OFFSET_QUANTITY] = scan.quantity;
  header[OFFSET_KIND] = static_cast<uint8_t>(scan.kind);
  memcpy(header + OFFSET_SCAN_ID, scan.scan_id, SCAN_ID_LENGTH);
  memcpy(header + OFFSET_SYMBOLOGY, scan.symbology, strlen(scan.symbology));
}

// The header's fields into scan, when they make sense (the CRC is checked after).
bool header_read(const uint8_t header[ScanStore::HEADER_BYTES], PendingScan* scan) {
  if (memcmp(header, MAGIC, sizeof MAGIC) != 0) return false;
  uint32_t length = get_u32(header + OFFSET_LENGTH);
  uint8_t mode = header[OFFSET_MODE], kind = header[OFFSET_KIND];
  if (length > scan->payload_capacity || mode > MODE_REMOVE || kind > SCAN_CODE) return false;
  if (header[OFFSET_SYMBOLOGY + SYMBOLOGY_MAX] != 0) return false;  // (the CRC would fail too)
  memcpy(scan->scan_id, header + OFFSET_SCAN_ID, SCAN_ID_LENGTH);
  scan->scan_id[SCAN_ID_LENGTH] = '\0';
  if (!uuid4_valid(scan->scan_id)) return false;
  memcpy(scan->symbology, header + OFFSET_SYMBOLOGY, SYMBOLOGY_MAX);
  scan->symbology[SYMBOLOGY_MAX] = '\0';
  scan->seq = get_u32(header + OFFSET_SEQ);
  scan->payload_length = length;
  scan->mode = mode == MODE_REMOVE ? MODE_REMOVE : MODE_ADD;
  scan->quantity = header[OFFSET_QUANTITY];
  scan->kind = kind == SCAN_CODE ? SCAN_CODE : SCAN_IMAGE;
  return true;
}

}  // namespace

const size_t ScanStore::HEADER_BYTES;
const size_t ScanStore::NAME_BYTES;

static_assert(OFFSET_SYMBOLOGY + SYMBOLOGY_MAX + 1 <= ScanStore::HEADER_BYTES,
              "the header holds the symbology and its terminator");

uint32_t crc32_update(uint32_t crc, const uint8_t* data, size_t length) {
  crc = ~crc;
  for (size_t i = 0; i < length; ++i) {
    crc ^= data[i];
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

void ScanStore::file_name(size_t slot, char name[NAME_BYTES]) {
  static const char PREFIX[] = "/scan";
  memcpy(name, PREFIX, sizeof PREFIX);
  size_t at = sizeof PREFIX - 1;
  if (slot >= 10) name[at++] = static_cast<char>('0' + (slot / 10) % 10);
  name[at++] = static_cast<char>('0' + slot % 10);
  name[at] = '\0';
}

bool ScanStore::save(size_t slot, const PendingScan& scan) {
  uint8_t header[HEADER_BYTES];
  header_write(scan, header);
  uint32_t crc = crc32_update(0, header, sizeof header);
  crc = crc32_update(crc, scan.payload, scan.payload_length);
  uint8_t trailer[4];
  put_u32(trailer, crc);
  const Flash::Part parts[] = {
      {header, sizeof header}, {scan.payload, scan.payload_length}, {trailer, sizeof trailer}};
  char name[NAME_BYTES];
  file_name(slot, name);
  return flash_.write(name, parts, 3);
}

bool ScanStore::read_exact(const char* name, size_t offset, uint8_t* buffer, size_t length) {
  return flash_.read(name, offset, buffer, length) == static_cast<int>(length);
}

bool ScanStore::load(size_t slot, PendingScan* scan) {
  char name[NAME_BYTES];
  file_name(slot, name);
  uint8_t header[HEADER_BYTES];
  int got = flash_.read(name, 0, header, sizeof header);
  if (got < 0) return false;  // no file: the slot was free
  uint8_t trailer[4];
  bool whole = got == static_cast<int>(sizeof header) && header_read(header, scan) &&
               read_exact(name, HEADER_BYTES, scan->payload, scan->payload_length) &&
               read_exact(name, HEADER_BYTES + scan->payload_length, trailer, sizeof trailer);
  if (whole) {
    uint32_t crc = crc32_update(crc32_update(0, header, sizeof header), scan->payload,
                                scan->payload_length);
    whole = crc == get_u32(trailer);
  }
  if (!whole) flash_.remove(name);  // cut short by a power cut, or damaged: never sent
  return whole;
}

void ScanStore::erase(size_t slot) {
  char name[NAME_BYTES];
  file_name(slot, name);
  flash_.remove(name);
}

}  // namespace smartcart
