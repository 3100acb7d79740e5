/* noex-server C API: embed the server; it runs exactly the binary's code path.
 * Config JSON uses the config-file keys of docs/config.md (NULL = the demo schema).
 * Every function returning int32_t gives 0 (or a port) on success, a negative code on failure. */
#ifndef NOEX_SERVER_H
#define NOEX_SERVER_H
#include <stddef.h>
#include <stdint.h>

typedef struct noex_server noex_server;

/* Builds the server and starts listening. On failure writes a message to error_buf. */
int32_t noex_server_start(const char *config_json, noex_server **handle, char *error_buf, size_t error_len);
/* The bound port (useful with "port": 0). */
int32_t noex_server_port(noex_server *handle);
/* Runs the server's loop on the calling thread until it stops. */
int32_t noex_server_run(noex_server *handle);
/* Stops the server (close 1000 "server_shutdown"); safe from any thread. */
void noex_server_stop(noex_server *handle);
/* Releases the handle after noex_server_run returned (stops and cleans up if never run). */
void noex_server_free(noex_server *handle);

#endif
