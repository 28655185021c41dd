// Text, UTF-8, base64, JSON both ways, URLs and UUIDs: the pieces every request is made of.
#include <doctest/doctest.h>
#include <string.h>

#include <string>

#include "base64.h"
#include "fakes.h"
#include "json_reader.h"
#include "json_writer.h"
#include "text.h"
#include "url.h"
#include "utf8.h"
#include "uuid.h"

using namespace smartcart;

static std::string json_of(const char* value, size_t length) {
  char buffer[256];
  JsonWriter json(buffer, sizeof buffer);
  json.object_begin().key("code").string_n(value, length).object_end();
  REQUIRE(json.ok());
  return std::string(buffer, json.length());
}

static std::string json_of(const char* value) { return json_of(value, strlen(value)); }

TEST_SUITE("json writer") {
  TEST_CASE("quotes, backslashes and control characters are escaped") {
    CHECK(json_of("A\"B\\C") == "{\"code\":\"A\\\"B\\\\C\"}");
    CHECK(json_of("tab\there\nnew\rret") == "{\"code\":\"tab\\there\\nnew\\rret\"}");
    CHECK(json_of("\x01\x1f\b\f") == "{\"code\":\"\\u0001\\u001f\\b\\f\"}");
  }

  TEST_CASE("a NUL byte inside the text is escaped, not an end") {
    CHECK(json_of("a\0b", 3) == "{\"code\":\"a\\u0000b\"}");
  }

  TEST_CASE("well-formed UTF-8 passes through, other bytes become U+FFFD") {
    CHECK(json_of("Zo\xc3\xab") == "{\"code\":\"Zo\xc3\xab\"}");
    CHECK(json_of("\xe2\x82\xac 1") == "{\"code\":\"\xe2\x82\xac 1\"}");
    CHECK(json_of("a\xff" "b") == "{\"code\":\"a\xef\xbf\xbd" "b\"}");  // a stray byte
    CHECK(json_of("\xc3") == "{\"code\":\"\xef\xbf\xbd\"}");           // a cut sequence
    CHECK(json_of("\xed\xa0\x80") ==                                    // a surrogate
          "{\"code\":\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"}");
  }

  TEST_CASE("members are separated by commas; numbers and booleans are bare") {
    char buffer[128];
    JsonWriter json(buffer, sizeof buffer);
    json.object_begin().key("a").number(-61).key("b").number(4294967295LL).key("c").boolean(true);
    json.key("d").object_begin().key("e").boolean(false).object_end().object_end();
    REQUIRE(json.ok());
    CHECK(std::string(buffer) == "{\"a\":-61,\"b\":4294967295,\"c\":true,\"d\":{\"e\":false}}");
  }

  TEST_CASE("what does not fit its buffer is refused, never cut") {
    char buffer[16];
    JsonWriter json(buffer, sizeof buffer);
    json.object_begin().key("code").string("4006381333931").object_end();
    CHECK_FALSE(json.ok());
    CHECK(strlen(buffer) < sizeof buffer);  // terminated all the same
  }

  TEST_CASE("exactly full fits; one byte less does not") {
    const char expected[] = "{\"k\":\"v\"}";
    char fits[sizeof expected];
    JsonWriter a(fits, sizeof fits);
    a.object_begin().key("k").string("v").object_end();
    CHECK(a.ok());
    CHECK(std::string(fits) == expected);
    char short_by_one[sizeof expected - 1];
    JsonWriter b(short_by_one, sizeof short_by_one);
    b.object_begin().key("k").string("v").object_end();
    CHECK_FALSE(b.ok());
  }

  TEST_CASE("an unclosed object is not ok") {
    char buffer[32];
    JsonWriter json(buffer, sizeof buffer);
    json.object_begin().key("k").number(1);
    CHECK_FALSE(json.ok());
  }

  TEST_CASE("base64 goes straight into the buffer, or is refused") {
    const uint8_t data[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00};
    char buffer[32];
    JsonWriter json(buffer, sizeof buffer);
    json.object_begin().key("image").base64(data, sizeof data).object_end();
    REQUIRE(json.ok());
    CHECK(std::string(buffer) == "{\"image\":\"/9j/4AA=\"}");
    char small[17];
    JsonWriter refused(small, sizeof small);
    refused.object_begin().key("image").base64(data, sizeof data).object_end();
    CHECK_FALSE(refused.ok());
  }
}

