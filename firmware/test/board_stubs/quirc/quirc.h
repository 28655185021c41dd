// Board stub: the quirc bundled in alvarowolfx/ESP32QRCodeReader 1.1.0, src/quirc/quirc.h
// (stored copy read: cd657b50; the same API as dlbeer/quirc lib/quirc.h with
// quirc_resize(q, w, h)). Only the decoder's API, none of the library's camera code.
#ifndef BOARD_STUB_QUIRC_H
#define BOARD_STUB_QUIRC_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct quirc;

struct quirc_point {
  int x;
  int y;
};

typedef enum {
  QUIRC_SUCCESS = 0,
  QUIRC_ERROR_INVALID_GRID_SIZE,
  QUIRC_ERROR_INVALID_VERSION,
  QUIRC_ERROR_FORMAT_ECC,
  QUIRC_ERROR_DATA_ECC,
  QUIRC_ERROR_UNKNOWN_DATA_TYPE,
  QUIRC_ERROR_DATA_OVERFLOW,
  QUIRC_ERROR_DATA_UNDERFLOW
} quirc_decode_error_t;

#define QUIRC_MAX_BITMAP 3917
#define QUIRC_MAX_PAYLOAD 8896

struct quirc_code {
  struct quirc_point corners[4];
  int size;
  uint8_t cell_bitmap[QUIRC_MAX_BITMAP];
};

struct quirc_data {
  int version;
  int ecc_level;
  int mask;
  int data_type;
  uint8_t payload[QUIRC_MAX_PAYLOAD];
  int payload_len;
  uint32_t eci;
};

struct quirc* quirc_new(void);
void quirc_destroy(struct quirc* q);
int quirc_resize(struct quirc* q, int w, int h);
uint8_t* quirc_begin(struct quirc* q, int* w, int* h);
void quirc_end(struct quirc* q);
int quirc_count(const struct quirc* q);
void quirc_extract(const struct quirc* q, int index, struct quirc_code* code);
quirc_decode_error_t quirc_decode(const struct quirc_code* code, struct quirc_data* data);
void quirc_flip(struct quirc_code* code);

#ifdef __cplusplus
}
#endif

#endif
