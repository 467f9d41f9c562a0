/**
 * glibc malloc setting of the engine worker processes (native memory: sockets' read buffers, TLS,
 * the HTTP parser), unless the daemon's environment sets it itself: `MALLOC_ARENA_MAX=2`. By
 * default every thread that allocates (V8's and libuv's helpers) may get an arena of its own, up
 * to eight per core, and each keeps what was freed in it: two arenas took idle engine processes
 * after a load from about 95 MB to 87 MB (all three, PSS) at no cost in CPU per connection. A
 * lower trim threshold (MALLOC_TRIM_THRESHOLD_) saved a little more but cost 12 % CPU per new
 * connection, so it is left to glibc.
 */
function mallocEnv(): Record<string, string> {
  return { MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2' };
}

/**
 * What engine workers add to the daemon's environment. On the shared sockets every worker polls
 * the same listening socket, and libuv's accept loop takes every connection waiting there: the
 * worker that wakes first drained the whole queue: a burst of 64 keep-alive clients split 58/6
 * or 62/2 at worst, and the busy worker's clients waited behind each other. With
 * UV_TCP_SINGLE_ACCEPT libuv yields after each accept, so the other worker takes its turn. Plus
 * the malloc setting above.
 */
export const WORKER_ENV: Readonly<Record<string, string>> = { UV_TCP_SINGLE_ACCEPT: '1', ...mallocEnv() };
