// Runs one daemon in this process (the control socket, the engine, the config file given as the
// first argument) and prints its control socket and its HTTP and SOCKS5 ports as one JSON line; SIGTERM, or
// the end of its stdin (its parent gone), stops it.
// The control-API fuzz and the corpus replay start it in a temp dir of their own.
import { Daemon } from '../../../src/daemon/daemon.js';
import { daemonPaths } from '../../../src/daemon/paths.js';

const paths = daemonPaths('server');
const { listeners } = await new Daemon('server', process.argv[2], paths).start();
const port = (kind: string): number => listeners.find((l) => l.kind === kind)!.port;
console.log(JSON.stringify({ socket: paths.socket, port: port('http'), socks5: port('socks5') }));
// Its parent holds stdin open: when the parent is gone, so is the daemon (no process left behind).
process.stdin.on('end', () => process.kill(process.pid, 'SIGTERM'));
process.stdin.resume();
