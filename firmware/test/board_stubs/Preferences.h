// Board stub: espressif/arduino-esp32 libraries/Preferences/src/Preferences.h (stored copy
// read: 02febc9f; these members are unchanged from 2.0.17).
#ifndef BOARD_STUB_PREFERENCES_H
#define BOARD_STUB_PREFERENCES_H

#include "Arduino.h"

class Preferences {
 public:
  Preferences();
  ~Preferences();
  bool begin(const char* name, bool readOnly = false, const char* partition_label = NULL);
  void end();
  bool clear();
  bool remove(const char* key);
  size_t putBytes(const char* key, const void* value, size_t len);
  bool isKey(const char* key);
  size_t getBytesLength(const char* key);
  size_t getBytes(const char* key, void* buf, size_t maxLen);
};

#endif
