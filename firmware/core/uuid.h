// Random (version 4) UUIDs: every scan's scan_id.
#ifndef SMARTCART_UUID_H
#define SMARTCART_UUID_H

#include <stddef.h>

#include "ports.h"

namespace smartcart {

// Writes a UUIDv4 ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", lower case) and its terminator into
// out, which has SCAN_ID_BYTES (37) of room.
void uuid4_make(Random& random, char* out);

// Whether text is a UUIDv4 in that form (what the firmware sends; the server takes any UUID).
bool uuid4_valid(const char* text);

}  // namespace smartcart

#endif
