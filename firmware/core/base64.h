// Standard base64 (RFC 4648, with padding), as the server's JSON image field expects.
#ifndef SMARTCART_BASE64_H
#define SMARTCART_BASE64_H

#include <stddef.h>
#include <stdint.h>

namespace smartcart {

inline size_t base64_length(size_t bytes) { return (bytes + 2) / 3 * 4; }

// Encodes data into out (no terminator): the characters written, or 0 when out is too small.
size_t base64_encode(const uint8_t* data, size_t length, char* out, size_t capacity);

// Decodes padded base64 text into out: the bytes written, or 0 when the text is not base64
// (or decodes to nothing) or out is too small.
size_t base64_decode(const char* text, size_t length, uint8_t* out, size_t capacity);

}  // namespace smartcart

#endif
