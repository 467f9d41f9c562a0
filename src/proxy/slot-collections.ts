/*
 * Sets and maps of live traffic (open records, client sockets, tunnels) without a hash table.
 *
 * A Map or Set that takes and drops an entry per request or connection rebuilds its table every
 * few dozen changes, and V8 keeps each table it replaced pointing at the next one, with the
 * entries it held then (for iterators that were running). Once one table of the chain is in the
 * old generation (a full collection promotes the live one), every later table and every record,
 * socket and request reachable from their entries outlives the scavenges that should collect it:
 * it is promoted, and the next table with it. Under keep-alive load that promoted 3 KB of every
 * request and ran a mark-compact about every second, from the first full collection on (the
 * quiet-time one, see idle-collector.ts) for as long as the load lasted.
 *
 * Here members sit in an array and each member keeps its place under the collection's own
 * symbol: add and delete are constant time (the last member moves into a deleted place), and a
 * member dropped is referenced by nothing the collection keeps.
 */

/** A map keyed by objects (records, sockets), with no hash table; iteration goes over a copy taken when it starts. */
export class SlotMap<K extends object, V> {
  private readonly keys: K[] = [];
  private readonly values: V[] = [];
  /** Where a key keeps its index in `keys` (-1 once deleted), one symbol per collection. */
  private readonly slot = Symbol('slot');

  /** Entries now. */
  get size(): number {
    return this.keys.length;
  }

  /** Whether `key` is in the map. */
  has(key: K): boolean {
    return this.indexOf(key) >= 0;
  }

  /** The value of `key`, or undefined. */
  get(key: K): V | undefined {
    const at = this.indexOf(key);
    return at < 0 ? undefined : this.values[at];
  }

  /** Sets the value of `key`, adding it when it is not in the map. */
  set(key: K, value: V): this {
    const at = this.indexOf(key);
    if (at >= 0) {
      this.values[at] = value;
      return this;
    }
    (key as Record<symbol, number>)[this.slot] = this.keys.length;
    this.keys.push(key);
    this.values.push(value);
    return this;
  }

  /** Removes `key`; false when it was not in the map. */
  delete(key: K): boolean {
    const at = this.indexOf(key);
    if (at < 0) return false;
    const lastKey = this.keys.pop()!;
    const lastValue = this.values.pop()!;
    if (lastKey !== key) {
      this.keys[at] = lastKey;
      this.values[at] = lastValue;
      (lastKey as Record<symbol, number>)[this.slot] = at;
    }
    // Kept as a property (not deleted): the member's hidden class stays as it is.
    (key as Record<symbol, number>)[this.slot] = -1;
    return true;
  }

  /** The keys now (a copy). */
  keyList(): K[] {
    return this.keys.slice();
  }

  /** The entries now (a copy). */
  entryList(): [K, V][] {
    return this.keys.map((key, at) => [key, this.values[at]]);
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entryList()[Symbol.iterator]();
  }

  private indexOf(key: K): number {
    const at = (key as Record<symbol, number | undefined>)[this.slot];
    return at !== undefined && at >= 0 && this.keys[at] === key ? at : -1;
  }
}

/** A set of objects with no hash table (see SlotMap); iteration goes over a copy taken when it starts. */
export class SlotSet<T extends object> {
  private readonly members = new SlotMap<T, true>();

  /** Members now. */
  get size(): number {
    return this.members.size;
  }

  /** Whether `item` is a member. */
  has(item: T): boolean {
    return this.members.has(item);
  }

  /** Adds `item` (once). */
  add(item: T): this {
    this.members.set(item, true);
    return this;
  }

  /** Removes `item`; false when it was not a member. */
  delete(item: T): boolean {
    return this.members.delete(item);
  }

  [Symbol.iterator](): IterableIterator<T> {
    return this.members.keyList()[Symbol.iterator]();
  }
}