TEST_SUITE("base64 and utf-8") {
  TEST_CASE("base64 pads to whole groups (RFC 4648 test vectors)") {
    const char* inputs[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char* outputs[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; ++i) {
      char out[16] = {0};
      size_t n = base64_encode(reinterpret_cast<const uint8_t*>(inputs[i]), strlen(inputs[i]),
                               out, sizeof out);
      CHECK(std::string(out, n) == outputs[i]);
    }
    char tiny[3];
    CHECK(base64_encode(reinterpret_cast<const uint8_t*>("f"), 1, tiny, sizeof tiny) == 0);
  }

  TEST_CASE("utf8_decode refuses overlong forms, surrogates and cut sequences") {
    uint32_t cp;
    CHECK(utf8_decode("\xc3\xa9", 2, &cp) == 2);
    CHECK(cp == 0xE9);
    CHECK(utf8_decode("\xf0\x9f\x9b\x92", 4, &cp) == 4);  // a shopping cart
    CHECK(cp == 0x1F6D2);
    CHECK(utf8_decode("\xc0\xaf", 2, &cp) == 0);  // overlong '/'
    CHECK(utf8_decode("\xed\xa0\x80", 3, &cp) == 0);
    CHECK(utf8_decode("\xe2\x82", 2, &cp) == 0);
    CHECK(utf8_decode("\xf4\x90\x80\x80", 4, &cp) == 0);  // past U+10FFFF
  }
}

TEST_SUITE("json reader") {
  TEST_CASE("members, items and strings are read in place") {
    const char text[] =
        " {\"result\":\"added\",\"product\":{\"id\":12,\"price\":\"2.50\"},"
        "\"display\":[\"+1 Oat milk 1 l\",\"Total 2.50\"],\"paired\":true,\"none\":null} ";
    JsonValue root, value, item;
    REQUIRE(json_parse(text, strlen(text), &root));
    CHECK(root.type == JSON_OBJECT);
    CHECK(json_size(root) == 5);
    REQUIRE(json_member(root, "display", &value));
    CHECK(json_size(value) == 2);
    REQUIRE(json_item(value, 1, &item));
    char out[32];
    REQUIRE(json_string(item, out, sizeof out));
    CHECK(std::string(out) == "Total 2.50");
    REQUIRE(json_member(root, "product", &value));
    JsonValue id;
    int64_t number = 0;
    REQUIRE(json_member(value, "id", &id));
    CHECK(json_integer(id, &number));
    CHECK(number == 12);
    bool flag = false;
    REQUIRE(json_member(root, "paired", &value));
    CHECK(json_boolean(value, &flag));
    CHECK(flag);
    CHECK_FALSE(json_member(root, "beep", &value));
  }

  TEST_CASE("escapes are undone, surrogate pairs joined") {
    const char text[] = "[\"a\\\"b\\\\c\\/d\\n\\u00e9\\ud83d\\uded2\\ud800x\"]";
    JsonValue root, item;
    REQUIRE(json_parse(text, strlen(text), &root));
    REQUIRE(json_item(root, 0, &item));
    char out[64];
    REQUIRE(json_string(item, out, sizeof out));
    CHECK(std::string(out) == "a\"b\\c/d\n\xc3\xa9\xf0\x9f\x9b\x92\xef\xbf\xbdx");
  }

  TEST_CASE("a string that does not fit is refused") {
    const char text[] = "\"Total 2.50\"";
    JsonValue root;
    REQUIRE(json_parse(text, strlen(text), &root));
    char out[5];
    CHECK_FALSE(json_string(root, out, sizeof out));
  }

  TEST_CASE("malformed documents are refused") {
    const char* bad[] = {
        "",          "{",           "{\"a\":}",        "{\"a\" 1}",    "[1,]",
        "{\"a\":1,}", "[01]",       "[1.]",            "[-]",          "\"\x01\"",
        "\"\\x\"",   "\"\\u12\"",   "[tru]",           "{} {}",        "\"\xff\"",
        "{'a':1}",   "[1e]",        "{\"a\":1 \"b\":2}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
      JsonValue root;
      CAPTURE(bad[i]);
      CHECK_FALSE(json_parse(bad[i], strlen(bad[i]), &root));
    }
  }

  TEST_CASE("nesting deeper than the limit is refused, not recursed into") {
    std::string deep(JSON_DEPTH_MAX + 1, '[');
    deep += std::string(JSON_DEPTH_MAX + 1, ']');
    JsonValue root;
    CHECK_FALSE(json_parse(deep.data(), deep.size(), &root));
    std::string ok(JSON_DEPTH_MAX, '[');
    ok += std::string(JSON_DEPTH_MAX, ']');
    CHECK(json_parse(ok.data(), ok.size(), &root));
  }

  TEST_CASE("numbers: integers are read, fractions and exponents are valid but not integers") {
    const char text[] = "[-7, 0.5, 1e3, 9223372036854775807, 9223372036854775808]";
    JsonValue root, item;
    REQUIRE(json_parse(text, strlen(text), &root));
    int64_t value = 0;
    REQUIRE(json_item(root, 0, &item));
    CHECK(json_integer(item, &value));
    CHECK(value == -7);
    REQUIRE(json_item(root, 1, &item));
    CHECK_FALSE(json_integer(item, &value));
    REQUIRE(json_item(root, 2, &item));
    CHECK_FALSE(json_integer(item, &value));
    REQUIRE(json_item(root, 3, &item));
    CHECK(json_integer(item, &value));
    REQUIRE(json_item(root, 4, &item));
    CHECK_FALSE(json_integer(item, &value));
  }
}

TEST_SUITE("url") {
  TEST_CASE("an https URL gives host, port and path prefix") {
    ServerUrl url;
    REQUIRE(server_url_parse("https://shop.example.com", &url) == URL_OK);
    CHECK(std::string(url.host) == "shop.example.com");
    CHECK(url.port == 443);
    CHECK(std::string(url.base_path) == "");
    REQUIRE(server_url_parse("https://10.0.0.5:8443/store/", &url) == URL_OK);
    CHECK(std::string(url.host) == "10.0.0.5");
    CHECK(url.port == 8443);
    char path[64];
    REQUIRE(server_url_path(url, "/api/devices/v1/scans/", path, sizeof path));
    CHECK(std::string(path) == "/store/api/devices/v1/scans/");
  }

  TEST_CASE("plain http is refused: there is no insecure mode") {
    ServerUrl url;
    CHECK(server_url_parse("http://shop.example.com", &url) == URL_NOT_HTTPS);
  }

  TEST_CASE("malformed addresses are refused") {
    const char* bad[] = {"shop.example.com", "https://", "https://a:0", "https://a:99999",
                         "https://a:", "https://user@a", "https://a/x?y=1", "https://a/x#f",
                         "ftp://a", "https://a b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
      ServerUrl url;
      CAPTURE(bad[i]);
      CHECK(server_url_parse(bad[i], &url) == URL_INVALID);
    }
  }
}

TEST_SUITE("uuid") {
  TEST_CASE("uuid4_make sets the version and variant bits and is lower-case hex") {
    fakes::FakeRandom random;
    random.script = {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF};
    char id[SCAN_ID_BYTES];
    uuid4_make(random, id);
    CHECK(std::string(id) == "ffffffff-ffff-4fff-bfff-ffffffffffff");
    random.script = {0, 0, 0, 0};
    uuid4_make(random, id);
    CHECK(std::string(id) == "00000000-0000-4000-8000-000000000000");
    for (int i = 0; i < 100; ++i) {
      uuid4_make(random, id);
      CHECK(uuid4_valid(id));
    }
  }

  TEST_CASE("two UUIDs from the generator differ") {
    fakes::FakeRandom random;
    char a[SCAN_ID_BYTES], b[SCAN_ID_BYTES];
    uuid4_make(random, a);
    uuid4_make(random, b);
    CHECK(std::string(a) != std::string(b));
  }
}

TEST_SUITE("text") {
  TEST_CASE("copies that do not fit are refused and leave an empty string") {
    char out[4];
    CHECK(text_copy(out, sizeof out, "abc"));
    CHECK(std::string(out) == "abc");
    CHECK_FALSE(text_copy(out, sizeof out, "abcd"));
    CHECK(std::string(out) == "");
  }

  TEST_CASE("numbers are parsed strictly and formatted without printf") {
    uint32_t value = 0;
    CHECK(text_parse_uint("65535", 5, 65535, &value));
    CHECK(value == 65535);
    CHECK_FALSE(text_parse_uint("65536", 5, 65535, &value));
    CHECK_FALSE(text_parse_uint("12a", 3, 999, &value));
    CHECK_FALSE(text_parse_uint("", 0, 999, &value));
    char out[32];
    TextBuffer(out, sizeof out).add_int(-9223372036854775807LL - 1);
    CHECK(std::string(out) == "-9223372036854775808");
  }
}
