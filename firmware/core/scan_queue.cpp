#include "scan_queue.h"

#include <string.h>

namespace smartcart {

ScanQueue::ScanQueue(PendingScan* entries, size_t slots, uint8_t* storage, size_t slot_bytes,
                     Lock& lock)
    : entries_(entries), slots_(slots), lock_(lock), head_(0), count_(0) {
  for (size_t i = 0; i < slots; ++i) {
    memset(&entries_[i], 0, sizeof entries_[i]);
    entries_[i].payload = storage + i * slot_bytes;
    entries_[i].payload_capacity = slot_bytes;
  }
}

PendingScan* ScanQueue::reserve() {
  Locked held(lock_);
  if (count_ == slots_) return NULL;
  return &entries_[(head_ + count_) % slots_];
}

void ScanQueue::commit() {
  Locked held(lock_);
  if (count_ < slots_) ++count_;
}

PendingScan* ScanQueue::head() {
  Locked held(lock_);
  return count_ == 0 ? NULL : &entries_[head_];
}

void ScanQueue::pop() {
  Locked held(lock_);
  if (count_ == 0) return;
  head_ = (head_ + 1) % slots_;
  --count_;
}

size_t ScanQueue::depth() {
  Locked held(lock_);
  return count_;
}

}  // namespace smartcart
