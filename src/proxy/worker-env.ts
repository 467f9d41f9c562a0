/**
 * What engine workers add to the daemon's environment. On the shared sockets every worker polls
 * the same listening socket, and libuv's accept loop takes every connection waiting there: the
 * worker that wakes first drained the whole queue: a burst of 64 keep-alive clients split 58/6
 * or 62/2 at worst, and the busy worker's clients waited behind each other. With
 * UV_TCP_SINGLE_ACCEPT libuv yields after each accept, so the other worker takes its turn.
 */
export const WORKER_ENV: Readonly<Record<string, string>> = { UV_TCP_SINGLE_ACCEPT: '1' };
