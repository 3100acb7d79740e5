/*
 * WebSocket echo server on uWebSockets' C API, with no Python in the loop (a peer for
 * bench/echo.sh and bench/idle.sh, label `uws-c`).
 *
 * uWS's C++ sources cannot be fetched on this machine, but socketify (PyPI) ships uWS's C++
 * core and uSockets compiled into one shared library (libsocketify_linux_amd64.so) that exports
 * uWS's C API (`uws_create_app`, `uws_ws`, `uws_ws_send`, ...). This program links that library
 * directly: accept, handshake, frame decoding, the echo and the write path are uWS's own code.
 * The library's uSockets is built on its libuv backend (a `uv_poll_t` per socket), not on its
 * default epoll backend, so figures are uWS-on-libuv.
 *
 * The declarations below are the subset of the C API this program calls, as socketify declares
 * them for its own binding (socketify/native.py); the library exports exactly these symbols.
 *
 *     uws-echo [--host 127.0.0.1] [--port 9001]
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct us_socket_context_options_t {
    const char *key_file_name;
    const char *cert_file_name;
    const char *passphrase;
    const char *dh_params_file_name;
    const char *ca_file_name;
    const char *ssl_ciphers;
    int ssl_prefer_low_memory_usage;
};

typedef enum { CONTINUATION = 0, TEXT = 1, BINARY = 2, CLOSE = 8, PING = 9, PONG = 10 } uws_opcode_t;
typedef enum { BACKPRESSURE, SUCCESS, DROPPED } uws_sendstatus_t;
typedef struct { int port; const char *host; int options; } uws_app_listen_config_t;

typedef struct uws_app_s uws_app_t;
typedef struct uws_req_s uws_req_t;
typedef struct uws_res_s uws_res_t;
typedef struct uws_socket_context_s uws_socket_context_t;
typedef struct uws_websocket_s uws_websocket_t;
struct us_listen_socket_t;

typedef void (*uws_websocket_handler)(uws_websocket_t *ws, void *user_data);
typedef void (*uws_websocket_message_handler)(uws_websocket_t *ws, const char *message, size_t length,
                                              uws_opcode_t opcode, void *user_data);
typedef void (*uws_websocket_ping_pong_handler)(uws_websocket_t *ws, const char *message, size_t length,
                                                void *user_data);
typedef void (*uws_websocket_close_handler)(uws_websocket_t *ws, int code, const char *message, size_t length,
                                            void *user_data);
typedef void (*uws_websocket_upgrade_handler)(uws_res_t *response, uws_req_t *request,
                                              uws_socket_context_t *context, void *user_data);
typedef void (*uws_websocket_subscription_handler)(uws_websocket_t *ws, const char *topic, size_t length,
                                                   int new_count, int old_count, void *user_data);

typedef struct {
    int compression; /* 0: DISABLED */
    unsigned int maxPayloadLength;
    unsigned short idleTimeout;
    unsigned int maxBackpressure;
    bool closeOnBackpressureLimit;
    bool resetIdleTimeoutOnSend;
    bool sendPingsAutomatically;
    unsigned short maxLifetime;
    uws_websocket_upgrade_handler upgrade;
    uws_websocket_handler open;
    uws_websocket_message_handler message;
    uws_websocket_handler drain;
    uws_websocket_ping_pong_handler ping;
    uws_websocket_ping_pong_handler pong;
    uws_websocket_close_handler close;
    uws_websocket_subscription_handler subscription;
} uws_socket_behavior_t;

typedef void (*uws_listen_handler)(struct us_listen_socket_t *listen_socket, uws_app_listen_config_t config,
                                   void *user_data);
typedef void (*uws_method_handler)(uws_res_t *response, uws_req_t *request, void *user_data);

uws_app_t *uws_create_app(int ssl, struct us_socket_context_options_t options);
void uws_ws(int ssl, uws_app_t *app, const char *pattern, uws_socket_behavior_t behavior, void *user_data);
uws_sendstatus_t uws_ws_send(int ssl, uws_websocket_t *ws, const char *message, size_t length, uws_opcode_t opcode);
void uws_app_any(int ssl, uws_app_t *app, const char *pattern, uws_method_handler handler, void *user_data);
void uws_res_end(int ssl, uws_res_t *res, const char *data, size_t length, bool close_connection);
void uws_app_listen_with_config(int ssl, uws_app_t *app, uws_app_listen_config_t config, uws_listen_handler handler,
                                void *user_data);
void uws_app_run(int ssl, uws_app_t *app);

static void on_message(uws_websocket_t *ws, const char *message, size_t length, uws_opcode_t opcode, void *user_data) {
    (void)user_data;
    uws_ws_send(0, ws, message, length, opcode);
}

static void on_http(uws_res_t *res, uws_req_t *req, void *user_data) {
    (void)req;
    (void)user_data;
    uws_res_end(0, res, "uws-echo", 8, false);
}

static void on_listen(struct us_listen_socket_t *listen_socket, uws_app_listen_config_t config, void *user_data) {
    (void)user_data;
    if (!listen_socket) {
        fprintf(stderr, "uws-echo: cannot listen on %s:%d\n", config.host, config.port);
        exit(1);
    }
    printf("uws-echo: listening on %s:%d\n", config.host, config.port);
    fflush(stdout);
}

int main(int argc, char **argv) {
    const char *host = "127.0.0.1";
    int port = 9001;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--host") == 0) host = argv[i + 1];
        else if (strcmp(argv[i], "--port") == 0) port = atoi(argv[i + 1]);
        else { fprintf(stderr, "usage: uws-echo [--host H] [--port P]\n"); return 2; }
    }
    struct us_socket_context_options_t options;
    memset(&options, 0, sizeof options);
    uws_app_t *app = uws_create_app(0, options);
    uws_socket_behavior_t behavior;
    memset(&behavior, 0, sizeof behavior);
    behavior.maxPayloadLength = 16 * 1024 * 1024;
    behavior.idleTimeout = 0;                   /* as the other peers: no idle timeout */
    behavior.maxBackpressure = 64 * 1024 * 1024;
    behavior.message = on_message;
    uws_ws(0, app, "/*", behavior, NULL);
    uws_app_any(0, app, "/*", on_http, NULL);
    uws_app_listen_config_t config = {port, host, 0};
    uws_app_listen_with_config(0, app, config, on_listen, NULL);
    uws_app_run(0, app);
    return 0;
}
