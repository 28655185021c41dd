// Board stub: espressif/arduino-esp32 libraries/LittleFS/src/LittleFS.h (stored copy read:
// 40702b2d; begin's arguments as in 2.0.17).
#ifndef BOARD_STUB_LITTLEFS_H
#define BOARD_STUB_LITTLEFS_H

#include "FS.h"

namespace fs {

class LittleFSFS : public FS {
 public:
  bool begin(bool formatOnFail = false, const char* basePath = "/littlefs",
             uint8_t maxOpenFiles = 10, const char* partitionLabel = "spiffs");
  bool format();
  size_t totalBytes();
  size_t usedBytes();
  void end();
};

}  // namespace fs

extern fs::LittleFSFS LittleFS;

#endif
