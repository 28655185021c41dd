// The offline queue on flash, so that a scan the cart accepted survives a power cut or a battery
// swap: each queued scan is written to its slot's file before the shopper hears anything, the
// file is removed once the server has answered, and at start-up the files that are whole come
// back into the queue in their order, with their scan_ids (the server adds a scan it already
// has once: a scan sent just before the cut and sent again after it is answered from its record).
//
// A file is a header, the payload and a CRC-32 of both. A power cut while one is written leaves
// a file whose checksum does not match: it is thrown away. The cart had not yet said "saved" or
// "Sending..." for that scan, so the shopper scans it again.
#ifndef SMARTCART_SCAN_STORE_H
#define SMARTCART_SCAN_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "ports.h"
#include "scan_queue.h"

namespace smartcart {

// The CRC-32 of IEEE 802.3 (zlib's crc32): crc32_update(0, data, length), chained.
uint32_t crc32_update(uint32_t crc, const uint8_t* data, size_t length);

class ScanStore {
 public:
  static const size_t HEADER_BYTES = 72;  // the fields, then zeros
  static const size_t NAME_BYTES = 16;

  explicit ScanStore(Flash& flash) : flash_(flash) {}

  // Writes scan (its seq, scan_id, mode, quantity, kind, symbology and payload) to slot's file;
  // true once all of it is on flash.
  bool save(size_t slot, const PendingScan& scan);
  // Fills scan (whose payload and payload_capacity are set) from slot's file; false when there
  // is none, or it is damaged or cut short (and then removed).
  bool load(size_t slot, PendingScan* scan);
  void erase(size_t slot);  // the server answered: the scan is done with

  static void file_name(size_t slot, char name[NAME_BYTES]);  // "/scan0", "/scan1", ...

 private:
  bool read_exact(const char* name, size_t offset, uint8_t* buffer, size_t length);

  Flash& flash_;
};

}  // namespace smartcart

#endif
