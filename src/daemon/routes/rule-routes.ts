import { knownGroups } from '../../auth/acl.js';
import { authSettings } from '../../auth/auth-settings.js';
import { mergeClientViews } from '../../auth/client-registry.js';
import type { ControlRouter } from '../../control/control-router.js';
import { addRule, removeRule, reorderRules, updateRule } from '../../config/editor.js';
import { ProxyError } from '../../errors.js';
import type { DaemonContext } from './context.js';

/** Rules: list, route test, rule sets and their test, add, reorder, update, remove. */
export function bindRuleRoutes(router: ControlRouter, daemon: DaemonContext): void {
  router
    .serve('rules', () => ({ rules: daemon.snapshot.rules.map((r, index) => ({ index, ...r })) }))
    .serve('ruleTest', async ({ query }) => {
      const { domain, ...question } = query;
      const groups = question.user === undefined ? undefined : knownGroups(authSettings(daemon.snapshot), question.user, mergeClientViews(await daemon.engine.authClients()));
      return daemon.engine.explainRoute(domain, { ...question, groups });
    })
    .serve('ruleSets', () => ({ ruleSets: daemon.engine.ruleSetStatuses() }))
    .serve('ruleSetTest', ({ query }) => {
      const answer = daemon.engine.testRuleSet(query.name, query.host);
      if (!answer) throw new ProxyError('NOT_FOUND', `no rule set named "${query.name}" (rule sets: ${daemon.snapshot.ruleSets.map((r) => r.name).join(', ') || 'none'})`);
      return answer;
    })
    .serve('ruleAdd', ({ body }) => daemon.edit(addRule(body), { allowShadowed: body.allow_shadowed, placed: body.name }))
    .serve('ruleReorder', ({ body }) => daemon.edit(reorderRules(body.order), { allowShadowed: body.allow_shadowed }))
    .serve('ruleUpdate', ({ params, body }) => daemon.edit(updateRule(params.name, body), { allowShadowed: body.allow_shadowed, placed: body.name ?? params.name }))
    .serve('ruleRemove', ({ params }) => daemon.edit(removeRule(params.name)));
}
