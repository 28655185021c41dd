// Over-the-air updates on the ESP32: the core decided (CartCore::update_take) and checks the
// release as it streams (UpdateInstaller); this writes it into the other OTA slot with
// esp_ota_*, checks the Ed25519 signature with libsodium and the release key compiled in
// (release_key.h), and restarts into it. The new image runs on trial: the core marks it valid
// after its first heartbeat the server answered (Board::image_mark_valid); a restart before
// that boots the old one again, where the bootloader has rollback (firmware/README.md).
#ifndef SMARTCART_OTA_H
#define SMARTCART_OTA_H

#include <smartcart.h>
#include <update.h>

namespace hardware {

// Downloads offer over the TLS connection pinned to the provisioned CA, with the device key,
// into the other slot; restarts when it verified, and returns (the running image untouched,
// the reason on the serial console) when it did not. Feeds the task watchdog as it goes.
void update_install(const smartcart::UpdateOffer& offer, const smartcart::Settings& settings);

}  // namespace hardware

#endif
