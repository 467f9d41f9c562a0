/** Bytes a taker ran ahead of a leased budget's grants: calls back once grants cover them. */
export interface GrantWait {
  /** Calls `ready` once, never before this call returns. */
  onGranted(ready: () => void): void;
}

/** What a paced source waits for before it reads on: ms (0: nothing), or grants still to come. */
export type Hold = number | GrantWait;

/** One hold for several: `ms` and every grant in `grants` (null when there is none). */
export function holdOf(ms: number, grants: GrantWait[] | null): Hold {
  if (grants === null) return ms;
  if (ms <= 0 && grants.length === 1) return grants[0]!;
  return {
    onGranted(ready: () => void): void {
      let left = grants.length + (ms > 0 ? 1 : 0);
      const one = (): void => {
        if (--left === 0) ready();
      };
      if (ms > 0) setTimeout(one, ms);
      for (const grant of grants) grant.onGranted(one);
    },
  };
}

/** Whether a hold asks the source to wait at all. */
export function holds(hold: Hold): boolean {
  return typeof hold !== 'number' || hold > 0;
}
