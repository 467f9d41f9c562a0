import { conditionalGet, type FetchAnswer, type Validators } from '../config/https-get.js';

export type { Validators };

const MAX_BYTES = 128 * 1024 * 1024;

/** GETs a rule set URL with the validators of the copy held (see conditionalGet). */
export function fetchRuleSet(url: string, held: Validators, caFile?: string): Promise<FetchAnswer> {
  return conditionalGet(url, held, { caFile, purpose: 'rule-set fetch', maxBytes: MAX_BYTES });
}
