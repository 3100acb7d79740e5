/* Smoke test of the C library as an embedder links it (built by Tests/CAPI/run.sh against the
 * installed static and shared libraries through pkg-config). Two servers, one after the other:
 *   - own loop:  noex_server_start + noex_server_run on a second thread;
 *   - host loop: noex_server_start_on_loop on this program's libuv loop, which it runs itself;
 *     noex_server_free while a client is connected stops the server and releases it once the
 *     host's loop has closed the server's handles (the host's own handle stays open).
 * Against each, a minimal WebSocket client over a blocking socket logs in through the C
 * validate callback and checks the exact answers; then the server stops and is freed, and the
 * host's loop closes cleanly (uv_loop_close == 0). Exit status 0 = pass. */
#include "noex_server.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static void fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("FAIL: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* ---- the validate callback ------------------------------------------------------------- */

static atomic_int validate_calls;

static int validate(void *ctx, const char *token, char *out, size_t out_len) {
    atomic_fetch_add((atomic_int *)ctx, 1);
    if (out_len != NOEX_SESSION_JSON_MAX || out[0] != 0) fail("session buffer: %zu bytes, not zeroed", out_len);
    if (strcmp(token, "secret-alice") == 0) {
        snprintf(out, out_len, "{\"userId\": \"alice\", \"roles\": [\"admin\"], \"expiresAt\": 4102444800000}");
        return NOEX_VALIDATE_ACCEPT;
    }
    if (strcmp(token, "no-user") == 0) { /* the host's bug: a session without userId */
        snprintf(out, out_len, "{\"roles\": []}");
        return NOEX_VALIDATE_ACCEPT;
    }
    if (strcmp(token, "fails") == 0) return -1;
    if (strcmp(token, "no-nul") == 0) { /* fills the whole buffer: never read past it */
        memset(out, '{', out_len);
        return NOEX_VALIDATE_ACCEPT;
    }
    if (strcmp(token, "expired") == 0) {
        snprintf(out, out_len, "{\"userId\": \"bob\", \"roles\": [], \"expiresAt\": 1000}");
        return NOEX_VALIDATE_ACCEPT;
    }
    return NOEX_VALIDATE_REJECT;
}

/* ---- a minimal WebSocket client ---------------------------------------------------------- */

static void write_all(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w <= 0) fail("write: %zd", w);
        c += w;
        n -= (size_t)w;
    }
}

static void read_all(int fd, void *p, size_t n) {
    char *c = p;
    while (n > 0) {
        ssize_t r = read(fd, c, n);
        if (r <= 0) fail("read: connection ended (%zd) with %zu bytes missing", r, n);
        c += r;
        n -= (size_t)r;
    }
}

/* Connects and upgrades; returns the socket. A receive timeout keeps a broken server from
 * hanging the test forever (it is a guard, not an assertion on timing). */
