#include "scan_queue.h"

#include <string.h>

namespace smartcart {

ScanQueue::ScanQueue(PendingScan* entries, size_t slots, uint8_t* storage, size_t slot_bytes,
                     Lock& lock)
    : entries_(entries), slots_(slots), lock_(lock), count_(0), next_seq_(1), reserved_(NULL) {
  for (size_t i = 0; i < slots; ++i) {
    memset(&entries_[i], 0, sizeof entries_[i]);
    entries_[i].payload = storage + i * slot_bytes;
    entries_[i].payload_capacity = slot_bytes;
  }
}

PendingScan* ScanQueue::reserve() {
  Locked held(lock_);
  reserved_ = NULL;
  for (size_t i = 0; i < slots_ && reserved_ == NULL; ++i) {
    if (!entries_[i].used) reserved_ = &entries_[i];
  }
  if (reserved_ != NULL) reserved_->seq = next_seq_;
  return reserved_;
}

void ScanQueue::commit() {
  Locked held(lock_);
  if (reserved_ == NULL || reserved_->used) return;
  reserved_->used = true;
  reserved_ = NULL;
  ++next_seq_;
  ++count_;
}

void ScanQueue::restore(size_t index) {
  Locked held(lock_);
  if (index >= slots_ || entries_[index].used) return;
  entries_[index].used = true;
  ++count_;
  if (entries_[index].seq >= next_seq_) next_seq_ = entries_[index].seq + 1;
}

PendingScan* ScanQueue::oldest() {
  PendingScan* found = NULL;
  for (size_t i = 0; i < slots_; ++i) {
    if (entries_[i].used && (found == NULL || entries_[i].seq < found->seq)) found = &entries_[i];
  }
  return found;
}

PendingScan* ScanQueue::head() {
  Locked held(lock_);
  return oldest();
}

void ScanQueue::pop() {
  Locked held(lock_);
  PendingScan* head = oldest();
  if (head == NULL) return;
  head->used = false;
  --count_;
}

size_t ScanQueue::depth() {
  Locked held(lock_);
  return count_;
}

}  // namespace smartcart
