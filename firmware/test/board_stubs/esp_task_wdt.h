// Board stub: espressif/esp-idf components/esp_system/include/esp_task_wdt.h. ESP-IDF v4.4
// form (arduino-esp32 2.0.17): esp_task_wdt_init(uint32_t timeout, bool panic). The stored copy
// read (1840c485) is v5.x, where init takes an esp_task_wdt_config_t; the board code uses that
// form only when ESP_ARDUINO_VERSION_MAJOR >= 3. esp_task_wdt_add/reset are the same in both.
#ifndef BOARD_STUB_ESP_TASK_WDT_H
#define BOARD_STUB_ESP_TASK_WDT_H

#include <stdbool.h>

#include "esp_err.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"

#ifdef __cplusplus
extern "C" {
#endif
esp_err_t esp_task_wdt_init(uint32_t timeout, bool panic);
esp_err_t esp_task_wdt_add(TaskHandle_t handle);
esp_err_t esp_task_wdt_reset(void);
esp_err_t esp_task_wdt_delete(TaskHandle_t handle);
#ifdef __cplusplus
}
#endif

#endif
