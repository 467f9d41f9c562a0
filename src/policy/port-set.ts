/** A set of TCP ports from a list of ports and inclusive ranges (`443`, `"1025-65535"`). */
export class PortSet {
  private readonly ranges: [number, number][];

  /** Builds the set; a range written high-to-low is taken as written low-to-high. */
  constructor(entries: readonly (number | string)[]) {
    this.ranges = entries.map((entry) => {
      if (typeof entry === 'number') return [entry, entry];
      const [a, b] = entry.split('-').map(Number);
      return [Math.min(a, b), Math.max(a, b)];
    });
  }

  /** Whether a port is in the set. */
  has(port: number): boolean {
    for (const [low, high] of this.ranges) if (port >= low && port <= high) return true;
    return false;
  }
}
