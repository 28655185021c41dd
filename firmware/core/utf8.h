// UTF-8, checked: the server speaks it in JSON, a scanner module may send any bytes.
#ifndef SMARTCART_UTF8_H
#define SMARTCART_UTF8_H

#include <stddef.h>
#include <stdint.h>

namespace smartcart {

// Decodes the sequence at text (remaining bytes available): the bytes it takes, with the code
// point in *code_point, or 0 when it is not well-formed UTF-8 (overlong, a surrogate, cut).
size_t utf8_decode(const char* text, size_t remaining, uint32_t* code_point);

// Encodes code_point into out (4 bytes of room): the bytes written, 0 for a surrogate or a
// value past U+10FFFF.
size_t utf8_encode(uint32_t code_point, char* out);

}  // namespace smartcart

#endif
