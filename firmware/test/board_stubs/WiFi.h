// Board stub: espressif/arduino-esp32 libraries/WiFi/src/ (2.0.x):
//   WiFiSTA.h (stored copy read: 0eb6f2b5, a 2.0.x header)  begin, reconnect,
//             setAutoReconnect, status, RSSI, isConnected
//   WiFiGeneric.h   mode, setSleep;  WiFiType.h  WIFI_STA;  wl_definitions.h  wl_status_t
//   WiFiClient.h    WiFiClient (a Client, a Stream)
#ifndef BOARD_STUB_WIFI_H
#define BOARD_STUB_WIFI_H

#include "Arduino.h"

typedef enum {
  WL_NO_SHIELD = 255,
  WL_IDLE_STATUS = 0,
  WL_NO_SSID_AVAIL = 1,
  WL_SCAN_COMPLETED = 2,
  WL_CONNECTED = 3,
  WL_CONNECT_FAILED = 4,
  WL_CONNECTION_LOST = 5,
  WL_DISCONNECTED = 6
} wl_status_t;

typedef enum {
  WIFI_MODE_NULL = 0,
  WIFI_MODE_STA,
  WIFI_MODE_AP,
  WIFI_MODE_APSTA,
  WIFI_MODE_MAX
} wifi_mode_t;
#define WIFI_OFF WIFI_MODE_NULL
#define WIFI_STA WIFI_MODE_STA

class WiFiClass {
 public:
  wl_status_t begin(const char* ssid, const char* passphrase = NULL, int32_t channel = 0,
                    const uint8_t* bssid = NULL, bool connect = true);
  bool reconnect();
  bool disconnect(bool wifioff = false, bool eraseap = false);
  bool isConnected();
  bool setAutoReconnect(bool autoReconnect);
  static wl_status_t status();
  int8_t RSSI();
  bool mode(wifi_mode_t);
  bool setSleep(bool enabled);
};

extern WiFiClass WiFi;

class Client : public Stream {
 public:
  virtual int connect(const char* host, uint16_t port) = 0;
  virtual size_t write(uint8_t) = 0;
  virtual size_t write(const uint8_t* buf, size_t size) = 0;
  virtual int available() = 0;
  virtual int read() = 0;
  virtual int read(uint8_t* buf, size_t size) = 0;
  virtual int peek() = 0;
  virtual void flush() = 0;
  virtual void stop() = 0;
  virtual uint8_t connected() = 0;
};

class WiFiClient : public Client {
 public:
  int connect(const char* host, uint16_t port) override;
  int connect(const char* host, uint16_t port, int32_t timeout);
  size_t write(uint8_t data) override;
  size_t write(const uint8_t* buf, size_t size) override;
  int available() override;
  int read() override;
  int read(uint8_t* buf, size_t size) override;
  int peek() override;
  void flush() override;
  void stop() override;
  uint8_t connected() override;
  void setTimeout(uint32_t seconds);
};

#endif
