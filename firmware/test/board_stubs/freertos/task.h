// Board stub: ESP-IDF v4.4 components/freertos/include/freertos/task.h (and the ESP-IDF
// addition xTaskCreatePinnedToCore).
#ifndef BOARD_STUB_TASK_H
#define BOARD_STUB_TASK_H

#include <stdint.h>

#include "FreeRTOS.h"

typedef struct tskTaskControlBlock* TaskHandle_t;
typedef void (*TaskFunction_t)(void*);

extern "C" {
BaseType_t xTaskCreatePinnedToCore(TaskFunction_t pvTaskCode, const char* const pcName,
                                   const uint32_t usStackDepth, void* const pvParameters,
                                   UBaseType_t uxPriority, TaskHandle_t* const pvCreatedTask,
                                   const BaseType_t xCoreID);
void vTaskDelay(const TickType_t xTicksToDelay);
void vTaskDelete(TaskHandle_t xTaskToDelete);
}

#endif
