import { CidrSet } from './cidr-set.js';
import type { AccessControlSettings } from './policy-settings.js';

/** access_control's blacklist and whitelist: which client addresses may connect at all. */
export class ClientLists {
  private readonly blacklist: CidrSet;
  private readonly whitelist: CidrSet;

  /** Builds the lists from the access_control settings. */
  constructor(acl: Pick<AccessControlSettings, 'blacklist' | 'whitelist'>) {
    this.blacklist = new CidrSet(acl.blacklist);
    this.whitelist = new CidrSet(acl.whitelist);
  }

  /** Why the lists refuse a client address, or null when they let it in. */
  refusal(address: string): string | null {
    if (this.blacklist.has(address)) return `${address} is on access_control.blacklist`;
    if (!this.whitelist.empty && !this.whitelist.has(address)) return `${address} is not on access_control.whitelist`;
    return null;
  }
}
