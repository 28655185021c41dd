// Buzzer patterns, the OLED's text, and the serial provisioning console.
#include <doctest/doctest.h>
#include <string.h>

#include <string>
#include <vector>

#include "config.h"
#include "fakes.h"
#include "feedback.h"
#include "settings.h"

using namespace smartcart;

TEST_SUITE("feedback") {
  TEST_CASE("every pattern sounds different, and paired, error and offline are among them") {
    std::vector<std::vector<uint16_t> > sounds;
    for (int p = PATTERN_OK; p < PATTERN_COUNT; ++p) {
      size_t count;
      const Tone* tones = pattern_tones(Pattern(p), &count);
      REQUIRE(count > 0);
      std::vector<uint16_t> sound;
      for (size_t i = 0; i < count; ++i) {
        sound.push_back(tones[i].hz);
        sound.push_back(tones[i].ms);
      }
      for (const std::vector<uint16_t>& other : sounds) CHECK(sound != other);
      sounds.push_back(sound);
    }
    CHECK(sounds.size() == PATTERN_COUNT - 1);
  }

  TEST_CASE("a melody plays its tones in time and then is silent") {
    const uint32_t t = 0xFFFFFF00u;  // across the wrap-around
    Melody melody;
    melody.play(PATTERN_PAIR, t);
    CHECK(melody.update(t) == 1500);
    CHECK(melody.update(t + 150) == 2000);
    CHECK(melody.update(t + 250) == 2700);
    CHECK(melody.update(t + 379) == 2700);
    CHECK(melody.playing());
    CHECK(melody.update(t + 380) == 0);
    CHECK_FALSE(melody.playing());
  }

  TEST_CASE("patterns arriving together are played one after the other, not cut") {
    Melody melody;
    melody.play(PATTERN_ERROR, 1000);
    melody.play(PATTERN_OK, 1010);
    CHECK(melody.update(1010) == 400);
    CHECK(melody.update(1000 + pattern_ms(PATTERN_ERROR)) == 2700);
    CHECK(melody.update(1000 + pattern_ms(PATTERN_ERROR) + pattern_ms(PATTERN_OK)) == 0);
  }

  TEST_CASE("display lines: 16 characters, accents in the OLED's code page, the rest '?'") {
    char out[DISPLAY_LINE_BYTES];
    display_fit("+1 Oat milk 1 l", out);
    CHECK(std::string(out) == "+1 Oat milk 1 l");
    display_fit("Hi Zo\xc3\xab", out);  // Zoë
    CHECK(std::string(out) == "Hi Zo\x89");
    display_fit("\xe2\x82\xac 2.50\tok\xff", out);  // no euro glyph, a tab, a stray byte
    CHECK(std::string(out) == "? 2.50?ok?");
    display_fit("12345678901234567890", out);
    CHECK(std::string(out) == "1234567890123456");
    display_fit("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", out);
    CHECK(strlen(out) == DISPLAY_LINE_CHARS);  // counted in characters, not bytes
  }
}

namespace {

using fakes::FakeConsoleOut;
using fakes::FakeStorage;

void type(Console& console, const std::string& text) {
  for (char c : text) console.feed(c);
}

}  // namespace

