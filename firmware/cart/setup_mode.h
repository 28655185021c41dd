// Setup mode: a cart with no settings, or started with its button held, reads the provisioning
// QR staff show it ("Add a cart" in the admin) with its own camera, joins the QR's Wi-Fi and
// enrols (core/provisioning.h, core/enrolment.h), then saves its settings and restarts.
#ifndef SMARTCART_SETUP_MODE_H
#define SMARTCART_SETUP_MODE_H

#include <smartcart.h>

namespace hardware {

// Shows "Setup mode" / "Show the cart's" / "setup QR" and reads QRs until one enrols the cart
// (then saves and restarts: it does not return). Returns when the cart has settings it can run
// with and the button is pressed (setup mode entered by holding it, then left alone), so a
// held button at power-on never strands a working cart. between_frames runs between frames
// (the serial console: it stays the fallback, and its "reboot" works here too).
void setup_mode_run(smartcart::Settings* settings, void (*between_frames)());

}  // namespace hardware

#endif
