// hiredis' asynchronous API and its libuv adapter (a header of static functions, compiled here).
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libuv.h>

// The loop crosses as an untyped pointer so Swift never has to unify this module's view of
// uv_loop_t with CUV's.
static inline int noex_redis_attach_libuv(redisAsyncContext *ac, void *loop) {
    return redisLibuvAttach(ac, (uv_loop_t *)loop);
}
