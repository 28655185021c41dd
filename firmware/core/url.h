// The server's address, from the provisioned URL. Only https: the cart never talks in clear.
#ifndef SMARTCART_URL_H
#define SMARTCART_URL_H

#include <stddef.h>
#include <stdint.h>

namespace smartcart {

struct ServerUrl {
  char host[64];
  uint16_t port;
  char base_path[64];  // "" or "/prefix" (no trailing slash): the API lives under it
};

enum UrlProblem { URL_OK, URL_NOT_HTTPS, URL_INVALID };

// "https://host[:port][/prefix][/]"; no user, query or fragment.
UrlProblem server_url_parse(const char* url, ServerUrl* out);

// base_path + path into out; false when it does not fit.
bool server_url_path(const ServerUrl& url, const char* path, char* out, size_t capacity);

}  // namespace smartcart

#endif
