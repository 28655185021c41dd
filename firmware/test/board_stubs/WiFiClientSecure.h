// Board stub: espressif/arduino-esp32 libraries/WiFiClientSecure/src/WiFiClientSecure.h,
// 2.0.17 members. The stored copy read (00f96243) is older: it lacks the connect with a
// timeout and setHandshakeTimeout, both in 2.0.x (int connect(const char* host, uint16_t port,
// int32_t timeout); void setHandshakeTimeout(unsigned long handshake_timeout)).
// Deliberately no setInsecure here: the board code must never call it (core-check).
#ifndef BOARD_STUB_WIFICLIENTSECURE_H
#define BOARD_STUB_WIFICLIENTSECURE_H

#include "WiFi.h"

class WiFiClientSecure : public WiFiClient {
 public:
  WiFiClientSecure();
  ~WiFiClientSecure();
  int connect(const char* host, uint16_t port) override;
  int connect(const char* host, uint16_t port, int32_t timeout);
  size_t write(uint8_t data) override;
  size_t write(const uint8_t* buf, size_t size) override;
  int available() override;
  int read() override;
  int read(uint8_t* buf, size_t size) override;
  int peek() override;
  void flush() override {}
  void stop() override;
  uint8_t connected() override;
  void setCACert(const char* rootCA);
  void setHandshakeTimeout(unsigned long handshake_timeout);
  using Print::write;
};

#endif
