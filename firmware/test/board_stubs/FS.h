// Board stub: espressif/arduino-esp32 libraries/FS/src/FS.h (stored copy read: 038806f3):
// fs::File and fs::FS, the members the board code uses.
#ifndef BOARD_STUB_FS_H
#define BOARD_STUB_FS_H

#include "Arduino.h"

namespace fs {

#define FILE_READ "r"
#define FILE_WRITE "w"
#define FILE_APPEND "a"

enum SeekMode { SeekSet = 0, SeekCur = 1, SeekEnd = 2 };

class File : public Stream {
 public:
  size_t write(uint8_t) override;
  size_t write(const uint8_t* buf, size_t size) override;
  int available() override;
  int read() override;
  int peek() override;
  void flush() override;
  size_t read(uint8_t* buf, size_t size);
  bool seek(uint32_t pos, SeekMode mode);
  bool seek(uint32_t pos);
  size_t size() const;
  void close();
  operator bool() const;
};

class FS {
 public:
  File open(const char* path, const char* mode = FILE_READ, const bool create = false);
  bool exists(const char* path);
  bool remove(const char* path);
};

}  // namespace fs

using fs::File;
using fs::FS;
using fs::SeekMode;
using fs::SeekSet;

#endif