TEST_SUITE("settings") {
  TEST_CASE("complete settings pass; each missing or wrong one is named") {
    Settings settings;
    fakes::settings_valid(&settings);
    CHECK(settings_check(settings) == SETTINGS_OK);
    struct Breakage {
      char* field;
      const char* value;
      SettingsProblem problem;
    } breakages[] = {
        {settings.wifi_ssid, "", SETTINGS_NO_WIFI},
        {settings.server_url, "", SETTINGS_NO_URL},
        {settings.server_url, "http://shop.example.com", SETTINGS_URL_NOT_HTTPS},
        {settings.server_url, "https://", SETTINGS_URL_INVALID},
        {settings.device_key, "", SETTINGS_NO_KEY},
        {settings.device_key, "not-a-key", SETTINGS_KEY_INVALID},
        {settings.device_key, "scd_0123abcd_has space in it", SETTINGS_KEY_INVALID},
        {settings.ca_pem, "", SETTINGS_NO_CA},
        {settings.ca_pem, "-----BEGIN CERTIFICATE-----\nabc\n", SETTINGS_CA_INVALID},
        {settings.frame, "QQVGA", SETTINGS_FRAME_UNKNOWN},
        {settings.frame, "XGA", SETTINGS_FRAME_TOO_LARGE},  // its JPEG may outgrow a slot
        {settings.frame, "UXGA", SETTINGS_FRAME_TOO_LARGE},
        {settings.upload, "gzip", SETTINGS_UPLOAD_UNKNOWN},
    };
    for (const Breakage& b : breakages) {
      Settings broken;
      fakes::settings_valid(&broken);
      char* field = reinterpret_cast<char*>(&broken) +
                    (b.field - reinterpret_cast<char*>(&settings));
      strcpy(field, b.value);
      CAPTURE(b.value);
      CHECK(settings_check(broken) == b.problem);
      CHECK(strlen(settings_problem_text(b.problem)) > 0);
    }
  }

  TEST_CASE("settings survive a save and a load (NVS)") {
    Settings settings, loaded;
    fakes::settings_valid(&settings);
    FakeStorage storage;
    REQUIRE(settings_save(storage, settings));
    CHECK(storage.values["device_key"] == fakes::TEST_DEVICE_KEY);
    settings_load(storage, &loaded);
    CHECK(memcmp(&settings, &loaded, sizeof settings) == 0);
  }

  TEST_CASE("the console sets everything, takes a pasted CA, and saves only when complete") {
    Settings settings;
    settings_clear(&settings);
    FakeStorage storage;
    FakeConsoleOut out;
    Console console(settings, storage, out);
    type(console, "set wifi_ssid Store Net 5G\r\n");
    CHECK(std::string(settings.wifi_ssid) == "Store Net 5G");
    type(console, "save\n");
    CHECK(out.lines[out.lines.size() - 2] == CONSOLE_NOT_SAVED);
    CHECK(out.lines.back() == settings_problem_text(SETTINGS_NO_URL));
    CHECK(storage.values.empty());
    type(console, "set wifi_password hunter2\nset server_url https://shop.example.com\n");
    type(console, std::string("set device_key ") + fakes::TEST_DEVICE_KEY + "\n");
    type(console, "ca\n");
    CHECK(out.lines.back() == CONSOLE_CA_PASTE);
    type(console, fakes::TEST_CA_PEM);
    type(console, "end\n");
    CHECK(out.lines.back() == CONSOLE_CA_TAKEN);
    CHECK(std::string(settings.ca_pem) == fakes::TEST_CA_PEM);
    type(console, "check\n");
    CHECK(out.lines.back() == settings_problem_text(SETTINGS_OK));
    type(console, "save\n");
    CHECK(out.lines.back() == CONSOLE_SAVED);
    CHECK(storage.values["server_url"] == "https://shop.example.com");
    CHECK_FALSE(console.reboot_requested());
    type(console, "reboot\n");
    CHECK(console.reboot_requested());
  }

  TEST_CASE("show never prints the password or the key's secret part") {
    Settings settings;
    fakes::settings_valid(&settings);
    FakeStorage storage;
    FakeConsoleOut out;
    Console console(settings, storage, out);
    type(console, "show\n");
    std::string all;
    for (const std::string& line : out.lines) all += line + "\n";
    CHECK(all.find("correct horse") == std::string::npos);
    CHECK(all.find("QUJDREVG") == std::string::npos);
    CHECK(all.find("device_key = scd_0123abcd_(secret)") != std::string::npos);
    CHECK(all.find("wifi_password = (secret)") != std::string::npos);
    CHECK(all.find("server_url = https://shop.example.com") != std::string::npos);
  }

  TEST_CASE("unknown commands and settings, and lines too long, are answered, not taken") {
    Settings settings;
    settings_clear(&settings);
    FakeStorage storage;
    FakeConsoleOut out;
    Console console(settings, storage, out);
    type(console, "format\n");
    CHECK(out.lines.back() == CONSOLE_UNKNOWN);
    type(console, "set colour red\n");
    CHECK(out.lines.back() == CONSOLE_NO_SUCH_SETTING);
    type(console, "set wifi_ssid " + std::string(40, 'x') + "\n");
    CHECK(out.lines.back() == CONSOLE_TOO_LONG);
    CHECK(std::string(settings.wifi_ssid) == "");
    type(console, "set server_url " + std::string(300, 'x') + "\n");
    CHECK(out.lines.back() == CONSOLE_TOO_LONG);
    type(console, "set ca_pem x\n");  // the certificate is pasted, never set on one line
    CHECK(out.lines.back() == CONSOLE_NO_SUCH_SETTING);
    type(console, "helq\x7fp\n");  // a backspace
    CHECK(out.lines.back() == CONSOLE_HELP);
  }
}
