// hiredis' asynchronous API, driven by a libuv poll handle.
//
// This is hiredis' own libuv adapter (hiredis/adapters/libuv.h) with one fix taken from later
// hiredis releases: Debian's 0.14 adapter ignores a poll callback with an error status, and
// libuv reports a socket error (POLLERR, e.g. a refused connect) exactly that way, after
// stopping the handle — so a failed connect was never reported. Here an error status lets
// hiredis read and write, which surfaces the socket error through its callbacks.
#include <stdlib.h>
#include <string.h>
#include <uv.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>

typedef struct noex_redis_uv_events {
    redisAsyncContext *context;
    uv_poll_t handle;
    int events;
} noex_redis_uv_events;

static void noex_redis_uv_poll(uv_poll_t *handle, int status, int events) {
    noex_redis_uv_events *p = (noex_redis_uv_events *)handle->data;
    int ev = status ? p->events : events;
    if (p->context != NULL && (ev & UV_READABLE)) redisAsyncHandleRead(p->context);
    if (p->context != NULL && (ev & UV_WRITABLE)) redisAsyncHandleWrite(p->context);
}

// Turns interest in one direction on or off and re-arms (or stops) the poll handle.
static void noex_redis_uv_want(void *privdata, int direction, int on) {
    noex_redis_uv_events *p = (noex_redis_uv_events *)privdata;
    if (on) p->events |= direction;
    else p->events &= ~direction;
    if (p->events) uv_poll_start(&p->handle, p->events, noex_redis_uv_poll);
    else uv_poll_stop(&p->handle);
}

static void noex_redis_uv_add_read(void *privdata) { noex_redis_uv_want(privdata, UV_READABLE, 1); }
static void noex_redis_uv_del_read(void *privdata) { noex_redis_uv_want(privdata, UV_READABLE, 0); }
static void noex_redis_uv_add_write(void *privdata) { noex_redis_uv_want(privdata, UV_WRITABLE, 1); }
static void noex_redis_uv_del_write(void *privdata) { noex_redis_uv_want(privdata, UV_WRITABLE, 0); }

static void noex_redis_uv_closed(uv_handle_t *handle) {
    free(handle->data);
}

static void noex_redis_uv_cleanup(void *privdata) {
    noex_redis_uv_events *p = (noex_redis_uv_events *)privdata;
    p->context = NULL;  // the context is being freed
    uv_close((uv_handle_t *)&p->handle, noex_redis_uv_closed);
}

// Attaches a fresh context to the loop (passed untyped so Swift never has to unify this
// module's view of uv_loop_t with CUV's). Returns REDIS_OK or REDIS_ERR.
static inline int noex_redis_attach_libuv(redisAsyncContext *ac, void *loop) {
    if (ac->ev.data != NULL) return REDIS_ERR;
    noex_redis_uv_events *p = (noex_redis_uv_events *)malloc(sizeof(*p));
    if (!p) return REDIS_ERR;
    memset(p, 0, sizeof(*p));
    if (uv_poll_init((uv_loop_t *)loop, &p->handle, ac->c.fd) != 0) {
        free(p);
        return REDIS_ERR;
    }
    ac->ev.addRead = noex_redis_uv_add_read;
    ac->ev.delRead = noex_redis_uv_del_read;
    ac->ev.addWrite = noex_redis_uv_add_write;
    ac->ev.delWrite = noex_redis_uv_del_write;
    ac->ev.cleanup = noex_redis_uv_cleanup;
    ac->ev.data = p;
    p->handle.data = p;
    p->context = ac;
    return REDIS_OK;
}