static int ws_connect(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    struct timeval tv = {.tv_sec = 30};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) fail("connect to port %d", port);
    const char *req = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    write_all(fd, req, strlen(req));
    char head[1024];
    size_t n = 0;
    while (n < 4 || memcmp(head + n - 4, "\r\n\r\n", 4) != 0) { /* byte by byte: no frame bytes consumed */
        if (n == sizeof head - 1) fail("handshake answer too long");
        read_all(fd, head + n, 1);
        n++;
    }
    head[n] = 0;
    if (strncmp(head, "HTTP/1.1 101", 12) != 0 || !strstr(head, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="))
        fail("handshake answer:\n%s", head);
    return fd;
}

/* Sends one masked text frame. */
static void ws_send(int fd, const char *text) {
    size_t len = strlen(text);
    unsigned char h[8] = {0x81};
    size_t hl = 2;
    if (len < 126) {
        h[1] = 0x80 | (unsigned char)len;
    } else {
        h[1] = 0x80 | 126;
        h[2] = (unsigned char)(len >> 8);
        h[3] = (unsigned char)len;
        hl = 4;
    }
    const unsigned char mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    memcpy(h + hl, mask, 4);
    write_all(fd, h, hl + 4);
    unsigned char *m = malloc(len);
    for (size_t i = 0; i < len; i++) m[i] = (unsigned char)text[i] ^ mask[i % 4];
    write_all(fd, m, len);
    free(m);
}

/* Reads one unmasked server frame (no fragmentation: the server sends whole messages).
 * Returns the opcode; the payload goes to buf, NUL-terminated. */
static int ws_read(int fd, char *buf, size_t cap, size_t *len_out) {
    unsigned char h[2];
    read_all(fd, h, 2);
    uint64_t len = h[1] & 0x7f;
    if (h[1] & 0x80) fail("server frame is masked");
    if (len == 126) {
        unsigned char e[2];
        read_all(fd, e, 2);
        len = ((uint64_t)e[0] << 8) | e[1];
    } else if (len == 127) {
        unsigned char e[8];
        read_all(fd, e, 8);
        len = 0;
        for (int i = 0; i < 8; i++) len = (len << 8) | e[i];
    }
    if (len >= cap) fail("server frame of %llu bytes", (unsigned long long)len);
    read_all(fd, buf, (size_t)len);
    buf[len] = 0;
    if (len_out) *len_out = (size_t)len;
    return h[0] & 0x0f;
}

static void ws_read_text(int fd, char *buf, size_t cap) {
    int op = ws_read(fd, buf, cap, NULL);
    if (op != 1) fail("expected a text frame, got opcode %d", op);
}

/* Sends a request and compares the answer byte for byte (or only its start, for answers that
 * carry timestamps). */
static void expect_answer(int fd, const char *request, const char *answer, int whole) {
    char buf[4096];
    ws_send(fd, request);
    ws_read_text(fd, buf, sizeof buf);
    if (whole ? strcmp(buf, answer) != 0 : strncmp(buf, answer, strlen(answer)) != 0)
        fail("%s\n  answered %s\n  expected %s%s", request, buf, answer, whole ? "" : "...");
}

static void expect(int fd, const char *request, const char *answer) { expect_answer(fd, request, answer, 1); }

/* The server's stop reaches the client as close 1000 "server_shutdown". */
static void expect_shutdown_close(int fd) {
    char buf[256];
    size_t len;
    int op = ws_read(fd, buf, sizeof buf, &len);
    if (op != 8 || len < 2 || ((unsigned char)buf[0] << 8 | (unsigned char)buf[1]) != 1000 ||
        strcmp(buf + 2, "server_shutdown") != 0)
        fail("expected close 1000 server_shutdown, got opcode %d (%zu bytes)", op, len);
}

/* One client session against a server whose validate callback is installed; with
 * required == 0 the config's auth object said "required": false and declared a token table
 * ("static-token"), which the callback replaces. */
static void exercise(int fd, int required) {
    char buf[4096];
    ws_read_text(fd, buf, sizeof buf);
    if (strncmp(buf, "{\"type\":\"welcome\",\"version\":\"1.0.0\",\"serverTime\":", 49) != 0 ||
        !strstr(buf, required ? ",\"requiresAuth\":true}" : ",\"requiresAuth\":false}"))
        fail("welcome: %s", buf);
    if (required) {
        expect(fd, "{\"id\":1,\"type\":\"store.count\",\"bucket\":\"notes\"}",
               "{\"id\":1,\"type\":\"error\",\"code\":\"UNAUTHORIZED\",\"message\":\"Authentication required\"}");
    } else {
        expect(fd, "{\"id\":1,\"type\":\"store.count\",\"bucket\":\"notes\"}", "{\"id\":1,\"type\":\"result\",\"data\":0}");
        expect(fd, "{\"id\":10,\"type\":\"auth.login\",\"token\":\"static-token\"}",
               "{\"id\":10,\"type\":\"error\",\"code\":\"UNAUTHORIZED\",\"message\":\"Invalid token\"}");
    }
    int before = atomic_load(&validate_calls);
    expect(fd, "{\"id\":2,\"type\":\"auth.login\",\"token\":\"wrong\"}",
           "{\"id\":2,\"type\":\"error\",\"code\":\"UNAUTHORIZED\",\"message\":\"Invalid token\"}");
    /* C would see "secret-alice" up to the NUL: refused before the callback is asked. */
    expect(fd, "{\"id\":3,\"type\":\"auth.login\",\"token\":\"secret-alice\\u0000x\"}",
           "{\"id\":3,\"type\":\"error\",\"code\":\"UNAUTHORIZED\",\"message\":\"Invalid token\"}");
    expect(fd, "{\"id\":4,\"type\":\"auth.login\",\"token\":\"no-user\"}",
           "{\"id\":4,\"type\":\"error\",\"code\":\"INTERNAL_ERROR\",\"message\":\"Internal server error\"}");
    expect(fd, "{\"id\":5,\"type\":\"auth.login\",\"token\":\"fails\"}",
           "{\"id\":5,\"type\":\"error\",\"code\":\"INTERNAL_ERROR\",\"message\":\"Internal server error\"}");
    expect(fd, "{\"id\":51,\"type\":\"auth.login\",\"token\":\"no-nul\"}",
           "{\"id\":51,\"type\":\"error\",\"code\":\"INTERNAL_ERROR\",\"message\":\"Internal server error\"}");
    expect(fd, "{\"id\":52,\"type\":\"auth.login\",\"token\":\"expired\"}",
           "{\"id\":52,\"type\":\"error\",\"code\":\"UNAUTHORIZED\",\"message\":\"Token has expired\"}");
    expect(fd, "{\"id\":6,\"type\":\"auth.login\",\"token\":\"secret-alice\"}",
           "{\"id\":6,\"type\":\"result\",\"data\":{\"userId\":\"alice\",\"roles\":[\"admin\"],\"expiresAt\":4102444800000}}");
    if (atomic_load(&validate_calls) - before != 6)
        fail("validate called %d times for 7 logins (expected 6: never for the NUL token)", atomic_load(&validate_calls) - before);
    expect(fd, "{\"id\":7,\"type\":\"auth.whoami\"}",
           "{\"id\":7,\"type\":\"result\",\"data\":{\"authenticated\":true,\"userId\":\"alice\",\"roles\":[\"admin\"],\"expiresAt\":4102444800000}}");
    expect_answer(fd, "{\"id\":8,\"type\":\"store.insert\",\"bucket\":\"notes\",\"data\":{\"id\":\"n1\",\"text\":\"hi\"}}",
                  "{\"id\":8,\"type\":\"result\",\"data\":{\"id\":\"n1\",\"text\":\"hi\",\"_version\":1,", 0);
    expect(fd, "{\"id\":9,\"type\":\"store.count\",\"bucket\":\"notes\"}", "{\"id\":9,\"type\":\"result\",\"data\":1}");
}

#define NOTES "\"buckets\": {\"notes\": {\"key\": \"id\", \"schema\": {\"id\": {\"type\": \"string\"}, \"text\": {\"type\": \"string\"}}}}"
/* No auth object: the callback makes login required. */
static const char *config = "{\"host\": \"127.0.0.1\", \"port\": 0, " NOTES "}";
static const char *optional_auth_config =
    "{\"host\": \"127.0.0.1\", \"port\": 0, " NOTES ","
    " \"auth\": {\"tokens\": {\"static-token\": {\"userId\": \"s\"}}, \"required\": false}}";

/* ---- own loop ----------------------------------------------------------------------------- */

static void *run_server(void *s) {
    if (noex_server_run(s) != 0) fail("noex_server_run");
    return NULL;
}

static void own_loop(void) {
    char err[256] = {0};
    noex_server *bad = NULL;
    if (noex_server_start("{\"port\": 70000}", &bad, err, sizeof err) != -22 || bad != NULL)
        fail("a bad config was accepted");
    if (strcmp(err, "config key \"port\": expected an integer in 0\xe2\x80\xa6" "65535, got 70000") != 0)
        fail("bad config message: %s", err);
    noex_server *s = NULL;
    int32_t rc = noex_server_start(optional_auth_config, &s, err, sizeof err);
    if (rc != 0) fail("start: %d %s", rc, err);
    if (noex_server_set_validate(s, validate, &validate_calls) != 0) fail("set_validate");
    int port = noex_server_port(s);
    if (port <= 0) fail("port %d", port);
    pthread_t t;
    pthread_create(&t, NULL, run_server, s);
    int fd = ws_connect(port);
    exercise(fd, 0);
    noex_server_stop(s);
    expect_shutdown_close(fd);
    close(fd);
    pthread_join(t, NULL);
    noex_server_free(s);
    printf("own loop: port %d, login through the callback, stopped, freed\n", port);
}

/* ---- host loop ---------------------------------------------------------------------------- */

/* The host's own handle: messages from the client thread to the loop thread. */
enum host_step { STEP_NONE, STEP_TRY_SET_VALIDATE, STEP_FREE, STEP_FINISH };
static uv_async_t host_async;
static _Atomic enum host_step step;
static sem_t step_done;
static noex_server *hosted;
static int32_t set_validate_while_connected;
static int host_callbacks_after_stop;

static void on_host_async(uv_async_t *a) {
    switch (atomic_exchange(&step, STEP_NONE)) {
    case STEP_TRY_SET_VALIDATE:
        set_validate_while_connected = noex_server_set_validate(hosted, NULL, NULL);
        break;
    case STEP_FREE: /* a client is still connected: free stops the server and releases it later */
        noex_server_free(hosted);
        break;
    case STEP_FINISH: /* the server has stopped, and the host's handle still works */
        host_callbacks_after_stop++;
        uv_close((uv_handle_t *)a, NULL);
        break;
    case STEP_NONE:
        return;
    }
    sem_post(&step_done);
}

static void host_step(enum host_step s) {
    atomic_store(&step, s);
    uv_async_send(&host_async);
    sem_wait(&step_done);
}

static void *host_client(void *port) {
    int fd = ws_connect(*(int *)port);
    exercise(fd, 1);
    host_step(STEP_TRY_SET_VALIDATE);
    host_step(STEP_FREE);
    expect_shutdown_close(fd);
    close(fd);
    host_step(STEP_FINISH);
    return NULL;
}

static void host_loop(void) {
    uv_loop_t loop;
    if (uv_loop_init(&loop) != 0) fail("uv_loop_init");
    char err[256] = {0};
    int mine = 0;
    loop.data = &mine;
    if (noex_server_start_on_loop(&loop, config, &hosted, err, sizeof err) != -16 || hosted != NULL)
        fail("start_on_loop accepted a loop whose data pointer is in use");
    if (!strstr(err, "loop->data is in use")) fail("loop->data message: %s", err);
    loop.data = NULL;
    if (noex_server_start_on_loop(NULL, config, &hosted, err, sizeof err) != -22) fail("NULL loop accepted");
    if (noex_server_start_on_loop(&loop, "{\"port\": \"x\"}", &hosted, err, sizeof err) != -22 || loop.data != NULL)
        fail("bad config on a host loop: loop->data not restored");

    int32_t rc = noex_server_start_on_loop(&loop, config, &hosted, err, sizeof err);
    if (rc != 0) fail("start_on_loop: %d %s", rc, err);
    if (noex_server_run(hosted) != -22) fail("noex_server_run accepted a host-loop server");
    if (noex_server_set_validate(hosted, validate, &validate_calls) != 0) fail("set_validate");
    int port = noex_server_port(hosted);
    uv_async_init(&loop, &host_async, on_host_async);
    sem_init(&step_done, 0, 0);
    pthread_t t;
    pthread_create(&t, NULL, host_client, &port);
    uv_run(&loop, UV_RUN_DEFAULT); /* returns once the host's handle and the server are closed */
    pthread_join(t, NULL);
    if (set_validate_while_connected != -16)
        fail("set_validate with a client connected: %d (expected -16)", set_validate_while_connected);
    if (host_callbacks_after_stop != 1) fail("the host's handle did not survive the server's stop");
    if (loop.data != NULL) fail("loop->data still set after free");
    rc = uv_loop_close(&loop);
    if (rc != 0) fail("uv_loop_close: %s", uv_err_name(rc));
    printf("host loop: port %d, login through the callback, stopped, freed, uv_loop_close == 0\n", port);
}

int main(void) {
    own_loop();
    host_loop();
    printf("OK\n");
    return 0;
}
