// Board stub: espressif/arduino-esp32 libraries/HTTPClient/src/HTTPClient.h (stored copy read:
// 01d22c88; these members are unchanged in 2.0.17): begin over a caller's client, addHeader,
// GET, getSize, getStreamPtr, end, setTimeout, setReuse, useHTTP10.
#ifndef BOARD_STUB_HTTPCLIENT_H
#define BOARD_STUB_HTTPCLIENT_H

#include "Arduino.h"
#include "WiFiClientSecure.h"

typedef enum { HTTP_CODE_OK = 200 } t_http_codes;

class HTTPClient {
 public:
  HTTPClient();
  ~HTTPClient();
  bool begin(WiFiClient& client, String host, uint16_t port, String uri = "/",
             bool https = false);
  void end(void);
  bool connected(void);
  void setReuse(bool reuse);
  void setUserAgent(const String& userAgent);
  void setTimeout(uint16_t timeout);
  void useHTTP10(bool usehttp10 = true);
  int GET();
  void addHeader(const String& name, const String& value, bool first = false,
                 bool replace = true);
  int getSize(void);
  WiFiClient* getStreamPtr(void);
};

#endif
