// An optional UART barcode scanner module (GM65, GM861 and the like): its output split into
// lines, and the AIM symbology identifier ("]E0", "]Q1", ...) some modules put in front.
#ifndef SMARTCART_SCANNER_H
#define SMARTCART_SCANNER_H

#include <stddef.h>

namespace smartcart {

// Collects characters into lines ended by CR, LF or both; a line longer than the buffer is
// dropped whole rather than sent cut.
class LineReader {
 public:
  LineReader(char* buffer, size_t capacity);
  const char* feed(char c);  // the finished line when c ends one, else NULL

 private:
  char* buffer_;
  size_t capacity_;
  size_t length_;
  bool overlong_;
};

// Splits a scanned line into the code and the symbology name the server knows. Without an AIM
// prefix, and for EAN/UPC (the server tells those apart by length), the symbology is "".
// Returns the code, which points into line.
const char* scanner_code_split(const char* line, char* symbology, size_t capacity);

}  // namespace smartcart

#endif
