/* The player page, served at GET / (embedded: the binary is all there is to install). */
#define _GNU_SOURCE
#include "sse.h"

const char player_html[] = "<!doctype html><title>playcall</title>\n";
const size_t player_html_len = sizeof player_html - 1;
