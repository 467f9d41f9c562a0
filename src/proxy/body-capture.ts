import type { CapturedBody } from '../protocol/connection-record.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Keeps the first `limit` bytes of a body that streams past, and counts the rest. */
export class BodyCapture {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  private size = 0;

  constructor(private readonly limit: number) {}

  /** Notes one chunk on its way through (copies at most what is still wanted). */
  add(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.kept >= this.limit) return;
    const part = chunk.subarray(0, this.limit - this.kept);
    this.chunks.push(Buffer.from(part));
    this.kept += part.length;
  }

  /** What was seen, or undefined for an empty body. */
  result(): CapturedBody | undefined {
    if (this.size === 0) return undefined;
    const bytes = Buffer.concat(this.chunks);
    const truncated = this.size > bytes.length;
    try {
      // A cut in the middle of a multi-byte character is not a reason to fall back to base64.
      return { text: utf8.decode(bytes, { stream: truncated }), encoding: 'utf8', size: this.size, truncated };
    } catch {
      return { text: bytes.toString('base64'), encoding: 'base64', size: this.size, truncated };
    }
  }

  /** Passes a request body through unchanged (with its backpressure), noting what goes by. */
  async *tee(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      this.add(chunk);
      yield chunk;
    }
  }
}
