#include "settings.h"

#include <stddef.h>
#include <string.h>

#include "text.h"
#include "url.h"

namespace smartcart {

const char CONSOLE_HELP[] =
    "commands: show | set <name> <value> | ca | check | save | reboot\n"
    "names: wifi_ssid wifi_password server_url device_key frame upload ntp_server\n"
    "ca: paste the server's CA certificate (PEM), then a line: end";
const char CONSOLE_SAVED[] = "saved; type reboot to start the cart with these settings";
const char CONSOLE_NOT_SAVED[] = "not saved:";
const char CONSOLE_UNKNOWN[] = "unknown command; type help";
const char CONSOLE_NO_SUCH_SETTING[] = "no such setting; type help";
const char CONSOLE_TOO_LONG[] = "too long: not taken";
const char CONSOLE_CA_PASTE[] = "paste the PEM certificate(s), then a line: end";
const char CONSOLE_CA_TAKEN[] = "CA certificate taken";
const char CONSOLE_READY[] = "settings complete";

namespace {

const FrameSize FRAME_SIZES[] = {
    {"VGA", 640, 480},   {"SVGA", 800, 600},   {"XGA", 1024, 768},
    {"HD", 1280, 720},   {"SXGA", 1280, 1024}, {"UXGA", 1600, 1200},
};
const char FRAME_DEFAULT[] = "SVGA";
const char PEM_BEGIN[] = "-----BEGIN CERTIFICATE-----";
const char PEM_END[] = "-----END CERTIFICATE-----";

const char* const PROBLEM_TEXTS[SETTINGS_PROBLEM_COUNT] = {
    "settings complete",
    "wifi_ssid is not set",
    "server_url is not set",
    "server_url must start with https:// (the cart never sends in clear)",
    "server_url is not a valid https://host[:port][/path] address",
    "device_key is not set (register the cart: manage.py register_device)",
    "device_key is not a device key (scd_...)",
    "no CA certificate: type ca and paste the server's CA certificate",
    "the CA certificate is not a PEM certificate",
    "frame must be one of VGA SVGA XGA HD SXGA UXGA",
    "frame too large: its photos may not fit a 96 KiB slot; use VGA or SVGA",
    "upload must be raw or json",
};

struct Field {
  const char* name;  // also the NVS key (at most 15 characters)
  size_t offset;
  size_t size;
  bool secret;
};

#define FIELD(member, secret) {#member, offsetof(Settings, member), sizeof(Settings().member), secret}

const Field FIELDS[] = {
    FIELD(wifi_ssid, false), FIELD(wifi_password, true), FIELD(server_url, false),
    FIELD(device_key, true), FIELD(ca_pem, false),       FIELD(frame, false),
    FIELD(upload, false),    FIELD(ntp_server, false),
};
const size_t FIELD_COUNT = sizeof FIELDS / sizeof FIELDS[0];

char* field_text(Settings& settings, const Field& field) {
  return reinterpret_cast<char*>(&settings) + field.offset;
}

const char* field_text(const Settings& settings, const Field& field) {
  return reinterpret_cast<const char*>(&settings) + field.offset;
}

bool key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

bool key_valid(const char* key) {
  size_t length = strlen(key);
  if (!text_starts_with(key, "scd_") || length < 20) return false;
  for (size_t i = 0; i < length; ++i) {
    if (!key_char(key[i])) return false;
  }
  return true;
}

bool pem_valid(const char* pem) {
  const char* begin = strstr(pem, PEM_BEGIN);
  return begin != NULL && strstr(begin + strlen(PEM_BEGIN), PEM_END) != NULL;
}

}  // namespace

const FrameSize* frame_size_find(const char* name) {
  if (name[0] == '\0') name = FRAME_DEFAULT;
  for (size_t i = 0; i < sizeof FRAME_SIZES / sizeof FRAME_SIZES[0]; ++i) {
    if (text_equal_nocase(FRAME_SIZES[i].name, name)) return &FRAME_SIZES[i];
  }
  return NULL;
}

bool frame_size_fits(const FrameSize& frame) {
  return jpeg_bytes_max(frame.width, frame.height) <= SLOT_BYTES;
}

ImageUpload image_upload_of(const Settings& settings) {
  return strcmp(settings.upload, "json") == 0 ? UPLOAD_JSON_BASE64 : UPLOAD_RAW_JPEG;
}

SettingsProblem settings_check(const Settings& settings) {
  if (settings.wifi_ssid[0] == '\0') return SETTINGS_NO_WIFI;
  if (settings.server_url[0] == '\0') return SETTINGS_NO_URL;
  ServerUrl url;
  UrlProblem problem = server_url_parse(settings.server_url, &url);
  if (problem == URL_NOT_HTTPS) return SETTINGS_URL_NOT_HTTPS;
  if (problem != URL_OK) return SETTINGS_URL_INVALID;
  if (settings.device_key[0] == '\0') return SETTINGS_NO_KEY;
  if (!key_valid(settings.device_key)) return SETTINGS_KEY_INVALID;
  if (settings.ca_pem[0] == '\0') return SETTINGS_NO_CA;
  if (!pem_valid(settings.ca_pem)) return SETTINGS_CA_INVALID;
  const FrameSize* frame = frame_size_find(settings.frame);
  if (frame == NULL) return SETTINGS_FRAME_UNKNOWN;
  if (!frame_size_fits(*frame)) return SETTINGS_FRAME_TOO_LARGE;
  if (settings.upload[0] != '\0' && strcmp(settings.upload, "raw") != 0 &&
      strcmp(settings.upload, "json") != 0)
    return SETTINGS_UPLOAD_UNKNOWN;
  return SETTINGS_OK;
}

const char* settings_problem_text(SettingsProblem problem) { return PROBLEM_TEXTS[problem]; }

void settings_clear(Settings* settings) { memset(settings, 0, sizeof *settings); }

void settings_load(Storage& storage, Settings* settings) {
  settings_clear(settings);
  for (size_t i = 0; i < FIELD_COUNT; ++i) {
    char* text = field_text(*settings, FIELDS[i]);
    if (storage.get(FIELDS[i].name, text, FIELDS[i].size) < 0) text[0] = '\0';
  }
}

bool settings_save(Storage& storage, const Settings& settings) {
  for (size_t i = 0; i < FIELD_COUNT; ++i) {
    if (!storage.set(FIELDS[i].name, field_text(settings, FIELDS[i]))) return false;
  }
  return true;
}

// --- Console ----------------------------------------------------------------------------------

Console::Console(Settings& settings, Storage& storage, ConsoleOut& out)
    : settings_(settings), storage_(storage), out_(out), length_(0), overlong_(false),
      pasting_ca_(false), ca_length_(0), reboot_(false) {
  line_[0] = '\0';
}

void Console::feed(char c) {
  if (c == '\r' || c == '\n') {
    if (length_ > 0 || pasting_ca_ || overlong_) line_done();
    return;
  }
  if ((c == '\b' || c == 0x7F) && length_ > 0) {
    line_[--length_] = '\0';
    return;
  }
  if (length_ + 1 >= sizeof line_) {
    overlong_ = true;
    return;
  }
  line_[length_++] = c;
  line_[length_] = '\0';
}

void Console::line_done() {
  if (overlong_) {
    out_.line(CONSOLE_TOO_LONG);
    pasting_ca_ = false;
  } else if (pasting_ca_) {
    ca_line(line_);
  } else {
    command(line_);
  }
  length_ = 0;
  overlong_ = false;
  line_[0] = '\0';
}

void Console::ca_line(const char* line) {
  if (strcmp(line, "end") == 0) {
    pasting_ca_ = false;
    out_.line(pem_valid(settings_.ca_pem) ? CONSOLE_CA_TAKEN
                                          : settings_problem_text(SETTINGS_CA_INVALID));
    return;
  }
  size_t length = strlen(line);
  if (length == 0) return;
  if (ca_length_ + length + 2 > sizeof settings_.ca_pem) {
    out_.line(CONSOLE_TOO_LONG);
    settings_.ca_pem[0] = '\0';
    pasting_ca_ = false;
    return;
  }
  memcpy(settings_.ca_pem + ca_length_, line, length);
  ca_length_ += length;
  settings_.ca_pem[ca_length_++] = '\n';
  settings_.ca_pem[ca_length_] = '\0';
}

void Console::command(char* line) {
  char* rest = strchr(line, ' ');
  if (rest != NULL) *rest++ = '\0';
  if (strcmp(line, "help") == 0) {
    out_.line(CONSOLE_HELP);
  } else if (strcmp(line, "show") == 0) {
    show();
  } else if (strcmp(line, "set") == 0 && rest != NULL) {
    set(rest);
  } else if (strcmp(line, "ca") == 0) {
    pasting_ca_ = true;
    ca_length_ = 0;
    settings_.ca_pem[0] = '\0';
    out_.line(CONSOLE_CA_PASTE);
  } else if (strcmp(line, "check") == 0) {
    say_problem();
  } else if (strcmp(line, "save") == 0) {
    if (settings_check(settings_) != SETTINGS_OK) {
      out_.line(CONSOLE_NOT_SAVED);
      say_problem();
    } else {
      out_.line(settings_save(storage_, settings_) ? CONSOLE_SAVED : CONSOLE_NOT_SAVED);
    }
  } else if (strcmp(line, "reboot") == 0) {
    reboot_ = true;
  } else {
    out_.line(CONSOLE_UNKNOWN);
  }
}

void Console::set(char* rest) {
  char* value = strchr(rest, ' ');
  if (value != NULL) *value++ = '\0';
  for (size_t i = 0; i < FIELD_COUNT; ++i) {
    const Field& field = FIELDS[i];
    if (strcmp(rest, field.name) != 0 || field.offset == offsetof(Settings, ca_pem)) continue;
    if (!text_copy(field_text(settings_, field), field.size, value != NULL ? value : "")) {
      out_.line(CONSOLE_TOO_LONG);
      return;
    }
    out_.line("ok");
    return;
  }
  out_.line(CONSOLE_NO_SUCH_SETTING);
}

// The device key's public part ("scd_<prefix>_") says which key it is; the rest is secret.
static size_t key_public_length(const char* key) {
  const char* secret = strlen(key) > 4 ? strchr(key + 4, '_') : NULL;
  return secret != NULL ? static_cast<size_t>(secret - key + 1) : 0;
}

void Console::show() {
  for (size_t i = 0; i < FIELD_COUNT; ++i) {
    const Field& field = FIELDS[i];
    const char* text = field_text(settings_, field);
    char line[200];
    TextBuffer shown(line, sizeof line);
    shown.add(field.name).add(" = ");
    if (field.offset == offsetof(Settings, ca_pem)) {
      if (text[0] != '\0') shown.add("(").add_uint(strlen(text)).add(" bytes of PEM)");
    } else if (field.secret && text[0] != '\0') {
      bool key = field.offset == offsetof(Settings, device_key);
      shown.add_n(text, key ? key_public_length(text) : 0).add("(secret)");
    } else {
      shown.add(text);
    }
    out_.line(line);
  }
}

void Console::say_problem() {
  out_.line(settings_problem_text(settings_check(settings_)));
}

}  // namespace smartcart
