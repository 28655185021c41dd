// What a store provisions once per cart (Wi-Fi, server, key, CA certificate), kept in NVS,
// and the serial console that sets it.
#ifndef SMARTCART_SETTINGS_H
#define SMARTCART_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

#include "ports.h"
#include "protocol.h"

namespace smartcart {

const size_t CA_PEM_MAX = 4096;  // a root and an intermediate fit

struct Settings {
  char wifi_ssid[33];
  char wifi_password[64];
  char server_url[128];
  char device_key[100];
  char ca_pem[CA_PEM_MAX];
  char frame[8];   // a FrameSize name; "" is the default (SVGA)
  char upload[8];  // "raw" (default) or "json"
  char ntp_server[64];  // "" is NTP_SERVER_DEFAULT
};

static const char NTP_SERVER_DEFAULT[] = "pool.ntp.org";

struct FrameSize {
  const char* name;  // esp_camera's FRAMESIZE_<name>
  uint16_t width;
  uint16_t height;
};

const FrameSize* frame_size_find(const char* name);  // "" gives the default; NULL if unknown
// Whether the largest JPEG the driver makes at this size fits a queue slot (SLOT_BYTES): VGA
// and SVGA do; XGA and larger are refused by settings_check.
bool frame_size_fits(const FrameSize& frame);
ImageUpload image_upload_of(const Settings& settings);

enum SettingsProblem {
  SETTINGS_OK,
  SETTINGS_NO_WIFI,
  SETTINGS_NO_URL,
  SETTINGS_URL_NOT_HTTPS,
  SETTINGS_URL_INVALID,
  SETTINGS_NO_KEY,
  SETTINGS_KEY_INVALID,
  SETTINGS_NO_CA,
  SETTINGS_CA_INVALID,
  SETTINGS_FRAME_UNKNOWN,
  SETTINGS_FRAME_TOO_LARGE,
  SETTINGS_UPLOAD_UNKNOWN,
  SETTINGS_PROBLEM_COUNT
};

// The first thing that keeps the cart from running; there is no insecure mode, so a plain
// http:// URL or a missing CA certificate is refused like a missing key.
SettingsProblem settings_check(const Settings& settings);
const char* settings_problem_text(SettingsProblem problem);

void settings_clear(Settings* settings);
void settings_load(Storage& storage, Settings* settings);  // absent keys stay empty
bool settings_save(Storage& storage, const Settings& settings);

extern const char CONSOLE_HELP[];
extern const char CONSOLE_SAVED[];
extern const char CONSOLE_NOT_SAVED[];
extern const char CONSOLE_UNKNOWN[];
extern const char CONSOLE_NO_SUCH_SETTING[];
extern const char CONSOLE_TOO_LONG[];
extern const char CONSOLE_CA_PASTE[];
extern const char CONSOLE_CA_TAKEN[];
extern const char CONSOLE_READY[];

// The provisioning console: one command per line, typed over the serial port (115200 baud).
//   show | set <name> <value> | ca (then paste the PEM, then "end") | check | save | reboot
class Console {
 public:
  Console(Settings& settings, Storage& storage, ConsoleOut& out);
  void feed(char c);  // one character from the serial port
  bool reboot_requested() const { return reboot_; }

 private:
  void line_done();
  void command(char* line);
  void set(char* rest);
  void show();
  void ca_line(const char* line);
  void say_problem();

  Settings& settings_;
  Storage& storage_;
  ConsoleOut& out_;
  char line_[200];
  size_t length_;
  bool overlong_;
  bool pasting_ca_;
  size_t ca_length_;
  bool reboot_;
};

}  // namespace smartcart

#endif
