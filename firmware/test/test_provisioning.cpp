// Provisioning by QR: reading the provisioning payload, and the settings the cart keeps after
// enrolling. (The golden payload and the enrolment request and answer: test_contract.cpp.)
#include <doctest/doctest.h>
#include <string.h>

#include <string>

#include "fakes.h"
#include "protocol.h"
#include "provisioning.h"
#include "settings.h"

using namespace smartcart;

namespace {

const char VALID[] =
    "{\"smartcart\":\"provision/1\",\"wifi_ssid\":\"Store-Carts\",\"wifi_password\":\"pw 1\","
    "\"server_url\":\"https://shop.example.com:8443\",\"token\":\"sce_abcdefghijklmnop_-12\","
    "\"ca_sha256\":\"96BCEC06264976F37460779ACF28C5A7CFE8A3C0AAE11A8FFCEE05C0BDDF08C6\"}";

ProvisioningResult parse(const std::string& text, Provisioning* out) {
  return provisioning_parse(text.data(), text.size(), out);
}

// VALID with one field's value replaced (the quotes included in old and replacement).
std::string with(const std::string& old, const std::string& replacement) {
  std::string text = VALID;
  size_t at = text.find(old);
  REQUIRE(at != std::string::npos);
  return text.replace(at, old.size(), replacement);
}

}  // namespace

