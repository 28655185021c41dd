// Board stub: espressif/esp-idf components/spi_flash/include/esp_partition.h (v4.4):
// esp_partition_t, the fields the board code reads.
#ifndef BOARD_STUB_ESP_PARTITION_H
#define BOARD_STUB_ESP_PARTITION_H

#include <stdbool.h>
#include <stdint.h>

typedef enum { ESP_PARTITION_TYPE_APP = 0x00, ESP_PARTITION_TYPE_DATA = 0x01 } esp_partition_type_t;
typedef int esp_partition_subtype_t;

typedef struct {
  void* flash_chip;
  esp_partition_type_t type;
  esp_partition_subtype_t subtype;
  uint32_t address;
  uint32_t size;
  char label[17];
  bool encrypted;
} esp_partition_t;

#endif
