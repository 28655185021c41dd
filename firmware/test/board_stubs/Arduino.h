// Board stub (firmware/test/board_stubs/README.md): the Arduino core declarations the board code
// uses. Signatures from espressif/arduino-esp32, arduino-esp32 2.0.17 forms:
//   cores/esp32/esp32-hal.h          millis, delay, configTime (stored copy read: 4e96bffe)
//   cores/esp32/esp32-hal-gpio.h     pinMode, digitalWrite, digitalRead, HIGH/LOW, OUTPUT,
//                                    INPUT_PULLUP
//   cores/esp32/esp32-hal-ledc.h     2.0.x: ledcSetup(channel, freq, bits), ledcAttachPin(pin,
//                                    channel), ledcWriteTone(channel, freq) (the stored copy,
//                                    01c8cae0, is 3.x: ledcAttach*(pin, ...); the board code
//                                    takes that branch only when ESP_ARDUINO_VERSION_MAJOR >= 3)
//   cores/esp32/esp32-hal-psram.h    ps_malloc, psramFound
//   cores/esp32/esp_arduino_version.h  ESP_ARDUINO_VERSION_MAJOR (2 here: 2.0.17)
//   cores/esp32/Print.h, Stream.h, HardwareSerial.h (1df266e6), Esp.h (c18d50cb), WString.h
//   ESP-IDF v4.4 components/esp_common/include/esp_attr.h   RTC_NOINIT_ATTR
// Arduino.h also brings in FreeRTOS and stdlib/string/time headers, as the real one does.
#ifndef BOARD_STUB_ARDUINO_H
#define BOARD_STUB_ARDUINO_H

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "esp_err.h"
#include "freertos/FreeRTOS.h"
#include "freertos/semphr.h"
#include "freertos/task.h"

#define ESP_ARDUINO_VERSION_MAJOR 2
#define ESP_ARDUINO_VERSION_MINOR 0
#define ESP_ARDUINO_VERSION_PATCH 17

#define HIGH 0x1
#define LOW 0x0
#define INPUT 0x01
#define OUTPUT 0x03
#define PULLUP 0x04
#define INPUT_PULLUP 0x05

#define RTC_NOINIT_ATTR __attribute__((section(".rtc_noinit")))
#define SERIAL_8N1 0x800001c

typedef bool boolean;
typedef uint8_t byte;

extern "C" {
unsigned long millis();
unsigned long micros();
void delay(uint32_t ms);
void pinMode(uint8_t pin, uint8_t mode);
void digitalWrite(uint8_t pin, uint8_t val);
int digitalRead(uint8_t pin);
uint32_t ledcSetup(uint8_t channel, uint32_t freq, uint8_t resolution_bits);
void ledcAttachPin(uint8_t pin, uint8_t channel);
uint32_t ledcWriteTone(uint8_t channel, uint32_t freq);
bool psramFound();
void* ps_malloc(size_t size);
}

void configTime(long gmtOffset_sec, int daylightOffset_sec, const char* server1,
                const char* server2 = nullptr, const char* server3 = nullptr);

// WString.h: only what the board code passes to HTTPClient.
class String {
 public:
  String(const char* cstr = "");
  String(const String& other);
  ~String();
  String& operator=(const String& rhs);
  unsigned int length() const;
  const char* c_str() const;
};

// Print.h
class Print {
 public:
  virtual ~Print() {}
  virtual size_t write(uint8_t) = 0;
  virtual size_t write(const uint8_t* buffer, size_t size);
  size_t printf(const char* format, ...) __attribute__((format(printf, 2, 3)));
  size_t print(const char[]);
  size_t print(char);
  size_t print(int, int = 10);
  size_t print(unsigned int, int = 10);
  size_t println(const char[]);
  size_t println(void);
};

// Stream.h
class Stream : public Print {
 public:
  virtual int available() = 0;
  virtual int read() = 0;
  virtual int peek() = 0;
  virtual void flush() {}
  void setTimeout(unsigned long timeout);
  size_t readBytes(char* buffer, size_t length);
  size_t readBytes(uint8_t* buffer, size_t length);

 protected:
  unsigned long _timeout;
};

// HardwareSerial.h (2.0.17's begin)
class HardwareSerial : public Stream {
 public:
  void begin(unsigned long baud, uint32_t config = SERIAL_8N1, int8_t rxPin = -1,
             int8_t txPin = -1, bool invert = false, unsigned long timeout_ms = 20000UL,
             uint8_t rxfifo_full_thrhd = 112);
  int available() override;
  int read() override;
  int peek() override;
  size_t write(uint8_t) override;
  size_t write(const uint8_t* buffer, size_t size) override;
  using Print::write;
};

extern HardwareSerial Serial;
extern HardwareSerial Serial2;

// Esp.h
class EspClass {
 public:
  uint32_t getFreeHeap();
  uint32_t getFreePsram();
  void restart();
};

extern EspClass ESP;

#endif
