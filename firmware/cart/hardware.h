// The AI-Thinker ESP32-CAM under the cart: its pins, and the core's ports built on its camera,
// Wi-Fi and TLS, NVS, OLED, buzzer and LED. hardware.cpp is the one file of the firmware that
// includes Arduino, camera, Wi-Fi, preferences or display headers; this header includes none.
#ifndef SMARTCART_HARDWARE_H
#define SMARTCART_HARDWARE_H

#include <smartcart.h>
#include <stdint.h>

namespace hardware {

// --- Pin map (firmware/README.md explains each choice) ------------------------------------------
// The camera takes GPIO 0, 5, 18, 19, 21, 22, 23, 25, 26, 27, 32, 34, 35, 36 and 39; PSRAM
// takes 16 and 17; 1 and 3 are the serial console. What is left are the SD-card pins (the card
// slot stays empty), of which 2, 12 and 15 are strapping pins: each is used here in a way that
// keeps its boot level.
const int PIN_I2C_SDA = 13;      // OLED SDA
const int PIN_I2C_SCL = 14;      // OLED SCL
const int PIN_BUTTON = 15;       // to GND; pulled up, as the MTDO strap wants it at boot anyway
const int PIN_BUZZER = 12;       // via an NPN transistor; 10 kΩ base pull-down keeps MTDI low
const int PIN_STATUS_LED = 2;    // LED + 330 Ω to GND; leaves GPIO 2 low for flashing
const int PIN_FLASH_LED = 4;     // the board's white LED: held off (glare on glossy packs)
const int PIN_BOARD_LED = 33;    // the red LED on the board's back, active low
const int PIN_SCANNER_RX = 2;    // SMARTCART_SCANNER builds: the module's TX (LED moves to 33)
const uint8_t OLED_ADDRESS = 0x3C;

// The core's ports, the ESP32's way.
smartcart::CartPorts ports();
smartcart::Storage& storage();
smartcart::ConsoleOut& console_out();

// Every buffer the cart needs, allocated once in PSRAM; false (and a message on the serial
// console) when the board has no PSRAM.
bool buffers_allocate(smartcart::CartBuffers* buffers);

void board_start();  // serial console, pins, OLED, buzzer, scanner module
bool camera_start(const smartcart::Settings& settings);
// Starts the camera as a camera_config_t says (its pixel format and frame size set by the
// caller; declared as void* here: this header includes no board header): the AI-Thinker
// board's pins, XCLK and LEDC, one frame buffer in PSRAM refilled when empty. Logs a failure.
bool camera_init(void* camera_config);
// Wi-Fi with the provisioned network, SNTP, and TLS pinned to the provisioned CA certificate
// (settings must live as long as the program: the TLS client keeps a pointer to it).
void network_start(const smartcart::Settings& settings);
void network_task_start(void (*body)(void*));  // a FreeRTOS task on core 0
// Pins the TLS stream (ports().net) to ca_pem, which must outlive the connection.
void net_pin(const char* ca_pem);

// The task watchdog: a task that has been watched and then not fed for TASK_WATCHDOG_S
// restarts the cart (the heartbeat after it reports task_watchdog).
void watchdog_start();
void watchdog_watch_this_task();
void watchdog_feed();

bool button_pressed();
int console_read();  // a character typed on the serial console, or -1
int scanner_read();  // a character from the scanner module, or -1 (always, without one)
void restart();

}  // namespace hardware

#endif
