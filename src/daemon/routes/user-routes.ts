import { authSettings } from '../../auth/auth-settings.js';
import type { ControlRouter } from '../../control/control-router.js';
import { addUser, changeUserGroups, removeUser, setUserPassword } from '../../config/user-edits.js';
import type { DaemonContext } from './context.js';

/** Native users: list, add, remove, password, groups. */
export function bindUserRoutes(router: ControlRouter, daemon: DaemonContext): void {
  router
    .serve('users', () => ({ mode: authSettings(daemon.snapshot).mode, users: (authSettings(daemon.snapshot).native?.users ?? []).map((u) => ({ username: u.username, groups: u.groups })) }))
    .serve('userAdd', ({ body }) => daemon.edit(addUser(body)))
    .serve('userRemove', ({ params }) => daemon.edit(removeUser(params.name)))
    .serve('userPassword', ({ params, body }) => daemon.edit(setUserPassword(params.name, body.password_hash)))
    .serve('userGroups', ({ params, body }) => daemon.edit(changeUserGroups(params.name, body.add, body.remove)));
}
