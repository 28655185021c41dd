// The portable core of the smartcart cart firmware, in one include for the sketch.
// (A header with a name no other library has: Arduino CLI and PlatformIO find the library by it.)
#ifndef SMARTCART_H
#define SMARTCART_H

#include "cart.h"
#include "config.h"
#include "ports.h"
#include "scanner.h"
#include "settings.h"

#endif
