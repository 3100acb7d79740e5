/* Smoke test of the C API: start on port 0, stop from a second thread, run, free.
 * Build and run: Tests/CAPI/run.sh (after swift build) */
#include "noex_server.h"
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static void *stopper(void *arg) {
    usleep(200 * 1000);
    noex_server_stop((noex_server *)arg);
    return NULL;
}

int main(void) {
    char err[256] = {0};
    noex_server *bad = NULL;
    if (noex_server_start("{\"port\": 70000}", &bad, err, sizeof err) >= 0 || bad != NULL) {
        fprintf(stderr, "FAIL: a bad config was accepted\n");
        return 1;
    }
    printf("bad config rejected: %s\n", err);
    noex_server *s = NULL;
    int32_t rc = noex_server_start("{\"host\": \"127.0.0.1\", \"port\": 0}", &s, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "FAIL: start: %d %s\n", rc, err);
        return 1;
    }
    int32_t port = noex_server_port(s);
    if (port <= 0) {
        fprintf(stderr, "FAIL: port %d\n", port);
        return 1;
    }
    printf("listening on port %d\n", port);
    pthread_t t;
    pthread_create(&t, NULL, stopper, s);
    noex_server_run(s);
    pthread_join(t, NULL);
    noex_server_free(s);
    printf("OK\n");
    return 0;
}
