/** A target as logs and limit hits name it: `host:port`, an IPv6 literal in brackets. */
export function targetText(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
