// Board stub: libsodium as ESP-IDF v4.4 ships it (components/libsodium, libsodium 1.0.18),
// src/libsodium/include/sodium/crypto_sign_ed25519.h: the detached Ed25519 check, with the
// signature libsodium's crypto_sign/ed25519/ref10/open.c defines (found with find_string).
#ifndef BOARD_STUB_SODIUM_H
#define BOARD_STUB_SODIUM_H

#define crypto_sign_ed25519_BYTES 64U
#define crypto_sign_ed25519_PUBLICKEYBYTES 32U

#ifdef __cplusplus
extern "C" {
#endif
int sodium_init(void);
int crypto_sign_ed25519_verify_detached(const unsigned char* sig, const unsigned char* m,
                                        unsigned long long mlen, const unsigned char* pk);
#ifdef __cplusplus
}
#endif

#endif
