/* A libuv program that embeds noex-server on its own loop and decides what login tokens mean.
 * Usage: embed [RUN_MS]   serves for RUN_MS milliseconds (default: until Ctrl-C), then stops.
 * docs/embedding.md shows how to build it; Tests/CAPI/run.sh builds and runs it. */
#include <noex_server.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Called on the loop thread for every auth.login: answer at once, never block. */
static int validate(void *ctx, const char *token, char *session_json, size_t len) {
    const char *expected = ctx;
    if (strcmp(token, expected) != 0) return NOEX_VALIDATE_REJECT;
    snprintf(session_json, len, "{\"userId\": \"demo\", \"roles\": [\"writer\"]}");
    return NOEX_VALIDATE_ACCEPT;
}

static noex_server *server;
static uv_timer_t deadline;
static uv_signal_t interrupt;

/* Stops the server and closes the host's own handles; uv_run then returns. */
static void shut_down(void) {
    noex_server_free(server);
    uv_close((uv_handle_t *)&deadline, NULL);
    uv_close((uv_handle_t *)&interrupt, NULL);
}

static void on_deadline(uv_timer_t *t) { (void)t; shut_down(); }
static void on_interrupt(uv_signal_t *s, int signum) { (void)s; (void)signum; shut_down(); }

int main(int argc, char **argv) {
    uv_loop_t *loop = uv_default_loop();
    const char *config =
        "{\"host\": \"127.0.0.1\", \"port\": 0,"
        " \"buckets\": {\"notes\": {\"key\": \"id\", \"schema\": {\"id\": {\"type\": \"string\", \"generated\": \"uuid\"},"
        " \"text\": {\"type\": \"string\", \"required\": true}}}}}";
    char error[256];
    if (noex_server_start_on_loop(loop, config, &server, error, sizeof error) != 0) {
        fprintf(stderr, "cannot start noex-server: %s\n", error);
        return 1;
    }
    noex_server_set_validate(server, validate, "let-me-in");
    printf("noex-server on ws://127.0.0.1:%d (log in with token \"let-me-in\")\n", noex_server_port(server));
    fflush(stdout);

    uv_timer_init(loop, &deadline);
    uv_signal_init(loop, &interrupt);
    uv_signal_start(&interrupt, on_interrupt, SIGINT);
    if (argc > 1) uv_timer_start(&deadline, on_deadline, strtoull(argv[1], NULL, 10), 0);

    uv_run(loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(loop);
    printf("stopped; uv_loop_close: %s\n", rc == 0 ? "ok" : uv_err_name(rc));
    return rc == 0 ? 0 : 1;
}
