// Board stub: ESP-IDF v4.4 components/freertos/include/freertos/semphr.h. The real
// xSemaphoreTake/Give/CreateMutex are macros over the queue API; declared here as functions with
// the same arguments and results.
#ifndef BOARD_STUB_SEMPHR_H
#define BOARD_STUB_SEMPHR_H

#include "FreeRTOS.h"

typedef struct QueueDefinition* QueueHandle_t;
typedef QueueHandle_t SemaphoreHandle_t;

extern "C" {
SemaphoreHandle_t xSemaphoreCreateMutex(void);
BaseType_t xSemaphoreTake(SemaphoreHandle_t xSemaphore, TickType_t xBlockTime);
BaseType_t xSemaphoreGive(SemaphoreHandle_t xSemaphore);
}

#endif
