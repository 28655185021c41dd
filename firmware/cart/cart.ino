// smartcart cart firmware: the sketch only wires the core (../core, a library) to the hardware.
// (The Arduino builder puts the Arduino header in front of every .ino; nothing here uses it.)
#include "hardware.h"
#include "ota.h"
#include "setup_mode.h"

using namespace smartcart;

static Settings settings;  // as saved in NVS: what the cart runs with
static Settings editing;   // what the serial console changes, saved by its "save"
static CartCore* cart;
static Console* console;
static char scanner_buffer[CODE_MAX + 8];
static LineReader scanner_lines(scanner_buffer, sizeof scanner_buffer);
static bool watched = false;  // the loop task is under the task watchdog once the cart runs

static void network_loop(void*) {
  Clock& clock = hardware::ports().clock;
  hardware::watchdog_watch_this_task();
  for (;;) {
    hardware::watchdog_feed();
    cart->poll_network(clock.millis());
    UpdateOffer offer;
    if (cart->update_take(clock.millis(), &offer)) hardware::update_install(offer, settings);
    clock.sleep_ms(10);
  }
}

static void console_poll() {
  for (int c; (c = hardware::console_read()) >= 0;) console->feed(static_cast<char>(c));
  if (console->reboot_requested()) hardware::restart();
}

void setup() {
  hardware::board_start();
  settings_load(hardware::storage(), &settings);
  editing = settings;
  console = new Console(editing, hardware::storage(), hardware::console_out());
  // No settings yet, or the button held at power-on: read the provisioning QR (restarts when
  // enrolled; returns on a fresh press when the saved settings are complete).
  if (settings_check(settings) != SETTINGS_OK || hardware::button_pressed()) {
    hardware::setup_mode_run(&settings, console_poll);
  }
  CartBuffers buffers;
  if (!hardware::buffers_allocate(&buffers)) return;  // loop() still runs the console
  cart = new CartCore(hardware::ports(), buffers);
  if (!cart->begin(settings, hardware::ports().clock.millis())) {
    hardware::console_out().line(settings_problem_text(settings_check(settings)));
    hardware::console_out().line(CONSOLE_HELP);
    return;
  }
  if (!hardware::camera_start(settings)) cart->camera_failed(hardware::ports().clock.millis());
  hardware::watchdog_start();
  hardware::watchdog_watch_this_task();  // the input loop: setup() and loop() run in one task
  watched = true;
  hardware::network_start(settings);
  hardware::network_task_start(network_loop);
}

void loop() {
  Clock& clock = hardware::ports().clock;
  if (watched) hardware::watchdog_feed();
  if (cart != nullptr) cart->poll_input(hardware::button_pressed(), clock.millis());
  for (int c; (c = hardware::scanner_read()) >= 0;) {
    const char* line = scanner_lines.feed(static_cast<char>(c));
    if (line == nullptr || cart == nullptr) continue;
    char symbology[SYMBOLOGY_MAX + 1];
    const char* code = scanner_code_split(line, symbology, sizeof symbology);
    cart->scan_code(code, symbology, clock.millis());
  }
  console_poll();
  clock.sleep_ms(5);
}
