/** Where a chunked body's reader is (RFC 9112 section 7.1). */
const enum At {
  /** In a chunk-size line (size, then extensions), up to its CRLF. */
  SizeLine,
  /** In a chunk's data. */
  Data,
  /** At the CRLF after a chunk's data. */
  DataEnd,
  /** In the trailer section, at the start of a line. */
  TrailerLineStart,
  /** In a trailer line, up to its CRLF. */
  TrailerLine,
  Done,
}

/** The longest chunk-size line taken (size and extensions): far more than any real one needs. */
const MAX_LINE = 4096;
/** More hex digits than this would not fit a safe integer. */
const MAX_SIZE_DIGITS = 13;

/** A chunked body that is not valid, with llhttp's code for the same fault. */
export class ChunkedError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Takes a chunked body apart as its bytes arrive, in any split: gives each chunk's data (views of
 * the bytes given, no copies) and says where the body ends, its last chunk and trailer section
 * included (trailer fields are read past, not kept). Strict: hex sizes, CRLF line ends, no bare
 * CR or LF, no control bytes in extensions or trailers.
 */
export class ChunkedBody {
  private at = At.SizeLine;
  private size = 0;
  private digits = 0;
  private inExtension = false;
  /** Spaces or tabs came after the size: only more of them, or the extensions, may follow. */
  private gap = false;
  private lineLength = 0;
  private sawCr = false;

  /**
   * Reads `bytes` from `from` on, giving data to `data`. Returns the offset just past the body's end
   * when it ends in these bytes, else -1 (more is needed). Throws ChunkedError for invalid input.
   */
  feed(bytes: Buffer, from: number, data: (chunk: Buffer) => void): number {
    let i = from;
    const n = bytes.length;
    while (i < n) {
      switch (this.at) {
        case At.Data: {
          const take = Math.min(this.size, n - i);
          data(bytes.subarray(i, i + take));
          this.size -= take;
          i += take;
          if (this.size === 0) this.at = At.DataEnd;
          break;
        }
        case At.DataEnd:
          i = this.lineEnd(bytes, i, At.SizeLine);
          break;
        case At.SizeLine:
          i = this.sizeLine(bytes, i);
          break;
        case At.TrailerLineStart:
          if (bytes[i] === 0x0d || this.sawCr) {
            i = this.lineEnd(bytes, i, At.Done);
            if ((this.at as At) === At.Done) return i;
          } else {
            this.at = At.TrailerLine;
            this.lineLength = 0;
          }
          break;
        case At.TrailerLine:
          i = this.trailerLine(bytes, i);
          break;
        case At.Done:
          return i;
      }
    }
    return this.at === At.Done ? i : -1;
  }

  /** Whether the body's end has been read. */
  get done(): boolean {
    return this.at === At.Done;
  }

  /** Reads a CRLF (it may be split between calls), then goes on at `next`. */
  private lineEnd(bytes: Buffer, i: number, next: At): number {
    if (!this.sawCr) {
      if (bytes[i] !== 0x0d) throw new ChunkedError('HPE_STRICT', 'expected CRLF after chunk');
      this.sawCr = true;
      i++;
      if (i === bytes.length) return i;
    }
    needLf(bytes[i]);
    this.sawCr = false;
    this.at = next;
    return i + 1;
  }

  private sizeLine(bytes: Buffer, i: number): number {
    const n = bytes.length;
    while (i < n) {
      const byte = bytes[i];
      if (this.sawCr) {
        needLf(byte);
        this.sawCr = false;
        if (this.digits === 0) throw new ChunkedError('HPE_INVALID_CHUNK_SIZE', 'empty chunk size');
        this.at = this.size === 0 ? At.TrailerLineStart : At.Data;
        this.digits = 0;
        this.inExtension = false;
        this.gap = false;
        this.lineLength = 0;
        return i + 1;
      }
      if (++this.lineLength > MAX_LINE) throw new ChunkedError('HPE_CHUNK_EXTENSIONS_OVERFLOW', 'chunk-size line too long');
      if (byte === 0x0d) {
        this.sawCr = true;
      } else if (this.inExtension) {
        if (!visible(byte)) throw new ChunkedError('HPE_INVALID_CHUNK_SIZE', 'invalid chunk extension');
      } else if (byte === 0x3b || byte === 0x20 || byte === 0x09) {
        // `;` starts the extensions, after spaces or tabs (BWS) at most: sizes never have spaces inside.
        if (this.digits === 0) throw new ChunkedError('HPE_INVALID_CHUNK_SIZE', 'empty chunk size');
        if (byte === 0x3b) this.inExtension = true;
        else this.gap = true;
      } else if (this.gap) {
        throw new ChunkedError('HPE_INVALID_CHUNK_SIZE', 'invalid chunk size');
      } else {
        const value = hexValue(byte);
        if (value < 0 || ++this.digits > MAX_SIZE_DIGITS) throw new ChunkedError('HPE_INVALID_CHUNK_SIZE', 'invalid chunk size');
        this.size = this.size * 16 + value;
      }
      i++;
    }
    return i;
  }

  private trailerLine(bytes: Buffer, i: number): number {
    const n = bytes.length;
    while (i < n) {
      const byte = bytes[i];
      if (this.sawCr) {
        needLf(byte);
        this.sawCr = false;
        this.at = At.TrailerLineStart;
        return i + 1;
      }
      if (++this.lineLength > MAX_LINE) throw new ChunkedError('HPE_HEADER_OVERFLOW', 'trailer line too long');
      if (byte === 0x0d) this.sawCr = true;
      else if (!visible(byte)) throw new ChunkedError('HPE_INVALID_HEADER_TOKEN', 'invalid trailer line');
      i++;
    }
    return i;
  }
}

/** A CR must be followed by LF: a bare CR ends no line. */
function needLf(byte: number): void {
  if (byte !== 0x0a) throw new ChunkedError('HPE_STRICT', 'expected LF after CR');
}

/** Tab, space, visible ASCII and obs-text: what a field value or chunk extension may hold. */
function visible(byte: number): boolean {
  return byte === 0x09 || (byte >= 0x20 && byte !== 0x7f);
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}
