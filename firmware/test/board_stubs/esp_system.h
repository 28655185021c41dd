// Board stub: espressif/esp-idf components/esp_system/include/esp_system.h (stored copy read:
// 067b1b91, the v4.x header): esp_reset_reason_t, esp_reset_reason, esp_restart, esp_random.
#ifndef BOARD_STUB_ESP_SYSTEM_H
#define BOARD_STUB_ESP_SYSTEM_H

#include <stddef.h>
#include <stdint.h>

#include "esp_err.h"

typedef enum {
  ESP_RST_UNKNOWN,
  ESP_RST_POWERON,
  ESP_RST_EXT,
  ESP_RST_SW,
  ESP_RST_PANIC,
  ESP_RST_INT_WDT,
  ESP_RST_TASK_WDT,
  ESP_RST_WDT,
  ESP_RST_DEEPSLEEP,
  ESP_RST_BROWNOUT,
  ESP_RST_SDIO,
} esp_reset_reason_t;

#ifdef __cplusplus
extern "C" {
#endif
void esp_restart(void) __attribute__((noreturn));
esp_reset_reason_t esp_reset_reason(void);
uint32_t esp_get_free_heap_size(void);
uint32_t esp_random(void);
void esp_fill_random(void* buf, size_t len);
#ifdef __cplusplus
}
#endif

#endif
