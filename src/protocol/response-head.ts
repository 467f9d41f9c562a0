/** How the body of an HTTP/1.x response ends (RFC 9112 section 6.3). */
export type BodyFraming =
  /** No body at all: a 1xx, 204 or 304, or the answer to HEAD. */
  | { kind: 'none' }
  /** Exactly `length` bytes follow the head. */
  | { kind: 'length'; length: number }
  /** Chunked transfer coding: the body ends with its last chunk and trailer section. */
  | { kind: 'chunked' }
  /** The body runs until the origin closes the connection. */
  | { kind: 'close' };

/** A response head read off an origin connection. */
export interface ResponseHead {
  status: number;
  statusText: string;
  /** Fields as a flat `[name, value, …]` list, names as sent, values without surrounding spaces and tabs. */
  headers: string[];
  framing: BodyFraming;
  /** The connection may carry another request after this response (HTTP/1.1 without `Connection: close`, or HTTP/1.0 with keep-alive). */
  reusable: boolean;
  /** Bytes of the head, its blank line included. */
  length: number;
}

/** A head that is not valid HTTP/1.1, with llhttp's code for the same fault. */
export interface InvalidHead {
  invalid: string;
  reason: string;
}

const END = Buffer.from('\r\n\r\n', 'latin1');
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: ([\t\x20-\x7e\x80-\xff]*))?$/;
const FIELD_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[\t ]*([\t\x20-\x7e\x80-\xff]*?)[\t ]*$/;
const DIGITS = /^\d{1,15}$/;

/**
 * Parses the head of an origin's answer to a `method` request from the start of `bytes`, in the
 * strict form (CRLF line ends, no folding, no control bytes, one status line), and says how its
 * body is framed. Null while the head is not complete yet; an InvalidHead for one that is not
 * valid or is longer than `maxBytes`, including the framings a proxy must not guess at
 * (Content-Length together with Transfer-Encoding, differing lengths).
 */
export function parseResponseHead(bytes: Buffer, method: string, maxBytes: number): ResponseHead | InvalidHead | null {
  const end = bytes.indexOf(END);
  if (end === -1) return bytes.length > maxBytes ? invalid('UND_ERR_HEADERS_OVERFLOW', 'response head too large') : null;
  if (end + 4 > maxBytes) return invalid('UND_ERR_HEADERS_OVERFLOW', 'response head too large');
  const lines = bytes.toString('latin1', 0, end).split('\r\n');
  const status = STATUS_LINE.exec(lines[0]);
  if (!status) return invalid('HPE_INVALID_STATUS', 'invalid status line');
  const http10 = status[1] === '0';
  const code = Number(status[2]);
  const headers: string[] = [];
  let length: string | null = null;
  let codings: string | null = null;
  let connection = '';
  for (let i = 1; i < lines.length; i++) {
    const field = FIELD_LINE.exec(lines[i]);
    if (!field) return invalid('HPE_INVALID_HEADER_TOKEN', 'invalid header line');
    const [, name, value] = field;
    headers.push(name, value);
    switch (name.length === 14 || name.length === 17 || name.length === 10 ? name.toLowerCase() : '') {
      case 'content-length':
        for (const one of value.split(',')) {
          const digits = one.trim();
          if (!DIGITS.test(digits) || (length !== null && length !== String(Number(digits)))) return invalid('HPE_INVALID_CONTENT_LENGTH', 'invalid or differing Content-Length');
          length = String(Number(digits));
        }
        break;
      case 'transfer-encoding':
        codings = codings === null ? value : `${codings}, ${value}`;
        break;
      case 'connection':
        connection += `,${value.toLowerCase()}`;
        break;
    }
  }
  if (codings !== null && length !== null) return invalid('HPE_UNEXPECTED_CONTENT_LENGTH', 'Content-Length with Transfer-Encoding');
  const framing = bodyFraming(code, method, length, codings);
  const listed = connection.split(',').map((token) => token.trim());
  const reusable = framing.kind !== 'close' && (http10 ? listed.includes('keep-alive') : !listed.includes('close'));
  return { status: code, statusText: status[3] ?? '', headers, framing, reusable, length: end + 4 };
}

/** Whether a parse gave an invalid head. */
export function isInvalid(parsed: ResponseHead | InvalidHead): parsed is InvalidHead {
  return 'invalid' in parsed;
}

function bodyFraming(status: number, method: string, length: string | null, codings: string | null): BodyFraming {
  if (method === 'HEAD' || status < 200 || status === 204 || status === 304) return { kind: 'none' };
  if (codings !== null) {
    const last = codings.split(',').pop()!.trim().toLowerCase();
    return last === 'chunked' ? { kind: 'chunked' } : { kind: 'close' };
  }
  if (length !== null) return { kind: 'length', length: Number(length) };
  return { kind: 'close' };
}

function invalid(code: string, reason: string): InvalidHead {
  return { invalid: code, reason };
}
