"""Barcode photos judged by what the server would do with them.

    .venv/bin/python -m benchmarks.decode --corpus ../shared/corpus/barcodes [--repeat 3]
        [--leave-one-set-out]

Reads the corpus's ``manifest.csv`` (set, file, format, expected, ...) and decodes every photo
with four decoders side by side: the project's (``devices.decoding`` under the store's read
policy, ``devices.read_policy.POLICY``), pyzbar alone, zxing-cpp alone, and plain zxing-cpp
then pyzbar when zxing-cpp reads nothing. Each photo three ways:

- **original**: the file as it is;
- **cart**: as a cart sends it (``devices.cart_photos``: fitted into SVGA, never enlarged, JPEG
  at the quality whose bits per pixel match the firmware's 30-70 KiB frames);
- **stress**: fitted into 640 x 480, JPEG quality 12 in Pillow's scale, a much worse image than
  any cart sends (kept as a stress test).

Judging by the code acted on. The project's decision is ``devices.read_policy.read_decide``
(one code, a cart pass, two codes refused as ambiguous, or nothing); the libraries alone act on
the first code they return, as a server without a policy would. Each decision is *right*,
*wrong*, *refused* (ambiguous) or *nothing*:

- **strict** (no catalog; the headline and the targets): any code acted on that is not the
  expected one is wrong;
- **in a store**: the catalog holds the corpus's expected codes and a few thousand real-looking
  GTINs (many sharing a company prefix with them, as a store's shelves do); a wrong code in the
  catalog is a wrong add, one outside it the "unknown product" answer (*unknown*), and the
  project's decision may ask the catalog about two codes.

The old figure, whether the expected code is anywhere in what a decoder returned, is kept as
the *any-match* column.

``--leave-one-set-out`` chooses the read policy's optional rules (``ReadPolicy``: which
variants, which codes need both libraries, pyzbar on variants) on all sets but one and judges
the choice on the set left out, for each set in turn, against plain zxing-cpp then pyzbar.

Timing. CPU time (``time.process_time``) of the decoder on the greyscale image, the fastest of
``--repeat`` runs per photo. Prints the tables, the targets and one JSON line. No database.
"""
