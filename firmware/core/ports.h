// The small interfaces the core talks to the world through.
//
// cart/hardware.cpp implements them with the ESP32's camera, Wi-Fi/TLS, NVS, OLED and buzzer;
// test/fakes.h implements them for the host tests. Nothing else in core/ touches hardware.
#ifndef SMARTCART_PORTS_H
#define SMARTCART_PORTS_H

#include <stddef.h>
#include <stdint.h>

#include "health.h"

namespace smartcart {

class Clock {
 public:
  virtual ~Clock() {}
  // Milliseconds since boot; wraps around after 49.7 days (compare with elapsed_ms()).
  virtual uint32_t millis() = 0;
  // Seconds since 1970 from SNTP, or 0 while the time is not known.
  virtual int64_t epoch_seconds() = 0;
  // Wait a little (lets other tasks run on the device; moves a fake clock on).
  virtual void sleep_ms(uint32_t ms) = 0;
};

class Random {
 public:
  virtual ~Random() {}
  virtual uint32_t next() = 0;  // uniformly distributed (the ESP32's hardware RNG)
};

// One TLS connection to the server. The implementation pins the server's CA certificate:
// there is no way to ask it for an unchecked connection.
class NetStream {
 public:
  virtual ~NetStream() {}
  virtual bool connect(const char* host, uint16_t port) = 0;
  virtual bool connected() = 0;
  virtual size_t write(const uint8_t* data, size_t len) = 0;  // bytes taken; 0 on failure
  virtual int read(uint8_t* buffer, size_t capacity) = 0;  // bytes read, 0 none yet, -1 closed
  virtual void stop() = 0;
};

class Camera {
 public:
  enum Status { OK, FAILED, TOO_LARGE };
  virtual ~Camera() {}
  // The driver's next JPEG frame, copied into destination; its size in *length. Frames wait in
  // the driver's buffers, so it may be older than this call: *taken_ms is the Clock::millis()
  // time the sensor began it (set with OK and TOO_LARGE).
  virtual Status capture(uint8_t* destination, size_t capacity, size_t* length,
                         uint32_t* taken_ms) = 0;
};

// Settings kept across reboots (NVS on the device).
class Storage {
 public:
  virtual ~Storage() {}
  // Copies the value of key into buffer; its length, or -1 when absent or too long.
  virtual int get(const char* key, char* buffer, size_t capacity) = 0;
  virtual bool set(const char* key, const char* value) = 0;
};

// Files kept across power cuts (LittleFS on the device): the saved offline queue, one file a slot.
// A power cut during write() may leave the file with its old contents, part of the new ones, or
// none: the core writes a checksum into every file and throws away one that does not match.
class Flash {
 public:
  struct Part {
    const uint8_t* data;
    size_t length;
  };
  virtual ~Flash() {}
  // Replaces the file with the parts, one after the other; false when not all were written.
  virtual bool write(const char* name, const Part* parts, size_t count) = 0;
  // Up to capacity bytes from offset: how many were read, or -1 when there is no such file.
  virtual int read(const char* name, size_t offset, uint8_t* buffer, size_t capacity) = 0;
  virtual bool remove(const char* name) = 0;  // true also when there was no such file
};

class Ui {
 public:
  virtual ~Ui() {}
  // The OLED: a status line (mode, queue, network) and the server's two display lines.
  virtual void show(const char* status, const char* line1, const char* line2) = 0;
  virtual void tone(uint16_t hz) = 0;  // 0: silence
  virtual void led(bool on) = 0;
};

class Board {
 public:
  virtual ~Board() {}
  virtual bool network_up() = 0;  // Wi-Fi associated and an address obtained
  virtual int wifi_rssi() = 0;    // dBm
  virtual uint32_t free_heap() = 0;
  virtual uint32_t free_psram() = 0;  // bytes; 0 without PSRAM
  virtual ResetReason reset_reason() = 0;  // why this run began
  virtual void wifi_reconnect() = 0;  // the Wi-Fi watchdog's nudge
  // The Wi-Fi watchdog gave up: restart, and report RESET_WIFI_WATCHDOG after it.
  virtual void restart_for_wifi() = 0;
  // An updated image runs on trial until it has reached the server (update.h): then it is
  // marked valid; a restart before that boots the previous image again.
  virtual bool image_pending_verify() = 0;
  virtual void image_mark_valid() = 0;
};

// The button/camera loop and the network task share the scan queue and the feedback mailbox.
class Lock {
 public:
  virtual ~Lock() {}
  virtual void lock() = 0;
  virtual void unlock() = 0;
};

class Locked {
 public:
  explicit Locked(Lock& lock) : lock_(lock) { lock_.lock(); }
  ~Locked() { lock_.unlock(); }

 private:
  Locked(const Locked&);
  Locked& operator=(const Locked&);
  Lock& lock_;
};

// Lines printed by the provisioning console.
class ConsoleOut {
 public:
  virtual ~ConsoleOut() {}
  virtual void line(const char* text) = 0;
};

}  // namespace smartcart

#endif