TEST_SUITE("provisioning") {
  TEST_CASE("a provisioning QR gives the Wi-Fi, the server, the code and the CA fingerprint") {
    Provisioning p;
    REQUIRE(parse(VALID, &p) == PROVISIONING_OK);
    CHECK(std::string(p.wifi_ssid) == "Store-Carts");
    CHECK(std::string(p.wifi_password) == "pw 1");
    CHECK(std::string(p.server_url) == "https://shop.example.com:8443");
    CHECK(std::string(p.token) == "sce_abcdefghijklmnop_-12");
    // Lower case, whatever the QR's case.
    CHECK(std::string(p.ca_sha256) ==
          "96bcec06264976f37460779acf28c5a7cfe8a3c0aae11a8ffcee05c0bddf08c6");
  }

  TEST_CASE("other QR codes are not taken for a provisioning QR") {
    Provisioning p;
    CHECK(parse("SC1:alice-pass-text", &p) == PROVISIONING_NOT_OURS);
    CHECK(parse("https://shop.example.com", &p) == PROVISIONING_NOT_OURS);
    CHECK(parse("[1,2]", &p) == PROVISIONING_NOT_OURS);
    CHECK(parse(with("provision/1", "provision/2"), &p) == PROVISIONING_NOT_OURS);
    CHECK(parse(with("\"smartcart\"", "\"shop\""), &p) == PROVISIONING_NOT_OURS);
  }

  TEST_CASE("a field missing, empty, of the wrong type or too long is refused") {
    Provisioning p;
    CHECK(parse(with("\"Store-Carts\"", "\"\""), &p) == PROVISIONING_FIELD_INVALID);
    CHECK(parse(with("\"wifi_password\"", "\"password\""), &p) == PROVISIONING_FIELD_INVALID);
    CHECK(parse(with("\"pw 1\"", "42"), &p) == PROVISIONING_FIELD_INVALID);
    CHECK(parse(with("\"Store-Carts\"", "\"" + std::string(33, 'x') + "\""), &p) ==
          PROVISIONING_FIELD_INVALID);  // an SSID has 32 bytes at most
    CHECK(parse(with("\"pw 1\"", "\"" + std::string(63, 'x') + "\""), &p) == PROVISIONING_OK);
    CHECK(parse(with("\"pw 1\"", "\"" + std::string(64, 'x') + "\""), &p) ==
          PROVISIONING_FIELD_INVALID);  // a WPA2 passphrase has 63 at most
  }

  TEST_CASE("the server must be https, the code an enrolment code, the CA a SHA-256") {
    Provisioning p;
    CHECK(parse(with("https://shop.example.com:8443", "http://shop.example.com"), &p) ==
          PROVISIONING_URL_INVALID);
    CHECK(parse(with("sce_abcdefghijklmnop_-12", "scd_abcdefghijklmnop_-12"), &p) ==
          PROVISIONING_TOKEN_INVALID);  // a device key never comes in a QR
    CHECK(parse(with("sce_abcdefghijklmnop_-12", "sce_short"), &p) ==
          PROVISIONING_TOKEN_INVALID);
    CHECK(parse(with("sce_abcdefghijklmnop_-12", "sce_abcdefghijklmnop/x"), &p) ==
          PROVISIONING_TOKEN_INVALID);
    CHECK(parse(with("96BCEC06", "96BCEC0G"), &p) == PROVISIONING_CA_INVALID);
    CHECK(parse(with("96BCEC06", "96BCEC"), &p) == PROVISIONING_CA_INVALID);
  }

  TEST_CASE("after enrolling the cart keeps the QR's Wi-Fi and server and the answer's key") {
    Provisioning p;
    REQUIRE(parse(VALID, &p) == PROVISIONING_OK);
    EnrolAnswer answer;
    strcpy(answer.device_key, fakes::TEST_DEVICE_KEY);
    strcpy(answer.device_name, "Cart 12");
    Settings settings;
    settings_clear(&settings);
    strcpy(settings.ca_pem, fakes::TEST_CA_PEM);  // fetched for the fingerprint, kept as is
    strcpy(settings.frame, "VGA");
    provisioning_apply(p, answer, &settings);
    CHECK(std::string(settings.wifi_ssid) == "Store-Carts");
    CHECK(std::string(settings.wifi_password) == "pw 1");
    CHECK(std::string(settings.server_url) == "https://shop.example.com:8443");
    CHECK(std::string(settings.device_key) == fakes::TEST_DEVICE_KEY);
    CHECK(std::string(settings.frame) == "VGA");
    CHECK(settings_check(settings) == SETTINGS_OK);
  }

  TEST_CASE("an enrolment answer without a device key is not taken") {
    EnrolAnswer answer;
    const char no_key[] = "{\"device_key\":\"letmein\",\"device_name\":\"Cart 12\"}";
    CHECK_FALSE(enrol_answer_parse(no_key, strlen(no_key), &answer));
    const char refused[] = "{\"detail\":\"This enrolment code was used already\"}";
    CHECK_FALSE(enrol_answer_parse(refused, strlen(refused), &answer));
    const char ok[] = "{\"device_key\":\"scd_1_x\",\"device_name\":\"Cart 12\"}";
    CHECK(enrol_answer_parse(ok, strlen(ok), &answer));
  }

  TEST_CASE("the CA certificate is kept only when it has the QR's fingerprint") {
    // A test CA; its fingerprint as "openssl x509 -noout -fingerprint -sha256" printed it.
    const char pem[] =
        "-----BEGIN CERTIFICATE-----\n"
        "MIIBjTCCATOgAwIBAgIUB7tPXEbmvO5B2KWz/RKqaZqZjY4wCgYIKoZIzj0EAwIw\n"
        "HDEaMBgGA1UEAwwRc21hcnRjYXJ0IHRlc3QgQ0EwHhcNMjYxMjA2MDQzODU5WhcN\n"
        "MzYxMjAzMDQzODU5WjAcMRowGAYDVQQDDBFzbWFydGNhcnQgdGVzdCBDQTBZMBMG\n"
        "ByqGSM49AgEGCCqGSM49AwEHA0IABAccfm6HOvlV/gO4xE0TSGtaa+vvXnbxxr9g\n"
        "Q4AhFA00+LgrjeyD/GXYV1CHBJ/iMaOul80pPEc5MtKXTk2os5qjUzBRMB0GA1Ud\n"
        "DgQWBBRpjLMTG2+aAZhhMqVP7TtXDjmg0jAfBgNVHSMEGDAWgBRpjLMTG2+aAZhh\n"
        "MqVP7TtXDjmg0jAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIHb5\n"
        "zWUgTV5KW/3SxmUVLhIX2Ejf8ERawWUH/jq6A8tqAiEA2LlXZZuanTl4ox6OhLCY\n"
        "lKYchYH+4FRy47014rcVV3M=\n"
        "-----END CERTIFICATE-----\n";
    const char fingerprint[] = "6c848ede2b5cc6a5b92efeda92167fcbbb3da0ca5946f38058041ed2b0e447c3";
    CHECK(ca_pem_matches(pem, fingerprint));
    std::string bundle = std::string(fakes::TEST_CA_PEM) + pem;  // an intermediate first
    CHECK(ca_pem_matches(bundle.c_str(), fingerprint));
    std::string other = fingerprint;
    other[0] = '7';
    CHECK_FALSE(ca_pem_matches(pem, other.c_str()));
    std::string changed = pem;
    changed[100] = changed[100] == 'A' ? 'B' : 'A';  // one character of the DER
    CHECK_FALSE(ca_pem_matches(changed.c_str(), fingerprint));
    CHECK_FALSE(ca_pem_matches("no certificate here", fingerprint));
  }
}
