// Board stub: FreeRTOS as ESP-IDF v4.4 ships it (components/freertos/include/freertos/
// FreeRTOS.h, portmacro.h of the Xtensa port): the types the board code uses.
#ifndef BOARD_STUB_FREERTOS_H
#define BOARD_STUB_FREERTOS_H

#include <stdint.h>

typedef int BaseType_t;
typedef unsigned int UBaseType_t;
typedef uint32_t TickType_t;
#define portMAX_DELAY (TickType_t)0xffffffffUL
#define portTICK_PERIOD_MS ((TickType_t)1000 / 1000)
#define pdPASS 1
#define pdTRUE 1
#define pdFALSE 0
#define pdMS_TO_TICKS(ms) ((TickType_t)(ms))

#endif
