// Provisioning by QR: what a cart with no settings reads from the QR staff show it ("Add a
// cart" in the admin), and how it turns that and the enrolment answer into its settings.
//
// The QR holds compact JSON (devices/provisioning.py on the server; the golden example is
// tests/fixtures/devices/cart/provisioning.json):
//   {"smartcart":"provision/1","wifi_ssid":...,"wifi_password":...,"server_url":"https://...",
//    "token":"sce_...","ca_sha256":"<64 hex>"}
// The token is single-use and expires after ten minutes; there is no device key in the QR. The
// cart joins the Wi-Fi, sends the token to ENROL_PATH (enrol_request_build) and keeps the key
// of the answer (enrol_answer_parse, provisioning_apply).
#ifndef SMARTCART_PROVISIONING_H
#define SMARTCART_PROVISIONING_H

#include <stddef.h>

#include "protocol.h"
#include "settings.h"

namespace smartcart {

const size_t ENROL_TOKEN_MAX = 68;  // "sce_" and up to 64 characters: the server's limit
const size_t CA_SHA256_HEX = 64;

struct Provisioning {
  char wifi_ssid[sizeof(Settings().wifi_ssid)];
  char wifi_password[sizeof(Settings().wifi_password)];
  char server_url[sizeof(Settings().server_url)];
  char token[ENROL_TOKEN_MAX + 1];
  char ca_sha256[CA_SHA256_HEX + 1];  // lower case: the CA certificate's SHA-256 (of its DER)
};

enum ProvisioningResult {
  PROVISIONING_OK,
  PROVISIONING_NOT_OURS,       // another QR (a cart pass, a product, a web address)
  PROVISIONING_FIELD_INVALID,  // a field missing, of the wrong type or too long
  PROVISIONING_URL_INVALID,    // not https://host[:port][/path]
  PROVISIONING_TOKEN_INVALID,  // not "sce_" and 16 to 64 URL-safe characters
  PROVISIONING_CA_INVALID,     // not 64 hexadecimal digits
};

// Reads a provisioning QR's text into out.
ProvisioningResult provisioning_parse(const char* text, size_t length, Provisioning* out);

// Whether a certificate in pem (one or more PEM certificates, e.g. fetched from the server
// before the CA is trusted) has the SHA-256 fingerprint ca_sha256 (64 lower-case hex digits,
// of the DER bytes, as openssl x509 -fingerprint -sha256 prints it). The cart keeps a CA
// certificate only when it matches the QR's fingerprint.
bool ca_pem_matches(const char* pem, const char* ca_sha256);

// The settings the cart keeps after enrolling: the QR's Wi-Fi and server, the answer's key.
// The CA certificate, frame, upload and NTP settings are left as they are.
void provisioning_apply(const Provisioning& provisioning, const EnrolAnswer& answer,
                        Settings* settings);

}  // namespace smartcart

#endif
