/**
 * The size of a head as HTTP/1.1 text: `HTTP/2 200 \r\n` (the status line as curl writes it for
 * HTTP/2) when a status is given, one `name: value\r\n` per field of the flat list, and the blank
 * line. What a request or answer over HTTP/2 counts for its head: HPACK compresses the fields per
 * connection, so their size on the wire belongs to no single stream.
 */
export function h1HeadSize(fields: string[], status?: number): number {
  let size = status === undefined ? 2 : 13 + 2;
  for (let i = 0; i < fields.length; i += 2) size += fields[i].length + fields[i + 1].length + 4;
  return size;
}
