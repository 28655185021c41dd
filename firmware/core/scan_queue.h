// The scans the shopper made that the server has not answered yet: a few slots, oldest first.
//
// The button loop fills a free slot (reserve, capture into it, save it to flash, commit); the
// network task sends the head and pops it when done. Order is by each scan's sequence number,
// not by slot, so the queue saved on flash comes back in order whichever slots it was in
// (ScanStore, CartCore::begin). Full, it refuses new scans; it never drops an accepted one.
#ifndef SMARTCART_SCAN_QUEUE_H
#define SMARTCART_SCAN_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "ports.h"

namespace smartcart {

enum Mode { MODE_ADD, MODE_REMOVE };
enum ScanKind { SCAN_IMAGE, SCAN_CODE };  // a photo, or a code a scanner module decoded

struct PendingScan {
  char scan_id[SCAN_ID_BYTES];  // made at capture, the same on every attempt
  Mode mode;
  uint8_t quantity;
  ScanKind kind;
  char symbology[SYMBOLOGY_MAX + 1];  // for SCAN_CODE
  uint8_t* payload;  // this slot's storage: the JPEG, or the code's text
  size_t payload_capacity;
  size_t payload_length;
  uint8_t attempts;  // in the current round; a round the policy gives up on is followed by
                     // another after OFFLINE_RETRY_MS
  uint32_t next_try_ms;
  bool waiting;  // next_try_ms holds
  bool told_saved;  // the shopper heard the offline pattern for it
  uint32_t seq;     // its place in the queue: a later scan has a larger number
  bool used;        // in the queue
};

class ScanQueue {
 public:
  // slots entries, each with slot_bytes of storage (slots * slot_bytes bytes at storage).
  ScanQueue(PendingScan* entries, size_t slots, uint8_t* storage, size_t slot_bytes, Lock& lock);

  // A free slot to fill next, its seq already set to come after every queued scan; NULL when
  // all are taken.
  PendingScan* reserve();
  void commit();  // the reserved slot joins the queue, at the end
  // A slot filled from flash at start-up joins the queue at its seq; later scans come after.
  void restore(size_t index);
  PendingScan* head();  // the oldest pending scan, or NULL
  void pop();           // the head is finished with
  size_t depth();
  size_t capacity() const { return slots_; }
  PendingScan* slot(size_t index) { return &entries_[index]; }
  size_t index_of(const PendingScan* entry) const { return static_cast<size_t>(entry - entries_); }

 private:
  PendingScan* oldest();  // the lock held

  PendingScan* entries_;
  size_t slots_;
  Lock& lock_;
  size_t count_;
  uint32_t next_seq_;
  PendingScan* reserved_;
};

}  // namespace smartcart

#endif
