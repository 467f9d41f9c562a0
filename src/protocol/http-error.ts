/** A complete HTTP/1.1 error response with a one-line plain-text reason, for raw sockets. */
export function rawHttpError(status: number, statusText: string, reason: string, proxyStatus?: string, headers?: Readonly<Record<string, string | number>>): string {
  const body = `${reason}\n`;
  let extra = '';
  if (headers) for (const name in headers) extra += `${name}: ${headers[name]}\r\n`;
  return (
    `HTTP/1.1 ${status} ${statusText}\r\n` +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    (proxyStatus ? `Proxy-Status: simple-proxy; error=${proxyStatus}\r\n` : '') +
    extra +
    'Connection: close\r\n\r\n' +
    body
  );
}
