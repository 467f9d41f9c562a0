/**
 * What engine workers add to the daemon's environment. On the shared sockets every worker polls
 * the same listening socket, and libuv's accept loop takes every connection waiting there: the
 * worker that wakes first took most of a burst (58 of 64 keep-alive clients in one measured
 * case), and its clients waited behind each other while the other worker idled. With
 * UV_TCP_SINGLE_ACCEPT libuv yields after each accept, so a waiting worker takes its turn.
 */
export const WORKER_ENV: Readonly<Record<string, string>> = { UV_TCP_SINGLE_ACCEPT: '1' };
