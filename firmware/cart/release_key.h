// The store's release public key (Ed25519, 32 bytes): the same key as the server's
// FIRMWARE_RELEASE_PUBLIC_KEY (firmware/README.md, "Updating carts over the air"). A build
// without one (all zeros, as committed) refuses every update: set it with the build flag
//   -DSMARTCART_RELEASE_PUBLIC_KEY='{0x12,0x34,...}'   (the 32 bytes of the base64 key)
#ifndef SMARTCART_RELEASE_KEY_H
#define SMARTCART_RELEASE_KEY_H

#include <stdint.h>

#ifndef SMARTCART_RELEASE_PUBLIC_KEY
#define SMARTCART_RELEASE_PUBLIC_KEY {0}
#endif

namespace hardware {

static const uint8_t RELEASE_PUBLIC_KEY[32] = SMARTCART_RELEASE_PUBLIC_KEY;

}  // namespace hardware

#endif
