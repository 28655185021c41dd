// Board stub: espressif/esp32-camera as arduino-esp32 2.0.17 ships it (esp32-camera 2.0.x):
//   driver/include/esp_camera.h   camera_config_t, camera_fb_t, esp_camera_init/deinit,
//                                 esp_camera_fb_get/return, esp_camera_sensor_get
//   driver/include/sensor.h       pixformat_t, framesize_t, sensor_t (the members used)
// Stored copies read: esp32-camera 0d2547a5 and arduino-esp32
// tools/sdk/esp32/include/esp32-camera/driver/include/esp_camera.h 1df266e6 (both older: no
// fb_location/grab_mode, pin_sscb_*). The 2.0.x header adds camera_fb_location_t,
// camera_grab_mode_t, fb_location, grab_mode and pin_sccb_sda/scl (in a union with the old
// pin_sscb_* names), and camera_fb_t.timestamp (struct timeval), as the esp32-camera 2.x
// header excerpts found with find_string (ids 105073300, 9026927957) show.
#ifndef BOARD_STUB_ESP_CAMERA_H
#define BOARD_STUB_ESP_CAMERA_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "esp_err.h"

// driver/ledc.h (ESP-IDF v4.4 components/hal/include/hal/ledc_types.h)
typedef enum { LEDC_TIMER_0 = 0, LEDC_TIMER_1, LEDC_TIMER_2, LEDC_TIMER_3 } ledc_timer_t;
typedef enum { LEDC_CHANNEL_0 = 0, LEDC_CHANNEL_1, LEDC_CHANNEL_2 } ledc_channel_t;

typedef enum {
  PIXFORMAT_RGB565,
  PIXFORMAT_YUV422,
  PIXFORMAT_YUV420,
  PIXFORMAT_GRAYSCALE,
  PIXFORMAT_JPEG,
  PIXFORMAT_RGB888,
  PIXFORMAT_RAW,
  PIXFORMAT_RGB444,
  PIXFORMAT_RGB555,
} pixformat_t;

typedef enum {
  FRAMESIZE_96X96,
  FRAMESIZE_QQVGA,
  FRAMESIZE_QCIF,
  FRAMESIZE_HQVGA,
  FRAMESIZE_240X240,
  FRAMESIZE_QVGA,
  FRAMESIZE_CIF,
  FRAMESIZE_HVGA,
  FRAMESIZE_VGA,
  FRAMESIZE_SVGA,
  FRAMESIZE_XGA,
  FRAMESIZE_HD,
  FRAMESIZE_SXGA,
  FRAMESIZE_UXGA,
  FRAMESIZE_INVALID
} framesize_t;

typedef enum { CAMERA_GRAB_WHEN_EMPTY, CAMERA_GRAB_LATEST } camera_grab_mode_t;
typedef enum { CAMERA_FB_IN_PSRAM, CAMERA_FB_IN_DRAM } camera_fb_location_t;

typedef struct {
  int pin_pwdn;
  int pin_reset;
  int pin_xclk;
  union {
    int pin_sccb_sda;
    int pin_sscb_sda;
  };
  union {
    int pin_sccb_scl;
    int pin_sscb_scl;
  };
  int pin_d7;
  int pin_d6;
  int pin_d5;
  int pin_d4;
  int pin_d3;
  int pin_d2;
  int pin_d1;
  int pin_d0;
  int pin_vsync;
  int pin_href;
  int pin_pclk;
  int xclk_freq_hz;
  ledc_timer_t ledc_timer;
  ledc_channel_t ledc_channel;
  pixformat_t pixel_format;
  framesize_t frame_size;
  int jpeg_quality;
  size_t fb_count;
  camera_fb_location_t fb_location;
  camera_grab_mode_t grab_mode;
  int sccb_i2c_port;
} camera_config_t;

typedef struct {
  uint8_t* buf;
  size_t len;
  size_t width;
  size_t height;
  pixformat_t format;
  struct timeval timestamp;
} camera_fb_t;

typedef struct _sensor sensor_t;
struct _sensor {
  int (*set_pixformat)(sensor_t* sensor, pixformat_t pixformat);
  int (*set_framesize)(sensor_t* sensor, framesize_t framesize);
  int (*set_contrast)(sensor_t* sensor, int level);
  int (*set_brightness)(sensor_t* sensor, int level);
  int (*set_hmirror)(sensor_t* sensor, int enable);
  int (*set_vflip)(sensor_t* sensor, int enable);
};

#ifdef __cplusplus
extern "C" {
#endif
esp_err_t esp_camera_init(const camera_config_t* config);
esp_err_t esp_camera_deinit();
camera_fb_t* esp_camera_fb_get();
void esp_camera_fb_return(camera_fb_t* fb);
sensor_t* esp_camera_sensor_get();
#ifdef __cplusplus
}
#endif

#endif
