/* noex-server C API: embed the server in a C or C++ program; it runs exactly the binary's code path.
 * Build and install: scripts/build-c-library.sh [PREFIX]; link with
 * `pkg-config --cflags --libs noexserver` (shared) or `noexserver-static`. Reference: docs/embedding.md.
 *
 * Config JSON uses the config-file keys of docs/config.md (NULL = the demo schema).
 * Functions returning int32_t give 0 (or a port) on success and a negative errno-style code on
 * failure: -22 (EINVAL) a NULL/wrong argument or a rejected config, -16 (EBUSY) see below, or
 * libuv's code when listening fails (e.g. -98 EADDRINUSE).
 *
 * Threading: a server lives on one loop thread. Every function except noex_server_stop must be
 * called on that thread (or, for a private loop, before noex_server_run starts it). */
#ifndef NOEX_SERVER_H
#define NOEX_SERVER_H
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct noex_server noex_server;

/* Builds the server on a private loop and starts listening (run it with noex_server_run).
 * On failure returns a negative code, writes a NUL-terminated message to error_buf (when
 * error_len > 0) and leaves *handle untouched. */
int32_t noex_server_start(const char *config_json, noex_server **handle, char *error_buf, size_t error_len);

/* Builds the server on the host's libuv loop and starts listening; the host runs the loop.
 * The server keeps its pointer in loop->data until it is freed: loop->data must be NULL
 * (-16 otherwise) and the host must not change it. One server per loop. */
int32_t noex_server_start_on_loop(uv_loop_t *loop, const char *config_json, noex_server **handle,
                                  char *error_buf, size_t error_len);

/* What an auth.login token means, decided by the host. Called on the loop thread, once per
 * auth.login, synchronously: it must not block and must not call noex_server_free.
 * token: the client's token, NUL-terminated, valid only during the call (tokens containing a
 *        NUL byte are rejected before the callback is asked).
 * session_json_out: a zeroed buffer of out_len bytes (NOEX_SESSION_JSON_MAX); on accept write
 *        the session as a NUL-terminated JSON object {"userId": "...", "roles": [...],
 *        "expiresAt": <ms since epoch, optional>}.
 * Return NOEX_VALIDATE_ACCEPT (session written), NOEX_VALIDATE_REJECT (the client gets
 * UNAUTHORIZED "Invalid token"), or anything else for a failure (INTERNAL_ERROR; so does a
 * session that is not such an object; the reason goes to standard error). */
typedef int (*noex_validate_fn)(void *ctx, const char *token, char *session_json_out, size_t out_len);
#define NOEX_VALIDATE_ACCEPT 1
#define NOEX_VALIDATE_REJECT 0
#define NOEX_SESSION_JSON_MAX 4096

/* Installs the validate callback (fn NULL: back to the config's auth). It replaces the token
 * table of the config's "auth" object but keeps its "required" and "permissions"; without an
 * "auth" object, login becomes required. ctx is passed through and stays owned by the caller
 * (it must outlive the server). Call right after start, before any client connects (-16 once
 * connections are open). */
int32_t noex_server_set_validate(noex_server *handle, noex_validate_fn fn, void *ctx);

/* The bound port (useful with "port": 0). */
int32_t noex_server_port(noex_server *handle);

/* Runs the private loop on the calling thread until the server has stopped and every handle is
 * closed. -22 for a server started on a host's loop (run that loop instead). */
int32_t noex_server_run(noex_server *handle);

/* Stops the server: stops accepting, closes every connection with 1000 "server_shutdown" and
 * then its own handles (never the host's). Safe from any thread, idempotent; asynchronous (it
 * happens on the loop). Do not call it after noex_server_free. */
void noex_server_stop(noex_server *handle);

/* Releases the handle; NULL is ignored. Private loop: after noex_server_run returned (a server
 * that never ran is stopped and closed first). Host loop: on the loop thread, at any time; it
 * stops the server if needed, and the memory is released once the host's loop has run the
 * server's handles to their close (keep running the loop; afterwards uv_loop_close succeeds
 * as far as the server is concerned). */
void noex_server_free(noex_server *handle);

#ifdef __cplusplus
}
#endif
#endif
